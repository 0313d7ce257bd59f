"""``StageGraph``: the config's stages, built once, run in pipeline order.

pre (per frame, before detection) → [detect → track: the engine's own] → secondary (every
frame of a batch at once) → [analytics: the engine's rules] → post (before any output).
The engine and the ``detect``/``track``/``pose`` jobs both run their frames through it.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.stages import FrameItem, Stage, StageContext, stage_class
from shigu.stages.secondary import SecondaryConfig, SecondaryStage


class StageGraph:
    """Stages grouped by kind, in the order the config lists them."""

    def __init__(self, stages: list[Stage]) -> None:
        self.stages = stages
        self.pre = [s for s in stages if s.kind == "pre"]
        self.secondary = [s for s in stages if s.kind == "secondary"]
        self.post = [s for s in stages if s.kind == "post"]
        self.seconds: dict[str, float] = defaultdict(float)
        self._pre_lock = threading.Lock()  # sources decode in threads of their own

    @classmethod
    def build(
        cls,
        secondary: list[SecondaryConfig],
        plugins: list[Any],
        context: StageContext,
    ) -> StageGraph:
        """Secondary models first, then plugin stages (``PluginStage`` configs)."""
        stages: list[Stage] = [SecondaryStage(s, context) for s in secondary]
        for p in plugins:
            stage = stage_class(p.use)(p.typed_options, context)
            stage.name = p.use
            stages.append(stage)
        return cls(stages)

    def __bool__(self) -> bool:
        return bool(self.stages)

    def _timed(self, stage: Stage, items: list[FrameItem]) -> None:
        started = time.perf_counter()
        stage.process(items)
        self.seconds[stage.name] += time.perf_counter() - started

    def run_pre(self, frame: Frame) -> Frame:
        """The frame after every ``pre`` stage (they may replace its image)."""
        if not self.pre:
            return frame
        item = FrameItem(frame, Detections.empty())
        with self._pre_lock:
            for stage in self.pre:
                self._timed(stage, [item])
        return item.frame

    def summary(self) -> dict[str, Any]:
        """Per stage: seconds spent, and for secondary models crops and model calls."""
        out: dict[str, Any] = {}
        for stage in self.stages:
            row: dict[str, Any] = {"kind": stage.kind,
                                   "seconds": round(self.seconds[stage.name], 3)}  # fmt: skip
            if isinstance(stage, SecondaryStage):
                row.update(model=stage.cfg.model, crops=stage.crops_run, calls=stage.model_calls)
            out[stage.name] = row
        return out

    def run_secondary(self, items: list[FrameItem]) -> None:
        for stage in self.secondary:
            self._timed(stage, items)

    def run_post(self, items: list[FrameItem]) -> None:
        for stage in self.post:
            self._timed(stage, items)

    def track_attributes(self, source_id: str, track_id: int | None) -> dict[str, Any]:
        """What the stages know about a track, for its events."""
        out: dict[str, Any] = {}
        if track_id is None:
            return out
        for stage in self.stages:
            out.update(stage.track_attributes(source_id, track_id))
        return out

    def close(self) -> None:
        for stage in self.stages:
            stage.close()
