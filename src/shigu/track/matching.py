"""Cost matrices and linear assignment for data association."""

from __future__ import annotations

import lap
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]


def iou_matrix(a: npt.ArrayLike, b: npt.ArrayLike) -> F64:
    """(N, M) intersection-over-union of (N, 4) and (M, 4) xyxy boxes."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    iw = np.minimum.outer(a[:, 2], b[:, 2])
    iw -= np.maximum.outer(a[:, 0], b[:, 0])
    np.maximum(iw, 0.0, out=iw)
    ih = np.minimum.outer(a[:, 3], b[:, 3])
    ih -= np.maximum.outer(a[:, 1], b[:, 1])
    np.maximum(ih, 0.0, out=ih)
    iw *= ih  # intersection
    union = np.add.outer(
        (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]), (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    )
    union -= iw
    np.maximum(union, 1e-9, out=union)
    iw /= union
    return iw  # type: ignore[no-any-return]


def giou_matrix(a: npt.ArrayLike, b: npt.ArrayLike) -> F64:
    """(N, M) generalised IoU in [-1, 1]: IoU minus the empty share of the enclosing box."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    iou = iou_matrix(a, b)
    ex1 = np.minimum(a[:, None, 0], b[None, :, 0])
    ey1 = np.minimum(a[:, None, 1], b[None, :, 1])
    ex2 = np.maximum(a[:, None, 2], b[None, :, 2])
    ey2 = np.maximum(a[:, None, 3], b[None, :, 3])
    enclose = (ex2 - ex1) * (ey2 - ey1)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    out: F64 = iou - (enclose - union) / np.maximum(enclose, 1e-9)
    return out


def linear_assignment(cost: F64, max_cost: float) -> tuple[Ints, Ints, Ints, Ints]:
    """Minimum-cost matching that only accepts pairs costing at most ``max_cost``.

    The answer is that of the Jonker-Volgenant algorithm (``lap.lapjv``) on the cost matrix
    extended so that leaving a row or a column unmatched costs ``max_cost / 2``, as ByteTrack
    uses it. Two shortcuts give the same answer faster: a row and a column that are each
    other's only feasible partner are matched directly (every optimal solution contains the
    pair: it costs at most ``max_cost``, leaving both unmatched costs ``max_cost``), and only
    the rows left over go to the solver. In tracking most tracks overlap one detection, so
    on most frames every feasible pair is isolated and the solver is not called at all.

    Returns:
        (rows, cols) of the matched pairs, then the unmatched rows and unmatched columns,
        each as sorted index arrays.
    """
    n, m = cost.shape
    if n == 0 or m == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.arange(n, dtype=np.intp), np.arange(m, dtype=np.intp)
    # the feasible pairs, in row order; in tracking there are about as many as rows
    r, c = (cost <= max_cost).nonzero()
    row_n = np.bincount(r, minlength=n)
    col_n = np.bincount(c, minlength=m)
    single = (row_n[r] == 1) & (col_n[c] == 1)
    if single.all():  # every feasible pair is isolated: that is the whole answer
        return r, c, (row_n == 0).nonzero()[0], (col_n == 0).nonzero()[0]
    row_to_col = np.full(n, -1, dtype=np.intp)
    row_to_col[r[single]] = c[single]
    hard = ~single
    hard_rows = np.zeros(n, dtype=bool)
    hard_rows[r[hard]] = True
    hard_rows = hard_rows.nonzero()[0]
    hard_cols = np.zeros(m, dtype=bool)
    hard_cols[c[hard]] = True
    hard_cols = hard_cols.nonzero()[0]
    sub = cost[hard_rows][:, hard_cols]
    if len(hard_cols) == 1:  # one column wanted by several rows: the cheapest row gets it
        row_to_col[hard_rows[sub[:, 0].argmin()]] = hard_cols[0]
    elif len(hard_rows) == 1:  # one row with several feasible columns: its cheapest
        row_to_col[hard_rows[0]] = hard_cols[sub[0].argmin()]
    else:
        _, sub_rows, _ = lap.lapjv(sub, extend_cost=True, cost_limit=max_cost)
        ok = sub_rows >= 0
        row_to_col[hard_rows[ok]] = hard_cols[sub_rows[ok]]
    rows = (row_to_col >= 0).nonzero()[0]
    cols = row_to_col[rows]
    col_taken = np.zeros(m, dtype=bool)
    col_taken[cols] = True
    return rows, cols, (row_to_col < 0).nonzero()[0], (~col_taken).nonzero()[0]
