"""Run Roboflow ``trackers`` (the reference implementations) on Shigu ``Detections``.

For side-by-side comparisons on identical inputs: each reference tracker is wrapped so it
has Shigu's ``Tracker`` interface. Untracked outputs (``tracker_id == -1``) are dropped, as
they are when either side's results are written for TrackEval.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shigu.core.detections import Detections
from shigu.core.errors import InputError
from shigu.core.frame import Frame

REFERENCES = ("bytetrack", "ocsort", "sort", "botsort")


class ReferenceTracker:
    """A ``trackers`` tracker behind Shigu's ``update(detections) -> Detections``."""

    def __init__(self, name: str, frame_rate: float = 30.0, **kwargs: Any) -> None:
        try:
            import supervision as sv
            import trackers
        except ImportError as exc:
            raise InputError(
                "the reference trackers need the `trackers` package", "pip install trackers"
            ) from exc
        classes = {
            "bytetrack": trackers.ByteTrackTracker,
            "ocsort": trackers.OCSORTTracker,
            "sort": trackers.SORTTracker,
            "botsort": trackers.BoTSORTTracker,
        }
        if name not in classes:
            raise InputError(
                f"unknown reference tracker {name!r}", f"use one of: {', '.join(classes)}"
            )
        self.name = name
        self._sv = sv
        tracker_class: Any = classes[name]
        self._make: Any = lambda: tracker_class(frame_rate=frame_rate, **kwargs)
        self._tracker = self._make()

    def reset(self) -> None:
        self._tracker = self._make()

    def update(self, detections: Detections, frame: Frame | np.ndarray | None = None) -> Detections:
        result = self._tracker.update(
            self._sv.Detections(
                xyxy=detections.xyxy.astype(np.float32),
                confidence=detections.confidence,
                class_id=detections.class_id.astype(int),
            )
        )
        out = Detections.from_supervision(result)
        if out.tracker_id is None:
            return out.with_tracker_id(np.zeros(0, np.int64)) if len(out) == 0 else out
        return out[out.tracker_id >= 0]
