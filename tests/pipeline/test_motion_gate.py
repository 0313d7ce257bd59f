"""Motion-gated detection in `shigu run`: still stretches skip the detector, counts stay."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.detect import load_detector
from shigu.detect.nms import box_iou
from shigu.pipeline import Pipeline, parse_config
from shigu.sources import open_source
from tests.helpers import canvas_video, idle_video, pets_gate_config

pytestmark = pytest.mark.integration


def test_gated_run_skips_still_frames_with_the_same_results(
    pets_video: Path, tmp_path: Path
) -> None:
    video = idle_video(pets_video, tmp_path / "idle.mp4", active=40, frozen=120, max_frames=480)
    plain = Pipeline(
        parse_config(pets_gate_config(tmp_path, video, {"enabled": False}, "plain"))
    ).run()
    gated = Pipeline(
        parse_config(pets_gate_config(tmp_path, video, {"enabled": True}, "gated"))
    ).run()
    assert gated["frames"] == plain["frames"] == 480
    skipped = gated["sources"]["gate"]["motion_skipped"]
    assert skipped >= 300, skipped  # 3 x 120 frozen frames, less the keyframes
    assert "motion_skipped" not in plain["sources"]["gate"]
    assert gated["lines"] == plain["lines"]
    assert gated["events"] == plain["events"]
    assert gated["sources"]["gate"]["tracks"] == plain["sources"]["gate"]["tracks"]


def test_motion_default_is_off_for_files_and_sources_override(tmp_path: Path) -> None:
    cfg = parse_config({
        "sources": [{"id": "a", "uri": "a.mp4"},
                    {"id": "b", "uri": "b.mp4", "motion": {"enabled": True, "threshold": 40}}],
        "pipeline": {"motion": {"min_area": 0.01}},
    })  # fmt: skip
    assert cfg.motion_for("a").enabled is None and cfg.motion_for("a").min_area == 0.01
    b = cfg.motion_for("b")
    assert b.enabled is True and b.threshold == 40 and b.min_area == 0.01


class _Boxes:
    """A frame output that keeps each frame's boxes."""

    def __init__(self) -> None:
        self.boxes: list[np.ndarray] = []

    def write(self, frame: Frame, dets: Detections, path: Path | None) -> None:
        self.boxes.append(dets.xyxy.copy())

    def close(self) -> dict[str, str]:
        return {}


def _wide_run(tmp: Path, video: Path, regions: bool) -> tuple[list[np.ndarray], dict]:
    boxes = _Boxes()
    cfg = parse_config({
        "sources": [{"id": "wide", "uri": str(video)}],
        "pipeline": {"detector": {"classes": ["person"]}, "tracker": None,
                     "motion": {"enabled": True, "regions": regions}},
        "store": {"url": f"sqlite:///{tmp}/{regions}-{time.time_ns()}.db",
                  "media_dir": str(tmp / "media")},
        "media": {"snapshots": False},
    })  # fmt: skip
    summary = Pipeline(cfg, outputs=[boxes]).run()
    return boxes.boxes, summary


def test_regions_find_far_people_a_whole_frame_pass_misses(
    pets_video: Path, tmp_path: Path
) -> None:
    """PETS pasted small into a still 1920x1080 view: on the whole frame the 416 px model sees
    people at a fifth of their size; on crops around motion it sees them as in PETS itself."""
    at = (1300, 600)
    video = canvas_video(pets_video, tmp_path / "wide.mp4", at=at, max_frames=50)
    detector = load_detector(classes=["person"])
    frames = zip(range(50), open_source(str(pets_video)), strict=False)
    native = [detector.detect(f.image) for _, f in frames]

    def recall(boxes: list[np.ndarray]) -> float:
        hit = total = 0
        for want, got in zip(native, boxes, strict=True):
            total += len(want)
            if len(want) and len(got):
                iou = box_iou(want.xyxy, got - np.float32([*at, *at]))
                hit += int((iou.max(1) >= 0.5).sum())
        return hit / total

    whole, _ = _wide_run(tmp_path, video, regions=False)
    cropped, summary = _wide_run(tmp_path, video, regions=True)
    again, _ = _wide_run(tmp_path, video, regions=True)
    assert summary["sources"]["wide"]["motion_cropped"] >= 40  # all but first and still frames
    assert recall(whole) < 0.3 < 0.75 < recall(cropped), (recall(whole), recall(cropped))
    # crops come from motion alone, not from thread timing: the same boxes every run
    assert all(np.array_equal(a, b) for a, b in zip(cropped, again, strict=True))


def test_regions_leave_small_frames_to_one_whole_frame_pass(
    pets_video: Path, tmp_path: Path
) -> None:
    """On PETS itself (480x360) one 416 px crop would cover most of the frame: no crops."""
    cfg = pets_gate_config(tmp_path, pets_video, {"enabled": True}, "small")
    summary = Pipeline(parse_config(cfg), max_frames=60).run()
    assert summary["sources"]["gate"]["motion_cropped"] == 0
