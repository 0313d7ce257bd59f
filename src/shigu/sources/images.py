"""Folders and globs of still images, read in natural order."""

from __future__ import annotations

import glob
import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from shigu.core.errors import SourceError
from shigu.core.frame import Frame
from shigu.sources.base import Source, SourceInfo
from shigu.sources.large_image import LargeImageFrame, open_lazy

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


def natural_key(path: str | Path) -> list[object]:
    """Sort key that puts ``img2`` before ``img10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(path))]


def is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def list_images(spec: str | Path) -> list[Path]:
    """Image files named by a folder, a glob pattern or a single image path, naturally sorted."""
    text = str(spec)
    if is_glob(text):
        paths = [Path(p) for p in glob.glob(text, recursive=True)]
    else:
        path = Path(text)
        if not path.exists():
            raise SourceError(f"not found: {text}", "check the folder or pattern")
        paths = [p for p in path.iterdir()] if path.is_dir() else [path]
    images = sorted(
        (p for p in paths if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS), key=natural_key
    )
    if not images:
        raise SourceError(
            f"no images found in {text}",
            f"expected files ending in {', '.join(IMAGE_EXTENSIONS[:5])}, ...",
        )
    return images


def read_image(path: str | Path) -> np.ndarray | None:
    """Read an image as (H, W, 3) BGR uint8 (grey and 16-bit images converted); None if unreadable.

    Uses ``imdecode`` on the bytes so paths with any characters (Chinese, ``&``) work.
    """
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        return None
    if image.dtype != np.uint8:
        scale = 255.0 / max(float(image.max()), 1.0)
        image = np.clip(image.astype(np.float32) * scale, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


class ImageFolderSource(Source):
    """Frames from a folder, a glob pattern or an explicit list of image files.

    Timestamps are ``index / fps``. Unreadable files are skipped with a warning and counted in
    ``stats.skipped_files``.
    """

    def __init__(
        self,
        spec: str | Path | Sequence[str | Path],
        source_id: str = "0",
        *,
        fps: float = 25.0,
        stride: int = 1,
        target_fps: float | None = None,
    ) -> None:
        super().__init__(source_id, stride, target_fps)
        self.path_at: dict[int, Path] = {}  # frame index -> the file it was read from
        if isinstance(spec, str | Path):
            self.paths = list_images(spec)
            uri = str(spec)
        else:
            self.paths = [Path(p) for p in spec]
            uri = f"{len(self.paths)} images"
            if not self.paths:
                raise SourceError("the image list is empty", "pass at least one image")
        first = self._first_readable()
        self.info = SourceInfo(
            uri=uri,
            kind="images",
            width=first.shape[1],
            height=first.shape[0],
            fps=fps,
            frame_count=len(self.paths),
        )

    def _first_readable(self) -> Any:
        for path in self.paths[:50]:
            lazy = open_lazy(path)
            if lazy is not None:
                lazy.close()
                return lazy
            image = read_image(path)
            if image is not None:
                return image
        raise SourceError(
            f"none of the first images in {self.paths[0].parent} can be read",
            "are they image files?",
        )

    def _index_of(self, position: int, path: Path) -> int:
        return position

    def _frames(self) -> Iterator[Frame]:
        fps = self.info.fps or 25.0
        for position, path in enumerate(self.paths):
            if self._closed:
                return
            lazy = open_lazy(path)
            image = read_image(path) if lazy is None else None
            if lazy is None and image is None:
                self.stats.skipped_files += 1
                log.warning("skipping unreadable image %s", path)
                continue
            index = self._index_of(position, path)
            self.path_at[index] = path
            self.stats.frames_decoded += 1
            if lazy is not None:  # a very large TIFF: windows are read as detection asks
                yield LargeImageFrame(lazy, index, index / fps, self.source_id)
            else:
                assert image is not None
                yield Frame(image=image, index=index, timestamp=index / fps,
                            source_id=self.source_id)  # fmt: skip
