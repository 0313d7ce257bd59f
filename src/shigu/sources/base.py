"""What every source is: an iterable of ``Frame`` with a little metadata, closed when done."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field

from shigu.core.frame import Frame


@dataclass
class SourceInfo:
    """What is known about a source once it is open."""

    uri: str
    kind: str  # "file", "stream", "webcam", "images", "mot"
    width: int = 0
    height: int = 0
    fps: float = 0.0
    frame_count: int | None = None  # None when unknown (live streams)
    live: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class SourceStats:
    """Counters a source keeps while it runs (reported in summaries and metrics)."""

    frames_decoded: int = 0
    frames_yielded: int = 0
    reconnects: int = 0
    decode_errors: int = 0
    skipped_files: int = 0
    last_error: str = ""


class Source(abc.ABC):
    """A finite or endless sequence of frames.

    Subclasses implement :meth:`_frames` (every decoded frame, in order); this base class
    applies frame selection (``stride`` or ``target_fps``) so every kind of source honours it.
    """

    info: SourceInfo

    def __init__(
        self, source_id: str = "0", stride: int = 1, target_fps: float | None = None
    ) -> None:
        from shigu.core.errors import InputError

        if stride < 1:
            raise InputError(f"stride must be 1 or more, got {stride}")
        if target_fps is not None and target_fps <= 0:
            raise InputError(f"target fps must be positive, got {target_fps}")
        self.source_id = source_id
        self.stride = stride
        self.target_fps = target_fps
        self.stats = SourceStats()
        self._closed = False

    @abc.abstractmethod
    def _frames(self) -> Iterator[Frame]:
        """Yield every decoded frame in order."""

    def __iter__(self) -> Iterator[Frame]:
        next_due = 0.0
        period = 1.0 / self.target_fps if self.target_fps else 0.0
        for n, frame in enumerate(self._frames()):
            if self._closed:
                return
            if self.target_fps:
                if frame.timestamp + 1e-3 < next_due:
                    continue
                # advance on the ideal grid so the kept rate does not drift; catch up after gaps
                next_due += period
                if next_due <= frame.timestamp:
                    next_due = frame.timestamp + period
            elif n % self.stride:
                continue
            self.stats.frames_yielded += 1
            yield frame

    def close(self) -> None:
        """Release the underlying file, stream or device; safe to call twice."""
        self._closed = True

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def output_fps(self) -> float:
        """Frames per second after stride/target-fps selection (0 when unknown)."""
        if self.target_fps:
            return min(self.target_fps, self.info.fps or self.target_fps)
        return self.info.fps / self.stride if self.info.fps else 0.0
