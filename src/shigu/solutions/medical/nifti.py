"""NIfTI in and out (nibabel): volumes with their affines, written atomically."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError
from shigu.io.atomic import atomic_write
from shigu.solutions.medical.volume import Volume

NIFTI_SUFFIXES = (".nii", ".nii.gz")


def is_nifti(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".nii") or name.endswith(".nii.gz")


def read_nifti(path: Path) -> Volume:
    """A NIfTI file as a `Volume` (scaling applied; the sform, else the qform, as affine)."""
    import nibabel as nib

    try:
        image: Any = nib.load(str(path))
        data = np.asanyarray(image.dataobj)
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist", "give a .nii or .nii.gz file") from exc
    except Exception as exc:  # nibabel raises many types for damaged files
        raise InputError(
            f"cannot read {path} as NIfTI ({type(exc).__name__}: {exc})",
            "the file is damaged or not NIfTI",
        ) from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim not in (2, 3):
        raise InputError(f"{path} has {data.ndim} dimensions", "give a 3D volume")
    if data.ndim == 2:
        data = data[:, :, None]
    meta: dict[str, Any] = {"Source": str(path)}
    return Volume(data, np.asarray(image.affine, dtype=np.float64), meta)


def nifti_bytes(volume: Volume, compress: bool) -> bytes:
    """The volume as a NIfTI-1 file (qform and sform both set, code 1 = scanner)."""
    import nibabel as nib

    image = nib.Nifti1Image(volume.data, volume.affine)
    image.header.set_xyzt_units("mm", "sec")
    image.set_qform(volume.affine, code=1)
    image.set_sform(volume.affine, code=1)
    raw = image.to_bytes()
    return parallel_gzip(raw) if compress else raw


def parallel_gzip(data: bytes, level: int = 6, chunk: int = 4 << 20) -> bytes:
    """gzip on every core: chunks compressed in threads (zlib frees the GIL) and joined as
    gzip members, which RFC 1952 readers (zlib's gzread, Python, nibabel, ITK) read as one."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    parts = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]
    workers = min(len(parts), os.cpu_count() or 1)
    if workers == 1:
        return gzip.compress(data, compresslevel=level, mtime=0)
    with ThreadPoolExecutor(workers) as pool:
        members = pool.map(lambda p: gzip.compress(p, compresslevel=level, mtime=0), parts)
        return b"".join(members)


def write_nifti(volume: Volume, path: Path) -> None:
    """Write ``path`` (.nii or .nii.gz) so a reader never sees half a file."""
    if not is_nifti(path):
        raise InputError(f"{path} should end in .nii or .nii.gz")
    atomic_write(path, nifti_bytes(volume, compress=path.name.lower().endswith(".gz")))


def sidecar_path(path: Path) -> Path:
    name = path.name
    for suffix in (".nii.gz", ".nii", ".NII.GZ", ".NII"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + ".json")
    return path.with_suffix(".json")


def write_sidecar(meta: dict[str, Any], path: Path, software_version: str) -> None:
    body = {**meta, "ConversionSoftware": "shigu", "ConversionSoftwareVersion": software_version}
    atomic_write(path, (json.dumps(body, indent="\t") + "\n").encode())


PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def is_picture(path: Path) -> bool:
    return path.suffix.lower() in PICTURE_SUFFIXES


def read_picture(path: Path) -> Volume:
    """A 2D radiograph exported as a picture (PNG, JPEG, TIFF): one slice, grey values as
    stored, 1 mm pixels (a picture carries no patient geometry), rows from the top."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise InputError(f"cannot read {path} as an image", "give a PNG, JPEG or TIFF file")
    rows = image.shape[0]
    affine = np.array(
        [[-1.0, 0, 0, 0], [0, 1.0, 0, -(rows - 1.0)], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]
    )  # the dcm2niix layout of rows (LPS row direction +x, column direction +y), in RAS
    data = np.ascontiguousarray(image[::-1, :].T[:, :, None])
    notes = ["a picture: no patient geometry, 1 mm pixels assumed"]
    return Volume(data, affine, {"Source": str(path)}, notes)
