"""ONNX Runtime sessions: provider choice, thread settings and batched runs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError, ModelError

# Friendly names users type, mapped to ONNX Runtime execution providers (fastest first).
PROVIDERS: dict[str, str] = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "dml": "DmlExecutionProvider",
    "cpu": "CPUExecutionProvider",
}


def available_providers() -> list[str]:
    """Friendly names of the execution providers this ONNX Runtime build offers."""
    import onnxruntime as ort

    have = set(ort.get_available_providers())
    return [name for name, ep in PROVIDERS.items() if ep in have]


def resolve_providers(device: str | Sequence[str] | None) -> list[str]:
    """Turn ``"cpu"``, ``"cuda"``, ``"auto"`` or a list into ONNX Runtime provider names.

    ``auto`` (or None) takes every accelerator present, then the CPU. Asking for a provider
    this build lacks is an error that lists the ones it has.
    """
    have = available_providers()
    if device is None or device == "auto":
        return [PROVIDERS[n] for n in have if n != "cpu"] + [PROVIDERS["cpu"]]
    names = (
        [d.strip().lower() for d in device.split(",")]
        if isinstance(device, str)
        else [d.lower() for d in device]
    )
    out: list[str] = []
    for name in names:
        if name not in PROVIDERS:
            raise InputError(
                f"unknown device {name!r}", f"use one of: auto, {', '.join(PROVIDERS)}"
            )
        if name not in have:
            raise InputError(
                f"ONNX Runtime here has no {name} provider",
                f"available: {', '.join(have)}; install the matching "
                "onnxruntime package (e.g. onnxruntime-gpu) for accelerators",
            )
        out.append(PROVIDERS[name])
    if PROVIDERS["cpu"] not in out:
        out.append(PROVIDERS["cpu"])
    return out


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape (None for dynamic dimensions) and element type of a model input/output."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str


def _dim(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


class OnnxModel:
    """A loaded ONNX model with one image-like input.

    Args:
        path: the ``.onnx`` file.
        device: ``auto``, ``cpu``, ``cuda``, ``tensorrt``, ``openvino`` (or a comma list).
        intra_threads: threads inside one operator (0: ONNX Runtime's default, all cores).
        inter_threads: threads across independent operators (0: default).
        spin: let idle ONNX Runtime threads busy-wait for the next run (fastest when only
            the model runs; turn off when NumPy work alternates with it, or the spinning
            threads steal its cores).
    """

    def __init__(
        self,
        path: str | Path,
        device: str | Sequence[str] | None = "cpu",
        intra_threads: int = 0,
        inter_threads: int = 0,
        spin: bool = True,
    ) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"model file not found: {path}", "check the path")
        ort.set_default_logger_severity(3)  # graph warnings at load go to the default logger
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: some public exports warn on every load
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if intra_threads:
            options.intra_op_num_threads = intra_threads
        if inter_threads:
            options.inter_op_num_threads = inter_threads
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.providers = resolve_providers(device)
        try:
            self.session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=self.providers
            )
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(
                f"cannot load {path} with ONNX Runtime: {first[:200]}",
                "is it a valid .onnx file? re-download it with `shigu models pull NAME --force`",
            ) from exc
        self.inputs = [
            TensorSpec(i.name, tuple(_dim(d) for d in i.shape), i.type)
            for i in self.session.get_inputs()
        ]
        self.outputs = [
            TensorSpec(o.name, tuple(_dim(d) for d in o.shape), o.type)
            for o in self.session.get_outputs()
        ]
        self.input_name = self.inputs[0].name
        self.output_names = [o.name for o in self.outputs]
        self._run_options = ort.RunOptions()
        self._run_options.log_severity_level = 3

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        return self.inputs[0].shape

    @property
    def fixed_batch(self) -> int | None:
        """The batch size baked into the model, or None when the batch dimension is dynamic."""
        return self.input_shape[0] if self.input_shape else None

    def run(self, batch: np.ndarray, output_names: Sequence[str] | None = None) -> list[np.ndarray]:
        """Run on a batch (N, ...) and return outputs with N in their first dimension.

        Models exported with a fixed batch of 1 are run once per item and the outputs stacked,
        so callers can always batch.
        """
        names = list(output_names) if output_names is not None else self.output_names
        fixed = self.fixed_batch
        if fixed is None or fixed == len(batch):
            return list(self.session.run(names, {self.input_name: batch}, self._run_options))
        if fixed != 1:
            raise ModelError(f"{self.path.name} takes batches of exactly {fixed}, got {len(batch)}")
        parts = [
            self.session.run(names, {self.input_name: batch[i : i + 1]}, self._run_options)
            for i in range(len(batch))
        ]
        return [np.concatenate([p[k] for p in parts]) for k in range(len(names))]


def default_threads() -> int:
    """Threads ONNX Runtime should use by default: the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
