"""The motion gate: still frames skip detection, motion anywhere unmasked does not."""

from __future__ import annotations

import numpy as np

from shigu.analytics.motion import MotionConfig, MotionDetector


def _frames(n: int, moving_from: int | None = None, at: tuple[int, int] = (200, 100)):
    rng = np.random.default_rng(1)
    base = rng.integers(40, 200, (240, 320, 3), dtype=np.uint8)
    for i in range(n):
        img = base.copy()
        img += rng.integers(0, 4, img.shape, dtype=np.uint8)  # sensor noise, below threshold
        if moving_from is not None and i >= moving_from:
            x = at[0] + 3 * (i - moving_from)
            img[at[1] : at[1] + 30, x : x + 15] = 255
        yield img


def test_still_frames_are_skipped_and_motion_is_found() -> None:
    gate = MotionDetector(MotionConfig(keyframe_seconds=0), (320, 240))
    decisions = [gate.update(img, i / 25).moving for i, img in enumerate(_frames(40, 20))]
    assert decisions[0]  # the first frame is always detected
    assert not any(decisions[1:20])
    assert all(decisions[20:])
    result = gate.update(next(iter(_frames(1, 0, at=(100, 50)))), 2.0)
    assert result.moving and result.regions
    assert any(
        x1 <= 105 and y1 <= 55 and x2 >= 110 and y2 >= 75 for x1, y1, x2, y2 in result.regions
    )  # one region around the new white box


def test_masked_motion_is_ignored() -> None:
    mask = [(180.0, 80.0), (320.0, 80.0), (320.0, 160.0), (180.0, 160.0)]
    gate = MotionDetector(MotionConfig(keyframe_seconds=0, masks=[mask]), (320, 240))
    decisions = [gate.update(img, i / 25).moving for i, img in enumerate(_frames(30, 5))]
    assert not any(decisions[1:])


def test_keyframes_keep_detection_alive_when_all_is_still() -> None:
    gate = MotionDetector(MotionConfig(keyframe_seconds=1.0), (320, 240))
    decisions = [gate.update(img, i / 25).moving for i, img in enumerate(_frames(100))]
    assert [i for i, d in enumerate(decisions) if d] == [0, 25, 50, 75]
    assert gate.skipped == 96


def test_full_resolution_frames_are_downscaled() -> None:
    gate = MotionDetector(MotionConfig(width=320), (1920, 1080))
    assert gate.size == (320, 180)
