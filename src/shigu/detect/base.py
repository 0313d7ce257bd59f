"""The ``Detector`` base: preprocess frames, run the ONNX model, decode its outputs to boxes."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shigu.core.detections import Detections
from shigu.core.errors import InputError, ModelError
from shigu.detect.letterbox import LetterboxMeta, letterbox, to_tensor
from shigu.detect.nms import nms
from shigu.runtime.session import OnnxModel


@dataclass(frozen=True)
class Preprocessing:
    """How a model wants its input image."""

    size: tuple[int, int]  # (width, height)
    pad_value: int = 114
    center: bool = True
    swap_rb: bool = False  # True: the model takes RGB
    scale: float = 1.0  # multiply pixel values (1/255 for 0-1 models)
    mean: tuple[float, float, float] | None = None  # subtracted after scaling, in input order
    std: tuple[float, float, float] | None = None
    keep_ratio: bool = True


class Detector(abc.ABC):
    """Finds objects in BGR images with an ONNX model.

    Args:
        model: the loaded ONNX model.
        labels: class names, index = class id.
        conf: minimum score kept.
        iou: NMS overlap threshold.
        classes: class ids to keep (None: all).
        max_det: at most this many detections per image.
        class_agnostic_nms: suppress across classes too.
    """

    format: str = ""

    def __init__(
        self,
        model: OnnxModel,
        labels: Sequence[str],
        conf: float = 0.25,
        iou: float = 0.45,
        classes: Sequence[int] | None = None,
        max_det: int = 300,
        class_agnostic_nms: bool = False,
    ) -> None:
        if not 0.0 <= conf <= 1.0:
            raise InputError(f"confidence threshold must be within 0..1, got {conf}")
        if not 0.0 < iou <= 1.0:
            raise InputError(f"NMS IoU threshold must be within 0..1, got {iou}")
        self.model = model
        self.labels = tuple(labels)
        self.conf = conf
        self.iou = iou
        self.classes = None if classes is None else np.asarray(sorted(set(classes)), np.int32)
        self.max_det = max_det
        self.class_agnostic_nms = class_agnostic_nms
        self.prep = self.preprocessing()
        w, h = self.prep.size
        self._mean = None if self.prep.mean is None else np.asarray(self.prep.mean, np.float32)
        self._std = None if self.prep.std is None else np.asarray(self.prep.std, np.float32)
        self._canvas = np.empty((h, w, 3), np.uint8)
        self.check_outputs()

    # ------------------------------------------------------------------ to implement
    @abc.abstractmethod
    def preprocessing(self) -> Preprocessing:
        """The input layout this model family expects."""

    @abc.abstractmethod
    def check_outputs(self) -> None:
        """Raise ``ModelError`` when the model's outputs do not fit this decoder."""

    @abc.abstractmethod
    def decode(self, outputs: list[np.ndarray], meta: LetterboxMeta) -> Detections:
        """Turn one image's raw outputs (batch dimension removed) into image-space detections."""

    # ------------------------------------------------------------------ shared pipeline
    def input_size_from_model(self, default: tuple[int, int]) -> tuple[int, int]:
        """(width, height) from the model's input shape, or ``default`` when it is dynamic."""
        shape = self.model.input_shape
        if len(shape) == 4 and shape[2] and shape[3]:
            return int(shape[3]), int(shape[2])
        return default

    def preprocess(
        self, image: np.ndarray, out: np.ndarray, canvas: np.ndarray | None = None
    ) -> LetterboxMeta:
        """Letterbox ``image`` and write the network tensor (3, H, W) into ``out``.

        ``canvas`` is scratch space for the letterboxed image; threads that preprocess in
        parallel each pass their own.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(
                f"expected an (H, W, 3) uint8 BGR image, got {image.shape} {image.dtype}"
            )
        boxed, meta = letterbox(
            image,
            self.prep.size,
            self.prep.pad_value,
            self.prep.center,
            self._canvas if canvas is None else canvas,
            self.prep.keep_ratio,
        )
        to_tensor(boxed, out, self._mean, self._std, self.prep.scale, self.prep.swap_rb)
        return meta

    def new_batch(self, n: int) -> np.ndarray:
        """An input buffer for ``n`` images."""
        w, h = self.prep.size
        return np.empty((n, 3, h, w), np.float32)

    def detect(self, image: np.ndarray) -> Detections:
        """Detections in one BGR image."""
        return self.detect_batch([image])[0]

    __call__ = detect

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detections for each image of a batch (one model run when the model allows it)."""
        if not images:
            return []
        batch = self.new_batch(len(images))
        metas = [self.preprocess(img, batch[i]) for i, img in enumerate(images)]
        return self.infer(batch, metas)

    def infer(self, batch: np.ndarray, metas: Sequence[LetterboxMeta]) -> list[Detections]:
        """Run on an already preprocessed batch and decode each image."""
        outputs = self.model.run(batch)
        return [self.decode([o[i] for o in outputs], meta) for i, meta in enumerate(metas)]

    # ------------------------------------------------------------------ helpers for decoders
    def finish(
        self,
        xyxy: np.ndarray,
        scores: np.ndarray,
        class_ids: np.ndarray,
        meta: LetterboxMeta,
        keypoints: np.ndarray | None = None,
    ) -> Detections:
        """Apply class filter, NMS and the mapping back to the image; build ``Detections``."""
        if self.classes is not None and len(class_ids):
            keep = np.isin(class_ids, self.classes)
            xyxy, scores, class_ids = xyxy[keep], scores[keep], class_ids[keep]
            keypoints = None if keypoints is None else keypoints[keep]
        if len(scores) > 8 * self.max_det:  # bound NMS work on pathological frames
            top = np.argpartition(-scores, 8 * self.max_det)[: 8 * self.max_det]
            xyxy, scores, class_ids = xyxy[top], scores[top], class_ids[top]
            keypoints = None if keypoints is None else keypoints[top]
        keep_idx = nms(
            xyxy, scores, self.iou, None if self.class_agnostic_nms else class_ids, self.max_det
        )
        boxes = (
            meta.boxes_to_image(xyxy[keep_idx]) if len(keep_idx) else np.zeros((0, 4), np.float32)
        )
        kps = None
        if keypoints is not None:
            kps = (
                meta.points_to_image(keypoints[keep_idx])
                if len(keep_idx)
                else np.zeros((0, keypoints.shape[1], 2), np.float32)
            )
        return Detections(boxes, scores[keep_idx], class_ids[keep_idx], keypoints=kps)

    def _bad_outputs(self, expected: str) -> ModelError:
        shapes = ", ".join(f"{o.name}{list(o.shape)}" for o in self.model.outputs)
        return ModelError(
            f"{self.model.path.name} does not look like a {self.format} model: "
            f"its outputs are {shapes}, expected {expected}",
            "pass the right --format (yolox, nanodet, yolov8, yunet)",
        )

    def class_name(self, class_id: int) -> str:
        return self.labels[class_id] if 0 <= class_id < len(self.labels) else str(class_id)
