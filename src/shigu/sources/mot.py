"""MOTChallenge sequence folders (``seqinfo.ini`` + ``img1/``) and their text files."""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shigu.core.errors import InputError, SourceError
from shigu.sources.images import ImageFolderSource, list_images


@dataclass(frozen=True)
class SeqInfo:
    """The ``[Sequence]`` section of a MOTChallenge ``seqinfo.ini``."""

    name: str
    frame_rate: float
    length: int
    width: int
    height: int
    im_dir: str = "img1"
    im_ext: str = ".jpg"


def read_seqinfo(folder: str | Path) -> SeqInfo:
    """Parse ``folder/seqinfo.ini``; raises ``InputError`` when it is missing or incomplete."""
    path = Path(folder) / "seqinfo.ini"
    if not path.is_file():
        raise InputError(
            f"{folder} is not a MOTChallenge sequence: no seqinfo.ini",
            "each sequence folder needs seqinfo.ini (and det/det.txt or img1/)",
        )
    parser = configparser.ConfigParser()
    parser.read(path, encoding="utf-8")
    try:
        sec = parser["Sequence"]
        return SeqInfo(
            name=sec.get("name", Path(folder).name),
            frame_rate=float(sec.get("frameRate", "30")),
            length=int(sec["seqLength"]),
            width=int(sec["imWidth"]),
            height=int(sec["imHeight"]),
            im_dir=sec.get("imDir", "img1"),
            im_ext=sec.get("imExt", ".jpg"),
        )
    except (KeyError, ValueError) as exc:
        raise InputError(
            f"{path} is incomplete: {exc}", "it needs seqLength, imWidth, imHeight under [Sequence]"
        ) from exc


def read_mot_txt(path: str | Path) -> np.ndarray:
    """Load a MOTChallenge text file (det.txt, gt.txt or results) as an (N, >=7) float64 array.

    Columns: frame (1-based), id, x, y, w, h, score/flag, then class/visibility (MOT16+) or
    world coordinates (MOT15). Empty files give an empty (0, 10) array.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {path}")
    text = p.read_text(encoding="utf-8").strip()
    if not text:
        return np.zeros((0, 10))
    try:
        rows = np.loadtxt(p, delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError:
        try:
            rows = np.loadtxt(p, ndmin=2, dtype=np.float64)  # whitespace separated
        except ValueError as exc:
            raise InputError(f"{path} is not a MOTChallenge text file: {exc}") from exc
    if rows.shape[1] < 6:
        raise InputError(f"{path} has {rows.shape[1]} columns; MOTChallenge files have 7 or more")
    return rows


class MOTSequenceSource(ImageFolderSource):
    """Frames of a MOTChallenge sequence; frame indices follow the file names (000001 → 0)."""

    def __init__(
        self,
        folder: str | Path,
        source_id: str | None = None,
        *,
        stride: int = 1,
        target_fps: float | None = None,
    ) -> None:
        self.seq = read_seqinfo(folder)
        images_dir = Path(folder) / self.seq.im_dir
        if not images_dir.is_dir():
            raise SourceError(
                f"{folder} has no {self.seq.im_dir}/ folder of frames",
                "MOTChallenge sequences keep frames in img1/",
            )
        super().__init__(
            images_dir,
            source_id or self.seq.name,
            fps=self.seq.frame_rate,
            stride=stride,
            target_fps=target_fps,
        )
        self.paths = list_images(images_dir)
        self.info.kind = "mot"
        self.info.uri = str(folder)
        self.info.frame_count = self.seq.length

    def _index_of(self, position: int, path: Path) -> int:
        stem = path.stem
        return int(stem) - 1 if stem.isdigit() else position
