"""Pose models on real COCO people: keypoints near the annotated ones, OKS AP by pycocotools."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shigu.eval.keypoints import keypoint_evaluate, pose_records
from shigu.pose import SquareCrop, load_pose_model
from shigu.pose.skeleton import BLAZEPOSE_TO_COCO, COCO_KEYPOINTS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def coco_people(data_dir: Path) -> tuple[dict, dict[int, np.ndarray]]:
    import cv2

    root = data_dir / "pose" / "coco"
    gt = json.loads((root / "person_keypoints_subset.json").read_text())
    images = {im["id"]: cv2.imread(str(root / "images" / im["file_name"])) for im in gt["images"]}
    return gt, images


def _gt_boxes(gt: dict, image_id: int) -> tuple[list[dict], np.ndarray]:
    anns = [a for a in gt["annotations"] if a["image_id"] == image_id and a["num_keypoints"]]
    boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                       a["bbox"][1] + a["bbox"][3]] for a in anns])  # fmt: skip
    return anns, boxes


def test_square_crop_round_trip() -> None:
    crop = SquareCrop.around([10, 20, 50, 120], 1.25)
    assert crop.side == pytest.approx(125.0)
    image = np.zeros((200, 200, 3), np.uint8)
    image[70, 30] = 255  # the box centre
    cut = crop.cut(image, 250)
    y, x = np.unravel_index(cut[..., 0].argmax(), cut.shape[:2])
    back = crop.to_image(np.array([[x, y]], np.float32), 250)[0]
    assert np.abs(back - [30, 70]).max() <= 1.0


def test_crop_borders_black_or_replicated() -> None:
    """The crop sticks out of the image on the left: black, or the edge column repeated
    (BlazePose, as MediaPipe's landmark graph does)."""
    image = np.full((100, 100, 3), 200, np.uint8)
    crop = SquareCrop(10.0, 50.0, 60.0)  # reaches 20 px left of the image
    assert crop.cut(image, 60)[30, 0].tolist() == [0, 0, 0]
    assert crop.cut(image, 60, replicate=True)[30, 0].tolist() == [200, 200, 200]


@pytest.mark.parametrize(("name", "max_median_px", "min_ap"), [
    ("movenet-lightning", 10.0, 0.5), ("blazepose-full", 15.0, 0.55),
])  # fmt: skip
def test_pose_on_coco_people(coco_people, name: str, max_median_px: float, min_ap: float) -> None:
    gt, images = coco_people
    model = load_pose_model(name)
    results = []
    for image_id, image in images.items():
        anns, boxes = _gt_boxes(gt, image_id)
        poses = model.estimate(image, boxes)
        assert poses.keypoints.shape == (len(anns), len(COCO_KEYPOINTS), 2)
        for ann, kp in zip(anns, poses.keypoints, strict=True):
            g = np.array(ann["keypoints"], np.float32).reshape(17, 3)
            seen = g[:, 2] > 0
            err = np.linalg.norm(kp[seen] - g[seen, :2], axis=1)
            assert np.median(err) < max_median_px, (name, ann["id"], np.median(err))
        pose3 = np.concatenate([poses.keypoints, poses.scores[..., None]], axis=2)
        results += pose_records(image_id, pose3, poses.score)
        if name == "blazepose-full":
            assert poses.world is not None and poses.world.shape == (len(anns), 33, 3)
            hips = poses.world[:, [23, 24]].mean(axis=1)  # world origin: between the hips
            assert np.abs(hips).max() < 0.05
            assert poses.landmarks is not None
            np.testing.assert_allclose(poses.landmarks[:, list(BLAZEPOSE_TO_COCO)],
                                       poses.keypoints)  # fmt: skip
    metrics = keypoint_evaluate(gt, results)
    assert metrics["AP"] >= min_ap and metrics["AP50"] >= 0.9, metrics


def test_keypoint_eval_is_pycocotools(coco_people) -> None:
    gt, _ = coco_people
    perfect = [
        {"image_id": a["image_id"], "category_id": 1, "score": 1.0,
         "keypoints": [v if i % 3 != 2 else 1.0 for i, v in enumerate(a["keypoints"])]}
        for a in gt["annotations"] if a["num_keypoints"]
    ]  # fmt: skip
    assert keypoint_evaluate(gt, perfect)["AP"] == pytest.approx(1.0)
    shifted = [dict(r, keypoints=[v + (25 if i % 3 == 0 else 0) for i, v in
                                  enumerate(r["keypoints"])]) for r in perfect]  # fmt: skip
    assert keypoint_evaluate(gt, shifted)["AP"] < 0.6
    assert keypoint_evaluate(gt, [])["AP"] == 0.0


def test_unknown_and_wrong_models(tmp_path: Path) -> None:
    from shigu.core.errors import ModelError

    with pytest.raises(ModelError, match="not a pose model"):
        load_pose_model("yolox-nano")
    with pytest.raises(ModelError, match="unknown pose model"):
        load_pose_model(str(tmp_path / "nope.onnx"))


def test_blazepose_follows_a_person_from_the_last_crop(coco_people) -> None:
    """Given where the person was (the previous result's next crop), one pass finds the same
    pose as the passes a person seen for the first time gets."""
    gt, images = coco_people
    model = load_pose_model("blazepose-full")
    image_id, image = next(iter(images.items()))
    _, boxes = _gt_boxes(gt, image_id)
    calls = []
    run = model.run
    model.run = lambda batch: calls.append(len(batch)) or run(batch)  # type: ignore[method-assign]
    first = model.estimate(image, boxes)
    assert sum(calls) == model.passes * len(boxes)  # from the box: every pass
    assert first.next_crops is not None and first.next_crops.shape == (len(boxes), 4)
    priors = [[SquareCrop(*map(float, c)) for c in first.next_crops]]
    calls.clear()
    followed = model.estimate_many([(image, boxes)], priors)[0]
    assert sum(calls) == len(boxes)  # one pass: one crop per person
    err = np.linalg.norm(followed.keypoints - first.keypoints, axis=2)
    assert np.median(err) < 6.0  # pixels: the same pose
