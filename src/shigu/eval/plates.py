"""Plate-reading accuracy: exact plates and characters, with ground truth from file names.

CCPD encodes each image's plate in its name (the fifth ``-`` field: indices into its
province, letter and character lists); other sets name each crop by its text.
Per-character accuracy compares position by position over the longer of the two strings
(a missing or extra character counts as wrong), as HyperLPR's and LPRNet's evaluations do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shigu.core.errors import InputError

CCPD_PROVINCES = (*"皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新警学", "O")
CCPD_LETTERS = (*"ABCDEFGHJKLMNPQRSTUVWXYZ", "O")
CCPD_CHARS = (*"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", "O")


def ccpd_plate(path: str | Path) -> str:
    """The plate text a CCPD file name encodes."""
    fields = Path(path).stem.split("-")
    try:
        idx = [int(v) for v in fields[4].split("_")]
        text: str = CCPD_PROVINCES[idx[0]] + CCPD_LETTERS[idx[1]]
        return text + "".join(CCPD_CHARS[i] for i in idx[2:])
    except (IndexError, ValueError):
        raise InputError(f"{Path(path).name} is not a CCPD file name") from None


@dataclass(frozen=True)
class PlateScore:
    """Exact-plate and per-character accuracy over ``n`` plates."""

    n: int
    exact: float
    chars: float


def plate_accuracy(pairs: Iterable[tuple[str, str | None]]) -> PlateScore:
    """Accuracy of (truth, read) pairs; a plate not found reads as None (all wrong)."""
    n = exact = 0
    right = total = 0
    for truth, read in pairs:
        got = read or ""
        n += 1
        exact += got == truth
        length = max(len(truth), len(got))
        right += sum(a == b for a, b in zip(truth, got, strict=False))
        total += length
    return PlateScore(n, exact / n if n else 0.0, right / total if total else 0.0)
