"""The ``enhance`` pre stage: detection runs on enhanced frames (``pipeline.stages:
[{use: enhance, options: {method: auto}}]``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shigu.solutions.lowlight.enhance import DARK_BELOW, SteadyBrightness, make_enhancer
from shigu.stages.base import FrameItem, Stage, StageContext, StageKind


class EnhanceOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str = Field("auto", pattern=r"^(auto|lyt-fast|lyt|sci|gamma|clahe)$")
    dark_below: float = Field(DARK_BELOW, gt=0, le=1, description="auto: mean luma threshold")
    steady: bool = Field(True, description="keep brightness steady from frame to frame")


class EnhanceStage(Stage):
    kind: ClassVar[StageKind] = "pre"
    Options = EnhanceOptions
    name = "enhance"

    def __init__(self, options: EnhanceOptions, context: StageContext) -> None:
        super().__init__(options, context)
        self.enhancer = make_enhancer(options.method, options.dark_below)
        self.steady: dict[str, SteadyBrightness] = {}
        self.use_steady = options.steady

    def process(self, items: list[FrameItem]) -> None:
        for item in items:
            frame = item.frame
            image = frame.image
            out = self.enhancer(image)
            if self.use_steady:
                out = self.steady.setdefault(frame.source_id, SteadyBrightness())(image, out)
            if out is not image:
                frame.image = out
