"""The loop behind ``shigu detect``, ``shigu track`` and ``shigu demo``.

Source → detector (worker pool) → optional tracker → annotated MP4 / JSONL / MOT txt, with a
progress bar and a closing report. A truncated input still produces every output for the
readable part before the error is raised.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shigu.annotate import BoxAnnotator, TraceAnnotator, draw_skeletons
from shigu.cli._common import progress_bar
from shigu.core.detections import Detections
from shigu.core.errors import SourceTruncatedError
from shigu.core.frame import Frame
from shigu.detect.base import Detector
from shigu.detect.stream import detect_stream
from shigu.io.image_writer import ImageFolderWriter
from shigu.io.jsonl import JsonlWriter, frame_record
from shigu.io.video_writer import VideoWriter
from shigu.pipeline.graph import StageGraph
from shigu.sources.base import Source
from shigu.stages import FrameItem


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
) -> JobReport:
    """Run detection (and tracking) over ``source`` and write the requested outputs.

    For image inputs, JSONL rows name their ``file`` and ``out_dir`` gets one annotated image
    per input under its own name. ``graph``: the pipeline's stages (pre before detection,
    secondary models and post stages after tracking). ``on_frame(frame, dets, path)`` sees
    every finished frame (collectors such as the COCO keypoint writer).
    """
    report = JobReport()
    paths: list[Path] | None = getattr(source, "paths", None)
    path_at: dict[int, Path] | None = getattr(source, "path_at", None)
    images = ImageFolderWriter(out_dir, paths) if out_dir is not None and paths else None
    need_frames = out is not None or tracker is not None or images is not None
    video = VideoWriter(out, fps=source.output_fps or 25.0) if out else None
    lines = JsonlWriter(jsonl) if jsonl else None
    mot = mot_txt.open("w", encoding="utf-8") if mot_txt else None
    boxes = BoxAnnotator(detector.labels)
    traces = TraceAnnotator() if tracker is not None else None
    seen_tracks: set[tuple[int, int]] = set()
    labels = detector.labels
    total = source.info.frame_count
    if total and (source.stride > 1 or source.target_fps):
        total = None if source.target_fps else -(-total // source.stride)
    if max_frames:
        total = min(total, max_frames) if total else max_frames
    started = time.perf_counter()
    try:
        with progress_bar(description, total, show_progress) as bar:
            frames = source if graph is None or not graph.pre else map(graph.run_pre, source)
            for frame, dets in detect_stream(frames, detector, workers=workers):
                if tracker is not None:
                    dets = tracker.update(dets, frame if need_frames else None)
                if graph:
                    item = FrameItem(frame, dets)
                    graph.run_secondary([item])
                    graph.run_post([item])
                    frame, dets = item.frame, item.detections
                report.frames += 1
                for c in dets.class_id.tolist():
                    report.detections[labels[c] if 0 <= c < len(labels) else str(c)] += 1
                if dets.tracker_id is not None:
                    for c, t in zip(dets.class_id.tolist(), dets.tracker_id.tolist(), strict=True):
                        if t >= 0 and (c, t) not in seen_tracks:
                            seen_tracks.add((c, t))
                            report.tracks[labels[c] if 0 <= c < len(labels) else str(c)] += 1
                path = path_at.get(frame.index) if path_at is not None else None
                if lines is not None:
                    lines.write(
                        frame_record(frame, dets, labels, file=None if path is None else str(path))
                    )
                if on_frame is not None:
                    on_frame(frame, dets, path)
                if mot is not None and dets.tracker_id is not None:
                    _write_mot(mot, frame.index + 1, dets)
                if video is not None or (images is not None and path is not None):
                    image = frame.image.copy() if not frame.image.flags.writeable else frame.image
                    if traces is not None:
                        traces.annotate(image, dets)
                    boxes.annotate(image, dets)
                    if "pose" in dets.data:
                        draw_skeletons(image, dets.data["pose"])
                    if video is not None:
                        video.write(image)
                    if images is not None and path is not None:
                        images.write(path, image)
                elapsed = time.perf_counter() - started
                bar.advance(1, rate=f"{report.frames / elapsed:.1f} fps" if elapsed else "")
                if max_frames and report.frames >= max_frames:
                    break
    except SourceTruncatedError as exc:
        report.truncated = exc
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        report.seconds = time.perf_counter() - started
        if video is not None:
            video.close()
            report.outputs["video"] = str(out)
        if lines is not None:
            lines.close()
            report.outputs["jsonl"] = str(jsonl)
        if mot is not None:
            mot.close()
            report.outputs["mot"] = str(mot_txt)
        if images is not None:
            report.outputs["annotated images"] = f"{out_dir} ({images.written} images)"
        source.close()
    return report


def _write_mot(fh: Any, frame_no: int, dets: Detections) -> None:
    """MOTChallenge result rows: frame, id, left, top, width, height, conf, -1, -1, -1."""
    assert dets.tracker_id is not None
    for i in range(len(dets)):
        x1, y1, x2, y2 = dets.xyxy[i].tolist()
        fh.write(
            f"{frame_no},{int(dets.tracker_id[i])},{x1:.2f},{y1:.2f},{x2 - x1:.2f},"
            f"{y2 - y1:.2f},{float(dets.confidence[i]):.4f},-1,-1,-1\n"
        )
