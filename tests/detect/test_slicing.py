"""Sliced inference: SAHI's grid and merges, on a spatial index; parity with SAHI itself."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.core.detections import Detections
from shigu.core.errors import InputError
from shigu.detect.slicing import SliceConfig, detect_sliced, merge_boxes, plan_slices, slice_grid

sahi = pytest.importorskip("sahi")  # a dev dependency: installed in CI from the lock

from sahi.postprocess.combine import (  # noqa: E402
    GreedyNMMPostprocess,
    NMMPostprocess,
    NMSPostprocess,
)
from sahi.prediction import ObjectPrediction  # noqa: E402
from sahi.slicing import get_slice_bboxes  # noqa: E402


@pytest.mark.parametrize(
    ("w", "h", "sw", "sh", "ov"),
    [(712, 557, 416, 416, 0.2), (1920, 1080, 640, 640, 0.2), (5500, 4000, 512, 384, 0.25),
     (300, 200, 416, 416, 0.2), (1000, 1000, 256, 256, 0.0), (4096, 2160, 640, 640, 0.5)],
)  # fmt: skip
def test_grid_is_sahis(w: int, h: int, sw: int, sh: int, ov: float) -> None:
    ours = slice_grid(w, h, sw, sh, ov, ov)
    theirs = get_slice_bboxes(h, w, sh, sw, False, ov, ov)
    assert [list(t) for t in ours] == theirs


def test_plan_adds_the_whole_image_and_auto_skips_small_images() -> None:
    tiles = plan_slices(1920, 1080, SliceConfig(size=640), (416, 416))
    assert tiles[-1] == (0, 0, 1920, 1080) and len(tiles) == 4 * 2 + 1
    assert plan_slices(600, 500, SliceConfig(), (416, 416)) == [(0, 0, 600, 500)]
    auto = plan_slices(1920, 1080, SliceConfig(full=False), (416, 416))
    assert all((x1 - x0, y1 - y0) == (416, 416) for x0, y0, x1, y1 in auto)
    with pytest.raises(InputError):
        slice_grid(0, 10, 4, 4, 0.2, 0.2)
    with pytest.raises(ValueError, match="8192"):
        SliceConfig(size=10000)


def _random_boxes(n: int, seed: int, classes: int = 3) -> Detections:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 2000, (n // 4 + 1, 2))
    pick = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 6, (n, 2))
    size = rng.uniform(8, 40, (n, 2))
    xyxy = np.round(np.concatenate([pick - size / 2, pick + size / 2], 1), 1).clip(0, None)
    scores = np.round(rng.uniform(0.1, 1.0, n), 3)
    return Detections(xyxy, scores, rng.integers(0, classes, n))


def _sahi_merge(dets: Detections, kind: type, metric: str, thr: float, agnostic: bool) -> set:
    preds = [ObjectPrediction(bbox=b.tolist(), category_id=int(c), category_name=str(c),
                              score=float(s), shift_amount=[0, 0], full_shape=None)
             for b, s, c in zip(dets.xyxy.astype(np.float64), dets.confidence, dets.class_id,
                                strict=True)]  # fmt: skip
    out = kind(match_threshold=thr, match_metric=metric, class_agnostic=agnostic)(preds)
    return {(tuple(np.round(p.bbox.to_xyxy(), 2)), round(p.score.value, 3), p.category.id)
            for p in out}  # fmt: skip


def _ours(dets: Detections) -> set:
    return {(tuple(np.round(b.astype(np.float64), 2)), round(float(s), 3), int(c))
            for b, s, c in zip(dets.xyxy, dets.confidence, dets.class_id, strict=True)}  # fmt: skip


@pytest.mark.parametrize(
    ("method", "kind"),
    [("nms", NMSPostprocess), ("greedy_nmm", GreedyNMMPostprocess), ("nmm", NMMPostprocess)],
)
@pytest.mark.parametrize(("metric", "thr"), [("iou", 0.5), ("ios", 0.5), ("ios", 0.3)])
@pytest.mark.parametrize("agnostic", [False, True])
def test_merges_match_sahis(method: str, kind: type, metric: str, thr: float,
                            agnostic: bool) -> None:  # fmt: skip
    dets = _random_boxes(400, seed=len(method) + int(thr * 10) + agnostic)
    ours = merge_boxes(dets, method, metric, thr, agnostic)  # type: ignore[arg-type]
    theirs = _sahi_merge(dets, kind, metric.upper(), thr, agnostic)
    mine = _ours(ours)
    assert mine == theirs, (len(mine), len(theirs), len(mine ^ theirs))


def test_merge_keeps_other_fields_of_the_kept_box() -> None:
    dets = Detections(np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]]),
                      [0.9, 0.8, 0.7], [0, 0, 0], keypoints=np.arange(12.0).reshape(3, 2, 2),
                      data={"tag": np.array([1, 2, 3])})  # fmt: skip
    out = merge_boxes(dets, "greedy_nmm", "ios", 0.5)
    np.testing.assert_allclose(out.xyxy, [[0, 0, 11, 11], [50, 50, 60, 60]])
    assert out.data["tag"].tolist() == [1, 3] and out.keypoints is not None


@pytest.fixture(scope="module")
def dota_image(data_dir: Path) -> np.ndarray:
    path = data_dir / "aerial" / "dota" / "images" / "P1888.png"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    image = cv2.imread(str(path))
    assert image is not None
    return image


@pytest.mark.integration
def test_sliced_detection_matches_sahis_pipeline_on_the_same_model(
    dota_image: np.ndarray,
) -> None:
    from sahi.models.base import DetectionModel
    from sahi.predict import get_sliced_prediction

    from shigu.detect import load_detector

    detector = load_detector("yolox-nano", conf=0.2)

    class OurModel(DetectionModel):  # type: ignore[misc]
        """SAHI's model interface around our ONNX detector (SAHI hands it RGB slices)."""

        def load_model(self) -> None:
            self.model = detector
            self.category_mapping = {str(i): n for i, n in enumerate(detector.labels)}

        def perform_inference(self, image: np.ndarray) -> None:
            self._original_predictions = [detector.detect(np.ascontiguousarray(image[..., ::-1]))]

        @property
        def num_categories(self) -> int:
            return len(detector.labels)

        @property
        def has_mask(self) -> bool:
            return False

        @property
        def category_names(self) -> list[str]:
            return list(detector.labels)

        def _create_object_prediction_list_from_original_predictions(
            self,
            shift_amount_list=None,
            full_shape_list=None,
        ) -> None:
            from sahi.utils.compatibility import fix_full_shape_list, fix_shift_amount_list

            dets = self._original_predictions[0]
            shift = fix_shift_amount_list(shift_amount_list)[0]
            fulls = fix_full_shape_list(full_shape_list)
            full = fulls[0] if fulls else None
            preds = []
            for b, s, c in zip(dets.xyxy.tolist(), dets.confidence, dets.class_id, strict=True):
                if not (b[0] < b[2] and b[1] < b[3]):
                    continue
                preds.append(ObjectPrediction(bbox=b, category_id=int(c),
                                              category_name=detector.labels[int(c)],
                                              score=float(s), shift_amount=list(shift),
                                              full_shape=full))  # fmt: skip
            self._object_prediction_list_per_image = [preds]

    model = OurModel(confidence_threshold=0.2, load_at_init=True)
    cfg = SliceConfig(size=256, overlap=0.2)
    theirs = get_sliced_prediction(
        dota_image[..., ::-1].copy(), model, slice_height=256, slice_width=256,
        overlap_height_ratio=0.2, overlap_width_ratio=0.2, verbose=0,
    ).object_prediction_list  # fmt: skip
    ours = detect_sliced(detector, dota_image, cfg)
    assert len(theirs) > 10
    a = ours.xyxy.astype(np.float64)
    b = np.array([p.bbox.to_xyxy() for p in theirs])
    from shigu.detect.nms import box_iou

    iou = box_iou(a, b)
    matched = (iou.max(1) > 0.9).sum()
    assert abs(len(ours) - len(theirs)) <= max(2, len(theirs) // 20), (len(ours), len(theirs))
    assert matched >= 0.95 * len(theirs), (matched, len(ours), len(theirs))
