"""The ``temperature`` zone rule: the hottest point in a zone above a threshold for a while.

Reads ``frame.celsius`` (thermal sources); the event starts when the zone first went over
``max_celsius`` and is raised after ``min_seconds`` above it; it ends when the zone has been
below ``max_celsius - hysteresis`` again. Attributes: the peak temperature so far and where
it is; the event's crop is a palette snapshot of the zone.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from shigu.analytics.rules import Emitted, FrameContext, ZoneRule
from shigu.core.events import Event, EventEnd
from shigu.core.geometry import Point
from shigu.solutions.thermal.palette import colourise, with_scale_bar


class TemperatureRule(ZoneRule):
    type = "temperature"

    def __init__(self, zone_id: str, polygon: Sequence[Point], max_celsius: float,
                 min_seconds: float = 0.0, hysteresis: float = 1.0) -> None:  # fmt: skip
        super().__init__(zone_id, polygon, None)
        self.max_celsius = max_celsius
        self.min_seconds = min_seconds
        self.hysteresis = hysteresis
        self.mask: np.ndarray | None = None
        self.above_since: float | None = None
        self.open: str | None = None
        self.peak = -np.inf

    def _zone_mask(self, shape: tuple[int, int]) -> np.ndarray:
        if self.mask is None or self.mask.shape != shape:
            mask = np.zeros(shape, np.uint8)
            cv2.fillPoly(mask, [np.round(self.polygon).astype(np.int32)], 1)
            self.mask = mask.astype(bool)
        return self.mask

    def update(self, ctx: FrameContext) -> Emitted:
        celsius = getattr(ctx.frame, "celsius", None)
        if celsius is None:
            return []
        mask = self._zone_mask(celsius.shape)
        if not mask.any():
            return []
        values = np.where(mask, celsius, -np.inf)
        flat = int(np.argmax(values))
        hottest = float(values.flat[flat])
        y, x = divmod(flat, celsius.shape[1])
        out: Emitted = []
        if hottest > self.max_celsius:
            if self.above_since is None:
                self.above_since = ctx.time
            self.peak = max(self.peak, hottest)
            if self.open is None and ctx.time - self.above_since >= self.min_seconds:
                ev = Event(type=self.type, source=ctx.source, start=self.above_since,
                           zone=self.zone_id, frame_index=ctx.frame_index,
                           box=[float(x), float(y), float(x), float(y)])  # fmt: skip
                ev.attributes.update({"celsius": round(hottest, 2), "threshold": self.max_celsius,
                                      "hot_spot": [int(x), int(y)]})  # fmt: skip
                ev.crop = self._snapshot(celsius)
                self.open = ev.id
                out.append(ev)
        elif hottest < self.max_celsius - self.hysteresis:
            if self.open is not None:
                out.append(EventEnd(self.open, ctx.time, {"peak_celsius": round(self.peak, 2)}))
            self.open, self.above_since, self.peak = None, None, -np.inf
        return out

    def _snapshot(self, celsius: np.ndarray) -> np.ndarray:
        """The whole thermal image in the iron palette, the zone outlined, with a scale bar."""
        span = (float(celsius.min()), float(celsius.max()))
        image = colourise(celsius, "iron", span)
        cv2.polylines(image, [np.round(self.polygon).astype(np.int32)], True, (255, 255, 255), 1)
        return with_scale_bar(image, span)

    def finish(self, now: float) -> Emitted:
        out: Emitted = []
        if self.open is not None:
            out.append(EventEnd(self.open, now, {"peak_celsius": round(self.peak, 2)}))
        self.open, self.above_since = None, None
        return out
