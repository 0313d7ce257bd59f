from pathlib import Path

import numpy as np
import pytest

from shigu.core import InputError, ModelError
from shigu.runtime import OnnxModel, available_providers, resolve_providers


def test_cpu_is_always_available() -> None:
    assert "cpu" in available_providers()
    assert resolve_providers("cpu") == ["CPUExecutionProvider"]
    assert resolve_providers("auto")[-1] == "CPUExecutionProvider"


def test_unknown_and_missing_providers() -> None:
    with pytest.raises(InputError, match="unknown device"):
        resolve_providers("tpu")
    if "tensorrt" not in available_providers():
        with pytest.raises(InputError, match="no tensorrt provider"):
            resolve_providers("tensorrt")


def test_not_an_onnx_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ModelError, match="cannot load"):
        OnnxModel(bad)


def test_fixed_batch_model_runs_batches(models_dir: Path) -> None:
    model = OnnxModel(models_dir / "yolox_nano.onnx", intra_threads=1)
    assert model.fixed_batch == 1
    batch = np.random.default_rng(0).uniform(0, 255, (3, 3, 416, 416)).astype(np.float32)
    (out,) = model.run(batch)
    assert out.shape == (3, 3549, 85)
    (single,) = model.run(batch[1:2])
    assert np.allclose(out[1], single[0], atol=1e-4)
