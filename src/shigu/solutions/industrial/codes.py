"""Barcode, QR and DataMatrix reading with zxing-cpp."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shigu.core.errors import InputError


@dataclass(frozen=True)
class Code:
    """One decoded symbol: its text, format and corner points (TL, TR, BR, BL) in pixels."""

    text: str
    format: str
    corners: tuple[tuple[int, int], ...]
    orientation: int

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "format": self.format,
            "corners": [list(c) for c in self.corners],
            "orientation": self.orientation,
        }


def _formats(names: list[str] | None) -> Any:
    import zxingcpp

    if not names:
        return None
    try:
        return zxingcpp.barcode_formats_from_str(",".join(names))
    except ValueError as exc:
        raise InputError(
            f"unknown code format in {', '.join(names)}",
            "use names such as QRCode, DataMatrix, Code128, EAN13, PDF417, Aztec",
        ) from exc


def read_codes(
    image: np.ndarray, formats: list[str] | None = None, try_harder: bool = True
) -> list[Code]:
    """Every code zxing-cpp finds in a BGR or grey image, in reading order."""
    import zxingcpp

    if image.ndim == 3:
        import cv2

        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    kwargs: dict[str, Any] = {"try_rotate": try_harder, "try_downscale": try_harder}
    wanted = _formats(formats)
    if wanted is not None:
        kwargs["formats"] = wanted
    found = zxingcpp.read_barcodes(np.ascontiguousarray(image), **kwargs)
    out = []
    for code in found:
        if not code.valid:
            continue
        p = code.position
        corners = tuple(
            (int(c.x), int(c.y)) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
        )
        # "QR Code" → "QRCode": the same spelling --formats takes.
        name = str(code.format).replace(" ", "")
        out.append(Code(code.text, name, corners, int(code.orientation)))
    return sorted(out, key=lambda c: (min(y for _, y in c.corners), min(x for x, _ in c.corners)))
