"""Radiometric frames for the pipeline: ``thermal:PATH`` (R-JPEGs in a folder or glob, or a
FLIR .seq video). Each frame's picture is the iron palette of its temperatures (so the
detector, annotations and clips work as on any camera) and ``frame.celsius`` holds the
temperatures, which the ``temperature`` rule reads."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shigu.core.errors import SourceError
from shigu.core.frame import Frame
from shigu.solutions.thermal.palette import colourise
from shigu.solutions.thermal.planck import raw_to_celsius
from shigu.solutions.thermal.rjpeg import Radiometric, ThermalFormatError, read_radiometric
from shigu.sources.base import Source, SourceInfo

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ThermalFrame(Frame):
    """A frame with its temperatures: ``celsius`` (H, W) float32, the same size as ``image``."""

    celsius: np.ndarray | None = None


def thermal_frame(rad: Radiometric, index: int, timestamp: float, source_id: str) -> ThermalFrame:
    """The frame for one radiometric image (palette over its own range)."""
    celsius = raw_to_celsius(rad.raw, rad.calibration).astype(np.float32)
    return ThermalFrame(image=colourise(celsius, "iron"), index=index, timestamp=timestamp,
                        source_id=source_id, celsius=celsius)  # fmt: skip


class ThermalSource(Source):
    """Radiometric stills (timestamps ``index / fps``) or a FLIR .seq (frames at ``fps``)."""

    def __init__(self, spec: str | Path, source_id: str = "0", *, fps: float = 1.0,
                 stride: int = 1, target_fps: float | None = None) -> None:  # fmt: skip
        super().__init__(source_id, stride, target_fps)
        text = str(spec)
        path = Path(text)
        self.seq: list[Radiometric] | None = None
        if path.suffix.lower() == ".seq":
            from shigu.solutions.thermal.rjpeg import read_seq

            if not path.is_file():
                raise SourceError(f"file not found: {path}")
            try:
                self.seq = read_seq(path)
            except ThermalFormatError as exc:
                raise SourceError(exc.one_line()) from None
            self.paths: list[Path] = []
            first = self.seq[0]
        else:
            from shigu.solutions.thermal.rjpeg import list_radiometric

            try:
                self.paths = list_radiometric(text, (".jpg", ".jpeg", ".fff"))
                first = read_radiometric(self.paths[0])
            except ThermalFormatError as exc:
                raise SourceError(exc.one_line()) from None
        h, w = first.shape
        count = len(self.seq) if self.seq is not None else len(self.paths)
        self.info = SourceInfo(uri=text, kind="thermal", width=w, height=h, fps=fps,
                               frame_count=count)  # fmt: skip

    def _frames(self) -> Iterator[Frame]:
        fps = self.info.fps or 1.0
        if self.seq is not None:
            for index, rad in enumerate(self.seq):
                if self._closed:
                    return
                self.stats.frames_decoded += 1
                yield thermal_frame(rad, index, index / fps, self.source_id)
            return
        for index, path in enumerate(self.paths):
            if self._closed:
                return
            try:
                rad = read_radiometric(path)
            except ThermalFormatError as exc:
                self.stats.skipped_files += 1
                log.warning("skipping %s", exc.one_line())
                continue
            if rad.shape != (self.info.height, self.info.width):
                self.stats.skipped_files += 1
                log.warning("skipping %s: its size differs from the first image's", path.name)
                continue
            self.stats.frames_decoded += 1
            yield thermal_frame(rad, index, index / fps, self.source_id)
