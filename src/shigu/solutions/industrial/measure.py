"""Machine-vision measurement: calipers with sub-pixel edges, calibration, templates, blobs.

A caliper samples the image along a segment (averaged across a band of ``width`` pixels),
smooths the profile with a Gaussian, and reports each gradient extremum as an edge, placed to
a fraction of a pixel by fitting a parabola through the peak and its two neighbours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from shigu.core.errors import InputError

Point = tuple[float, float]


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image.astype(np.float32)


@dataclass(frozen=True)
class Edge:
    """An edge on a caliper: distance from p1 along the segment (px), where it is, polarity."""

    t: float
    x: float
    y: float
    polarity: str  # "rising" (dark→bright going p1→p2) or "falling"
    strength: float

    def to_json(self) -> dict[str, Any]:
        return {
            "t": round(self.t, 3),
            "x": round(self.x, 3),
            "y": round(self.y, 3),
            "polarity": self.polarity,
            "strength": round(self.strength, 2),
        }


def _subpixel(values: np.ndarray, i: int) -> float:
    """Offset in [-0.5, 0.5] of the true extremum near index ``i`` (parabola through 3 points)."""
    if i <= 0 or i >= len(values) - 1:
        return 0.0
    a, b, c = values[i - 1], values[i], values[i + 1]
    denom = a - 2 * b + c
    return 0.0 if denom == 0 else float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))


def profile(
    image: np.ndarray, p1: Point, p2: Point, width: int = 5, step: float = 0.5
) -> np.ndarray:
    """Grey values sampled every ``step`` px from p1 to p2, averaged across ``width`` px."""
    gray = _gray(image)
    h, w = gray.shape
    for x, y in (p1, p2):
        if not (0 <= x <= w - 1 and 0 <= y <= h - 1):
            raise InputError(f"caliper point ({x}, {y}) lies outside the {w}x{h} image")
    length = math.dist(p1, p2)
    if length < 3:
        raise InputError(f"caliper segment is {length:.1f} px long; make it at least 3 px")
    ux, uy = (p2[0] - p1[0]) / length, (p2[1] - p1[1]) / length
    nx, ny = -uy, ux
    t = np.arange(0.0, length + 1e-9, step, dtype=np.float32)
    offsets = np.arange(width, dtype=np.float32) - (width - 1) / 2.0
    map_x = (p1[0] + t[None, :] * ux + offsets[:, None] * nx).astype(np.float32)
    map_y = (p1[1] + t[None, :] * uy + offsets[:, None] * ny).astype(np.float32)
    samples = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mean: np.ndarray = samples.mean(axis=0)
    return mean


def caliper(
    image: np.ndarray,
    p1: Point,
    p2: Point,
    width: int = 5,
    sigma: float = 1.0,
    min_contrast: float = 20.0,
    step: float = 0.25,
) -> list[Edge]:
    """Edges crossed by the segment p1→p2, in order from p1.

    ``min_contrast`` is the smallest grey-level step (0-255) that counts as an edge.
    """
    prof = profile(image, p1, p2, width, step)
    if sigma > 0:
        radius = math.ceil(3 * sigma / step)
        k = np.arange(-radius, radius + 1) * step
        kernel = np.exp(-0.5 * (k / sigma) ** 2)
        kernel /= kernel.sum()
        padded = np.pad(prof, radius, mode="edge")
        prof = np.convolve(padded, kernel, mode="valid")
    grad = np.gradient(prof) / step  # grey levels per pixel
    mag = np.abs(grad)
    # A step edge of contrast C blurred by sigma peaks at C / (sigma * sqrt(2 pi)).
    floor = min_contrast / (max(sigma, 0.5) * math.sqrt(2 * math.pi))
    peaks = (
        np.flatnonzero((mag[1:-1] >= mag[:-2]) & (mag[1:-1] > mag[2:]) & (mag[1:-1] >= floor)) + 1
    )
    length = math.dist(p1, p2)
    ux, uy = (p2[0] - p1[0]) / length, (p2[1] - p1[1]) / length
    edges = []
    for i in peaks:
        # A blurred step edge has a Gaussian gradient: a parabola through log values is exact.
        t = (i + _subpixel(np.log(mag[i - 1 : i + 2] + 1e-6), 1)) * step
        edges.append(
            Edge(
                t,
                p1[0] + t * ux,
                p1[1] + t * uy,
                "rising" if grad[i] > 0 else "falling",
                float(mag[i]),
            )
        )
    return edges


@dataclass(frozen=True)
class Calibration:
    """Pixels to millimetres, from a reference of known size."""

    mm_per_px: float

    @classmethod
    def from_reference(cls, measured_px: float, known_mm: float) -> Calibration:
        if measured_px <= 0 or known_mm <= 0:
            raise InputError("reference size and its measurement must both be positive")
        return cls(known_mm / measured_px)

    def to_mm(self, px: float) -> float:
        return px * self.mm_per_px


def width_between_edges(edges: list[Edge]) -> float:
    """Distance between the first and last edge on a caliper (an outer width)."""
    if len(edges) < 2:
        raise InputError(
            f"found {len(edges)} edge(s) on the caliper; need 2 to measure a width",
            "move the segment so it crosses both sides of the part, or lower --min-contrast",
        )
    return edges[-1].t - edges[0].t


@dataclass(frozen=True)
class Match:
    x: float  # top-left of the template in the image, sub-pixel
    y: float
    score: float


def find_template(
    image: np.ndarray, template: np.ndarray, min_score: float = 0.8, max_matches: int = 20
) -> list[Match]:
    """Normalised cross-correlation matches, best first, sub-pixel, non-overlapping."""
    img, tpl = _gray(image), _gray(template)
    if tpl.shape[0] > img.shape[0] or tpl.shape[1] > img.shape[1]:
        raise InputError(f"template {tpl.shape[1]}x{tpl.shape[0]} is larger than the image")
    res = cv2.matchTemplate(img, tpl, cv2.TM_CCOEFF_NORMED)
    res = np.nan_to_num(res, nan=-1.0)
    out: list[Match] = []
    work = res.copy()
    th, tw = tpl.shape
    for _ in range(max_matches):
        _, score, _, (x, y) = cv2.minMaxLoc(work)
        if score < min_score:
            break
        dx = _subpixel(res[y, :], x)
        dy = _subpixel(res[:, x], y)
        out.append(Match(x + dx, y + dy, float(score)))
        work[max(0, y - th // 2) : y + th // 2 + 1, max(0, x - tw // 2) : x + tw // 2 + 1] = -1.0
    return out


def align(
    image: np.ndarray, golden: np.ndarray, iterations: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """Rigid (rotation + shift) warp that maps ``image`` onto ``golden``, and the aligned image.

    Phase correlation gives the starting shift; OpenCV's ECC refines to sub-pixel accuracy.
    """
    g, im = _gray(golden), _gray(image)
    if g.shape != im.shape:
        raise InputError(f"image {im.shape[::-1]} and golden sample {g.shape[::-1]} differ in size")
    (sx, sy), _ = cv2.phaseCorrelate(g, im)
    warp = np.array([[1, 0, sx], [0, 1, sy]], dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-6)
    try:
        _, warp = cv2.findTransformECC(  # type: ignore[call-overload]
            g, im, warp, cv2.MOTION_EUCLIDEAN, criteria, None, 5
        )
    except cv2.error as exc:
        raise InputError(
            "could not align the image to the golden sample", "are they the same part?"
        ) from exc
    aligned = cv2.warpAffine(
        image, warp, (g.shape[1], g.shape[0]), flags=cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP
    )
    return warp, aligned


@dataclass(frozen=True)
class Blob:
    x: float  # centroid
    y: float
    area: int
    bbox: tuple[int, int, int, int]


def count_blobs(
    image: np.ndarray, min_area: int = 20, max_area: int | None = None, dark: bool | None = None
) -> list[Blob]:
    """Connected blobs after Otsu thresholding. ``dark``: blobs darker than the background
    (None: decided from the border, which is assumed to be background)."""
    gray = _gray(image).astype(np.uint8)
    if dark is None:
        border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
        dark = float(np.median(border)) > float(gray.mean())
    mode = cv2.THRESH_BINARY_INV if dark else cv2.THRESH_BINARY
    _, binary = cv2.threshold(gray, 0, 255, mode + cv2.THRESH_OTSU)
    count, _, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    blobs = []
    for k in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[k])
        if area < min_area or (max_area is not None and area > max_area):
            continue
        blobs.append(Blob(float(centroids[k][0]), float(centroids[k][1]), area, (x, y, w, h)))
    return blobs
