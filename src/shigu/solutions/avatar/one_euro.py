"""The One Euro filter (Casiez, Roussel and Vogel, CHI 2012): an adaptive low-pass filter that
smooths jitter when a joint is still and follows it closely when it moves.

Per sample: the speed is low-passed at ``d_cutoff`` Hz; the cutoff is then
``min_cutoff + beta * |speed|``, and the value is low-passed at that cutoff. A low
``min_cutoff`` removes jitter at rest; a higher ``beta`` cuts lag on fast motion.
Works on arrays of any shape (all joints and axes at once); times are in seconds, so a
dropped or repeated frame changes nothing.
"""

from __future__ import annotations

import math

import numpy as np

# Defaults for joint positions in metres at video rates, by the authors' procedure: beta 0,
# lower min_cutoff until jitter at rest is acceptable, then raise beta until the lag is. On
# synthetic 1 cm white noise at 30 fps, min_cutoff 0.5 Hz and beta 5 (s/m) cut the
# acceleration at rest 10x and lag a 1 m/s joint by 0.6 frame (a table of the trade-off and
# the same two figures on real clips are in docs/avatar.md).
MIN_CUTOFF_HZ = 0.5
BETA = 5.0
D_CUTOFF_HZ = 1.0


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters a stream of same-shaped arrays sampled at times ``t`` (seconds)."""

    def __init__(
        self,
        min_cutoff: float = MIN_CUTOFF_HZ,
        beta: float = BETA,
        d_cutoff: float = D_CUTOFF_HZ,
    ) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError("cutoffs must be positive and beta non-negative")
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t is None or self._dx is None:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self._t
        if dt <= 0:
            return self._x.copy()
        # a value that was missing (NaN) restarts from the new observation
        missing = ~np.isfinite(self._x)
        speed = np.where(missing, 0.0, (x - self._x) / dt)
        a_d = _alpha(self.d_cutoff, dt)
        dx = self._dx + a_d * (speed - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(dx)
        a = _alpha(cutoff, dt)
        out = np.where(missing, x, self._x + a * (x - self._x))
        fresh = ~np.isfinite(x)
        out = np.where(fresh, self._x, out)  # a missing new value keeps the last estimate
        self._x, self._dx, self._t = out, np.where(fresh, self._dx, dx), t
        return np.asarray(out.copy())
