"""Image folders for inspection: good images for training, MVTec-AD layouts for evaluation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shigu.core.errors import InputError
from shigu.sources.images import IMAGE_EXTENSIONS, natural_key, read_image

log = logging.getLogger(__name__)


def image_files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS),
        key=natural_key,
    )


def training_images(path: str | Path, allow_defects: bool = False) -> list[Path]:
    """Good images to train on: ``DIR/train/good`` of an MVTec-AD layout, or ``DIR`` itself.

    A folder that sits in a ``test/<defect>`` or ``ground_truth`` tree holds defects, not good
    parts; training on it would teach the model that defects are normal, so it is refused
    unless ``allow_defects`` is set.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"training folder not found: {root}", "give a folder of good images")
    folder = root / "train" / "good" if (root / "train" / "good").is_dir() else root
    parts = [p.lower() for p in folder.resolve().parts]
    looks_defective = "ground_truth" in parts or (
        len(parts) >= 2 and parts[-2] == "test" and parts[-1] != "good"
    )
    if looks_defective and not allow_defects:
        raise InputError(
            f"{folder} holds defect images ({parts[-2]}/{parts[-1]}), not good parts",
            "train on good images only (e.g. DIR/train/good), or pass --allow-defects",
        )
    files = image_files(folder)
    if not files:
        raise InputError(
            f"no images in {folder}",
            f"put good images ({', '.join(IMAGE_EXTENSIONS[:3])}, ...) there, or give an "
            "MVTec-AD folder with train/good",
        )
    return files


def load_images(paths: list[Path]) -> tuple[list[np.ndarray], list[Path]]:
    """Read images (grey converted to colour); unreadable files are skipped with a warning."""
    images, kept = [], []
    for path in paths:
        image = read_image(path)
        if image is None:
            log.warning("skipping unreadable image %s", path)
            continue
        images.append(image)
        kept.append(path)
    return images, kept


@dataclass
class TestItem:
    """One evaluation image, its defect type (``good`` for normal) and its mask file, if any."""

    path: Path
    defect: str
    mask: Path | None

    @property
    def is_anomalous(self) -> bool:
        return self.defect != "good"


def _mask_for(gt_dir: Path, image: Path) -> Path | None:
    for name in (f"{image.stem}_mask.png", f"{image.stem}.png"):
        if (gt_dir / name).is_file():
            return gt_dir / name
    return None


def mvtec_test_set(path: str | Path) -> list[TestItem]:
    """``DIR/test/<type>/*`` with masks from ``DIR/ground_truth/<type>/<stem>[_mask].png``."""
    root = Path(path)
    test = root / "test"
    if not test.is_dir():
        raise InputError(
            f"{root} has no test/ folder",
            "give an MVTec-AD layout: train/good, test/<type>, ground_truth/<type>",
        )
    items: list[TestItem] = []
    for sub in sorted(p for p in test.iterdir() if p.is_dir()):
        for image in image_files(sub):
            mask = (
                None if sub.name == "good" else _mask_for(root / "ground_truth" / sub.name, image)
            )
            items.append(TestItem(image, sub.name, mask))
    if not items:
        raise InputError(f"no test images under {test}")
    if not any(i.is_anomalous for i in items) or all(i.is_anomalous for i in items):
        raise InputError(
            f"{test} needs both good and defective images to compute AUROC",
            "add test/good and at least one test/<defect> folder",
        )
    return items
