"""`shigu plates` as a user runs it: images, folders with a broken file, videos, mistakes."""

from __future__ import annotations

import fractions
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.eval.plates import ccpd_plate
from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration


def test_folder_with_an_unreadable_image(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "gate"
    folder.mkdir()
    images = sorted((data_dir / "lpr" / "ccpd").glob("*.jpg"))[:3]
    for p in images:
        shutil.copy(p, folder / p.name)
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    out_json, out_dir = tmp_path / "plates.json", tmp_path / "annotated"
    proc = run_cli("plates", folder, "--json", out_json, "--out", out_dir, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "unreadable" in proc.stdout and "broken.jpg" in proc.stdout
    results = {Path(r["file"]).name: r for r in json.loads(out_json.read_text())}
    assert results["broken.jpg"]["error"] == "unreadable image"
    for p in images:
        (plate,) = results[p.name]["plates"]
        assert plate["text"] == ccpd_plate(p) and plate["valid"] and plate["color"] == "blue"
        assert len(plate["corners"]) == 4 and len(plate["chars_confidence"]) == 7
        assert (out_dir / p.name).is_file()
    assert sorted(x.name for x in out_dir.iterdir()) == sorted(p.name for p in images)


def test_video_frames_carry_frame_and_time(data_dir: Path, tmp_path: Path) -> None:
    import av

    image = cv2.imread(str(sorted((data_dir / "lpr" / "ccpd").glob("*.jpg"))[0]))
    image = cv2.resize(image, (720, 1160))[200:920]  # 720 x 720 around the plate
    video = tmp_path / "gate.mp4"
    with av.open(str(video), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 720, 720, "yuv420p"
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(image if i >= 3 else np.zeros_like(image),
                                               format="bgr24")  # fmt: skip
            frame.pts, frame.time_base = i, fractions.Fraction(1, 10)
            for pkt in stream.encode(frame):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    out_json = tmp_path / "v.json"
    proc = run_cli("plates", video, "--json", out_json, "--out", tmp_path / "v.mp4",
                   "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out_json.read_text())
    assert [r["frame"] for r in rows] == [3, 4, 5]
    assert rows[0]["time"] == pytest.approx(0.3, abs=0.01)
    assert rows[0]["plates"][0]["text"].startswith("皖A")
    assert (tmp_path / "v.mp4").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [(["missing.jpg"], "not found"),
     (["IMAGES", "--out", "x.mp4"], "is a video file"),
     (["IMAGES", "--json", "x.txt"], "should end in .json"),
     (["IMAGES", "--detector", "nope"], "unknown plate detector")],
)  # fmt: skip
def test_mistakes_are_one_line_errors(
    data_dir: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    images = str(data_dir / "lpr" / "ccpd")
    proc = run_cli("plates", *[images if a == "IMAGES" else a for a in args], cwd=tmp_path)
    assert_one_line_error(proc, message)
