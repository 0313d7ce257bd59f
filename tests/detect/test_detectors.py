"""NanoDet, YuNet and YOLOX on real images; YOLOv8 layout on a synthetic ONNX model."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.core import InputError, ModelError
from shigu.detect import YOLOv8Detector, YuNetDetector, guess_format, load_detector, nms
from shigu.detect.nms import box_iou
from shigu.runtime import OnnxModel
from shigu.sources import read_image

COCO = "images/coco_val2017"


def names(det, dets) -> list[str]:
    return [det.labels[c] for c in dets.class_id]


@pytest.mark.parametrize("model", ["yolox-nano", "nanodet-m"])
def test_coco_images_sensible(model: str, data_dir: Path) -> None:
    det = load_detector(model, conf=0.3)
    bear = det(read_image(data_dir / COCO / "000000000285.jpg"))
    assert names(det, bear)[0] == "bear" and bear.confidence[0] > 0.5
    x1, y1, x2, y2 = bear.xyxy[0]
    assert (x2 - x1) > 300 and (y2 - y1) > 400  # the bear fills the picture
    stop = det(read_image(data_dir / COCO / "000000000724.jpg"))
    assert "stop sign" in names(det, stop)
    room = det(read_image(data_dir / COCO / "000000000139.jpg"))
    assert {"person", "tv", "chair"} <= set(names(det, room))


def test_classes_filter_and_batch(data_dir: Path) -> None:
    det = load_detector("yolox-nano", conf=0.3, classes="person")
    imgs = [read_image(data_dir / COCO / n) for n in ("000000000139.jpg", "000000001000.jpg")]
    batch = det.detect_batch(imgs)
    assert [len(b) for b in batch] == [len(det(i)) for i in imgs]
    assert all(set(b.class_id.tolist()) <= {0} for b in batch)
    assert len(batch[1]) >= 8  # a team photo


def test_yunet_matches_opencv_face_detector(data_dir: Path, models_dir: Path) -> None:
    image = read_image(data_dir / COCO / "000000001000.jpg")
    ours = load_detector("yunet-face", conf=0.6, iou=0.3)
    assert isinstance(ours, YuNetDetector)
    faces = ours(image)
    assert len(faces) >= 8 and faces.keypoints.shape == (len(faces), 5, 2)
    h, w = image.shape[:2]
    scale = 640 / max(h, w)
    small = cv2.resize(image, (round(w * scale), round(h * scale)))
    ref = cv2.FaceDetectorYN.create(
        str(models_dir / "face_detection_yunet_2023mar.onnx"),
        "",
        (small.shape[1], small.shape[0]),
        0.6,
        0.3,
    )
    _, found = ref.detect(small)
    ref_xyxy = found[:, :4].copy() / scale
    ref_xyxy[:, 2:] += ref_xyxy[:, :2]
    iou = box_iou(faces.xyxy, ref_xyxy.astype(np.float32))
    assert abs(len(faces) - len(found)) <= 1
    assert (iou.max(1) > 0.8).mean() >= 0.9
    # landmarks are inside their faces: eyes above the mouth corners
    kp = faces.keypoints
    assert (kp[:, 0, 1] < kp[:, 3, 1]).all()


def _synthetic_yolov8(
    path: Path,
    boxes: list[tuple[float, float, float, float, int, float]],
    nc: int = 3,
    size: int = 320,
) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    anchors = sum((size // s) ** 2 for s in (8, 16, 32))
    out = np.zeros((1, 4 + nc, anchors), np.float32)
    for k, (cx, cy, w, h, cls, score) in enumerate(boxes):
        out[0, :4, k * 7] = (cx, cy, w, h)
        out[0, 4 + cls, k * 7] = score
    const = numpy_helper.from_array(out, "pred")
    # output = pred + 0 * ReduceMean(images): depends on the input, so ORT keeps it a model
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
            helper.make_node("Mul", ["m", "zero"], ["z"]),
            helper.make_node("Add", ["pred", "z"], ["output0"]),
        ],
        "yolov8_stub",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + nc, anchors])],
        [const, numpy_helper.from_array(np.zeros((), np.float32), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_yolov8_layout_decodes_to_image_coordinates(tmp_path: Path) -> None:
    path = _synthetic_yolov8(
        tmp_path / "v8.onnx",
        [(160, 160, 40, 80, 2, 0.9), (162, 161, 40, 80, 2, 0.8), (60, 100, 20, 20, 0, 0.6)],
    )
    model = OnnxModel(path)
    assert guess_format(model) == "yolov8"
    det = load_detector(str(path), format="yolov8", labels="coco80", conf=0.5)
    assert isinstance(det, YOLOv8Detector)
    # 640x320 image letterboxed into 320x320: scale 0.5, 80 px padding top and bottom
    image = np.zeros((320, 640, 3), np.uint8)
    dets = det(image)
    assert len(dets) == 2  # the overlapping duplicate was suppressed
    assert dets.class_id.tolist() == [2, 0]
    # net box (140, 120, 180, 200) -> image ((140-0)/0.5, (120-80)/0.5, ...)
    assert np.allclose(dets.xyxy[0], [280, 80, 360, 240], atol=1)
    assert np.allclose(dets.xyxy[1], [100, 20, 140, 60], atol=1)


def test_onnx_with_unknown_outputs_is_rejected(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=0)],
        "classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "classifier.onnx"
    onnx.save(model, path)
    with pytest.raises(ModelError, match="match no known detector format"):
        load_detector(str(path))
    with pytest.raises(ModelError, match="does not look like a yolox model"):
        load_detector(str(path), format="yolox")


def test_bad_arguments(models_dir: Path) -> None:
    with pytest.raises(InputError, match="unknown model format"):
        load_detector(str(models_dir / "yolox_nano.onnx"), format="ssd")
    with pytest.raises(InputError, match="confidence"):
        load_detector("yolox-nano", conf=1.5)
    with pytest.raises(ModelError, match="not found"):
        load_detector("/tmp/does-not-exist.onnx")


def slow_nms(boxes: np.ndarray, scores: np.ndarray, thr: float) -> list[int]:
    """The obvious O(n^2) reference."""
    order = list(np.argsort(-scores, kind="stable"))
    keep: list[int] = []
    for i in order:
        if all(box_iou(boxes[[i]], boxes[[k]])[0, 0] <= thr for k in keep):
            keep.append(int(i))
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_nms_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 200, (80, 2))
    boxes = np.hstack([xy, xy + rng.uniform(10, 60, (80, 2))]).astype(np.float32)
    scores = rng.uniform(0, 1, 80).astype(np.float32)
    assert nms(boxes, scores, 0.45).tolist() == slow_nms(boxes, scores, 0.45)


def test_nms_is_class_aware() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [1, 1, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert nms(boxes, scores, 0.5, class_ids=np.array([0, 1, 0])).tolist() == [0, 1]
    assert nms(boxes, scores, 0.5).tolist() == [0]
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32)).tolist() == []
