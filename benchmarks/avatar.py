"""Avatars: jitter at rest and lag in motion of the One Euro smoothing, and end-to-end speed.

Jitter: on a clip where the person sits still (GMDCSA24 subject 1, ADL 16), the mean
acceleration (m/s^2) of the visible world landmarks, raw and smoothed. Lag: on a clip where the
person walks (subject 3, ADL 19), per wrist and ankle the time shift (frames) that best aligns
the smoothed track with the raw one. Speed: frames per second of the whole job (decode, detect,
track, BlazePose, smoothing, retargeting, BVH) for one person.

    python benchmarks/avatar.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _common import DATA, machine
from shigu.solutions.avatar.bvh import bvh_text
from shigu.solutions.avatar.capture import capture
from shigu.solutions.avatar.one_euro import BETA, MIN_CUTOFF_HZ, OneEuroFilter
from shigu.sources.open import open_source

STILL = DATA / "fall" / "gmdcsa24" / "Subject_1" / "ADL" / "16.mp4"
MOVING = DATA / "fall" / "gmdcsa24" / "Subject_3" / "ADL" / "19.mp4"
JOINTS = {"left wrist": 15, "right wrist": 16, "left ankle": 27, "right ankle": 28}


def raw_track(clip: str) -> tuple[np.ndarray, np.ndarray]:
    seen = capture(open_source(str(clip)), smooth=False)
    person = seen.longest(1)[0]
    return np.array(person.times), np.array(person.raw_worlds)


def smoothed(times: np.ndarray, worlds: np.ndarray, min_cutoff: float, beta: float) -> np.ndarray:
    f = OneEuroFilter(min_cutoff, beta)
    return np.array([f(w, t) for w, t in zip(worlds, times, strict=True)])


def acceleration(times: np.ndarray, worlds: np.ndarray) -> float:
    dt = float(np.median(np.diff(times)))
    a = np.linalg.norm(np.diff(worlds, 2, axis=0), axis=2) / dt**2
    return float(np.nanmean(a))


def lag_frames(times: np.ndarray, raw: np.ndarray, smooth: np.ndarray) -> float:
    dt = float(np.median(np.diff(times)))
    ok = np.isfinite(raw).all(axis=1) & np.isfinite(smooth).all(axis=1)
    t, r, s = times[ok], raw[ok], smooth[ok]
    shifts = np.arange(-2.0, 4.01, 0.05)
    errors = []
    for k in shifts:
        shifted = np.stack([np.interp(t - k * dt, t, r[:, c]) for c in range(3)], axis=1)
        errors.append(float(np.mean((shifted[8:] - s[8:]) ** 2)))
    return float(shifts[int(np.argmin(errors))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    print(machine())
    t, w = raw_track(STILL)
    print(f"\njitter at rest ({STILL.name}, {len(t)} frames): mean landmark acceleration, m/s^2")
    print(f"{'min_cutoff':>10s} {'beta':>6s} {'raw':>8s} {'smoothed':>9s} {'ratio':>6s}")
    settings = [(MIN_CUTOFF_HZ, BETA), (1.0, 1.0), (0.5, 10.0), (1.0, 5.0)]
    for mc, beta in settings:
        a_raw, a_s = acceleration(t, w), acceleration(t, smoothed(t, w, mc, beta))
        print(f"{mc:10.2f} {beta:6.1f} {a_raw:8.2f} {a_s:9.2f} {a_raw / a_s:6.1f}")
    t, w = raw_track(MOVING)
    print(f"\nlag in motion ({MOVING.name}, {len(t)} frames): best-aligning shift, frames")
    for mc, beta in settings:
        s = smoothed(t, w, mc, beta)
        lags = {n: lag_frames(t, w[:, i], s[:, i]) for n, i in JOINTS.items()}
        text = ", ".join(f"{n} {v:.2f}" for n, v in lags.items())
        median = float(np.median(list(lags.values())))
        print(f"min_cutoff {mc:.2f} beta {beta:4.1f}: {text}; median {median:.2f}")
    print("\nspeed (one person, whole job)")
    for clip in (STILL, MOVING):
        started = time.perf_counter()
        seen = capture(open_source(str(clip)))
        person = seen.longest(1)[0]
        frames = person.all_frames()
        assert person.skeleton is not None
        bvh_text(person.skeleton, frames, seen.frame_time)
        seconds = time.perf_counter() - started
        n = len(seen.stamps)
        print(
            f"{clip.parent.parent.name}/{clip.name}: {n} frames in {seconds:.2f} s = "
            f"{n / seconds:.1f} fps (model load included)"
        )


if __name__ == "__main__":
    main()
