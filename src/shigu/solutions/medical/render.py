"""Window/level and slice pictures: what a radiologist expects to see, for the viewer and PNGs.

Slices are shown in radiological convention after reorienting to RAS: axial from the feet
(patient's right on the image's left, anterior up), coronal from the front (right on the left,
head up), sagittal from the patient's left (anterior on the left, head up); pixels are scaled
to square millimetres. The window is DICOM's linear VOI function (PS3.3 C.11.2.1.2).
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from shigu.core.errors import InputError
from shigu.solutions.medical.volume import Volume

Plane = Literal["axial", "coronal", "sagittal"]
PLANES: tuple[Plane, ...] = ("axial", "coronal", "sagittal")

# (centre, width) in HU: the usual CT presets
PRESETS: dict[str, tuple[float, float]] = {
    "brain": (40.0, 80.0),
    "subdural": (75.0, 215.0),
    "stroke": (40.0, 40.0),
    "soft-tissue": (50.0, 400.0),
    "mediastinum": (50.0, 350.0),
    "liver": (60.0, 160.0),
    "lung": (-600.0, 1500.0),
    "bone": (400.0, 1800.0),
}

# label colours (BGR) for overlays, distinct on grey
_COLOURS = np.array(
    [
        [0, 0, 255],
        [0, 200, 0],
        [255, 128, 0],
        [0, 220, 255],
        [255, 0, 255],
        [255, 255, 0],
        [128, 0, 255],
        [0, 128, 255],
        [128, 255, 0],
        [255, 0, 128],
        [64, 64, 255],
        [64, 255, 64],
    ],
    dtype=np.uint8,
)


def default_window(volume: Volume) -> tuple[float, float]:
    """The file's own window, else soft tissue for CT, else the 1st-99th percentile range."""
    if volume.window is not None:
        return volume.window
    values = np.asarray(volume.data, dtype=np.float32)
    modality = str(volume.meta.get("Modality", ""))
    # a NIfTI carries no modality: air at about -1000 says Hounsfield units
    if modality == "CT" or (not modality and -1100 <= values.min() <= -900):
        return PRESETS["soft-tissue"]
    lo, hi = np.percentile(values, [1, 99])
    return float((lo + hi) / 2), float(max(hi - lo, 1.0))


def parse_window(text: str, volume: Volume) -> tuple[float, float]:
    """A preset name, ``file``, ``auto`` or ``CENTRE,WIDTH``."""
    if text in PRESETS:
        return PRESETS[text]
    if text == "auto":
        return default_window(volume)
    if text == "file":
        if volume.window is None:
            raise InputError("the volume carries no window", "choose a preset or CENTRE,WIDTH")
        return volume.window
    try:
        centre, width = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise InputError(
            f"window {text!r} is not a preset or CENTRE,WIDTH",
            f"give one of {', '.join(PRESETS)}, file, auto or e.g. 40,80",
        ) from exc
    if not (np.isfinite(centre) and np.isfinite(width)) or width < 1:
        raise InputError(f"window {text!r} needs a finite centre and a width of at least 1")
    return centre, width


def apply_window(values: np.ndarray, centre: float, width: float) -> np.ndarray:
    """DICOM's linear window: values to 0..255."""
    scaled = ((values.astype(np.float32) - (centre - 0.5)) / max(width - 1.0, 1e-6) + 0.5) * 255
    return np.asarray(np.clip(scaled, 0, 255).astype(np.uint8))


def canonical(volume: Volume) -> tuple[np.ndarray, tuple[float, float, float], np.ndarray]:
    """The voxels reoriented to RAS (x to the right, y anterior, z superior), their spacing
    and their affine."""
    import nibabel as nib

    image = nib.Nifti1Image(np.asarray(volume.data), volume.affine)
    ras = nib.as_closest_canonical(image)
    zooms = ras.header.get_zooms()[:3]
    spacing = (float(zooms[0]), float(zooms[1]), float(zooms[2]))
    return np.asarray(ras.dataobj), spacing, np.asarray(ras.affine)


def slice_count(shape: tuple[int, ...], plane: Plane) -> int:
    return int(shape[{"axial": 2, "coronal": 1, "sagittal": 0}[plane]])


def plane_slice(ras: np.ndarray, plane: Plane, index: int) -> np.ndarray:
    """One plane of a RAS array as image rows x columns, radiological convention."""
    if plane == "axial":
        img = ras[:, :, index].T  # rows y, columns x
        return np.asarray(img[::-1, ::-1])  # anterior up, patient's right on the left
    if plane == "coronal":
        img = ras[:, index, :].T  # rows z, columns x
        return np.asarray(img[::-1, ::-1])
    img = ras[index, :, :].T  # rows z, columns y
    return np.asarray(img[::-1, ::-1])  # head up, anterior on the left


def _pixel_mm(plane: Plane, spacing: tuple[float, float, float]) -> tuple[float, float]:
    """(row height, column width) in mm of a plane's pixels."""
    x, y, z = spacing
    return {"axial": (y, x), "coronal": (z, x), "sagittal": (z, y)}[plane]


def render_slice(
    ras: np.ndarray,
    spacing: tuple[float, float, float],
    plane: Plane,
    index: int,
    window: tuple[float, float],
    labels: np.ndarray | None = None,
    alpha: float = 0.45,
) -> np.ndarray:
    """A BGR picture of one slice, windowed, in square millimetres, labels blended in."""
    n = slice_count(ras.shape, plane)
    if not 0 <= index < n:
        raise InputError(f"{plane} slice {index} is outside 0..{n - 1}")
    grey = apply_window(plane_slice(ras, plane, index), *window)
    picture = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    if labels is not None:
        lab = plane_slice(labels, plane, index).astype(np.int64)
        on = lab > 0
        if on.any():
            colours = _COLOURS[(lab[on] - 1) % len(_COLOURS)].astype(np.float32)
            mixed = picture[on].astype(np.float32) * (1 - alpha) + colours * alpha
            picture[on] = mixed.astype(np.uint8)
    row_mm, col_mm = _pixel_mm(plane, spacing)
    unit = min(row_mm, col_mm)
    height = max(1, round(picture.shape[0] * row_mm / unit))
    width = max(1, round(picture.shape[1] * col_mm / unit))
    if (height, width) != picture.shape[:2]:
        picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_LINEAR)
    return picture


def montage(volume: Volume, window: tuple[float, float], labels: np.ndarray | None) -> np.ndarray:
    """The three middle planes side by side (for `shigu med view`)."""
    ras, spacing, _ = canonical(volume)
    lab = None
    if labels is not None:
        lab = canonical(Volume(labels, volume.affine))[0]
    # a single slice (a radiograph, one CT image) has one plane worth showing
    planes = [p for p in PLANES if min(plane_slice(ras, p, 0).shape) > 1] or ["axial"]
    pictures = [
        render_slice(ras, spacing, p, slice_count(ras.shape, p) // 2, window, lab) for p in planes
    ]
    height = max(p.shape[0] for p in pictures)
    gaps = [8] * (len(pictures) - 1) + [0]  # 8 px between pictures
    padded = [
        cv2.copyMakeBorder(p, 0, height - p.shape[0], 0, gap, cv2.BORDER_CONSTANT)
        for p, gap in zip(pictures, gaps, strict=True)
    ]
    return np.hstack(padded)
