"""NIQE against scikit-video's own implementation (run with a stand-in for the removed
``scipy.misc.imresize``, done as SciPy did it, with PIL) on fixed images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.solutions.lowlight.niqe import niqe

skvideo_measure = pytest.importorskip("skvideo.measure")


def _reference(grey: np.ndarray) -> float:
    import scipy.misc
    from PIL import Image

    def imresize(arr: np.ndarray, size: float, interp: str = "bicubic", mode: str = "F"):
        shape = (np.array(arr.shape) * size).astype(int)
        img = Image.fromarray(arr, mode=mode)
        return np.asarray(img.resize((shape[1], shape[0]), Image.BICUBIC))

    patched = {"imresize": imresize}
    old = {k: getattr(scipy.misc, k, None) for k in patched}
    had_int = hasattr(np, "int")
    try:
        for k, v in patched.items():
            setattr(scipy.misc, k, v)
        if not had_int:
            np.int = int  # type: ignore[attr-defined]
        return float(skvideo_measure.niqe(grey[None].astype(np.float64))[0])
    finally:
        for k, v in old.items():
            if v is None:
                delattr(scipy.misc, k)
            else:
                setattr(scipy.misc, k, v)
        if not had_int:
            del np.int  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def images(data_dir: Path) -> dict[str, np.ndarray]:
    lol = data_dir / "lowlight" / "LOL_train_subset"
    coco = sorted((data_dir / "images" / "coco_val2017").glob("*.jpg"))[0]
    paths = {"lol_low_2": lol / "low" / "2.png", "lol_high_2": lol / "high" / "2.png",
             "coco": coco}  # fmt: skip
    return {k: cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for k, p in paths.items()}


def test_equals_scikit_video(images: dict[str, np.ndarray]) -> None:
    for name, grey in images.items():
        ours, theirs = niqe(grey), _reference(grey)
        assert ours == pytest.approx(theirs, rel=1e-3), name


def test_noise_is_less_natural(images: dict[str, np.ndarray]) -> None:
    clean = images["lol_high_2"]
    rng = np.random.default_rng(0)
    noisy = np.clip(clean + rng.normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    assert niqe(noisy) > niqe(clean) + 1


def test_small_images_are_refused() -> None:
    from shigu.core.errors import InputError

    with pytest.raises(InputError, match="193x193"):
        niqe(np.zeros((150, 300), np.uint8))
