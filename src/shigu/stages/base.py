"""The stage contract: what every step between decoding and the outputs looks like.

A stage is a small class with one method, ``process(items)``, that changes the frames of one
engine batch in place. Which thread runs it, how frames are batched across sources and in
which order the stages run is the engine's business alone. Stage kinds, in pipeline order:

- ``pre``: frame to frame before detection (enhancement, undistortion); sees one frame.
- ``secondary``: models on crops of the tracked objects (pose, embeddings, plates); sees
  every frame of the batch, so crops from many frames and sources go through a model at once.
- ``post``: after the rules, before any output (privacy masks, annotation); what it draws is
  what snapshots, clips and videos show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from shigu.core.detections import Detections
from shigu.core.events import Event, EventEnd
from shigu.core.frame import Frame

StageKind = Literal["pre", "secondary", "post"]


class NoOptions(BaseModel):
    """Options of a stage that takes none."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # no NaN or Infinity


@dataclass
class FrameItem:
    """One frame on its way through the stages: its pixels, objects and events so far."""

    frame: Frame
    detections: Detections
    events: list[Event | EventEnd] = field(default_factory=list)
    labels: tuple[str, ...] = ()  # class names of the detector that found them (its source's)
    still: bool = False  # the motion gate saw nothing move: no model needs to run on it
    found: Detections | None = None  # the detector's boxes before tracking (privacy masks)

    @property
    def source_id(self) -> str:
        return self.frame.source_id


@dataclass(frozen=True)
class StageContext:
    """What the engine tells a stage when it builds it."""

    labels: tuple[str, ...]  # the primary detector's class names
    device: str = "cpu"
    fps: float = 25.0
    store_url: str | None = None  # the pipeline's store (known faces read their gallery there)


class Stage:
    """Base class of every stage. Subclasses set ``kind`` (and ``Options``, a pydantic
    model for their config section) and implement :meth:`process`."""

    kind: ClassVar[StageKind] = "post"
    Options: ClassVar[type[BaseModel]] = NoOptions
    name: str = "stage"

    def __init__(self, options: Any, context: StageContext) -> None:
        self.options = options
        self.context = context

    def process(self, items: list[FrameItem]) -> None:
        """Change ``items`` in place (frames, detections, their data, events)."""
        raise NotImplementedError

    def track_attributes(self, source_id: str, track_id: int) -> dict[str, Any]:
        """What this stage knows about a track, for the events the track raises."""
        return {}

    def finish(self, source_id: str) -> list[Event | EventEnd]:
        """Events the stage still owes a source at the end of the run (a track's plate not
        decided yet); handled like the rules' own."""
        return []

    def close(self) -> None:
        """Release models and files at the end of the run."""
