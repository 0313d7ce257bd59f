import itertools

import lap
import numpy as np
import pytest

from shigu.track.matching import giou_matrix, iou_matrix, linear_assignment


def slow_iou(a, b):
    out = np.zeros((len(a), len(b)))
    for i, j in itertools.product(range(len(a)), range(len(b))):
        x1, y1 = max(a[i][0], b[j][0]), max(a[i][1], b[j][1])
        x2, y2 = min(a[i][2], b[j][2]), min(a[i][3], b[j][3])
        inter = max(0, x2 - x1) * max(0, y2 - y1)
        union = (
            (a[i][2] - a[i][0]) * (a[i][3] - a[i][1])
            + (b[j][2] - b[j][0]) * (b[j][3] - b[j][1])
            - inter
        )
        out[i, j] = inter / union
    return out


def boxes(rng, n):
    xy = rng.uniform(0, 100, (n, 2))
    return np.hstack([xy, xy + rng.uniform(5, 40, (n, 2))])


def test_iou_matches_reference() -> None:
    rng = np.random.default_rng(0)
    a, b = boxes(rng, 7), boxes(rng, 5)
    assert np.allclose(iou_matrix(a, b), slow_iou(a, b))
    assert iou_matrix(a, a).diagonal() == pytest.approx(1.0)
    assert iou_matrix(a[:0], b).shape == (0, 5)


def test_giou_bounds_and_identity() -> None:
    rng = np.random.default_rng(1)
    a, b = boxes(rng, 6), boxes(rng, 6)
    g = giou_matrix(a, b)
    assert (g <= iou_matrix(a, b) + 1e-12).all() and (g >= -1).all()
    assert giou_matrix(a, a).diagonal() == pytest.approx(1.0)
    far = giou_matrix(np.array([[0, 0, 1, 1.0]]), np.array([[9, 9, 10, 10.0]]))
    assert far[0, 0] < -0.9


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (4, 0)])
def test_empty_sides(shape) -> None:
    rows, cols, un_r, un_c = linear_assignment(np.zeros(shape), 0.5)
    assert len(rows) == len(cols) == 0
    assert un_r.tolist() == list(range(shape[0])) and un_c.tolist() == list(range(shape[1]))


def test_all_matched_and_threshold() -> None:
    cost = np.array([[0.1, 0.9, 0.9], [0.9, 0.2, 0.9], [0.9, 0.9, 0.3]])
    rows, cols, un_r, un_c = linear_assignment(cost, 0.5)
    assert rows.tolist() == [0, 1, 2] and cols.tolist() == [0, 1, 2]
    assert len(un_r) == len(un_c) == 0
    rows, cols, un_r, un_c = linear_assignment(cost, 0.25)
    assert rows.tolist() == [0, 1] and un_r.tolist() == [2] and un_c.tolist() == [2]


def test_prefers_optimum_over_greedy() -> None:
    cost = np.array([[0.1, 0.2], [0.15, 0.9]])  # greedy takes (0,0) and strands row 1
    rows, cols, _, _ = linear_assignment(cost, 0.5)
    assert dict(zip(rows.tolist(), cols.tolist(), strict=False)) == {0: 1, 1: 0}


@pytest.mark.parametrize("seed", range(40))
def test_same_total_cost_as_plain_lapjv(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 10, 2)
    cost = rng.uniform(0, 1, (n, m))
    cost[rng.uniform(size=(n, m)) < 0.6] = 1.0
    limit = 0.7

    def total(rows, cols):
        return cost[rows, cols].sum() + limit / 2 * (n - len(rows) + m - len(rows))

    rows, cols, un_r, un_c = linear_assignment(cost, limit)
    _, r2c, _ = lap.lapjv(cost, extend_cost=True, cost_limit=limit)
    ref_rows = np.flatnonzero(r2c >= 0)
    assert total(rows, cols) == pytest.approx(total(ref_rows, r2c[ref_rows]))
    assert (cost[rows, cols] <= limit).all()
    assert sorted([*rows.tolist(), *un_r.tolist()]) == list(range(n))
    assert sorted([*cols.tolist(), *un_c.tolist()]) == list(range(m))


def test_a_contested_single_column_or_row_goes_to_its_cheapest_partner() -> None:
    # row 0 - column 0 is an isolated pair; column 1 is wanted by rows 1-3
    cost = np.array([[0.1, 0.9], [0.9, 0.4], [0.9, 0.2], [0.9, 0.3]])
    rows, cols, un_r, un_c = linear_assignment(cost, 0.5)
    assert rows.tolist() == [0, 2] and cols.tolist() == [0, 1]
    assert un_r.tolist() == [1, 3] and un_c.tolist() == []
    rows, cols, un_r, un_c = linear_assignment(cost.T.copy(), 0.5)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 2]
    assert un_r.tolist() == [] and un_c.tolist() == [1, 3]
