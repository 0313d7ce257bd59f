"""The per-frame JSONL format other tools read.

One JSON object per line and per frame::

    {"frame": 0, "time": 0.0, "detections": [{"xyxy": [x1, y1, x2, y2], "confidence": 0.9,
     "class_id": 0, "class_name": "person"}]}

``frame`` counts from 0, ``time`` is seconds from the stream's PTS. Tracked output adds
``tracker_id`` to each detection; face models add ``keypoints`` ([[x, y] x 5]). A ``source``
key names the source when several are written to one file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from shigu.core.detections import Detections
from shigu.core.errors import InputError
from shigu.core.frame import Frame


def frame_record(
    frame: Frame,
    detections: Detections,
    class_names: Sequence[str] | None,
    source: str | None = None,
    file: str | None = None,
) -> dict[str, Any]:
    """The JSON object for one frame (``file``: the image it came from, for image inputs)."""
    record: dict[str, Any] = {"frame": frame.index, "time": round(frame.timestamp, 6)}
    if source is not None:
        record["source"] = source
    if file is not None:
        record["file"] = file
    record["detections"] = detections.to_records(class_names)
    return record


class JsonlWriter:
    """Appends one JSON line per frame; flushed every ``flush_every`` lines and on close."""

    def __init__(self, path: str | Path, flush_every: int = 50) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = self.path.open("w", encoding="utf-8")
        self.flush_every = flush_every
        self._n = 0

    def write(self, record: dict[str, Any]) -> None:
        assert self._fh is not None, "writer is closed"
        self._fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._n += 1
        if self._n % self.flush_every == 0:
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_jsonl(path: str | Path) -> Iterator[tuple[int, float, Detections]]:
    """Read back (frame, time, detections) from a JSONL file written by Shigu."""
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                yield (
                    int(obj["frame"]),
                    float(obj["time"]),
                    Detections.from_records(obj["detections"]),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{path}:{lineno} is not a Shigu JSONL record: {exc}") from exc
