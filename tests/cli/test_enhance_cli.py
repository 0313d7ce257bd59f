"""`shigu enhance`, `shigu eval iqa` and the ``enhance`` pre stage, as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lol(data_dir: Path) -> Path:
    folder = data_dir / "lowlight" / "LOL_train_subset"
    if not folder.is_dir():
        pytest.skip("LOL pairs not in the shared data")
    return folder


@pytest.fixture()
def env(models_dir: Path) -> dict[str, str]:
    return {"SHIGU_MODEL_MIRROR": str(models_dir)}


def test_auto_brightens_dark_images_and_leaves_lit_ones_alone(
    lol: Path, data_dir: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("2.png", "91.png"):
        shutil.copy(lol / "low" / name, folder / name)
    coco = sorted((data_dir / "images" / "coco_val2017").glob("*.jpg"))[:2]
    for p in coco:
        shutil.copy(p, folder / p.name)
    out = tmp_path / "bright"
    proc = run_cli("enhance", folder, "--out", out, "--no-progress", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "auto: 2 dark, enhanced; 2 well lit" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in folder.iterdir())
    for p in coco:  # well lit: the very same file
        assert (out / p.name).read_bytes() == p.read_bytes()
    for name in ("2.png", "91.png"):
        low = cv2.imread(str(lol / "low" / name)).astype(float)
        got = cv2.imread(str(out / name)).astype(float)
        gt = cv2.imread(str(lol / "high" / name)).astype(float)
        assert got.mean() > 3 * low.mean()
        assert np.abs(got - gt).mean() < np.abs(low - gt).mean() / 2


def test_iqa_follows_its_stated_conventions(lol: Path, tmp_path: Path) -> None:
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    pred.mkdir()
    gt.mkdir()
    shutil.copy(lol / "low" / "2.png", pred / "2.png")
    shutil.copy(lol / "high" / "2.png", gt / "2.png")
    shutil.copy(lol / "high" / "51.png", gt / "51.png")
    out = tmp_path / "iqa.json"
    proc = run_cli("eval", "iqa", "--pred", pred, "--gt", gt, "--json", out)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    a = cv2.imread(str(pred / "2.png")).astype(np.float64)
    b = cv2.imread(str(gt / "2.png")).astype(np.float64)
    psnr = 10 * np.log10(255**2 / np.mean((a - b) ** 2))  # RGB, range 255, no mean correction
    assert result["images"][0]["psnr"] == pytest.approx(psnr, abs=1e-3)
    assert 0 < result["images"][0]["ssim"] < 1
    assert result["images"][0]["niqe"] > 0  # no-reference, of the prediction
    assert result["missing_pred"] == ["51"]
    cv2.imwrite(str(pred / "2.png"), cv2.resize(cv2.imread(str(pred / "2.png")), (300, 200)))
    assert_one_line_error(run_cli("eval", "iqa", "--pred", pred, "--gt", gt), "sizes differ", 2)


def test_video_is_reencoded_frame_for_frame(pets_video: Path, tmp_path: Path) -> None:
    import av

    clip = tmp_path / "night.mp4"
    with av.open(str(pets_video)) as src, av.open(str(clip), "w") as dst:
        stream = dst.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 480, 360, "yuv420p"
        for i, frame in enumerate(src.decode(video=0)):
            if i == 30:
                break
            dark = (frame.to_ndarray(format="bgr24") * 0.15).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(dark, format="bgr24")):
                dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    out = tmp_path / "out"
    proc = run_cli("enhance", clip, "--out", out, "--method", "gamma", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    with av.open(str(out / "night.mp4")) as result:
        frames = [f.to_ndarray(format="bgr24") for f in result.decode(video=0)]
    assert len(frames) == 30
    means = np.array([f.mean() for f in frames])
    assert means.min() > 80  # brightened from ~15
    assert np.abs(np.diff(means)).max() < 3  # steady: no flicker


def test_mistakes(tmp_path: Path) -> None:
    assert_one_line_error(
        run_cli("enhance", tmp_path / "no.mp4", "--out", tmp_path), "not found", 2
    )
    assert_one_line_error(run_cli("enhance", tmp_path, "--out", tmp_path, "-m", "x"), "unknown", 2)
    a_file = tmp_path / "taken.txt"
    a_file.write_text("x")
    assert_one_line_error(run_cli("enhance", tmp_path, "--out", a_file), "is a file", 2)


def test_enhance_pre_stage_in_a_pipeline(lol: Path, tmp_path: Path, env: dict[str, str]) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, name in enumerate(["2.png", "51.png", "91.png"]):
        shutil.copy(lol / "low" / name, folder / f"{i:03d}.png")
    config = tmp_path / "night.yaml"
    config.write_text(f"""
sources: [{{id: night, uri: "{folder}"}}]
pipeline:
  detector: {{model: yolox-nano, conf: 0.3}}
  stages: [{{use: enhance, options: {{method: auto}}}}]
store: {{url: "sqlite:///{tmp_path / "e.db"}", media_dir: {tmp_path / "media"}}}
""")
    summary = tmp_path / "summary.json"
    proc = run_cli("run", config, "--summary-json", summary, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    stages = json.loads(summary.read_text())["stages"]
    assert stages["enhance"]["kind"] == "pre" and stages["enhance"]["seconds"] > 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text().replace("method: auto", "method: night-vision"))
    assert_one_line_error(run_cli("run", bad), "method", 5)
