"""A plugin as a third party writes one: stages, a zone rule and a detector decoder."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from shigu.analytics.rules import FrameContext, ZoneRule
from shigu.core.events import Event, EventEnd
from shigu.detect.yolox import YOLOXDetector
from shigu.stages import FrameItem, Stage


class CounterOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    classes: list[int] = Field(default_factory=lambda: [0])


class PeopleCounter(Stage):
    """Writes one JSON line per frame: how many objects of ``classes`` it saw."""

    kind = "post"
    Options = CounterOptions

    def __init__(self, options: CounterOptions, context: object) -> None:
        super().__init__(options, context)
        self.fh = Path(options.path).open("w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def process(self, items: list[FrameItem]) -> None:
        for item in items:
            n = sum(int(c) in self.options.classes for c in item.detections.class_id)
            self.fh.write(json.dumps({"frame": item.frame.index, "count": n}) + "\n")

    def close(self) -> None:
        self.fh.close()


class Grey(Stage):
    """A pre stage: the frame in grey (what the detector and every output then see)."""

    kind = "pre"

    def process(self, items: list[FrameItem]) -> None:
        for item in items:
            grey = item.frame.image.mean(axis=2, keepdims=True).astype("uint8")
            item.frame.image = grey.repeat(3, axis=2)


class GroupOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_people: int = Field(2, ge=1)


class GroupRule(ZoneRule):
    """A zone rule: one ``group`` event each time at least ``min_people`` tracks are inside
    together after fewer were."""

    type = "group"
    Options = GroupOptions

    def __init__(self, zone_id: str, polygon: object, classes: object,
                 options: GroupOptions) -> None:  # fmt: skip
        super().__init__(zone_id, polygon, classes)  # type: ignore[arg-type]
        self.min_people = options.min_people
        self.active = False

    def update(self, ctx: FrameContext) -> list[Event | EventEnd]:
        inside = self.inside(ctx.seen)
        now = len(inside) >= self.min_people
        out: list[Event | EventEnd] = []
        if now and not self.active:
            out.append(
                Event(
                    type="group",
                    source=ctx.source,
                    start=ctx.time,
                    zone=self.zone_id,
                    frame_index=ctx.frame_index,
                    attributes={"people": len(inside)},
                )
            )
        self.active = now
        return out


class RenamedYOLOX(YOLOXDetector):
    """A decoder plugin: YOLOX outputs under a format name of its own."""
