"""`shigu avatar` as a user runs it: a fall-dataset clip to BVH, JSONL and live VMC."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
from bvh import Bvh
from pythonosc.osc_bundle import OscBundle

from tests.cli import assert_one_line_error, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_walking_clip_to_bvh_jsonl_and_vmc(data_dir: Path, tmp_path: Path) -> None:
    clip = data_dir / "fall" / "gmdcsa24" / "Subject_3" / "ADL" / "19.mp4"  # 98 frames, 15 fps
    if not clip.exists():
        pytest.skip("fall clips not in the shared data")
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(60)
    bundles: list[bytes] = []

    def listen() -> None:
        try:
            while True:
                bundles.append(receiver.recv(65536))
                receiver.settimeout(5)
        except OSError:
            pass

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    port = receiver.getsockname()[1]
    bvh_path, jsonl = tmp_path / "walk.bvh", tmp_path / "walk.jsonl"
    proc = run_cli(
        "avatar",
        clip,
        "--bvh",
        bvh_path,
        "--jsonl",
        jsonl,
        "--vmc",
        f"127.0.0.1:{port}",
        "--no-progress",
    )
    thread.join(timeout=30)
    receiver.close()
    assert proc.returncode == 0, proc.stderr
    parsed = Bvh(bvh_path.read_text())
    assert parsed.nframes == 98 and parsed.frame_time == pytest.approx(1 / 15.05, rel=0.01)
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert rows and {"frame", "time", "track_id", "root", "joints", "rotations"} <= set(rows[0])
    assert len(bundles) == len(rows)  # one VMC bundle per posed frame of the person
    assert all(OscBundle.dgram_is_bundle(b) for b in bundles)
    xs = [r["root"][0] for r in rows]
    assert max(xs) - min(xs) > 0.3  # the person walks across the room: the root moves


def test_mistakes_are_one_line_errors(data_dir: Path, tmp_path: Path) -> None:
    clip = data_dir / "fall" / "gmdcsa24" / "Subject_3" / "ADL" / "19.mp4"
    assert_one_line_error(run_cli("avatar", clip), "nothing to write", 2)
    assert_one_line_error(run_cli("avatar", clip, "--vmc", "localhost"), "HOST:PORT", 2)
    assert_one_line_error(run_cli("avatar", clip, "--bvh", tmp_path / "x.txt"), ".bvh", 2)
    images = data_dir / "images" / "coco_val2017"
    assert_one_line_error(
        run_cli("avatar", images, "--bvh", tmp_path / "x.bvh"), "set of images", 2
    )


def test_blender_imports_the_bvh(data_dir: Path, tmp_path: Path) -> None:
    """Blender's own BVH importer (Debian's blender, in background mode) loads our file:
    the humanoid bones, every frame, the video's rate, constant bones, human flexion."""
    import shutil
    import subprocess

    blender = shutil.which("blender")
    assert blender, "Debian's blender is a test dependency (scripts/install-system-deps.sh)"
    clip = data_dir / "fall" / "gmdcsa24" / "Subject_3" / "ADL" / "19.mp4"
    bvh_path = tmp_path / "walk.bvh"
    proc = run_cli("avatar", clip, "--bvh", bvh_path, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    script = Path(__file__).parents[1] / "solutions" / "avatar" / "blender_check.py"
    done = subprocess.run(
        [blender, "-b", "--factory-startup", "--python", str(script), "--", str(bvh_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(line[len("RESULT ") :])
    assert len(result["bones"]) == 19 and result["bones"][0] == "Hips"
    assert result["frames"] == 98 and result["fps"] == pytest.approx(15.05, rel=0.01)
    assert result["length_spread"] < 1e-3  # bone lengths constant over the clip
    assert result["max_flexion_deg"] < 160  # knees and elbows inside human limits
