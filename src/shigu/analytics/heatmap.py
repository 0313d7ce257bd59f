"""Where tracks go: an accumulated grid of track anchors per source, rendered as a PNG."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt


class Heatmap:
    """Counts track anchors on a grid of ``cell`` pixels; ``save`` blends it over a frame."""

    def __init__(self, width: int, height: int, cell: int = 8) -> None:
        self.cell = cell
        self.size = (width, height)
        self.grid = np.zeros((max(1, height // cell + 1), max(1, width // cell + 1)), np.float64)
        self.background: npt.NDArray[np.uint8] | None = None

    def add(self, points: npt.NDArray[np.float64]) -> None:
        if len(points) == 0:
            return
        if len(points) <= 32:  # a few anchors a frame: a plain loop beats np.add.at's cost
            last_row, last_col = self.grid.shape[0] - 1, self.grid.shape[1] - 1
            for x, y in np.asarray(points, np.float64).tolist():
                col = min(max(int(x // self.cell), 0), last_col)
                row = min(max(int(y // self.cell), 0), last_row)
                self.grid[row, col] += 1.0
            return
        cols = np.clip((points[:, 0] // self.cell).astype(int), 0, self.grid.shape[1] - 1)
        rows = np.clip((points[:, 1] // self.cell).astype(int), 0, self.grid.shape[0] - 1)
        np.add.at(self.grid, (rows, cols), 1.0)

    def render(self) -> npt.NDArray[np.uint8]:
        """BGR image: the (log-scaled, blurred) density over the last frame, or black."""
        w, h = self.size
        density = cv2.resize(np.log1p(self.grid), (w, h), interpolation=cv2.INTER_LINEAR)
        density = cv2.GaussianBlur(density, (0, 0), sigmaX=self.cell)
        peak = float(density.max())
        norm = (density / peak * 255).astype(np.uint8) if peak > 0 else density.astype(np.uint8)
        colour = cv2.applyColorMap(norm, cv2.COLORMAP_JET)
        base = self.background if self.background is not None else np.zeros_like(colour)
        alpha = (norm.astype(np.float32) / 255 * 0.7)[..., None]
        out = base.astype(np.float32) * (1 - alpha) + colour.astype(np.float32) * alpha
        return np.asarray(out.clip(0, 255).astype(np.uint8))

    def save(self, path: Path) -> None:
        if not cv2.imwrite(str(path), self.render()):
            raise OSError(f"could not write heatmap {path}")
