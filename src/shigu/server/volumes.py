"""The medical volumes `shigu serve --volumes DIR` shows in the dashboard's viewer.

The library lists NIfTI files and DICOM series folders under one root (read-only), names each
by its path relative to the root, and renders slices as PNG on request. Requests name volumes
only by those listed names: no path from a request ever reaches the file system. A label NIfTI
named ``<stem>_seg.nii.gz`` (or ``_labels``, ``_mask``) is offered as the overlay of
``<stem>.nii.gz``; any label volume on the same grid can be chosen as overlay.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError

_OVERLAY_SUFFIXES = ("_seg", "_labels", "_label", "_mask", "_masks")
_CACHE_SIZE = 3  # volumes kept decoded (a 512x512x300 CT is 150 MB as int16)
_LIST_SECONDS = 5.0  # how long a listing of the folder is reused


@dataclass
class _Loaded:
    ras: np.ndarray
    spacing: tuple[float, float, float]
    affine: np.ndarray
    shape: tuple[int, ...]
    info: dict[str, Any]
    window: tuple[float, float]
    is_labels: bool


def _stem(name: str) -> str:
    for suffix in (".nii.gz", ".nii"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


class VolumeLibrary:
    """Volumes under ``root``: listing, metadata and slice pictures."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise InputError(f"--volumes {root} is not a folder", "give a folder of volumes")
        self.root = root.resolve()
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, _Loaded] = OrderedDict()
        self._listed: tuple[float, dict[str, Path]] | None = None

    def items(self) -> dict[str, Path]:
        """Listed name -> path: NIfTI files, and folders directly holding DICOM files. The
        folder is walked at most every few seconds (every slice picture names its volume)."""
        now = time.monotonic()
        if self._listed is not None and now - self._listed[0] < _LIST_SECONDS:
            return self._listed[1]
        found = self._walk()
        self._listed = (now, found)
        return found

    def _walk(self) -> dict[str, Path]:
        from shigu.solutions.medical.nifti import is_nifti

        found: dict[str, Path] = {}
        for path in sorted(self.root.rglob("*")):
            if any(part.startswith(".") for part in path.relative_to(self.root).parts):
                continue
            if path.is_file() and is_nifti(path):
                found[str(path.relative_to(self.root))] = path
            elif path.is_dir() and any(p.suffix.lower() == ".dcm" for p in path.iterdir()):
                found[str(path.relative_to(self.root)) + "/"] = path
        return found

    def listing(self) -> list[dict[str, Any]]:
        items = self.items()
        names = set(items)
        out = []
        for name in items:
            stem = _stem(name)
            overlays = [
                other
                for other in names
                if other != name and any(_stem(other) == stem + s for s in _OVERLAY_SUFFIXES)
            ]
            is_overlay = any(stem.endswith(s) for s in _OVERLAY_SUFFIXES)
            out.append({"name": name, "overlays": sorted(overlays), "labels": is_overlay})
        return out

    def _path(self, name: str) -> Path:
        items = self.items()
        if name not in items:  # added since the last walk?
            self._listed = None
            items = self.items()
        if name not in items:
            raise KeyError(name)
        return items[name]

    def load(self, name: str) -> _Loaded:
        """The volume ``name`` reoriented to RAS, from the cache when it is there."""
        from shigu.solutions.medical import load_series, read_nifti
        from shigu.solutions.medical.render import canonical, default_window

        with self._lock:
            if name in self._cache:
                self._cache.move_to_end(name)
                return self._cache[name]
        path = self._path(name)  # only on a cache miss: a decoded volume needs no walk
        volume = read_nifti(path) if path.is_file() else load_series(path, allow_gaps=True)
        ras, spacing, ras_affine = canonical(volume)
        data = np.asarray(volume.data)
        is_labels = bool(
            np.issubdtype(data.dtype, np.integer)
            and data.min(initial=0) >= 0
            and len(np.unique(data)) <= 256
        )
        info = {
            "name": name,
            "shape": [int(s) for s in ras.shape],
            "spacing_mm": [round(s, 4) for s in spacing],
            "orientation": volume.orientation,
            "modality": str(volume.meta.get("Modality", "")),
            "value_min": float(data.min()),
            "value_max": float(data.max()),
            "notes": volume.notes,
        }
        window = default_window(volume)
        info["window"] = list(window)
        loaded = _Loaded(ras, spacing, ras_affine, data.shape, info, window, is_labels)
        with self._lock:
            self._cache[name] = loaded
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return loaded

    def slice_png(
        self,
        name: str,
        plane: str,
        index: int | None,
        window: tuple[float, float] | None,
        overlay: str | None,
    ) -> bytes:
        """One slice as PNG (the middle one when ``index`` is None)."""
        import cv2

        from shigu.solutions.medical.render import PLANES, render_slice, slice_count

        if plane not in PLANES:
            raise InputError(f"plane {plane!r} is not one of {', '.join(PLANES)}")
        volume = self.load(name)
        labels = None
        if overlay:
            other = self.load(overlay)
            if other.ras.shape != volume.ras.shape or not np.allclose(
                other.affine, volume.affine, atol=1e-2
            ):
                raise InputError(f"{overlay} is not on the grid of {name}", "pick its own labels")
            labels = other.ras
        count = slice_count(volume.ras.shape, plane)
        picture = render_slice(
            volume.ras,
            volume.spacing,
            plane,
            count // 2 if index is None else index,
            window or volume.window,
            labels,
        )
        ok, png = cv2.imencode(".png", picture)
        if not ok:
            raise InputError("the slice could not be encoded")
        return bytes(png.tobytes())
