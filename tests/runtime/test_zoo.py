"""The zoo's real download path, against an HTTP server on loopback serving the model files."""

import logging
from pathlib import Path

import pytest

from shigu.core import ChecksumError, ModelError
from shigu.runtime import MODELS, ModelZoo, sha256_file
from shigu.runtime.registry import ModelSpec
from tests.helpers import serve_folder


def test_registry_checksums_match_the_shared_files(models_dir: Path) -> None:
    for name in ("yolox-nano", "nanodet-m", "yunet-face"):
        spec = MODELS[name]
        assert spec.sha256 == sha256_file(models_dir / spec.filename), name
        assert spec.urls and all(u.startswith("https://") for u in spec.urls)
    for name in ("yolox-tiny", "yolox-s", "yolox-m"):
        assert MODELS[name].sha256 is None
        assert (
            MODELS[name]
            .urls[0]
            .startswith("https://github.com/Megvii-BaseDetection/YOLOX/releases/download/")
        )


def test_mirror_folder(tmp_path: Path, models_dir: Path) -> None:
    zoo = ModelZoo(home=tmp_path, mirror=str(models_dir), progress=None)
    path = zoo.path("yolox-nano")
    assert path.parent == tmp_path / "models"
    assert sha256_file(path) == MODELS["yolox-nano"].sha256
    assert zoo.path("yolox-nano", download=False) == path


def test_download_over_http(tmp_path: Path, models_dir: Path, port: int) -> None:
    with serve_folder(models_dir, port) as handler:
        zoo = ModelZoo(home=tmp_path, mirror=f"http://127.0.0.1:{port}", progress=None)
        path = zoo.pull("nanodet-m")
    assert sha256_file(path) == MODELS["nanodet-m"].sha256
    assert handler.requests == [("/nanodet_m_320.onnx", None)]
    assert not list((tmp_path / "models").glob("*.part"))


def test_interrupted_download_resumes_with_range(
    tmp_path: Path, models_dir: Path, port: int
) -> None:
    url = f"http://127.0.0.1:{port}"
    with serve_folder(models_dir, port, drop_after=1_000_000) as handler:
        zoo = ModelZoo(home=tmp_path, mirror=url, progress=None)
        with pytest.raises(ModelError, match="failed"):
            zoo.pull("yolox-nano")
        part = tmp_path / "models" / "yolox_nano.onnx.part"
        assert part.is_file()
        kept = part.stat().st_size
        assert 0 < kept <= 1_000_000
        assert not (tmp_path / "models" / "yolox_nano.onnx").exists()
        path = zoo.pull("yolox-nano")  # resumes
    assert sha256_file(path) == MODELS["yolox-nano"].sha256
    assert handler.requests[-1] == ("/yolox_nano.onnx", f"bytes={kept}-")
    assert not part.exists()


def test_corrupted_file_is_rejected_and_not_cached(
    tmp_path: Path, models_dir: Path, port: int
) -> None:
    with serve_folder(
        models_dir, port, corrupt=frozenset({"yunet.onnx", "face_detection_yunet_2023mar.onnx"})
    ):
        zoo = ModelZoo(home=tmp_path, mirror=f"http://127.0.0.1:{port}", progress=None)
        with pytest.raises(ChecksumError, match="checksum mismatch for yunet-face"):
            zoo.pull("yunet-face")
    models = tmp_path / "models"
    assert not (models / "face_detection_yunet_2023mar.onnx").exists()
    assert not list(models.glob("*.part"))


def test_cached_file_tampered_with_is_fetched_again(tmp_path: Path, models_dir: Path) -> None:
    zoo = ModelZoo(home=tmp_path, mirror=str(models_dir), progress=None)
    path = zoo.path("yunet-face")
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    again = zoo.path("yunet-face")
    assert sha256_file(again) == MODELS["yunet-face"].sha256


def test_trust_on_first_use_pins_and_enforces(
    tmp_path: Path,
    models_dir: Path,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spec = ModelSpec(
        name="test-tofu",
        format="yolox",
        filename="yolox_nano.onnx",
        urls=(f"http://127.0.0.1:{port}/yolox_nano.onnx",),
        sha256=None,
        licence="Apache-2.0",
        input_size=(416, 416),
        labels="coco80",
        description="test",
    )
    monkeypatch.setitem(MODELS, spec.name, spec)
    with serve_folder(models_dir, port):
        zoo = ModelZoo(home=tmp_path, mirror="", progress=None)
        with caplog.at_level(logging.WARNING):
            zoo.pull("test-tofu")
        assert "pinned sha256" in caplog.text and "trust on first use" in caplog.text
        assert zoo.pins()["test-tofu"] == MODELS["yolox-nano"].sha256
    with (
        serve_folder(models_dir, port, corrupt=frozenset({"yolox_nano.onnx"})),
        pytest.raises(ChecksumError),
    ):
        zoo.pull("test-tofu", force=True)


def test_unknown_model_and_missing_mirror_file(tmp_path: Path) -> None:
    zoo = ModelZoo(home=tmp_path, mirror=str(tmp_path), progress=None)
    with pytest.raises(ModelError, match="unknown model 'yolox-nanoo'"):
        zoo.path("yolox-nanoo")
    with pytest.raises(ModelError, match="not in the mirror"):
        zoo.path("yolox-nano")


def test_unreachable_url_fails_fast(tmp_path: Path, port: int) -> None:
    zoo = ModelZoo(home=tmp_path, mirror=f"http://127.0.0.1:{port}", progress=None, timeout_s=3)
    with pytest.raises(ModelError, match="failed"):
        zoo.pull("yolox-nano")
