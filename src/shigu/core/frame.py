"""The ``Frame`` type: one decoded image with where and when it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(slots=True)
class Frame:
    """One decoded image.

    Attributes:
        image: pixels, (H, W, 3) uint8 in BGR order.
        index: frame number in the source, from 0 (gaps appear when frames are skipped).
        timestamp: seconds since the start of the source, from the stream's PTS.
        source_id: which source produced it.
    """

    image: np.ndarray
    index: int
    timestamp: float
    source_id: str = "0"

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the image."""
        return int(self.image.shape[0]), int(self.image.shape[1])

    def luma(self) -> np.ndarray | None:
        """The decoder's own luma plane (H, W) uint8 when there is one (limited range, 16-235),
        else None; the motion gate reads it instead of converting the picture to BGR."""
        return None

    def pixels(self) -> Any:
        """What sliced detection reads windows from: the image itself, or for a very large
        image a reader that decodes only the windows asked for
        (:class:`shigu.sources.large_image.TiffWindows`)."""
        return self.image


_IMAGE = Frame.__dict__["image"]  # the slot that holds the pixels once made

# pixel formats whose first plane is 8-bit luma, one byte per pixel
_LUMA_FORMATS = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"}
)


class LazyFrame(Frame):
    """A frame whose BGR pixels are made on first use (``_make_image``) and then kept; width,
    height and shape come from ``_size`` (width, height) without making them."""

    __slots__ = ("_size",)
    _size: tuple[int, int]

    def _make_image(self) -> np.ndarray:
        raise NotImplementedError  # each lazy frame says where its pixels come from

    @property
    def image(self) -> np.ndarray:
        try:
            return _IMAGE.__get__(self)  # type: ignore[no-any-return]
        except AttributeError:
            pixels = self._make_image()
            _IMAGE.__set__(self, pixels)  # two threads making them at once both get pixels
            return pixels

    @image.setter
    def image(self, value: np.ndarray) -> None:
        _IMAGE.__set__(self, value)

    @property
    def width(self) -> int:
        return int(self._size[0])

    @property
    def height(self) -> int:
        return int(self._size[1])

    @property
    def shape(self) -> tuple[int, int]:
        return int(self._size[1]), int(self._size[0])


class DecodedFrame(LazyFrame):
    """A frame straight from the decoder whose BGR pixels are made on first use.

    On a still frame the motion gate needs only luma and, unless clips, snapshots or an
    annotated video ask for it, nobody looks at the colour picture: the conversion (about a
    third of a frame's decode cost) is then never paid. Reading ``image`` converts once.
    """

    __slots__ = ("_picture",)

    def __init__(self, picture: Any, index: int, timestamp: float, source_id: str = "0") -> None:
        self._picture = picture  # an av.VideoFrame, kept (its planes are reference-counted)
        self._size = (int(picture.width), int(picture.height))
        self.index, self.timestamp, self.source_id = index, timestamp, source_id

    def _make_image(self) -> np.ndarray:
        pixels: np.ndarray = self._picture.to_ndarray(format="bgr24")
        return pixels

    def luma(self) -> np.ndarray | None:
        picture = self._picture
        if picture.format.name not in _LUMA_FORMATS:
            return None
        plane = picture.planes[0]
        w, h = self._size
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return rows[:h, :w]
