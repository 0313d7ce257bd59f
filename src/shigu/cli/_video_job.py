"""``shigu detect``, ``track``, ``pose`` and ``demo`` as jobs on the pipeline engine.

Source → detector (worker pool) → optional tracker → stages → annotated MP4 / images / JSONL
/ MOT txt (``shigu.io.frame_outputs``), with a progress bar and a closing report. A truncated
input still produces every output for the readable part before the error is raised.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shigu.cli._common import progress_bar
from shigu.core.detections import Detections
from shigu.core.errors import SourceTruncatedError
from shigu.core.frame import Frame
from shigu.detect.base import Detector
from shigu.io.frame_outputs import (
    AnnotatedImages,
    AnnotatedVideo,
    FrameOutput,
    JsonlFrames,
    MotRows,
)
from shigu.pipeline.graph import StageGraph
from shigu.pipeline.job import job_pipeline, source_error
from shigu.sources.base import Source


class _Tracker(Protocol):
    def update(self, detections: Detections, frame: Frame | None = None) -> Detections: ...


@dataclass
class JobReport:
    """What a detect/track run did."""

    frames: int = 0
    seconds: float = 0.0
    detections: Counter[str] = field(default_factory=Counter)
    tracks: Counter[str] = field(default_factory=Counter)  # unique track ids per class
    truncated: SourceTruncatedError | None = None
    interrupted: bool = False  # stopped by Ctrl-C: the outputs hold what was done until then
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 2),
            "detections": dict(self.detections),
            "tracks": dict(self.tracks),
            "outputs": self.outputs,
        }


def run_video_job(
    source: Source,
    detector: Detector,
    *,
    workers: int = 1,
    tracker: _Tracker | None = None,
    out: Path | None = None,
    jsonl: Path | None = None,
    mot_txt: Path | None = None,
    max_frames: int | None = None,
    show_progress: bool = True,
    description: str = "detect",
    out_dir: Path | None = None,
    graph: StageGraph | None = None,
    on_frame: Any = None,
    slicing: Any = None,
) -> JobReport:
    """Run detection (and tracking) over ``source`` on the pipeline engine and write the
    requested outputs.

    The engine is the one `shigu run` uses (decode thread, inference pool, tracker, stages),
    with a ``NullStore``: no events, media or run records. For image inputs, JSONL rows name
    their ``file`` and ``out_dir`` gets one annotated image per input under its own name.
    ``graph``: stages (pre before detection, secondary models and post stages after
    tracking). ``on_frame(frame, dets, path)`` sees every finished frame. ``slicing``: a
    ``SliceConfig`` for sliced inference.
    """
    report = JobReport()
    paths: list[Path] | None = getattr(source, "paths", None)
    labels = detector.labels
    outputs: list[FrameOutput] = []
    if out is not None:
        outputs.append(AnnotatedVideo(out, labels, source.output_fps or 25.0, tracker is not None))
    if out_dir is not None and paths:
        outputs.append(AnnotatedImages(out_dir, paths, labels, tracker is not None))
    if jsonl is not None:
        outputs.append(JsonlFrames(jsonl, labels))
    if mot_txt is not None:
        outputs.append(MotRows(mot_txt))
    total = source.info.frame_count
    if total and (source.stride > 1 or source.target_fps):
        total = None if source.target_fps else -(-total // source.stride)
    if max_frames:
        total = min(total, max_frames) if total else max_frames
    started = time.perf_counter()
    with progress_bar(description, total, show_progress) as bar:
        counter = _Counter(report, labels, bar, started, on_frame)
        pipeline = job_pipeline(
            source,
            detector,
            [counter, *outputs],
            tracker=tracker,
            graph=graph,
            max_frames=max_frames,
            workers=workers,
            slicing=slicing,
        )
        try:
            pipeline.run()
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            report.seconds = time.perf_counter() - started
            report.outputs.update(pipeline.written)
            source.close()
    error = source_error(pipeline, source)
    if isinstance(error, SourceTruncatedError):
        report.truncated = error
    elif error is not None and not report.interrupted:
        raise error
    return report


class _Counter:
    """The job's report and progress bar, fed like any other per-frame output."""

    def __init__(self, report: JobReport, labels: tuple[str, ...], bar: Any, started: float,
                 on_frame: Any) -> None:  # fmt: skip
        self.report, self.labels, self.bar = report, labels, bar
        self.started, self.on_frame = started, on_frame
        self.seen_tracks: set[tuple[int, int]] = set()

    def _name(self, c: int) -> str:
        return self.labels[c] if 0 <= c < len(self.labels) else str(c)

    def write(self, frame: Frame, dets: Detections, path: Path | None) -> None:
        report = self.report
        report.frames += 1
        for c in dets.class_id.tolist():
            report.detections[self._name(c)] += 1
        if dets.tracker_id is not None:
            for c, t in zip(dets.class_id.tolist(), dets.tracker_id.tolist(), strict=True):
                if t >= 0 and (c, t) not in self.seen_tracks:
                    self.seen_tracks.add((c, t))
                    report.tracks[self._name(c)] += 1
        if self.on_frame is not None:
            self.on_frame(frame, dets, path)
        elapsed = time.perf_counter() - self.started
        self.bar.advance(1, rate=f"{report.frames / elapsed:.1f} fps" if elapsed else "")

    def close(self) -> dict[str, str]:
        return {}
