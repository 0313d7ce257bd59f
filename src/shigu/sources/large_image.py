"""Very large still images read a window at a time, so slicing a 20000 x 20000 aerial mosaic
needs memory for a few tiles, not the whole picture.

Tiled and striped TIFFs (GeoTIFF included) are read with tifffile: a window decodes only the
tiles or strips it overlaps, and the overview for a whole-image pass is built a band of
tiles at a time (or taken from the file's own pyramid level when it has one). Compressions
tifffile decodes without extra codecs (none, deflate, LZW, PackBits) are read lazily; a file
it cannot decode that way is read whole, as any other image. Other formats (JPEG, PNG) have
no random access and are always decoded whole.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from shigu.core.frame import LazyFrame

LAZY_PIXELS = 50_000_000  # images above this many pixels are read lazily where possible


class TiffWindows:
    """BGR uint8 windows of one TIFF page: ``reader[y0:y1, x0:x1]`` like an array."""

    def __init__(self, path: str | Path) -> None:
        import tifffile

        self.path = Path(path)
        self._tif = tifffile.TiffFile(self.path)
        try:
            page = self._tif.pages.first
            if page.planarconfig != 1 or page.samplesperpixel not in (1, 3, 4):
                raise ValueError("only interleaved grey, RGB or RGBA TIFFs are read lazily")
            if page.dtype not in (np.uint8, np.uint16):
                raise ValueError(f"{page.dtype} samples are not read lazily")
            self._page = page
            self._levels = list(self._tif.series[0].levels)[1:]
            self.tile = (
                (page.tilelength, page.tilewidth) if page.is_tiled
                else (page.rowsperstrip or page.imagelength, page.imagewidth)
            )  # fmt: skip
            self.shape = (int(page.imagelength), int(page.imagewidth), 3)
            self._across = math.ceil(self.shape[1] / self.tile[1])
            self._lock = threading.Lock()
            self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
            tile_bytes = self.tile[0] * self.tile[1] * page.samplesperpixel * page.dtype.itemsize
            self._cache_size = max(4, min(2 * self._across + 4, (128 << 20) // tile_bytes))
            self._segment(0)  # fails now when the compression needs a missing codec
        except Exception:
            self._tif.close()
            raise

    @property
    def nbytes(self) -> int:
        return self.shape[0] * self.shape[1] * 3

    def _segment(self, index: int) -> np.ndarray:
        """One decoded tile or strip; the last few are kept, since neighbouring slices
        overlap and slices come row by row (two rows of tiles, at most ~128 MB)."""
        page = self._page
        with self._lock:  # one file handle and cache, shared by the inference threads
            cached = self._cache.get(index)
            if cached is not None:
                self._cache.move_to_end(index)
                return cached
            fh = self._tif.filehandle
            fh.seek(page.dataoffsets[index])
            data = fh.read(page.databytecounts[index])
        segment, _, _ = page.decode(data, index, jpegtables=page.jpegtables)
        out: np.ndarray = np.asarray(segment)[0]  # (rows, cols, samples)
        with self._lock:
            self._cache[index] = out
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return out

    def window(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """Pixels [y0:y1, x0:x1] (clipped to the image) as contiguous BGR uint8."""
        h, w = self.shape[:2]
        y0, y1, x0, x1 = max(0, y0), min(h, y1), max(0, x0), min(w, x1)
        th, tw = self.tile
        samples = self._page.samplesperpixel
        out = np.empty((max(0, y1 - y0), max(0, x1 - x0), samples), self._page.dtype)
        for ty in range(y0 // th, (y1 - 1) // th + 1 if y1 > y0 else 0):
            for tx in range(x0 // tw, (x1 - 1) // tw + 1 if x1 > x0 else 0):
                seg = self._segment(ty * self._across + tx)
                oy, ox = ty * th, tx * tw
                a0, a1 = max(y0, oy), min(y1, oy + th)
                b0, b1 = max(x0, ox), min(x1, ox + tw)
                piece = seg[a0 - oy : a1 - oy, b0 - ox : b1 - ox]
                out[a0 - y0 : a1 - y0, b0 - x0 : b1 - x0] = piece
        return _to_bgr(out)

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rows, cols = key
        h, w = self.shape[:2]
        y0, y1, _ = rows.indices(h)
        x0, x1, _ = cols.indices(w)
        return self.window(y0, y1, x0, x1)

    def overview(self, max_side: int) -> np.ndarray:
        """The whole image shrunk to at most ``max_side`` pixels on its longer side: from the
        file's pyramid when a level is large enough, else area-averaged a band at a time."""
        h, w = self.shape[:2]
        factor = max(1, math.ceil(max(h, w) / max_side))  # whole pixels per overview pixel
        out_h, out_w = math.ceil(h / factor), math.ceil(w / factor)
        for level in reversed(self._levels):  # smallest first
            lh, lw = int(level.shape[0]), int(level.shape[1])
            if max(lh, lw) >= max(out_h, out_w):
                image = _to_bgr(np.asarray(level.asarray()))
                return cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)
        out = np.empty((out_h, out_w, 3), np.uint8)
        band = factor * max(1, math.ceil(self.tile[0] / factor))  # whole blocks per band
        for y in range(0, h, band):
            y_end = min(h, y + band)
            part = self.window(y, y_end, 0, w)
            r0, whole = y // factor, (y_end - y) // factor
            if whole:
                out[r0 : r0 + whole] = cv2.resize(
                    part[: whole * factor], (out_w, whole), interpolation=cv2.INTER_AREA
                )
            if whole * factor < len(part):  # the image's last, partial block row
                out[r0 + whole] = cv2.resize(
                    part[whole * factor :], (out_w, 1), interpolation=cv2.INTER_AREA
                )[0]
        return out

    def read(self) -> np.ndarray:
        """The whole image (when an output really needs every pixel)."""
        return self.window(0, self.shape[0], 0, self.shape[1])

    def close(self) -> None:
        self._tif.close()


def _to_bgr(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(pixels.reshape(*pixels.shape[:2], 1), 3, axis=2))
    return np.ascontiguousarray(pixels[..., 2::-1])  # RGB(A) -> BGR


def open_lazy(path: Path) -> TiffWindows | None:
    """A lazy reader for a large TIFF, or None (a small image, another format, or a TIFF
    that tifffile cannot read a window at a time)."""
    if path.suffix.lower() not in (".tif", ".tiff"):
        return None
    try:
        reader = TiffWindows(path)
    except Exception:  # not lazily readable (codec, layout): the caller decodes it whole
        return None
    if reader.shape[0] * reader.shape[1] < LAZY_PIXELS:
        reader.close()
        return None
    return reader


class LargeImageFrame(LazyFrame):
    """A frame whose pixels stay in the file: detection reads windows (``pixels()``),
    and ``image`` reads the whole picture only if an output asks for it."""

    __slots__ = ("_reader",)

    def __init__(self, reader: TiffWindows, index: int, timestamp: float, source_id: str) -> None:
        self._reader = reader
        self._size = (reader.shape[1], reader.shape[0])
        self.index, self.timestamp, self.source_id = index, timestamp, source_id

    def _make_image(self) -> np.ndarray:
        return self._reader.read()

    def pixels(self) -> Any:
        return self._reader
