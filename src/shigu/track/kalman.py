"""A constant-velocity Kalman filter for boxes, vectorised over every track at once.

State per track: ``[x, y, w, h, vx, vy, vw, vh]`` (box centre, width, height and their
velocities), the BoT-SORT parameterisation, with process and measurement noise proportional to
the box size as in DeepSORT/ByteTrack/BoT-SORT.

Why it is fast: with a constant-velocity transition, a position-only measurement and diagonal
noise, the four coordinates never couple, so the 8x8 covariance is four independent 2x2 blocks
``[[p_xx, p_xv], [p_xv, p_vv]]``. Storing those three numbers per coordinate turns predict and
update into elementwise array arithmetic over all tracks, with no matrix products or
inversions. This is the same filter, not an approximation: ``tests/track/test_kalman.py``
checks it against the textbook full-matrix equations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class KalmanConfig:
    """Noise scales, as fractions of the box size (DeepSORT/ByteTrack defaults)."""

    std_position: float = 1.0 / 20
    std_velocity: float = 1.0 / 160
    init_position_factor: float = 2.0
    init_velocity_factor: float = 10.0


class KalmanState:
    """Means and covariance blocks of N tracks, in one (20, N) float64 array.

    Rows: ``mean`` 0-7 ``[x, y, w, h, vx, vy, vw, vh]``, then the per-coordinate blocks
    ``pxx`` 8-11 (position variances), ``pxv`` 12-15 (position-velocity covariances) and
    ``pvv`` 16-19 (velocity variances). The track axis is last so that every field is a
    contiguous block: arithmetic on contiguous memory is several times faster than on
    strided columns at these small sizes, and gathers and compaction stay one call each.
    The properties return (N, k) views, writable.
    """

    __slots__ = ("data",)

    def __init__(self, data: F64) -> None:
        self.data = data

    @classmethod
    def empty(cls) -> KalmanState:
        return cls(np.zeros((20, 0)))

    @classmethod
    def from_parts(cls, mean: F64, pxx: F64, pxv: F64, pvv: F64) -> KalmanState:
        """From (N, 8) means and (N, 4) covariance blocks."""
        return cls(np.ascontiguousarray(np.concatenate([mean, pxx, pxv, pvv], axis=1).T))

    @property
    def mean(self) -> F64:
        return self.data[0:8].T

    @property
    def pxx(self) -> F64:
        return self.data[8:12].T

    @property
    def pxv(self) -> F64:
        return self.data[12:16].T

    @property
    def pvv(self) -> F64:
        return self.data[16:20].T

    def __len__(self) -> int:
        return int(self.data.shape[1])

    def select(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> KalmanState:
        if index.dtype == np.bool_:
            return KalmanState(self.data.compress(index, axis=1))
        return KalmanState(self.data.take(index, axis=1))

    def assign(self, index: npt.NDArray[np.intp], other: KalmanState) -> None:
        self.data[:, index] = other.data

    def concat(self, other: KalmanState) -> KalmanState:
        return KalmanState(np.concatenate([self.data, other.data], axis=1))

    def xyxy(self) -> F64:
        """(N, 4) boxes of the current means."""
        half = self.data[2:4] * 0.5
        out: F64 = np.concatenate([self.data[0:2] - half, self.data[0:2] + half]).T
        return out

    def full_covariance(self) -> F64:
        """(N, 8, 8) covariance matrices (for tests and debugging)."""
        n = len(self)
        cov = np.zeros((n, 8, 8))
        idx = np.arange(4)
        cov[:, idx, idx] = self.pxx
        cov[:, idx + 4, idx + 4] = self.pvv
        cov[:, idx, idx + 4] = self.pxv
        cov[:, idx + 4, idx] = self.pxv
        return cov


def xyxy_to_xywh(xyxy: npt.ArrayLike) -> F64:
    b = np.asarray(xyxy, dtype=np.float64)
    out: F64 = np.concatenate([(b[:, :2] + b[:, 2:]) * 0.5, b[:, 2:] - b[:, :2]], axis=1)
    return out


def xywh_to_xyxy(xywh: npt.ArrayLike) -> F64:
    b = np.asarray(xywh, dtype=np.float64)
    half = b[:, 2:4] * 0.5
    out: F64 = np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)
    return out


_WHWH = np.array([2, 3, 2, 3])


def _size_scale(mean_or_box: F64) -> F64:
    """(N, 4) per-coordinate scale ``[w, h, w, h]`` the noise is proportional to."""
    out: F64 = np.maximum(mean_or_box[:, _WHWH], 1e-3)
    return out


class BoxKalmanFilter:
    """Vectorised constant-velocity Kalman filter over many boxes.

    Example:
        >>> kf = BoxKalmanFilter()
        >>> state = kf.initiate(np.array([[10.0, 20.0, 30.0, 60.0]]))
        >>> kf.predict(state)
        >>> kf.update(state, np.arange(1), np.array([[12.0, 20.0, 32.0, 60.0]]))
        >>> state.mean.shape
        (1, 8)
    """

    def __init__(self, config: KalmanConfig | None = None) -> None:
        self.config = config or KalmanConfig()
        self._q_pos = self.config.std_position**2
        self._q_vel = self.config.std_velocity**2
        self._r = self.config.std_position**2

    def initiate(self, xyxy: F64, xywh: F64 | None = None) -> KalmanState:
        """States for new tracks from their first (N, 4) xyxy boxes (or the same as xywh)."""
        c = self.config
        z = xyxy_to_xywh(xyxy) if xywh is None else xywh
        n = len(z)
        mean = np.zeros((n, 8))
        mean[:, :4] = z
        scale = _size_scale(z)
        pxx = (c.init_position_factor * c.std_position * scale) ** 2
        pvv = (c.init_velocity_factor * c.std_velocity * scale) ** 2
        return KalmanState.from_parts(mean, pxx, np.zeros((n, 4)), pvv)

    def predict(
        self,
        state: KalmanState,
        index: npt.NDArray[np.intp] | None = None,
        freeze_size_velocity: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """Advance tracks one step in place (all, or those at ``index``).

        ``freeze_size_velocity`` (a mask over the selected tracks) zeroes the size velocities
        first, as BoT-SORT does for tracks that are not currently matched, so a lost box does
        not shrink or grow without evidence.
        """
        d = state.data if index is None else state.data.take(index, axis=1)
        if freeze_size_velocity is not None and freeze_size_velocity.any():
            d[6:8, freeze_size_velocity] = 0.0
        sq = np.maximum(d.take(_WHWH, axis=0), 1e-3)
        sq *= sq
        d[0:4] += d[4:8]
        q = self._q_pos * sq
        q += d[16:20]
        q += 2.0 * d[12:16]
        d[8:12] += q
        d[12:16] += d[16:20]
        sq *= self._q_vel
        d[16:20] += sq
        if index is not None:
            state.data[:, index] = d

    def update(
        self, state: KalmanState, index: npt.NDArray[np.intp], xyxy: F64, xywh: F64 | None = None
    ) -> F64:
        """Correct tracks at ``index`` with their matched (K, 4) xyxy boxes, in place.

        ``xywh`` may pass the same boxes already converted, to save the conversion. Returns
        the corrected (K, 4) xywh boxes.
        """
        k = len(index)
        if k == 0:
            return np.zeros((0, 4))
        d = state.data.take(index, axis=1)
        z = xyxy_to_xywh(xyxy) if xywh is None else xywh
        s = np.maximum(d.take(_WHWH, axis=0), 1e-3)
        s *= s
        s *= self._r
        s += d[8:12]  # innovation variance s = pxx + r
        gain = d[8:16].reshape(2, 4, k) / s  # [pxx, pxv] / s: position and velocity gains
        innovation = z.T - d[0:4]
        d[0:8].reshape(2, 4, k)[:] += gain * innovation
        d[16:20] -= gain[1] * d[12:16]
        d[8:16].reshape(2, 4, k)[:] *= 1.0 - gain[0]
        state.data[:, index] = d
        out: F64 = d[0:4].T
        return out

    def gating_distance(self, state: KalmanState, xyxy: F64) -> F64:
        """(N, M) squared Mahalanobis distance of M boxes to N predicted tracks."""
        z = xyxy_to_xywh(xyxy)
        r = (self.config.std_position * np.maximum(state.mean.take(_WHWH, axis=1), 1e-3)) ** 2
        s = state.pxx + r  # (N, 4): the innovation covariance is diagonal too
        d = z[None, :, :] - state.mean[:, None, :4]
        out: F64 = np.sum(d * d / s[:, None, :], axis=2)
        return out
