"""Annotated images written under their own names, so outputs line up with inputs.

``output_names`` maps input images to output files below a folder: the path relative to the
inputs' common folder, so ``good/00.jpg`` and ``crack/00.jpg`` never overwrite each other, and
the extension joined to the name where two files differ only by it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from shigu.core.errors import InputError


def output_names(
    paths: Sequence[Path], out: Path, suffix: str = "", ext: str = ""
) -> dict[Path, Path]:
    """One distinct output path per input: ``out/<relative folder>/<stem><suffix><ext>``
    (``ext`` empty: the input's own extension)."""
    if not paths:
        return {}
    root = Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))

    def name(p: Path, with_ext: bool) -> Path:
        stem = f"{p.stem}{p.suffix.replace('.', '_')}" if with_ext else p.stem
        return out / p.resolve().parent.relative_to(root) / f"{stem}{suffix}{ext or p.suffix}"

    plain = {p: name(p, False) for p in paths}
    counts: dict[Path, int] = {}
    for target in plain.values():
        counts[target] = counts.get(target, 0) + 1
    return {p: (t if counts[t] == 1 else name(p, True)) for p, t in plain.items()}


class ImageFolderWriter:
    """Writes one image per input image into a folder, under :func:`output_names`."""

    def __init__(self, out: Path, paths: Sequence[Path]) -> None:
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out} is a file", "give a folder for annotated images")
        self.out = out
        self.names = output_names(paths, out)
        self.written = 0

    def write(self, path: Path, image: np.ndarray) -> Path:
        target = self.names[path]
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.stem}.tmp{target.suffix}")
        if not cv2.imwrite(str(tmp), image):
            raise InputError(f"cannot write {target}", "check the folder is writable")
        os.replace(tmp, target)
        self.written += 1
        return target
