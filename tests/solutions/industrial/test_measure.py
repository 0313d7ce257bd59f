"""Measurement on rendered parts of known size: calipers, calibration, blobs, alignment."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from shigu.cli import app
from shigu.core.errors import InputError
from shigu.solutions.industrial.measure import (
    Calibration,
    align,
    caliper,
    count_blobs,
    find_template,
    width_between_edges,
)

SUPER = 16  # render at 16x and area-average down: exact partial-pixel coverage at the edges


def render_part(
    x0: float,
    x1: float,
    y0: float,
    y1: float,
    angle: float = 0.0,
    size: tuple[int, int] = (400, 240),
    bg: int = 40,
    fg: int = 210,
) -> np.ndarray:
    """A bright rectangle with edges at fractional positions (pixel i covers [i, i+1))."""
    w, h = size
    big = np.full((h * SUPER, w * SUPER), bg, np.uint8)
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    centre = pts.mean(axis=0)
    a = math.radians(angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    pts = (pts - centre) @ rot.T + centre
    cv2.fillPoly(big, [np.round(pts * SUPER).astype(np.int32)], fg, lineType=cv2.LINE_8)
    return cv2.resize(big, size, interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize(
    "x0,x1", [(100.3, 223.7), (57.55, 301.05), (120.125, 180.875), (30.9, 31.9 + 7.3)]
)
def test_caliper_width_error_under_half_a_pixel(x0: float, x1: float) -> None:
    image = render_part(x0, x1, 50, 180)
    edges = caliper(image, (10, 115), (390, 115))
    assert [e.polarity for e in edges] == ["rising", "falling"]
    assert abs(width_between_edges(edges) - (x1 - x0)) < 0.2
    # Edge positions in pixel-centre coordinates: the boundary x0 sits at x0 - 0.5.
    assert abs(edges[0].x - (x0 - 0.5)) < 0.2 and abs(edges[1].x - (x1 - 0.5)) < 0.2


@pytest.mark.parametrize("angle", [15.0, 33.0, 90.0])
def test_caliper_on_a_rotated_part(angle: float) -> None:
    image = render_part(140.4, 260.2, 90, 150, angle=angle, size=(400, 400))
    centre = np.array([200.3, 120.0 + 0 * angle])
    centre = np.array([(140.4 + 260.2) / 2, 120.0])
    a = math.radians(angle)
    direction = np.array([math.cos(a), math.sin(a)])
    p1, p2 = centre - 100 * direction, centre + 100 * direction
    width = width_between_edges(caliper(image, tuple(p1), tuple(p2)))
    assert abs(width - (260.2 - 140.4)) < 0.5


def test_noise_does_not_break_sub_pixel_accuracy() -> None:
    rng = np.random.default_rng(1)
    image = render_part(80.35, 311.8, 40, 200).astype(np.float32)
    noisy = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    width = width_between_edges(caliper(noisy, (10, 120), (390, 120), width=9, sigma=1.5))
    assert abs(width - (311.8 - 80.35)) < 0.5


def test_calibration_from_a_reference() -> None:
    # Reference gauge block: 25.000 mm rendered 187.5 px wide → 0.13333 mm/px.
    image = render_part(50.25, 237.75, 20, 60, size=(400, 240))
    ref = width_between_edges(caliper(image, (10, 40), (390, 40)))
    calib = Calibration.from_reference(ref, 25.0)
    assert calib.mm_per_px == pytest.approx(25.0 / 187.5, rel=2e-3)
    assert calib.to_mm(75.0) == pytest.approx(10.0, rel=2e-3)
    with pytest.raises(InputError):
        Calibration.from_reference(0.0, 25.0)


def test_caliper_bad_inputs() -> None:
    image = render_part(100, 200, 50, 150)
    with pytest.raises(InputError, match="outside"):
        caliper(image, (10, 100), (1000, 100))
    with pytest.raises(InputError, match="at least 3 px"):
        caliper(image, (10, 100), (11, 100))
    with pytest.raises(InputError, match="need 2"):
        width_between_edges(caliper(image, (10, 100), (90, 100)))


def test_blob_counting() -> None:
    image = np.full((300, 400), 230, np.uint8)
    centres = [(50, 50), (150, 60), (300, 80), (80, 200), (220, 220), (350, 250), (200, 130)]
    for x, y in centres:
        cv2.circle(image, (x, y), 14, 30, -1, lineType=cv2.LINE_AA)
    cv2.circle(image, (380, 20), 2, 30, -1)  # speck below min_area
    blobs = count_blobs(image, min_area=50)
    assert len(blobs) == len(centres)
    found = sorted((round(b.x), round(b.y)) for b in blobs)
    assert found == sorted(centres)


def test_template_match_is_sub_pixel() -> None:
    rng = np.random.default_rng(3)
    scene = (rng.random((240, 320)) * 255).astype(np.uint8)
    scene = cv2.GaussianBlur(scene, (0, 0), 2.0)
    template = scene[100:140, 150:200].copy()
    shifted = cv2.warpAffine(
        scene,
        np.float32([[1, 0, 3.4], [0, 1, -2.3]]),
        (320, 240),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REFLECT,
    )
    match = find_template(shifted, template, min_score=0.9)[0]
    assert abs(match.x - 153.4) < 0.3 and abs(match.y - 97.7) < 0.3


def test_alignment_to_a_golden_sample() -> None:
    golden = render_part(120.0, 260.0, 80.0, 160.0, size=(400, 240))
    cv2.circle(golden, (150, 100), 8, 90, -1)  # asymmetric feature so rotation is defined
    golden = cv2.GaussianBlur(golden, (0, 0), 1.5)
    m = cv2.getRotationMatrix2D((200, 120), 3.0, 1.0)
    m[:, 2] += (6.5, -4.25)
    moved = cv2.warpAffine(golden, m, (400, 240), flags=cv2.INTER_CUBIC, borderValue=40)
    _, aligned = align(moved, golden)
    inner = (slice(40, 200), slice(60, 340))
    error = np.abs(aligned[inner].astype(float) - golden[inner].astype(float)).mean()
    assert error < 2.0
    with pytest.raises(InputError, match="differ in size"):
        align(moved[:100], golden)


def test_measure_cli_with_reference(tmp_path: Path) -> None:
    image = render_part(100.5, 220.5, 120, 200)  # part: 120 px
    ref = render_part(50.0, 237.5, 20, 60)  # gauge: 187.5 px = 25 mm
    combined = np.where(np.arange(240)[:, None] < 90, ref, image)
    path = tmp_path / "part.png"
    cv2.imwrite(str(path), combined)
    out = tmp_path / "m.json"
    result = CliRunner().invoke(
        app,
        [
            "inspect",
            "measure",
            str(path),
            "--caliper",
            "10,160,390,160",
            "--reference",
            "10,40,390,40=25.0",
            "--blobs",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["calipers"][0]["width_px"] == pytest.approx(120.0, abs=0.2)
    assert data["calipers"][0]["width_mm"] == pytest.approx(16.0, abs=0.03)
    assert len(data["blobs"]) == 2
    bad = CliRunner().invoke(app, ["inspect", "measure", str(path), "--caliper", "1,2,3"])
    assert bad.exit_code != 0 and "X1,Y1,X2,Y2" in bad.exception.one_line()  # type: ignore[union-attr]
