"""The block-diagonal Kalman filter must equal the textbook full-matrix formulation."""

import numpy as np
import pytest

from shigu.track.kalman import BoxKalmanFilter, KalmanConfig, xywh_to_xyxy, xyxy_to_xywh


class ReferenceKalman:
    """The obvious 8x8 formulation (BoT-SORT's xywh filter), one track at a time."""

    def __init__(self, cfg: KalmanConfig) -> None:
        self.cfg = cfg
        self.F = np.eye(8)
        self.F[:4, 4:] = np.eye(4)
        self.H = np.eye(4, 8)

    def initiate(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = self.cfg
        w, h = z[2], z[3]
        std = [
            2 * c.std_position * w,
            2 * c.std_position * h,
            2 * c.std_position * w,
            2 * c.std_position * h,
            10 * c.std_velocity * w,
            10 * c.std_velocity * h,
            10 * c.std_velocity * w,
            10 * c.std_velocity * h,
        ]
        return np.r_[z, np.zeros(4)], np.diag(np.square(std))

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = self.cfg
        w, h = mean[2], mean[3]
        std = [
            c.std_position * w,
            c.std_position * h,
            c.std_position * w,
            c.std_position * h,
            c.std_velocity * w,
            c.std_velocity * h,
            c.std_velocity * w,
            c.std_velocity * h,
        ]
        q = np.diag(np.square(std))
        return self.F @ mean, self.F @ cov @ self.F.T + q

    def update(
        self, mean: np.ndarray, cov: np.ndarray, z: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        c = self.cfg
        w, h = mean[2], mean[3]
        r = np.diag(
            np.square(
                [c.std_position * w, c.std_position * h, c.std_position * w, c.std_position * h]
            )
        )
        s = self.H @ cov @ self.H.T + r
        k = cov @ self.H.T @ np.linalg.inv(s)
        return mean + k @ (z - self.H @ mean), (np.eye(8) - k @ self.H) @ cov


@pytest.mark.parametrize("seed", range(4))
def test_matches_full_matrix_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cfg = KalmanConfig()
    kf, ref = BoxKalmanFilter(cfg), ReferenceKalman(cfg)
    n = 6
    xy = rng.uniform(0, 500, (n, 2))
    boxes = np.hstack([xy, xy + rng.uniform(20, 120, (n, 2))])
    velocity = rng.normal(0, 4, (n, 4)) * [1, 1, 0.05, 0.05]
    state = kf.initiate(boxes)
    refs = [ref.initiate(z) for z in xyxy_to_xywh(boxes)]
    for step in range(25):
        kf.predict(state)
        refs = [ref.predict(m, c) for m, c in refs]
        idx = np.flatnonzero(rng.uniform(size=n) < 0.7)  # some tracks miss a frame
        truth = xyxy_to_xywh(boxes) + velocity * (step + 1)
        meas = xywh_to_xyxy(truth[idx] + rng.normal(0, 2, (len(idx), 4)) * [1, 1, 0.3, 0.3])
        kf.update(state, idx, meas)
        z = xyxy_to_xywh(meas)
        for k, i in enumerate(idx):
            refs[i] = ref.update(*refs[i], z[k])
        for i in range(n):
            assert np.allclose(state.mean[i], refs[i][0], rtol=1e-9, atol=1e-6), step
            assert np.allclose(state.full_covariance()[i], refs[i][1], rtol=1e-9, atol=1e-8)


def test_predict_subset_and_freeze() -> None:
    kf = BoxKalmanFilter()
    state = kf.initiate(np.array([[0, 0, 10, 20], [100, 100, 110, 120]], float))
    state.mean[:, 4:] = 1.0
    kf.predict(state, index=np.array([1]), freeze_size_velocity=np.array([True]))
    assert np.allclose(state.mean[0, :4], [5, 10, 10, 20])  # untouched
    # the size velocity is frozen before the step, so only the position moved
    assert np.allclose(state.mean[1, :4], [106, 111, 10, 20])
    assert np.allclose(state.mean[1, 6:], 0)


def test_constant_velocity_is_learned() -> None:
    kf = BoxKalmanFilter()
    box = np.array([[0.0, 0.0, 20.0, 40.0]])
    state = kf.initiate(box)
    for step in range(1, 30):
        kf.predict(state)
        kf.update(state, np.array([0]), box + np.array([5.0 * step, 0, 5.0 * step, 0]))
    assert state.mean[0, 4] == pytest.approx(5.0, abs=0.05)
    kf.predict(state)
    assert state.xyxy()[0, 0] == pytest.approx(150.0, abs=1.0)


def test_gating_distance() -> None:
    kf = BoxKalmanFilter()
    state = kf.initiate(np.array([[0, 0, 20, 40]], float))
    d = kf.gating_distance(state, np.array([[0, 0, 20, 40], [200, 200, 220, 240]], float))
    assert d[0, 0] == pytest.approx(0.0) and d[0, 1] > 100
