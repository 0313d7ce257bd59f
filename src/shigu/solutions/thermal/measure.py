"""Spot, box and line measurements on a temperature image, in its own pixel coordinates."""

from __future__ import annotations

from typing import Any

import numpy as np


def _stats(values: np.ndarray) -> dict[str, float]:
    return {
        "celsius_min": round(float(np.min(values)), 2),
        "celsius_max": round(float(np.max(values)), 2),
        "celsius_mean": round(float(np.mean(values)), 2),
    }


def image_stats(celsius: np.ndarray) -> dict[str, Any]:
    """The whole image: min, max, mean and the centre pixel (as FLIR's centre spot)."""
    h, w = celsius.shape
    return {**_stats(celsius), "celsius_center": round(float(celsius[h // 2, w // 2]), 2)}


def _check_point(x: float, y: float, shape: tuple[int, int], what: str) -> None:
    h, w = shape
    if not (0 <= x <= w - 1 and 0 <= y <= h - 1):
        raise ValueError(f"{what} ({x:g}, {y:g}) is outside the {w}x{h} thermal image")


def spot(celsius: np.ndarray, x: float, y: float) -> dict[str, Any]:
    """The temperature of one pixel (x, y), as a camera's spot meter reads it."""
    _check_point(x, y, celsius.shape, "spot")
    return {"kind": "spot", "x": x, "y": y,
            "celsius": round(float(celsius[round(y), round(x)]), 2)}  # fmt: skip


def box(celsius: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """Min, max, mean in a box (corners inclusive) and where the maximum is."""
    _check_point(x0, y0, celsius.shape, "box corner")
    _check_point(x1, y1, celsius.shape, "box corner")
    ax, bx = sorted((round(x0), round(x1)))
    ay, by = sorted((round(y0), round(y1)))
    part = celsius[ay : by + 1, ax : bx + 1]
    iy, ix = np.unravel_index(int(np.argmax(part)), part.shape)
    return {"kind": "box", "box": [ax, ay, bx, by], **_stats(part),
            "max_at": [int(ax + ix), int(ay + iy)]}  # fmt: skip


def line(celsius: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """The profile along a segment, one sample per pixel step, bilinear."""
    _check_point(x0, y0, celsius.shape, "line end")
    _check_point(x1, y1, celsius.shape, "line end")
    n = int(np.ceil(np.hypot(x1 - x0, y1 - y0))) + 1
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    xi, yi = np.floor(xs).astype(int), np.floor(ys).astype(int)
    h, w = celsius.shape
    xj, yj = np.minimum(xi + 1, w - 1), np.minimum(yi + 1, h - 1)
    fx, fy = xs - xi, ys - yi
    prof = (
        celsius[yi, xi] * (1 - fx) * (1 - fy)
        + celsius[yi, xj] * fx * (1 - fy)
        + celsius[yj, xi] * (1 - fx) * fy
        + celsius[yj, xj] * fx * fy
    )
    return {"kind": "line", "line": [x0, y0, x1, y1], **_stats(prof),
            "profile": [round(float(v), 2) for v in prof]}  # fmt: skip


def parse_coords(text: str, count: int, what: str) -> list[float]:
    """``"x,y"`` or ``"x0,y0,x1,y1"`` as numbers (ValueError with what was expected)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != count or not all(np.isfinite(values)):
        shape = "X,Y" if count == 2 else "X0,Y0,X1,Y1"
        raise ValueError(f"--{what} {text!r}: expected {shape} in thermal pixels")
    return values
