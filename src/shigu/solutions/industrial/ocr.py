"""Label and serial-number OCR with the PP-OCRv4 models shipped by ``rapidocr-onnxruntime``.

Detection finds text lines, an angle classifier turns upside-down lines, recognition reads
Chinese and Latin characters. The models come inside the PyPI package: nothing to download.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from shigu.core.errors import InputError

_ENGINE: Any = None
_LOCK = threading.Lock()


@dataclass(frozen=True)
class TextLine:
    """One recognised line: text, confidence and its 4 corner points."""

    text: str
    confidence: float
    corners: tuple[tuple[float, float], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "corners": [[round(x, 1), round(y, 1)] for x, y in self.corners],
        }


def _engine() -> Any:
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            from rapidocr_onnxruntime import RapidOCR

            _ENGINE = RapidOCR()
        return _ENGINE


def read_text(
    image: np.ndarray, min_confidence: float = 0.5, detect: bool = True
) -> list[TextLine]:
    """Text lines in a BGR image, top to bottom then left to right.

    ``detect=False`` treats the whole image as one text line (a pre-cropped label field).
    """
    if image.ndim not in (2, 3) or image.size == 0:
        raise InputError(f"expected an image, got an array of shape {image.shape}")
    result, _ = _engine()(image, use_det=detect, use_cls=detect, use_rec=True)
    lines: list[TextLine] = []
    h, w = image.shape[:2]
    for item in result or []:
        if detect:
            box, text, score = item
            corners = tuple((float(x), float(y)) for x, y in box)
        else:
            text, score = item[0], item[1]
            corners = ((0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h)))
        if float(score) >= min_confidence and text.strip():
            lines.append(TextLine(text, float(score), corners))
    return sorted(
        lines,
        key=lambda t: (round(min(y for _, y in t.corners) / 10), min(x for x, _ in t.corners)),
    )
