"""Crops around motion and tracked objects: which are chosen, and boxes merged back."""

from __future__ import annotations

import numpy as np

from shigu.core.detections import Detections
from shigu.detect.regions import carried, crop_for, merge_crops, plan_crops, shift

FRAME = (1920, 1080)
MODEL = (416, 416)


def test_a_small_box_gets_a_model_sized_crop_inside_the_frame() -> None:
    assert crop_for((100, 100, 140, 200), FRAME, MODEL) == (0, 0, 416, 416)
    x0, y0, x1, y1 = crop_for((1000, 500, 1040, 600), FRAME, MODEL)
    assert (x1 - x0, y1 - y0) == (416, 416)
    assert x0 < 1000 and x1 > 1040 and y0 < 500 and y1 > 600  # centred on the box
    assert crop_for((1900, 1060, 1920, 1080), FRAME, MODEL) == (1504, 664, 1920, 1080)


def test_a_box_larger_than_the_model_gets_a_crop_that_holds_it_at_the_model_aspect() -> None:
    x0, y0, x1, y1 = crop_for((100, 100, 700, 400), FRAME, MODEL)
    assert (x1 - x0, y1 - y0) == (600, 600) and x0 <= 100 and x1 >= 700
    # never larger than the frame: a frame smaller than the model is one crop of all of it
    assert crop_for((10, 10, 20, 20), (320, 240), MODEL) == (0, 0, 320, 240)


def test_near_boxes_share_one_crop_far_ones_get_their_own() -> None:
    near = np.array([[500, 500, 540, 600], [600, 520, 640, 620]], np.float32)
    crops = plan_crops(near, FRAME, MODEL)
    assert crops is not None and len(crops) == 1
    far = np.array([[100, 100, 140, 200], [1700, 800, 1740, 900]], np.float32)
    crops = plan_crops(far, FRAME, MODEL)
    assert crops is not None and len(crops) == 2
    for box in far:  # every box (with its margin) lies inside some crop
        assert any(c[0] <= box[0] and c[1] <= box[1] and c[2] >= box[2] and c[3] >= box[3]
                   for c in crops)  # fmt: skip


def test_whole_frame_when_crops_would_cover_most_of_it_or_are_too_many() -> None:
    assert plan_crops(np.zeros((0, 4)), FRAME, MODEL) is None
    # on a 480x360 frame one 416 px crop is 87% of it: one pass on the whole frame instead
    assert plan_crops(np.array([[100, 100, 140, 200]]), (480, 360), MODEL) is None
    spread = np.array([[x, y, x + 20, y + 40] for x in (50, 700, 1400) for y in (50, 600)])
    assert plan_crops(spread, FRAME, MODEL, max_crops=4) is None  # 6 crops needed
    assert plan_crops(spread, FRAME, MODEL, max_crops=6, full_frame_fraction=1.0) is not None
    assert plan_crops(spread, FRAME, MODEL, max_crops=6, full_frame_fraction=0.3) is None


def test_merge_shifts_to_the_frame_and_removes_duplicates_where_crops_overlap() -> None:
    a = Detections(np.array([[10, 10, 50, 90]]), [0.9], [0], keypoints=np.ones((1, 2, 2)))
    b = Detections(np.array([[0, 10, 40, 90], [200, 0, 220, 30]]), [0.8, 0.7], [0, 0],
                   keypoints=np.ones((2, 2, 2)))  # fmt: skip
    crops = [(100, 200, 516, 616), (110, 200, 526, 616)]
    merged = merge_crops([a, b], crops, iou=0.45)
    assert len(merged) == 2  # b's first box is a's, seen from the second crop
    np.testing.assert_allclose(merged.xyxy, [[110, 210, 150, 290], [310, 200, 330, 230]])
    np.testing.assert_allclose(merged.keypoints[0], [[101, 201], [101, 201]])
    assert np.allclose(merged.confidence, [0.9, 0.7])
    # other classes are not suppressed unless asked
    b.class_id[:] = 1
    assert len(merge_crops([a, b], crops, iou=0.45)) == 3
    assert len(merge_crops([a, b], crops, iou=0.45, class_agnostic=True)) == 2
    assert shift(a, 0, 0) is a


def test_earlier_detections_stand_where_no_crop_looked() -> None:
    last = Detections(np.array([[10, 10, 50, 90], [600, 600, 640, 700], [900, 100, 940, 200]]),
                      [0.9, 0.8, 0.7], [0, 0, 0])  # fmt: skip
    found = Detections(np.array([[590, 600, 630, 700]]), [0.9], [0])
    crops = [(400, 400, 816, 816), (880, 0, 1296, 416)]
    kept = carried(last, found, crops)
    np.testing.assert_allclose(kept.xyxy, [[10, 10, 50, 90]])  # the others lie in crops
    near = Detections(np.array([[12, 10, 52, 90]]), [0.9], [0])
    assert len(carried(last, near, crops)) == 0  # seen again (half in a crop): not doubled


def test_a_box_cut_by_a_crop_edge_gives_way_to_the_whole_one() -> None:
    # a person at x 400..440 seen whole in crop A, cut at crop B's left edge (x=420)
    a = Detections(np.array([[300, 10, 340, 90]]), [0.7], [0])  # crop A at x=100
    b = Detections(np.array([[0, 10, 20, 90]]), [0.9], [0])  # crop B at x=420
    merged = merge_crops([a, b], [(100, 0, 516, 416), (420, 0, 836, 416)])
    np.testing.assert_allclose(merged.xyxy, [[400, 10, 440, 90]])


def test_crops_can_pay_only_on_frames_much_larger_than_the_model() -> None:
    from shigu.detect.regions import crops_can_pay

    assert crops_can_pay(FRAME, MODEL, 0.5)
    assert not crops_can_pay((480, 360), MODEL, 0.5)  # one crop is 87% of PETS
    assert not crops_can_pay((640, 480), MODEL, 0.5)  # 56%
