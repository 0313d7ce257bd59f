"""Technology: object and face detectors decoded from ONNX models, with letterbox and NMS."""

from shigu.detect.base import Detector, Preprocessing
from shigu.detect.factory import DETECTORS, guess_format, load_detector, read_labels
from shigu.detect.letterbox import LetterboxMeta, letterbox
from shigu.detect.nanodet import NanoDetDetector
from shigu.detect.nms import box_iou, nms
from shigu.detect.yolov8 import YOLOv8Detector
from shigu.detect.yolox import YOLOXDetector
from shigu.detect.yunet import YuNetDetector

__all__ = [
    "DETECTORS",
    "Detector",
    "LetterboxMeta",
    "NanoDetDetector",
    "Preprocessing",
    "YOLOXDetector",
    "YOLOv8Detector",
    "YuNetDetector",
    "box_iou",
    "guess_format",
    "letterbox",
    "load_detector",
    "nms",
    "read_labels",
]
