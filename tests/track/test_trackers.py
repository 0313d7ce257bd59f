"""Lifecycle, id stability through occlusion, per-class ids, presets, CMC."""

import numpy as np
import pytest

from shigu.core import Detections, InputError
from shigu.track import PRESETS, CameraMotion, Tracker, create_tracker


def dets(boxes, scores=None, classes=None) -> Detections:
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    n = len(boxes)
    return Detections(
        boxes,
        np.full(n, 0.9) if scores is None else scores,
        np.zeros(n) if classes is None else classes,
    )


def walker(x0: float, y: float, vx: float, t: int) -> list[float]:
    x = x0 + vx * t
    return [x, y, x + 30, y + 80]


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_follow_the_protocol(name: str) -> None:
    tracker = create_tracker(name)
    assert isinstance(tracker, Tracker)
    out = tracker.update(Detections.empty())
    assert len(out) == 0 and out.tracker_id is not None


def test_no_detections_no_tracks() -> None:
    tracker = create_tracker()
    for _ in range(5):
        assert len(tracker.update(Detections.empty())) == 0
    assert len(tracker.tracks) == 0


def test_confirmation_and_ids() -> None:
    tracker = create_tracker("bytetrack", min_hits=2)
    first = tracker.update(dets([walker(0, 0, 5, 0)]))
    assert first.tracker_id.tolist() == [1]  # tracks born on frame 1 are confirmed at once
    tracker.update(dets([walker(0, 0, 5, 1), walker(300, 0, -5, 1)]))
    out = tracker.update(dets([walker(0, 0, 5, 2), walker(300, 0, -5, 2)]))
    assert sorted(out.tracker_id.tolist()) == [1, 2]


def test_ids_survive_a_short_occlusion() -> None:
    """Two people walk toward each other; one is hidden for 10 frames while passing."""
    tracker = create_tracker("bytetrack")
    ids_a, ids_b = set(), set()
    for t in range(60):
        a, b = walker(0, 100, 6, t), walker(360, 100, -6, t)
        occluded = 25 <= t < 35
        boxes = [a] if occluded else [a, b]
        out = tracker.update(dets(boxes))
        for box, tid in zip(out.xyxy, out.tracker_id, strict=True):
            is_a = occluded or abs(box[0] - a[0]) < abs(box[0] - b[0])
            (ids_a if is_a else ids_b).add(int(tid))
    assert len(ids_a) == 1 and len(ids_b) == 1 and ids_a != ids_b


def test_lost_track_is_forgotten_after_buffer() -> None:
    tracker = create_tracker("bytetrack", lost_buffer=10, frame_rate=30)
    tracker.update(dets([walker(0, 0, 0, 0)]))
    for _ in range(12):
        tracker.update(Detections.empty())
    assert len(tracker.tracks) == 0
    assert len(tracker.update(dets([walker(0, 0, 0, 0)]))) == 0  # tentative again
    out = tracker.update(dets([walker(0, 0, 0, 0)]))
    assert out.tracker_id.tolist() == [2]


def test_a_car_never_takes_a_persons_id() -> None:
    tracker = create_tracker("bytetrack")
    box = walker(100, 100, 0, 0)
    out = tracker.update(dets([box], classes=[0]))
    person_id = int(out.tracker_id[0])
    for _ in range(3):  # the same place is now a car
        out = tracker.update(dets([box], classes=[2]))
    assert person_id not in out.tracker_id.tolist()
    both = tracker.update(dets([box, box], classes=[0, 2]))
    by_class = dict(zip(both.class_id.tolist(), both.tracker_id.tolist(), strict=True))
    assert by_class[0] == person_id and by_class[2] != person_id


def test_low_score_boxes_keep_a_track_alive() -> None:
    tracker = create_tracker("bytetrack")
    for t in range(10):
        tracker.update(dets([walker(0, 0, 4, t)]))
    out = tracker.update(dets([walker(0, 0, 4, 10)], scores=np.array([0.2])))
    assert out.tracker_id.tolist() == [1]


def test_unknown_preset_and_setting() -> None:
    with pytest.raises(InputError, match="unknown tracker"):
        create_tracker("deepsort9")
    with pytest.raises(InputError, match="unknown tracker setting"):
        create_tracker("bytetrack", lost_bufer=3)


def test_camera_motion_is_estimated_and_applied() -> None:
    rng = np.random.default_rng(0)
    scene = (rng.uniform(0, 255, (400, 600)) > 200).astype(np.uint8) * 255
    scene = np.dstack([scene] * 3)
    import cv2

    scene = cv2.GaussianBlur(scene, (5, 5), 0)
    cmc = CameraMotion(downscale=1)
    cmc.observe(scene[50:350, 50:550])
    warp = cmc.estimate(scene[50:350, 58:558])  # camera panned 8 px right: content moves left
    assert warp[0, 2] == pytest.approx(-8, abs=0.5) and abs(warp[1, 2]) < 0.5
    tracker = create_tracker("bytetrack", cmc=True)
    tracker.update(dets([[100, 100, 130, 180]]), scene[50:350, 50:550])
    tracker.update(dets([[92, 100, 122, 180]]), scene[50:350, 58:558])
    assert tracker.tracks.kf.mean[0, 4] == pytest.approx(0, abs=1.5)  # no phantom velocity
