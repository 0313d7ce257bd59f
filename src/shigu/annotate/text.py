"""Text in any script on an image: Chinese plate strings need a CJK font, which OpenCV's
Hershey fonts lack. Pillow draws with the first CJK font found (``SHIGU_CJK_FONT``, then
WenQuanYi Micro Hei and Noto CJK where Debian puts them); without one, characters outside
ASCII are drawn as ``?`` and a warning says which package to install."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

log = logging.getLogger(__name__)

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)


@functools.lru_cache(maxsize=8)
def _font(size: int) -> Any:
    from PIL import ImageFont

    for path in (os.environ.get("SHIGU_CJK_FONT"), *CJK_FONTS):
        if path and Path(path).is_file():
            return ImageFont.truetype(path, size)
    log.warning("no CJK font found: Chinese characters are drawn as '?' (install "
                "fonts-wqy-microhei or set SHIGU_CJK_FONT to a .ttf/.ttc)")  # fmt: skip
    return None


def put_text(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    size: int = 24,
    colour: tuple[int, int, int] = (255, 255, 255),
    background: tuple[int, int, int] | None = (0, 0, 0),
) -> np.ndarray:
    """Draw ``text`` with its top-left corner at ``origin`` (in place; BGR colours)."""
    font = _font(size)
    x, y = int(origin[0]), int(origin[1])
    if font is None:
        ascii_text = "".join(c if ord(c) < 128 else "?" for c in text)
        (tw, th), base = cv2.getTextSize(ascii_text, cv2.FONT_HERSHEY_SIMPLEX, size / 30, 2)
        if background is not None:
            cv2.rectangle(image, (x, y), (x + tw + 4, y + th + base + 4), background, -1)
        cv2.putText(image, ascii_text, (x + 2, y + th + 2), cv2.FONT_HERSHEY_SIMPLEX,
                    size / 30, colour, 2, cv2.LINE_AA)  # fmt: skip
        return image
    from PIL import Image, ImageDraw

    left, top, right, bottom = font.getbbox(text)
    w, h = right - left + 6, bottom - top + 6
    y0, x0 = max(0, y), max(0, x)
    y1, x1 = min(image.shape[0], y0 + h), min(image.shape[1], x0 + w)
    if y1 <= y0 or x1 <= x0:
        return image
    patch = Image.fromarray(cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(patch)
    if background is not None:
        draw.rectangle((0, 0, w, h), fill=background[::-1])
    draw.text((3 - left, 3 - top), text, font=font, fill=colour[::-1])
    image[y0:y1, x0:x1] = cv2.cvtColor(np.asarray(patch), cv2.COLOR_RGB2BGR)
    return image
