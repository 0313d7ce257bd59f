"""Anomaly metrics: PRO and F1 on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from shigu.solutions.industrial import metrics


def test_pro_is_one_for_a_perfect_map() -> None:
    mask = np.zeros((40, 40), np.uint8)
    mask[5:10, 5:10] = 255
    mask[20:35, 20:35] = 255
    assert metrics.pro([mask], [mask.astype(np.float32)]) == pytest.approx(1.0)


def test_pro_of_a_random_map_is_about_half_the_fpr_limit() -> None:
    rng = np.random.default_rng(0)
    mask = np.zeros((200, 200), np.uint8)
    mask[50:120, 50:120] = 1
    value = metrics.pro([mask], [rng.random((200, 200))])
    assert value == pytest.approx(0.15, abs=0.02)


def test_pro_weighs_regions_equally_not_by_area() -> None:
    # Two regions, one tiny and one large; the map finds only the large one first.
    mask = np.zeros((100, 100), np.uint8)
    mask[0:2, 0:2] = 1
    mask[50:90, 50:90] = 1
    amap = np.zeros((100, 100), np.float32)
    amap[50:90, 50:90] = 1.0  # the large region only; everything else ties at 0
    # At FPR 0 the overlap is (0 + 1) / 2 = 0.5; then it rises linearly to 1 at FPR 1
    # (the tie at 0 covers every remaining pixel), so up to FPR 0.3: 0.5 + 0.5 * 0.15.
    assert metrics.pro([mask], [amap]) == pytest.approx(0.5 + 0.5 * 0.15, abs=1e-3)


def test_f1_at_threshold() -> None:
    labels = np.array([0, 0, 1, 1, 1])
    scores = np.array([0.1, 0.6, 0.7, 0.4, 0.9])
    out = metrics.f1_at(labels, scores, 0.5)
    assert out["precision"] == pytest.approx(2 / 3)
    assert out["recall"] == pytest.approx(2 / 3)
    assert out["f1"] == pytest.approx(2 / 3)


def test_auroc_helpers() -> None:
    assert metrics.image_auroc(np.array([0, 1]), np.array([0.2, 0.8])) == 1.0
    masks = [np.array([[0, 1], [0, 0]], np.uint8)]
    assert metrics.pixel_auroc(masks, [np.array([[0.1, 0.9], [0.2, 0.3]])]) == 1.0
