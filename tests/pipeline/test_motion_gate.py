"""Motion-gated detection in `shigu run`: still stretches skip the detector, counts stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from shigu.pipeline import Pipeline, parse_config
from tests.helpers import idle_video, pets_gate_config

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
