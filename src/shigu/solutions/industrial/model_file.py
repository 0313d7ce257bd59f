"""The ``.shigu`` inspection model: one self-describing zip file.

Inside: ``manifest.json`` (format version, method, preprocessing, layers, threshold,
training summary and the sha256 of every other member), ``backbone.onnx`` and
``arrays.npz`` (the memory bank, or PaDiM's Gaussians). Written to a temporary file and
renamed, so a crash never leaves half a model behind; every member is checked on load.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError, ModelError

FORMAT = "shigu.anomaly"
VERSION = 1


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(
    path: str | Path, manifest: dict[str, Any], backbone: bytes, arrays: dict[str, np.ndarray]
) -> Path:
    """Write the model atomically; returns the path."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder", "give a file name such as model.shigu")
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    array_bytes = buf.getvalue()
    manifest = dict(manifest)
    manifest.update(
        format=FORMAT,
        version=VERSION,
        members={"backbone.onnx": _sha(backbone), "arrays.npz": _sha(array_bytes)},
    )
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, indent=2))
            zf.writestr("backbone.onnx", backbone)
            zf.writestr("arrays.npz", array_bytes)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read(path: str | Path) -> tuple[dict[str, Any], bytes, dict[str, np.ndarray]]:
    """Read and verify a model: (manifest, backbone ONNX bytes, arrays)."""
    path = Path(path)
    hint = "retrain it with `shigu inspect train`"
    if not path.is_file():
        raise ModelError(f"model file not found: {path}", "check the path")
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            backbone = zf.read("backbone.onnx")
            array_bytes = zf.read("arrays.npz")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError, EOFError) as exc:
        raise ModelError(f"{path} is not a valid Shigu inspection model ({exc})", hint) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{path} is not a Shigu inspection model (no {FORMAT} manifest)", hint)
    if int(manifest.get("version", 0)) > VERSION:
        raise ModelError(
            f"{path} was written by a newer Shigu (format {manifest.get('version')})",
            "upgrade shigu to read it",
        )
    members = manifest.get("members", {})
    for name, data in (("backbone.onnx", backbone), ("arrays.npz", array_bytes)):
        if members.get(name) != _sha(data):
            raise ModelError(f"{path}: {name} is corrupt (checksum mismatch)", hint)
    try:
        with np.load(io.BytesIO(array_bytes), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError) as exc:
        raise ModelError(f"{path}: arrays.npz cannot be read ({exc})", hint) from exc
    return manifest, backbone, arrays
