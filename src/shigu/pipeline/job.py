"""A job on the pipeline engine: one open source through detection, tracking and stages to
per-frame outputs, keeping no events (``shigu detect``/``track``/``pose``/``demo``, and each
input of ``shigu batch``, in one process or on Ray)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shigu.core.errors import ShiguError
from shigu.detect.base import Detector
from shigu.detect.slicing import SliceConfig
from shigu.io.frame_outputs import FrameOutput
from shigu.pipeline.config import parse_config
from shigu.pipeline.engine import Pipeline
from shigu.pipeline.graph import StageGraph
from shigu.sources.base import Source
from shigu.store.null import NullStore


def job_pipeline(
    source: Source,
    detector: Detector,
    outputs: list[FrameOutput],
    *,
    tracker: Any = None,
    graph: StageGraph | None = None,
    max_frames: int | None = None,
    workers: int | None = None,
    slicing: SliceConfig | None = None,
) -> Pipeline:
    """The engine set up for a job (not yet run). Frames are processed in order, one per
    inference run (the batch a fixed-batch model would run anyway)."""
    config = parse_config(
        {
            "sources": [{"id": source.source_id, "uri": "job"}],
            "pipeline": {
                "tracker": None,
                "batch": 1,
                "detector": {"slice": None if slicing is None else slicing.model_dump()},
            },
            "media": {"snapshots": False},
            "store": {"retention_days": None, "retention_gb": None},
        }
    )
    factory: Callable[[float], Any] | None = (lambda _fps: tracker) if tracker is not None else None
    return Pipeline(
        config,
        max_frames=max_frames,
        detector=detector,
        store=NullStore(),
        sources={source.source_id: source},
        tracker_factory=factory,
        graph=graph,
        outputs=outputs,
        workers=workers,
    )


def source_error(pipeline: Pipeline, source: Source) -> ShiguError | None:
    """What stopped the job's source early (a truncated file, a dead stream), if anything."""
    state = pipeline.states.get(source.source_id)
    return state.runner.exception if state is not None else None
