"""How much of the people a privacy mask leaves visible: leakage against ground truth.

A ground-truth person is *visible unmasked* in a frame when less than ``covered`` of their
region (the whole box, or its top fifth for faces) differs from the original picture in the
output. Reported over every ground-truth person-frame and over those of *tracked* persons:
ground-truth boxes a track of the pipeline overlapped (IoU >= 0.5) in that frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shigu.track.matching import iou_matrix


@dataclass
class Leakage:
    """Counts of person-frames and of those left visible."""

    frames: int = 0
    people: int = 0
    leaked: int = 0
    tracked: int = 0
    tracked_leaked: int = 0
    leaked_frames: set[int] = field(default_factory=set)
    tracked_leaked_frames: set[int] = field(default_factory=set)

    def add(
        self,
        index: int,
        original: np.ndarray,
        output: np.ndarray,
        gt: np.ndarray,
        tracked_boxes: np.ndarray,
        region: str = "person",
        covered: float = 0.8,
    ) -> None:
        """One frame: ``gt`` (n, 4) xyxy people, ``tracked_boxes`` (m, 4) the tracks' boxes."""
        self.frames += 1
        if not len(gt):
            return
        changed = np.any(original != output, axis=2)
        matched = np.zeros(len(gt), bool)
        if len(tracked_boxes):
            matched = (
                iou_matrix(gt.astype(np.float64), tracked_boxes.astype(np.float64)).max(axis=1)
                >= 0.5
            )
        h, w = changed.shape
        for k, box in enumerate(gt):
            x1, y1, x2, y2 = box
            if region == "face":
                y2 = y1 + (y2 - y1) / 5
            xa, ya = max(0, round(float(x1))), max(0, round(float(y1)))
            xb, yb = min(w, round(float(x2))), min(h, round(float(y2)))
            if xb <= xa or yb <= ya:
                continue
            share = float(changed[ya:yb, xa:xb].mean())
            visible = share < covered
            self.people += 1
            self.leaked += int(visible)
            if visible:
                self.leaked_frames.add(index)
            if matched[k]:
                self.tracked += 1
                self.tracked_leaked += int(visible)
                if visible:
                    self.tracked_leaked_frames.add(index)

    def summary(self) -> dict[str, float]:
        """Shares of frames with any visible person, and of person-frames (all / tracked)."""
        return {
            "frames": self.frames,
            "frames_with_visible_person": len(self.leaked_frames) / max(1, self.frames),
            "frames_with_visible_tracked_person": len(self.tracked_leaked_frames)
            / max(1, self.frames),
            "person_frames_visible": self.leaked / max(1, self.people),
            "tracked_person_frames_visible": self.tracked_leaked / max(1, self.tracked),
        }
