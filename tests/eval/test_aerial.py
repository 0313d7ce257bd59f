"""Aerial ground truth into COCO evaluation: DOTA labelTxt and VisDrone txt readers, and
whole-image vs sliced recall on the shared DOTA image."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.core.detections import Detections
from shigu.core.errors import InputError
from shigu.eval.aerial import AerialObject, aerial_evaluate, read_dota, read_visdrone

VEHICLES = {"car": "vehicle", "truck": "vehicle", "bus": "vehicle",
            "small-vehicle": "vehicle", "large-vehicle": "vehicle"}  # fmt: skip


def test_dota_quadrilaterals_become_their_bounding_rectangles(tmp_path: Path) -> None:
    f = tmp_path / "P1.txt"
    f.write_text("imagesource:GoogleEarth\ngsd:0.26\n"
                 "674 375 683 375 684 394 675 395 small-vehicle 0\n"
                 "10 10 20 12 18 30 8 28 plane 1\n")  # fmt: skip
    a, b = read_dota(f)
    assert a == AerialObject((674, 375, 684, 395), "small-vehicle", False)
    assert b.box == (8, 10, 20, 30) and b.ignore  # difficult: ignored
    f.write_text("1 2 3 small-vehicle\n")
    with pytest.raises(InputError, match="8 coordinates"):
        read_dota(f)


def test_visdrone_rows_with_ignored_regions(tmp_path: Path) -> None:
    f = tmp_path / "0001.txt"
    f.write_text("684,8,273,116,0,0,0,0\n406,119,265,70,1,4,0,0\n255,22,119,128,1,9,0,1\n")
    ignored, car, bus = read_visdrone(f)
    assert ignored.ignore and ignored.category == "ignored"
    assert car == AerialObject((406, 119, 671, 189), "car", False) and bus.category == "bus"
    f.write_text("a,b,c\n")
    with pytest.raises(InputError):
        read_visdrone(f)


def test_perfect_and_empty_predictions_score_one_and_zero() -> None:
    truth = {1: [AerialObject((10, 10, 30, 40), "small-vehicle"),
                 AerialObject((100, 100, 180, 160), "large-vehicle"),
                 AerialObject((50, 50, 60, 60), "small-vehicle", ignore=True)]}  # fmt: skip
    labels = ("person", "car", "truck")
    found = {1: Detections(np.array([[10, 10, 30, 40], [100, 100, 180, 160]]), [0.9, 0.8],
                           [1, 2])}  # fmt: skip
    stats = aerial_evaluate(truth, {1: (200, 200)}, found, labels, VEHICLES)
    assert stats["AP50"] == pytest.approx(1.0) and stats["recall50"] == pytest.approx(1.0)
    assert stats["AP_small"] == pytest.approx(1.0)  # the 20x30 box is COCO-small
    none = aerial_evaluate(truth, {1: (200, 200)}, {1: Detections.empty()}, labels, VEHICLES)
    assert none["recall50"] == 0.0
    # a person detection is not mapped: left out, not a false vehicle
    people = {1: Detections(np.array([[10, 10, 30, 40]]), [0.9], [0])}
    assert aerial_evaluate(truth, {1: (200, 200)}, people, labels, VEHICLES)["AP"] == 0.0


@pytest.mark.integration
def test_sliced_recall_is_a_multiple_of_whole_image_recall(data_dir: Path) -> None:
    from shigu.detect import load_detector
    from shigu.detect.slicing import SliceConfig, detect_sliced

    root = data_dir / "aerial" / "dota"
    image = cv2.imread(str(root / "images" / "P1888.png"))
    truth = {1: read_dota(root / "labelTxt" / "P1888.txt")}
    assert sum(o.category.endswith("vehicle") for o in truth[1]) == 64
    detector = load_detector("yolox-nano", conf=0.05)
    # a COCO model has never seen vehicles from above (it calls them person, cell phone...):
    # any detection counts as a vehicle, so this measures finding them, not naming them
    anything = {**dict.fromkeys(detector.labels, "vehicle"), **VEHICLES}
    size = {1: (image.shape[1], image.shape[0])}
    whole = aerial_evaluate(truth, size, {1: detector.detect(image)}, detector.labels, anything)
    sliced_dets = detect_sliced(detector, image, SliceConfig(size=160, overlap=0.2))
    sliced = aerial_evaluate(truth, size, {1: sliced_dets}, detector.labels, anything)
    assert sliced["recall50"] >= 0.4, sliced
    assert sliced["recall50"] >= 3 * whole["recall50"] + 0.1, (whole, sliced)
