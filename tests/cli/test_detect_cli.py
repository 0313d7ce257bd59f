import json
import time
from pathlib import Path

import av
import pytest

from tests.cli import assert_one_line_error, run_cli
from tests.helpers import truncate, write_video

pytestmark = pytest.mark.integration


def test_detect_writes_mp4_and_jsonl(pets_video: Path, tmp_path: Path) -> None:
    out, jsonl = tmp_path / "a.mp4", tmp_path / "d.jsonl"
    proc = run_cli(
        "detect",
        pets_video,
        "--out",
        out,
        "--jsonl",
        jsonl,
        "--max-frames",
        "30",
        "--classes",
        "person",
        "--no-progress",
    )
    assert proc.returncode == 0, proc.stderr
    assert "30 frames" in proc.stdout and "person" in proc.stdout and "fps" in proc.stdout
    lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert [r["frame"] for r in lines] == list(range(30))
    assert lines[10]["time"] == pytest.approx(1.0)
    det = lines[0]["detections"][0]
    assert set(det) == {"xyxy", "confidence", "class_id", "class_name"}
    assert det["class_name"] == "person" and len(det["xyxy"]) == 4
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in container.decode(stream)) == 30


def test_detect_image_folder(data_dir: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "d.jsonl"
    proc = run_cli(
        "detect",
        data_dir / "images" / "coco_val2017",
        "--model",
        "nanodet-m",
        "--jsonl",
        jsonl,
        "--no-progress",
    )
    assert proc.returncode == 0, proc.stderr
    assert len(jsonl.read_text().splitlines()) == 8


def test_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("detect", tmp_path / "nope.mp4"), "file not found", 3)


def test_not_a_video(tmp_path: Path) -> None:
    bad = tmp_path / "fake.mp4"
    bad.write_bytes(b"hello" * 1000)
    assert_one_line_error(run_cli("detect", bad), "cannot open", 3)


def test_truncated_mp4_keeps_readable_part(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "full.mp4", n=60)
    cut = truncate(clip, 0.5, tmp_path / "cut.mp4")
    jsonl = tmp_path / "d.jsonl"
    proc = run_cli("detect", cut, "--jsonl", jsonl, "--no-progress")
    assert_one_line_error(proc, "truncated", 3)
    assert "stopped at" in proc.stderr
    written = len(jsonl.read_text().splitlines())
    assert 5 < written < 60


def test_unreachable_stream_times_out(port: int) -> None:
    started = time.monotonic()
    proc = run_cli("detect", f"rtsp://127.0.0.1:{port}/live", timeout=60)
    assert_one_line_error(proc, "cannot connect", 3)
    assert time.monotonic() - started < 30


def test_unknown_model(pets_video: Path) -> None:
    assert_one_line_error(run_cli("detect", pets_video, "--model", "yolo-nano"), "unknown model", 4)


def test_checksum_mismatch(pets_video: Path, models_dir: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = bytearray((models_dir / "yolox_nano.onnx").read_bytes())
    data[5000] ^= 0xFF
    (mirror / "yolox_nano.onnx").write_bytes(bytes(data))
    proc = run_cli(
        "detect",
        pets_video,
        env={"SHIGU_MODEL_MIRROR": str(mirror), "SHIGU_HOME": str(tmp_path / "home")},
    )
    assert_one_line_error(proc, "checksum mismatch", 4)
    assert not (tmp_path / "home" / "models" / "yolox_nano.onnx").exists()


def test_onnx_with_unknown_outputs(pets_video: Path, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=0)],
        "cls",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "m.onnx")
    assert_one_line_error(
        run_cli("detect", pets_video, "--model", tmp_path / "m.onnx"),
        "match no known detector format",
        4,
    )


def test_bad_output_name(pets_video: Path, tmp_path: Path) -> None:
    assert_one_line_error(
        run_cli("detect", pets_video, "--out", tmp_path / "x.avi"), "should end in", 2
    )


def test_help_teaches() -> None:
    proc = run_cli("detect", "--help")
    assert proc.returncode == 0
    assert "Examples" in proc.stdout and "--classes" in proc.stdout


def test_models_commands(tmp_path: Path) -> None:
    env = {"SHIGU_HOME": str(tmp_path)}
    proc = run_cli("models", "list", env=env)
    assert proc.returncode == 0 and "yolox-nano" in proc.stdout and "yunet-face" in proc.stdout
    proc = run_cli("models", "pull", "yolox-nano", "nanodet-m", env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "models" / "nanodet_m_320.onnx").is_file()
    proc = run_cli("models", "info", "yolox-s", env=env)
    assert "pinned on first download" in proc.stdout and "0.1.1rc0/yolox_s.onnx" in proc.stdout
    assert_one_line_error(run_cli("models", "info", "nope", env=env), "unknown model", 4)


@pytest.mark.slow
def test_demo(tmp_path: Path) -> None:
    proc = run_cli("demo", "--out-dir", tmp_path / "d", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "d" / "annotated.mp4").stat().st_size > 10_000
    lines = (tmp_path / "d" / "detections.jsonl").read_text().splitlines()
    assert len(lines) == 250
    assert "car" in proc.stdout and "person" in proc.stdout
