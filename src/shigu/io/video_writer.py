"""H.264 MP4 output through PyAV (FFmpeg's libx264)."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from shigu.core.errors import InputError


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale to fit inside width x height keeping the aspect, centred on black (an image
    folder of mixed sizes goes into one video without stretching or cropping)."""
    import cv2

    scale = min(width / image.shape[1], height / image.shape[0])
    w, h = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    canvas = np.zeros((height, width, 3), np.uint8)
    x, y = (width - w) // 2, (height - h) // 2
    canvas[y : y + h, x : x + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    return canvas


class VideoWriter:
    """Writes BGR frames to an H.264 MP4 (yuv420p, playable everywhere).

    Args:
        path: output file (.mp4, .mkv or .mov).
        fps: frame rate of the output.
        crf: x264 quality (lower is better; 23 is FFmpeg's default).
        preset: x264 speed/size trade-off; ``veryfast`` keeps encoding cheap next to inference.
    """

    def __init__(
        self, path: str | Path, fps: float, crf: int = 23, preset: str = "veryfast"
    ) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in (".mp4", ".mkv", ".mov", ".m4v"):
            raise InputError(f"cannot write video to {path}", "use a .mp4 (or .mkv) file name")
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(25)
        self.crf = crf
        self.preset = preset
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._count = 0
        self._broken = False  # a write failed: the file is abandoned on close

    def _open(self, width: int, height: int) -> None:
        options = (
            {"movflags": "+faststart"}
            if self.path.suffix.lower() in (".mp4", ".mov", ".m4v")
            else {}
        )
        self._container = av.open(str(self.path), mode="w", options=options)
        stream = self._container.add_stream("libx264", rate=self.fps)
        stream.width = width - width % 2
        stream.height = height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": self.preset}
        self._stream = stream

    def write(self, image: np.ndarray) -> None:
        """Append one (H, W, 3) BGR uint8 frame."""
        if self._container is None:
            self._open(image.shape[1], image.shape[0])
        assert self._stream is not None and self._container is not None
        w, h = self._stream.width, self._stream.height
        if image.shape[1] != w or image.shape[0] != h:
            image = _fit(image, w, h)
        if self._broken:
            raise OSError(f"{self.path}: an earlier write failed")
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = self._count
        frame.time_base = 1 / self.fps
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except BaseException:
            # the muxer is in an error state (a full disk): flushing the encoder into it
            # later crashes FFmpeg (SIGSEGV), so the file is abandoned instead
            self._broken = True
            raise
        self._count += 1

    @property
    def frames_written(self) -> int:
        return self._count

    def close(self) -> None:
        """Flush the encoder and finish the file; safe to call twice. After a failed write
        the partial file is closed without flushing and removed (it could not be played)."""
        if self._container is None:
            return
        assert self._stream is not None
        container, self._container = self._container, None
        if self._broken:
            with contextlib.suppress(OSError):
                container.close()
            self.path.unlink(missing_ok=True)
            return
        try:
            for packet in self._stream.encode(None):
                container.mux(packet)
        except BaseException:
            self._broken = True
            with contextlib.suppress(OSError):
                container.close()
            self.path.unlink(missing_ok=True)
            raise
        container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
