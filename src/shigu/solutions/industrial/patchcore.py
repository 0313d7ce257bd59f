"""PatchCore (Roth et al., 2022): a coreset memory bank of normal patches, nearest-neighbour scores.

Training keeps a greedy k-center coreset of every normal patch vector; a test patch scores its
Euclidean distance to the nearest bank vector. The greedy selection runs on a random
projection (as in the paper and anomalib) so it stays fast on large training sets.
"""

from __future__ import annotations

import numpy as np

from shigu.core.errors import InputError


def greedy_coreset(
    features: np.ndarray, size: int, projection_dims: int = 128, seed: int = 0
) -> np.ndarray:
    """Indices of ``size`` rows chosen by greedy k-center (farthest-point) selection."""
    n = len(features)
    if size >= n:
        return np.arange(n)
    if size < 1:
        raise InputError(f"coreset size must be at least 1, got {size}")
    rng = np.random.default_rng(seed)
    x = features.astype(np.float32, copy=False)
    if x.shape[1] > projection_dims:
        proj = rng.normal(size=(x.shape[1], projection_dims)).astype(np.float32)
        x = x @ (proj / np.sqrt(projection_dims))
    x = np.ascontiguousarray(x)
    norms = np.einsum("ij,ij->i", x, x)
    chosen = np.empty(size, dtype=np.int64)
    chosen[0] = int(rng.integers(n))
    centre = x[chosen[0]]
    nearest = norms - 2.0 * (x @ centre) + norms[chosen[0]]
    for k in range(1, size):
        idx = int(np.argmax(nearest))
        chosen[k] = idx
        dist = norms - 2.0 * (x @ x[idx]) + norms[idx]
        np.minimum(nearest, dist, out=nearest)
    return chosen


def _nn_graph(bank: np.ndarray) -> bytes:
    """An ONNX graph: sqrt(max(0, |q|^2 - 2 q.B + |B|^2)) minimised over the bank rows."""
    from onnx import TensorProto, helper, numpy_helper

    dims = bank.shape[1]
    nodes = [
        helper.make_node("MatMul", ["q", "bank_t_m2"], ["prod"]),  # -2 q.B in one GEMM
        helper.make_node("Add", ["prod", "bank_sq"], ["partial"]),
        helper.make_node("ReduceMin", ["partial"], ["best"], axes=[1], keepdims=0),
        helper.make_node("Mul", ["q", "q"], ["q2"]),
        helper.make_node("ReduceSum", ["q2", "axis1"], ["q_sq"], keepdims=0),
        helper.make_node("Add", ["best", "q_sq"], ["d2"]),
        helper.make_node("Relu", ["d2"], ["d2_pos"]),
        helper.make_node("Sqrt", ["d2_pos"], ["distance"]),
    ]
    inits = [
        numpy_helper.from_array(np.ascontiguousarray(bank.T * -2.0, np.float32), "bank_t_m2"),
        numpy_helper.from_array(np.einsum("ij,ij->i", bank, bank).astype(np.float32), "bank_sq"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    graph = helper.make_graph(
        nodes,
        "nearest_neighbour",
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, ["queries", dims])],
        [helper.make_tensor_value_info("distance", TensorProto.FLOAT, ["queries"])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    data: bytes = model.SerializeToString()
    return data


class NearestNeighbourScorer:
    """Exact Euclidean nearest-neighbour distances to a memory bank.

    The search is one GEMM plus a row minimum, run by ONNX Runtime rather than NumPy: the
    backbone runs there too, and two thread pools (ORT's and OpenBLAS's) taking turns on the
    same cores lose about a fifth of the time to each other's idle spinning.
    """

    def __init__(self, bank: np.ndarray, chunk: int = 16384) -> None:
        import onnxruntime as ort

        if bank.ndim != 2 or len(bank) == 0:
            raise InputError(f"memory bank must be a non-empty (M, D) array, got {bank.shape}")
        self.bank = np.ascontiguousarray(bank, dtype=np.float32)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            _nn_graph(self.bank), options, providers=["CPUExecutionProvider"]
        )
        self.chunk = chunk

    def __call__(self, queries: np.ndarray) -> np.ndarray:
        """Distance of each (Q, D) query row to its nearest bank row: (Q,) float32."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        parts = [
            self.session.run(["distance"], {"q": q[lo : lo + self.chunk]})[0]
            for lo in range(0, len(q), self.chunk)
        ]
        out: np.ndarray = np.concatenate(parts) if len(parts) != 1 else parts[0]
        return out


def bank_size(patches: int, ratio: float, minimum: int, maximum: int) -> int:
    """Coreset size: ``ratio`` of the patches, kept within [minimum, maximum] and ≤ patches."""
    want = max(round(patches * ratio), minimum)
    return max(1, min(want, maximum, patches))


class PatchCore:
    """Memory bank + scorer; ``fit`` from patch vectors (..., D) of good images."""

    method = "patchcore"

    def __init__(self, bank: np.ndarray) -> None:
        self.bank = bank
        self.scorer = NearestNeighbourScorer(bank)

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        ratio: float = 0.01,
        minimum: int = 1024,
        maximum: int = 16384,
        seed: int = 0,
    ) -> PatchCore:
        flat = embeddings.reshape(-1, embeddings.shape[-1])
        size = bank_size(len(flat), ratio, minimum, maximum)
        chosen = greedy_coreset(flat, size, seed=seed)
        return cls(np.ascontiguousarray(flat[chosen]))

    def patch_scores(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, h, w, D) embeddings → (N, h, w) nearest-neighbour distances."""
        n, h, w, d = embeddings.shape
        if d != self.bank.shape[1]:
            raise InputError(
                f"features have {d} dimensions but the memory bank has {self.bank.shape[1]}"
            )
        return self.scorer(embeddings.reshape(-1, d)).reshape(n, h, w)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"bank": self.bank}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PatchCore:
        return cls(arrays["bank"])
