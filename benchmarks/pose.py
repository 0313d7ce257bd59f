"""Pose as a secondary model: keypoint accuracy, coverage on PETS, cost per crop.

(a) OKS keypoint AP (pycocotools) of MoveNet Lightning and BlazePose full on the shared COCO
val2017 people (pose/coco), on the ground-truth boxes and on yolox-nano's person boxes, and
the median keypoint error per person.
(b) PETS2009 through `shigu run` with MoveNet as a secondary model: the share of confirmed
person boxes taller than 64 px that get keypoints (target >= 90%), pipeline fps with and
without pose, and the pose model's cost per crop run one by one vs batched (all crops of a
frame in one call).

Usage: python benchmarks/pose.py [--frames 300]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from _common import DATA, machine, median
from shigu.detect import load_detector
from shigu.eval.keypoints import keypoint_evaluate, pose_records
from shigu.pipeline import Pipeline, parse_config
from shigu.pose import load_pose_model

COCO = DATA / "pose" / "coco"
VIDEO = DATA / "video" / "pets2009_s2l1_vtest_480x360.avi"
MODELS = ("movenet-lightning", "blazepose-full")


def coco_accuracy() -> None:
    gt = json.loads((COCO / "person_keypoints_subset.json").read_text())
    detector = load_detector("yolox-nano", conf=0.3, classes="person")
    for name in MODELS:
        model = load_pose_model(name)
        on_gt: list[dict[str, Any]] = []
        on_det: list[dict[str, Any]] = []
        errors = []
        for im in gt["images"]:
            image = cv2.imread(str(COCO / "images" / im["file_name"]))
            anns = [
                a for a in gt["annotations"] if a["image_id"] == im["id"] and a["num_keypoints"]
            ]
            boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                               a["bbox"][1] + a["bbox"][3]] for a in anns])  # fmt: skip
            poses = model.estimate(image, boxes)
            for a, kp in zip(anns, poses.keypoints, strict=True):
                g = np.array(a["keypoints"], np.float32).reshape(17, 3)
                seen = g[:, 2] > 0
                err = float(np.median(np.linalg.norm(kp[seen] - g[seen, :2], axis=1)))
                errors.append(f"ann {a['id']} ({a['bbox'][3]:.0f} px tall): {err:.1f} px")
            pose3 = np.concatenate([poses.keypoints, poses.scores[..., None]], axis=2)
            on_gt += pose_records(im["id"], pose3, poses.score)
            dets = detector.detect(image)
            dposes = model.estimate(image, dets.xyxy)
            d3 = np.concatenate([dposes.keypoints, dposes.scores[..., None]], axis=2)
            on_det += pose_records(im["id"], d3, dets.confidence * dposes.score)
        ap_gt = keypoint_evaluate(gt, on_gt)
        ap_det = keypoint_evaluate(gt, on_det)
        print(f"{name}: OKS AP {ap_gt['AP']:.3f} (AP50 {ap_gt['AP50']:.3f}) on GT boxes, "
              f"{ap_det['AP']:.3f} (AP50 {ap_det['AP50']:.3f}) on yolox-nano boxes")  # fmt: skip
        for line in errors:
            print(f"  {line}")


def pets_config(tmp: Path, pose: bool) -> Any:
    cfg = parse_config({
        "sources": [{"id": "gate", "uri": str(VIDEO)}],
        "pipeline": {"detector": {"classes": ["person"]},
                     "secondary": [{"model": "movenet-lightning"}] if pose else []},
        "store": {"url": f"sqlite:///{tmp}/p{time.time_ns()}.db", "media_dir": str(tmp / "m")},
        "media": {"snapshots": False},
    })  # fmt: skip
    return cfg


def pets(max_frames: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        seen: list[tuple[np.ndarray, np.ndarray | None, np.ndarray | None]] = []

        def keep(_sid: str, _img: np.ndarray, d: Any) -> None:
            seen.append((d.xyxy.copy(), None if d.tracker_id is None else d.tracker_id.copy(),
                         d.data.get("pose")))  # fmt: skip

        plain = Pipeline(pets_config(Path(tmp), False), max_frames=max_frames).run()
        posed_pipe = Pipeline(pets_config(Path(tmp), True), max_frames=max_frames,
                              on_frame=keep)  # fmt: skip
        posed = posed_pipe.run()
    tall = with_kp = 0
    for xyxy, ids, poses in seen:
        for i in range(len(xyxy)):
            if ids is None or ids[i] < 0 or xyxy[i, 3] - xyxy[i, 1] <= 64:
                continue
            tall += 1
            if poses is not None and np.isfinite(poses[i]).all():
                with_kp += int((poses[i, :, 2] >= 0.3).sum() >= 9)
    stage = posed["stages"]["pose"]
    print(f"PETS, {max_frames} frames: {with_kp} of {tall} confirmed person boxes > 64 px have "
          f">= 9 keypoints scoring >= 0.3 ({100 * with_kp / max(1, tall):.1f}%)")  # fmt: skip
    print(
        f"pipeline fps: {plain['fps']:.1f} without pose, {posed['fps']:.1f} with MoveNet on "
        f"{stage['crops']} crops in {stage['calls']} calls "
        f"({1000 * stage['seconds'] / max(1, stage['crops']):.1f} ms per crop in the stage)"
    )


def per_crop_cost() -> None:
    image = next(iter(_frames(1)))
    detector = load_detector("yolox-nano", conf=0.3, classes="person")
    boxes = detector.detect(image).xyxy
    for name in MODELS:
        model = load_pose_model(name, threads=0)
        one, batched = [], []
        for _ in range(5):
            t = time.perf_counter()
            for b in boxes:
                model.estimate(image, b[None])
            one.append((time.perf_counter() - t) / len(boxes))
            t = time.perf_counter()
            model.estimate(image, boxes)
            batched.append((time.perf_counter() - t) / len(boxes))
        print(f"{name}: {len(boxes)} people, {1000 * median(one):.1f} ms per crop one by one, "
              f"{1000 * median(batched):.1f} ms per crop in one call (models fixed at batch 1 "
              f"run crop by crop inside it)")  # fmt: skip


def _frames(n: int) -> Any:
    from shigu.sources import open_source

    for i, frame in enumerate(open_source(VIDEO)):
        if i >= n:
            return
        yield frame.image


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    coco_accuracy()
    per_crop_cost()
    pets(args.frames)


if __name__ == "__main__":
    main()
