"""ByteTrack (Zhang et al., ECCV 2022) as a preset of the association engine.

High-score boxes meet confirmed and lost tracks first; low-score boxes (often occluded people)
then rescue the confirmed tracks still unmatched; tentative tracks get the high-score
leftovers; confident leftovers start new tracks. IoU is weighted by detection score.
"""

from __future__ import annotations

from typing import Any

from shigu.track.engine import AssociationTracker, TrackerConfig


def bytetrack_config(**overrides: object) -> TrackerConfig:
    """The paper's MOT17 settings (track 0.6 / new 0.7 / match 0.8 / buffer 30)."""
    base: dict[str, object] = {
        "high_thresh": 0.6,
        "low_thresh": 0.1,
        "new_track_thresh": 0.7,
        "match_iou": 0.2,
        "low_match_iou": 0.5,
        "tentative_match_iou": 0.3,
        "lost_buffer": 30,
        "min_hits": 2,
        "fuse_score": True,
        "tentative_in_first_pool": False,
        "byte": True,
        "oru": False,
        "ocm_weight": 0.0,
        "recovery_iou": 0.0,
        "output": "detection",
    }
    base.update(overrides)
    return TrackerConfig(**base)  # type: ignore[arg-type]


class ByteTracker(AssociationTracker):
    """ByteTrack; pass keyword overrides of ``TrackerConfig`` to change its settings."""

    name = "bytetrack"

    def __init__(self, frame_rate: float = 30.0, **overrides: Any) -> None:
        cmc = overrides.pop("cmc", None)
        reid = overrides.pop("reid", None)
        super().__init__(
            bytetrack_config(**overrides),
            frame_rate,
            cmc=cmc,
            reid=reid,
        )
