"""The ``Frame`` type: one decoded image with where and when it came from."""

from __future__ import annotations

from dataclasses import dataclass

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
