"""Media on disk: event snapshots (JPEG) and clips (MP4), written atomically, with retention.

A full disk never stops events: a write that fails with ENOSPC (or any OS error) is skipped
with a warning and counted, and the event is stored without that file.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)


class MediaStore:
    """Files under ``root``; paths handed out are relative to it (``source/day/name``)."""

    def __init__(
        self,
        root: str | Path,
        retention_days: float | None = 30,
        retention_bytes: int | None = 10 * 1024**3,
        jpeg_quality: int = 85,
    ) -> None:
        self.root = Path(root)
        self.retention_days = retention_days
        self.retention_bytes = retention_bytes
        self.jpeg_quality = jpeg_quality
        self.failures = 0
        self.last_error: str | None = None

    def path(self, rel: str) -> Path:
        return self.root / rel

    def _write(self, rel: str, writer: Callable[[Path], None]) -> str | None:
        target = self.root / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
            os.close(fd)
            try:
                writer(Path(tmp))
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError as exc:
            self.failures += 1
            self.last_error = f"{exc.strerror or exc}"
            log.warning("media skipped (%s): %s", self.last_error, rel)
            return None
        return rel

    def save_jpeg(self, rel: str, image: np.ndarray) -> str | None:
        """Encode and write ``image``; returns ``rel`` or None when it could not be written."""
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            return None
        data = buf.tobytes()

        def write(p: Path) -> None:
            with p.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())

        return self._write(rel, write)

    def save_with(self, rel: str, writer: Callable[[Path], None]) -> str | None:
        """Write a file by a callback that writes to the temporary path it is given."""
        return self._write(rel, writer)

    def enforce_retention(self, now: float | None = None) -> list[str]:
        """Delete files older than the retention days, then the oldest until under the size
        budget. Returns the relative paths deleted."""
        if not self.root.exists():
            return []
        now = time.time() if now is None else now
        files = []
        for p in self.root.rglob("*"):
            if p.is_file() and not p.name.startswith(".tmp-"):
                st = p.stat()
                files.append((st.st_mtime, st.st_size, p))
        files.sort()
        deleted: list[str] = []
        total = sum(size for _, size, _ in files)
        cutoff = now - self.retention_days * 86400 if self.retention_days else None
        for mtime, size, p in files:
            too_old = cutoff is not None and mtime < cutoff
            too_big = self.retention_bytes is not None and total > self.retention_bytes
            if not (too_old or too_big):
                continue
            try:
                p.unlink()
            except OSError:
                continue
            total -= size
            deleted.append(p.relative_to(self.root).as_posix())
        return deleted
