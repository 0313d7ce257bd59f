"""Per-frame outputs of a job: JSONL rows, MOTChallenge rows, an annotated video, annotated
images. One writer per format; the engine hands every finished frame to each of them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

import numpy as np

from shigu.annotate import BoxAnnotator, TraceAnnotator, draw_skeletons
from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.io.image_writer import ImageFolderWriter
from shigu.io.jsonl import JsonlWriter, frame_record
from shigu.io.video_writer import VideoWriter


class FrameOutput(Protocol):
    """Receives every finished frame; ``close`` returns {what: where} it wrote."""

    def write(self, frame: Frame, dets: Detections, path: Path | None) -> None: ...

    def close(self) -> dict[str, str]: ...


class JsonlFrames:
    """One JSON line per frame (``shigu.io.jsonl``'s layout; ``file`` for image inputs)."""

    def __init__(self, path: Path, labels: Sequence[str]) -> None:
        self.path, self.labels = path, labels
        self.writer = JsonlWriter(path)

    def write(self, frame: Frame, dets: Detections, path: Path | None) -> None:
        file = None if path is None else str(path)
        self.writer.write(frame_record(frame, dets, self.labels, file=file))

    def close(self) -> dict[str, str]:
        self.writer.close()
        return {"jsonl": str(self.path)}


class MotRows:
    """MOTChallenge result rows: frame, id, left, top, width, height, conf, -1, -1, -1."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: IO[str] = path.open("w", encoding="utf-8")

    def write(self, frame: Frame, dets: Detections, path: Path | None) -> None:
        if dets.tracker_id is None:
            return
        for i in range(len(dets)):
            x1, y1, x2, y2 = dets.xyxy[i].tolist()
            self.fh.write(
                f"{frame.index + 1},{int(dets.tracker_id[i])},{x1:.2f},{y1:.2f},{x2 - x1:.2f},"
                f"{y2 - y1:.2f},{float(dets.confidence[i]):.4f},-1,-1,-1\n"
            )

    def close(self) -> dict[str, str]:
        self.fh.close()
        return {"mot": str(self.path)}


class _Annotated:
    """Boxes, ids, trails (tracked) and skeletons (posed) drawn on a copy of the frame."""

    def __init__(self, labels: Sequence[str], traces: bool) -> None:
        self.boxes = BoxAnnotator(tuple(labels))
        self.traces = TraceAnnotator() if traces else None

    def draw(self, frame: Frame, dets: Detections) -> np.ndarray:
        image = frame.image.copy()
        if self.traces is not None:
            self.traces.annotate(image, dets)
        self.boxes.annotate(image, dets)
        if "pose" in dets.data:
            draw_skeletons(image, dets.data["pose"])
        return image


class AnnotatedVideo(_Annotated):
    """An H.264 MP4 of the annotated frames."""

    def __init__(self, path: Path, labels: Sequence[str], fps: float, traces: bool) -> None:
        super().__init__(labels, traces)
        self.path = path
        self.video = VideoWriter(path, fps=fps)

    def write(self, frame: Frame, dets: Detections, path: Path | None) -> None:
        self.video.write(self.draw(frame, dets))

    def close(self) -> dict[str, str]:
        self.video.close()
        return {"video": str(self.path)}


class AnnotatedImages(_Annotated):
    """One annotated image per input image, under its own name (image inputs)."""

    def __init__(self, folder: Path, inputs: Sequence[Path], labels: Sequence[str],
                 traces: bool) -> None:  # fmt: skip
        super().__init__(labels, traces)
        self.folder = folder
        self.writer = ImageFolderWriter(folder, inputs)

    def write(self, frame: Frame, dets: Detections, path: Path | None) -> None:
        if path is not None:
            self.writer.write(path, self.draw(frame, dets))

    def close(self) -> dict[str, str]:
        return {"annotated images": f"{self.folder} ({self.writer.written} images)"}
