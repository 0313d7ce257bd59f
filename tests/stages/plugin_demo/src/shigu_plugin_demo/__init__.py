"""A plugin as a third party writes one: a post stage and a pre stage with typed options."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

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
