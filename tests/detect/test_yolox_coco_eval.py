"""Acceptance: YOLOX-nano person AP on MOT17 frames matches a plain reference decode."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from shigu.core import Detections
from shigu.detect import load_detector
from shigu.eval.coco import coco_evaluate, detections_to_coco, mot_gt_to_coco
from shigu.sources import open_source, read_mot_txt, read_seqinfo
from tests.detect.reference_yolox import detect as reference_detect

pytestmark = pytest.mark.integration

# Measured with this repo's decode on the 22 frames in ../shared/data/mot/MOT17/*/img1.
EXPECTED_AP50 = 0.438


def evaluate_on_mot17(mot17: Path, detect: Callable[[np.ndarray], Detections]) -> dict[str, float]:
    gt_all: dict = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "person"}]}
    results: dict[int, Detections] = {}
    for k, seq in enumerate(sorted(p for p in mot17.iterdir() if p.is_dir())):
        info = read_seqinfo(seq)
        gt = read_mot_txt(seq / "gt" / "gt.txt")
        gt[:, 0] += k * 10000  # unique image ids across sequences
        frames = list(open_source(seq))
        ids = [k * 10000 + f.index + 1 for f in frames]
        coco = mot_gt_to_coco(gt, ids, info.width, info.height)
        offset = len(gt_all["annotations"])
        for ann in coco["annotations"]:
            ann["id"] += offset
        gt_all["images"] += coco["images"]
        gt_all["annotations"] += coco["annotations"]
        for frame, image_id in zip(frames, ids, strict=True):
            results[image_id] = detect(frame.image)
    assert len(gt_all["images"]) >= 20
    return coco_evaluate(gt_all, detections_to_coco(results, {0: 1}))


@pytest.fixture(scope="module")
def scores(data_dir: Path) -> tuple[dict[str, float], dict[str, float]]:
    mot17 = data_dir / "mot" / "MOT17"
    ours = load_detector("yolox-nano", conf=0.01)
    session = ort.InferenceSession(str(ours.model.path), providers=["CPUExecutionProvider"])

    def ref(image: np.ndarray) -> Detections:
        xyxy, score, cls = reference_detect(session, image)
        return Detections(xyxy, score, cls)

    return evaluate_on_mot17(mot17, ours.detect), evaluate_on_mot17(mot17, ref)


def test_ap_and_recall_match_reference_decode(scores) -> None:
    ours, ref = scores
    assert ours["AP50"] >= ref["AP50"] - 0.005
    assert ours["AR100"] >= ref["AR100"] - 0.005
    assert ours["AP"] >= ref["AP"] - 0.005


def test_ap50_figure(scores) -> None:
    ours, _ = scores
    assert ours["AP50"] == pytest.approx(EXPECTED_AP50, abs=0.01)
