"""Named tracker presets in one visible table, and ``create_tracker`` to build them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shigu.core.errors import InputError
from shigu.track.bytetrack import bytetrack_config
from shigu.track.cmc import CameraMotion
from shigu.track.engine import AssociationTracker, TrackerConfig
from shigu.track.ocsort import ocsort_config
from shigu.track.reid import ReIDModel

# What `--tracker` accepts. "bytetrack" is what Shigu ships: ByteTrack's cascade with a 2 s
# lost-track buffer, plain IoU >= 0.3 and Kalman-filtered boxes (see docs/tracking.md for the
# measurements behind each choice).
PRESETS: dict[str, Callable[..., TrackerConfig]] = {
    "bytetrack": lambda **kw: bytetrack_config(
        **{
            "high_thresh": 0.5,
            "new_track_thresh": 0.6,
            "match_iou": 0.3,
            "fuse_score": False,
            "lost_buffer": 60,
            "output": "filtered",
            **kw,
        }
    ),
    "bytetrack-paper": bytetrack_config,
    "ocsort": lambda **kw: ocsort_config(**{"lost_buffer": 60, **kw}),
    "ocsort-paper": ocsort_config,
    "sort": lambda **kw: bytetrack_config(
        **{
            "high_thresh": 0.5,
            "low_thresh": 0.5,
            "new_track_thresh": 0.5,
            "match_iou": 0.3,
            "fuse_score": False,
            "byte": False,
            "lost_buffer": 1,
            "min_hits": 3,
            "tentative_in_first_pool": True,
            "output": "filtered",
            **kw,
        }
    ),
}
DEFAULT = "bytetrack"

# Score thresholds depend on how a detector scores, so the default tracker's thresholds are
# chosen per kind of detector. MOTChallenge public detections (FRCNN, DPM, ACF scores mapped
# to 0..1 by ``normalise_scores``): high and new-track threshold 0.3, the setting that won
# every fold of leave-one-sequence-out over the seven shared sequences (docs/tracking.md,
# `benchmarks/track_mot.py --cv`). Live detectors (YOLOX-nano at conf 0.1 in `shigu run`)
# keep the preset's 0.5 / 0.6, chosen on PETS line counts (docs/pipeline.md); only one
# shared video has their boxes and ground truth, too little to cross-validate a change.
DETECTOR_THRESHOLDS: dict[str, dict[str, float]] = {
    "public": {"high_thresh": 0.3, "new_track_thresh": 0.3},
}


def detector_defaults(detector: str, preset: str) -> dict[str, float]:
    """The default tracker's thresholds for a kind of detector (``public``: MOTChallenge
    public detections), to be overridden by the user's own settings; other presets keep
    their own."""
    if preset not in (DEFAULT, "default"):
        return {}
    return dict(DETECTOR_THRESHOLDS.get(detector, {}))


def create_tracker(
    name: str = DEFAULT,
    frame_rate: float = 30.0,
    *,
    cmc: bool = False,
    reid: str | ReIDModel | None = None,
    **overrides: Any,
) -> AssociationTracker:
    """A tracker by preset name (``bytetrack``, ``ocsort``, ``sort``, ``*-paper``).

    Args:
        frame_rate: the video's frame rate; buffers are scaled to it.
        cmc: compensate camera motion (needs frames passed to ``update``).
        reid: a ReID model name or path (or a loaded model) to fuse appearance into matching.
        overrides: any ``TrackerConfig`` field, e.g. ``lost_buffer=90``.
    """
    key = "bytetrack" if name == "default" else name
    if key not in PRESETS:
        raise InputError(f"unknown tracker {name!r}", f"use one of: {', '.join(PRESETS)}")
    fields = set(TrackerConfig.__dataclass_fields__)
    unknown = set(overrides) - fields
    if unknown:
        raise InputError(
            f"unknown tracker setting(s): {', '.join(sorted(unknown))}",
            f"settings are: {', '.join(sorted(fields))}",
        )
    config = PRESETS[key](**overrides)
    model = ReIDModel(reid) if isinstance(reid, str) else reid
    tracker = AssociationTracker(
        config, frame_rate, cmc=CameraMotion() if cmc else None, reid=model
    )
    tracker.name = key
    return tracker
