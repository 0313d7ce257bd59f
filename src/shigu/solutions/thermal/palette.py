"""Temperature images people can read: iron, rainbow and grey palettes with a scale bar."""

from __future__ import annotations

import cv2
import numpy as np

# control points (position 0..1, RGB) of FLIR's "iron" look: black, blue, magenta, red,
# orange, yellow, white
_IRON = [
    (0.00, (0, 0, 0)),
    (0.15, (32, 0, 140)),
    (0.35, (150, 0, 160)),
    (0.55, (230, 60, 30)),
    (0.75, (250, 160, 0)),
    (0.90, (255, 230, 60)),
    (1.00, (255, 255, 255)),
]
PALETTES = ("iron", "rainbow", "grey")


def _lut_from_points(points: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    pos = np.array([p for p, _ in points])
    rgb = np.array([c for _, c in points], dtype=np.float64)
    x = np.linspace(0, 1, 256)
    lut = np.stack([np.interp(x, pos, rgb[:, i]) for i in range(3)], axis=1)
    return np.round(lut[:, ::-1]).astype(np.uint8)  # BGR


def palette_lut(name: str) -> np.ndarray:
    """(256, 3) BGR colours of the named palette."""
    if name == "iron":
        return _lut_from_points(_IRON)
    if name == "rainbow":
        ramp = np.arange(256, dtype=np.uint8).reshape(-1, 1)
        return cv2.applyColorMap(ramp, cv2.COLORMAP_JET).reshape(256, 3)
    if name in ("grey", "gray"):
        g = np.arange(256, dtype=np.uint8)
        return np.stack([g, g, g], axis=1)
    raise ValueError(f"unknown palette {name!r}; choose one of {', '.join(PALETTES)}")


def colourise(
    celsius: np.ndarray, palette: str = "iron", span: tuple[float, float] | None = None
) -> np.ndarray:
    """BGR image of temperatures, ``span`` (low, high) in Celsius (default: the image's own)."""
    low, high = span if span is not None else (float(np.nanmin(celsius)), float(np.nanmax(celsius)))
    scale = 255.0 / max(high - low, 1e-6)
    index = np.clip((celsius - low) * scale, 0, 255)
    index = np.nan_to_num(index, nan=0.0).astype(np.uint8)
    coloured: np.ndarray = palette_lut(palette)[index]
    return coloured


def with_scale_bar(
    image: np.ndarray, span: tuple[float, float], palette: str = "iron", unit: str = "C"
) -> np.ndarray:
    """The image with a vertical colour bar and its end temperatures on the right."""
    h = max(image.shape[0], 120)
    if image.shape[0] < h:
        factor = h / image.shape[0]
        image = cv2.resize(
            image, (round(image.shape[1] * factor), h), interpolation=cv2.INTER_NEAREST
        )
    bar_w, text_w = max(12, h // 20), 70
    panel = np.full((h, bar_w + text_w, 3), 255, np.uint8)
    ramp = np.linspace(255, 0, h - 20).astype(np.uint8)
    panel[10 : h - 10, 4 : 4 + bar_w] = palette_lut(palette)[ramp][:, None, :]
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.4
    cv2.putText(
        panel, f"{span[1]:.1f} {unit}", (bar_w + 8, 20), font, size, (0, 0, 0), 1, cv2.LINE_AA
    )
    cv2.putText(
        panel, f"{span[0]:.1f} {unit}", (bar_w + 8, h - 12), font, size, (0, 0, 0), 1, cv2.LINE_AA
    )
    return np.concatenate([image, panel], axis=1)
