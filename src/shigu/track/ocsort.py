"""OC-SORT (Cao et al., CVPR 2023) as a preset of the association engine.

Observation-centric: a re-found track is re-updated along a virtual path from its last
observation (ORU), association rewards detections that continue a track's direction (OCM),
and unmatched tracks get a second chance on their last observed box (OCR). All tracks,
tentative included, meet the high-score detections together; low-score detections rescue
confirmed tracks (the BYTE step OC-SORT enables on MOT17).
"""

from __future__ import annotations

from typing import Any

from shigu.track.engine import AssociationTracker, TrackerConfig


def ocsort_config(**overrides: object) -> TrackerConfig:
    """OC-SORT's published MOT17 settings (det 0.6, IoU 0.3, inertia 0.2, delta 3, age 30)."""
    base: dict[str, object] = {
        "high_thresh": 0.6,
        "low_thresh": 0.1,
        "new_track_thresh": 0.6,
        "match_iou": 0.3,
        "low_match_iou": 0.3,
        "tentative_match_iou": 0.3,
        "recovery_iou": 0.3,
        "lost_buffer": 30,
        "min_hits": 3,
        "fuse_score": False,
        "tentative_in_first_pool": True,
        "byte": True,
        "oru": True,
        "ocm_weight": 0.2,
        "ocm_delta": 3,
        "output": "filtered",
    }
    base.update(overrides)
    return TrackerConfig(**base)  # type: ignore[arg-type]


class OCSortTracker(AssociationTracker):
    """OC-SORT; pass keyword overrides of ``TrackerConfig`` to change its settings."""

    name = "ocsort"

    def __init__(self, frame_rate: float = 30.0, **overrides: Any) -> None:
        cmc = overrides.pop("cmc", None)
        reid = overrides.pop("reid", None)
        super().__init__(
            ocsort_config(**overrides),
            frame_rate,
            cmc=cmc,
            reid=reid,
        )
