"""PaDiM (Defard et al., 2020): a Gaussian per patch position, Mahalanobis distance as score.

Lighter than PatchCore (no memory bank search, one small matrix product per patch) but it
assumes the parts are roughly aligned from image to image.
"""

from __future__ import annotations

import numpy as np

from shigu.core.errors import InputError


class Padim:
    """Per-position mean and inverse covariance of a random subset of feature dimensions."""

    method = "padim"

    def __init__(self, mean: np.ndarray, inv_cov: np.ndarray, dims: np.ndarray) -> None:
        self.mean = mean.astype(np.float32)  # (h*w, d)
        self.inv_cov = inv_cov.astype(np.float32)  # (h*w, d, d)
        self.dims = dims.astype(np.int64)

    @classmethod
    def fit(
        cls, embeddings: np.ndarray, max_dims: int = 100, reg: float = 0.01, seed: int = 0
    ) -> Padim:
        n, h, w, d = embeddings.shape
        if n < 2:
            raise InputError("PaDiM needs at least 2 good images to estimate covariances")
        rng = np.random.default_rng(seed)
        dims = np.sort(rng.choice(d, size=min(d, max_dims), replace=False))
        x = embeddings[..., dims].reshape(n, h * w, len(dims)).astype(np.float64)
        mean = x.mean(axis=0)
        centred = x - mean
        cov = np.einsum("npi,npj->pij", centred, centred) / max(n - 1, 1)
        cov += reg * np.eye(len(dims))[None]
        inv_cov = np.linalg.inv(cov)
        return cls(mean, inv_cov, dims)

    def patch_scores(self, embeddings: np.ndarray) -> np.ndarray:
        n, h, w, _ = embeddings.shape
        if h * w != len(self.mean):
            raise InputError(f"feature grid {h}x{w} does not match the trained grid")
        x = embeddings[..., self.dims].reshape(n, h * w, len(self.dims)) - self.mean
        # (p, n, d) @ (p, d, d): one small product per patch position.
        xt = np.ascontiguousarray(x.transpose(1, 0, 2))
        left = np.matmul(xt, self.inv_cov)
        dist = np.einsum("pnd,pnd->pn", left, xt)
        scores: np.ndarray = np.sqrt(np.maximum(dist, 0.0)).T.reshape(n, h, w)
        return scores.astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "inv_cov": self.inv_cov, "dims": self.dims}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Padim:
        return cls(arrays["mean"], arrays["inv_cov"], arrays["dims"])
