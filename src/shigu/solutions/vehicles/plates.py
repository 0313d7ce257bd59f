"""Chinese licence plates: find, rectify, read, classify, check.

1. **Detect** with HyperLPR3's plate detector (``y5fu_320x_sim.onnx``, or the 640 one for
   small plates): YOLOv5-face style with the decoding inside the graph; each row is a box,
   an objectness, the four corners (TL, TR, BR, BL) and single/double-row scores. Input RGB
   x/255 letterboxed into the centre with 0 padding (``../shared/data/MANIFEST.md``).
2. **Rectify**: the corners are mapped onto an upright rectangle (a perspective warp), so a
   plate seen at an angle is read as if from the front.
3. **Double-row plates** (yellow plates of lorries and buses: the province and city letter
   above, five characters below) are split into their rows and the upper one is stretched
   to the lower's size and set before it, so the recogniser reads one line.
4. **Read** with a CRNN (``plate_rec_color.onnx``: 168x48 BGR, (x/255 - 0.588) / 0.193) whose
   21 time steps over 78 classes are decoded greedily by CTC (blank 0, repeats merged); each
   character's confidence is its softmax probability at the steps it spans (the highest).
   The same network has a colour head (black, blue, green, white, yellow).
5. **Classify** the colour with HyperLPR3's classifier (``litemodel_cls_96x_r1.onnx``: blue,
   green, yellow) on the rectified plate, which decides between blue, green and yellow when
   the two disagree.
6. **Second opinion**: when the string breaks the grammar or a character is read with less
   than ``SECOND_OPINION_BELOW`` confidence, PP-OCRv4's recogniser (RapidOCR) reads the same
   rectified line; its reading (separators dropped, I/O after the city letter read as 1/0)
   replaces ours when it fits the grammar and is surer. The threshold was chosen by
   cross-validation across the two shared plate sets (docs/vehicles.md); about one plate in
   ten needs the second reader.
7. **Check** the string against the plate grammar (:mod:`.grammar`): an invalid string keeps
   the characters read and is flagged, with its confidence capped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from shigu.core.errors import ModelError
from shigu.runtime.session import OnnxModel
from shigu.solutions.vehicles.grammar import check_plate

CHARSET = (
    "#京沪津渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新学警港澳挂使领民航危"
    "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ险品"
)  # index 0 is the CTC blank
REC_COLOURS = ("black", "blue", "green", "white", "yellow")
CLS_COLOURS = ("blue", "green", "yellow")
INVALID_CONFIDENCE_CAP = 0.5  # a string outside the grammar never reports more than this
SECOND_OPINION_BELOW = 0.95  # a character below this asks PP-OCRv4 (chosen by CV, see docs)
_SEPARATORS = re.compile(r"[\s·.\-:_•]")


@dataclass
class PlateDetection:
    """One plate found in an image: box (x1, y1, x2, y2), corners (4, 2) TL TR BR BL, score,
    whether it is a double-row plate."""

    box: np.ndarray
    corners: np.ndarray
    score: float
    double_row: bool


@dataclass
class Plate:
    """A plate read: the text, its confidence (the lowest character's), per-character
    confidences, where it is, its colour and kind, and whether the grammar accepts it."""

    text: str
    confidence: float
    chars_confidence: list[float]
    corners: np.ndarray
    box: np.ndarray
    color: str
    double_row: bool
    valid: bool
    kind: str | None
    detection_score: float
    crop: np.ndarray | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "chars_confidence": [round(c, 4) for c in self.chars_confidence],
            "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners],
            "box": [round(float(v), 1) for v in self.box],
            "color": self.color,
            "double_row": self.double_row,
            "valid": self.valid,
            "kind": self.kind,
            "detection_score": round(self.detection_score, 4),
        }


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while len(order):
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        union = area[i] + area[rest] - inter
        order = rest[inter / np.maximum(union, 1e-9) <= iou]
    return keep


class PlateDetector:
    """HyperLPR3's YOLOv5-face plate detector (320 or 640 input)."""

    def __init__(self, path: str | Path, threads: int = 0, conf: float = 0.25,
                 iou: float = 0.5) -> None:  # fmt: skip
        self.model = OnnxModel(path, intra_threads=threads)
        shape = self.model.input_shape
        if len(shape) != 4 or shape[1] != 3 or shape[2] != shape[3] or not shape[2]:
            raise ModelError(f"{Path(path).name} is not a plate detector (input {shape})")
        self.size = int(shape[2])
        self.conf, self.iou = conf, iou

    def detect(self, image: np.ndarray) -> list[PlateDetection]:
        h, w = image.shape[:2]
        s = self.size
        r = min(s / h, s / w)
        nw, nh = max(1, round(w * r)), max(1, round(h * r))
        top, left = (s - nh) // 2, (s - nw) // 2
        canvas = np.zeros((s, s, 3), np.uint8)
        canvas[top : top + nh, left : left + nw] = cv2.resize(image, (nw, nh))
        x = canvas[..., ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        out = self.model.run(x)[0][0]
        rows = out[out[:, 4] > self.conf]
        if not len(rows):
            return []
        layer = rows[:, 13:15]
        scores = rows[:, 4] * layer.max(1)
        cx, cy, bw, bh = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)
        found = []
        for i in _nms(boxes, scores, self.iou):
            box = (boxes[i] - [left, top, left, top]) / r
            corners = rows[i, 5:13].reshape(4, 2).copy()
            corners[:, 0] = (corners[:, 0] - left) / r
            corners[:, 1] = (corners[:, 1] - top) / r
            box = np.clip(box, 0, [w, h, w, h])
            corners = np.clip(corners, 0, [w - 1, h - 1])
            double = bool(layer[i].argmax() == 1)
            found.append(PlateDetection(box.astype(np.float32), corners.astype(np.float32),
                                        float(scores[i]), double))  # fmt: skip
        return found


def rectify(image: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The plate warped from its four corners (TL, TR, BR, BL) onto an upright rectangle as
    wide and high as its longer edges."""
    c = np.asarray(corners, np.float32).reshape(4, 2)
    width = max(np.linalg.norm(c[0] - c[1]), np.linalg.norm(c[3] - c[2]))
    height = max(np.linalg.norm(c[0] - c[3]), np.linalg.norm(c[1] - c[2]))
    w, h = max(round(float(width)) + 1, 8), max(round(float(height)) + 1, 4)  # pixels, not gaps
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(c, target)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


def merge_rows(plate: np.ndarray) -> np.ndarray:
    """A double-row plate as one line: the upper row (top 5/12) stretched to the lower row's
    size (from 1/3 down) and set before it, the layout the recogniser was trained on."""
    h = plate.shape[0]
    upper = plate[: max(1, int(5 / 12 * h))]
    lower = plate[int(1 / 3 * h) :]
    upper = cv2.resize(upper, (lower.shape[1], lower.shape[0]))
    return np.hstack([upper, lower])


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    out: np.ndarray = e / e.sum(axis=axis, keepdims=True)
    return out


class PlateRecognizer:
    """The plate CRNN: a rectified (one-line) plate in, characters and colour out."""

    mean, std = 0.588, 0.193

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        self.model = OnnxModel(path, intra_threads=threads)
        shape = self.model.input_shape
        if shape[1:] != (3, 48, 168) or len(self.model.outputs) != 2:
            raise ModelError(f"{Path(path).name} is not the plate recogniser (input {shape})")

    def prepare(self, plates: Sequence[np.ndarray]) -> np.ndarray:
        batch = np.empty((len(plates), 3, 48, 168), np.float32)
        for k, p in enumerate(plates):
            x = cv2.resize(p, (168, 48)).astype(np.float32) / 255.0
            batch[k] = ((x - self.mean) / self.std).transpose(2, 0, 1)
        return batch

    def read(self, plates: Sequence[np.ndarray]) -> list[tuple[str, list[float], str, float]]:
        """(text, per-character confidence, colour, colour confidence) per plate."""
        if not plates:
            return []
        logits, colour = self.model.run(self.prepare(plates))
        probs = _softmax(logits.astype(np.float64))
        colour_p = _softmax(colour.astype(np.float64))
        out = []
        for p, cp in zip(probs, colour_p, strict=True):
            best = p.argmax(1)
            text, confs, prev = [], [], 0
            for t, k in enumerate(best.tolist()):
                if k != 0 and k != prev:
                    text.append(CHARSET[k])
                    confs.append(float(p[t, k]))
                elif k != 0 and k == prev:  # the same character spanning more steps
                    confs[-1] = max(confs[-1], float(p[t, k]))
                prev = k
            c = int(cp.argmax())
            out.append(("".join(text), confs, REC_COLOURS[c], float(cp[c])))
        return out


class PlateColorClassifier:
    """HyperLPR3's plate colour classifier: blue, green or yellow."""

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        self.model = OnnxModel(path, intra_threads=threads)
        if self.model.input_shape[1:] != (3, 96, 96):
            raise ModelError(f"{Path(path).name} is not the plate colour classifier")

    def classify(self, plates: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        if not plates:
            return []
        batch = np.stack([cv2.resize(p, (96, 96)).astype(np.float32).transpose(2, 0, 1) / 255.0
                          for p in plates])  # fmt: skip
        scores = self.model.run(batch)[0]
        if not np.allclose(scores.sum(1), 1.0, atol=1e-3):
            scores = _softmax(scores)
        return [(CLS_COLOURS[int(s.argmax())], float(s.max())) for s in scores]


class PlateReader:
    """Detect, rectify, read, classify and check every plate in an image."""

    def __init__(
        self,
        detector: PlateDetector,
        recognizer: PlateRecognizer,
        classifier: PlateColorClassifier | None = None,
        keep_crops: bool = False,
        second_opinion: bool = True,
    ) -> None:
        self.detector, self.recognizer, self.classifier = detector, recognizer, classifier
        self.keep_crops, self.second_opinion = keep_crops, second_opinion
        self.second_opinions = 0  # how many plates needed PP-OCRv4 (for benchmarks)

    def read(self, image: np.ndarray) -> list[Plate]:
        return self.read_detections(image, self.detector.detect(image))

    def read_crop(self, plate: np.ndarray, double_row: bool = False) -> Plate:
        """Read an image that is already one plate (a crop from another detector)."""
        h, w = plate.shape[:2]
        corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
        box = np.array([0, 0, w, h], np.float32)
        return self.read_detections(plate, [PlateDetection(box, corners, 1.0, double_row)])[0]

    def read_detections(self, image: np.ndarray, found: list[PlateDetection]) -> list[Plate]:
        """Plates from given detections (the pipeline's secondary stage detects in crops)."""
        if not found:
            return []
        crops = [rectify(image, d.corners) for d in found]
        lines = [merge_rows(c) if d.double_row else c for c, d in zip(crops, found, strict=True)]
        reads = self.recognizer.read(lines)
        colours = self.classifier.classify(crops) if self.classifier is not None else None
        plates = []
        for k, (d, (text, confs, colour, colour_p)) in enumerate(zip(found, reads, strict=True)):
            if colours is not None and colour in CLS_COLOURS and colours[k][0] != colour:
                colour = colours[k][0] if colours[k][1] > colour_p else colour
            grammar = check_plate(text)
            confidence = min(confs) if confs else 0.0
            if self.second_opinion and (not grammar.valid or confidence < SECOND_OPINION_BELOW):
                other = _ocr_line(lines[k])
                if other is not None:
                    self.second_opinions += 1
                    other_text, other_conf = other
                    other_grammar = check_plate(other_text)
                    if other_grammar.valid and (not grammar.valid or other_conf > confidence):
                        text, grammar, confidence = other_text, other_grammar, other_conf
                        confs = _agreeing(text, reads[k][0], reads[k][1], other_conf)
            if not grammar.valid:
                confidence = min(confidence, INVALID_CONFIDENCE_CAP)
            plates.append(Plate(
                text, confidence, confs, d.corners, d.box, colour, d.double_row, grammar.valid,
                _kind(grammar.kind, colour, d.double_row), d.score,
                crops[k] if self.keep_crops else None,
            ))  # fmt: skip
        return plates


def normalise_ocr(text: str) -> str:
    """A general OCR's reading as a plate string: separators (·, -, spaces) dropped, and
    I and O after the city letter read as 1 and 0 (plates have neither letter)."""
    t = _SEPARATORS.sub("", text).upper()
    return t[:2] + t[2:].replace("I", "1").replace("O", "0")


def _ocr_line(line: np.ndarray) -> tuple[str, float] | None:
    """PP-OCRv4's reading of one text line, or None when RapidOCR is not installed."""
    try:
        from shigu.solutions.industrial.ocr import read_text
    except ImportError:  # pragma: no cover - the industrial extra is part of every install
        return None
    try:
        found = read_text(line, min_confidence=0.0, detect=False)
    except ImportError:
        return None
    if not found:
        return None
    return normalise_ocr(found[0].text), float(found[0].confidence)


def _agreeing(text: str, ours: str, ours_conf: list[float], other: float) -> list[float]:
    """Per-character confidence of the second reader's string: ours where both read the same
    character at the same place, else the second reader's line confidence."""
    if len(ours) == len(text):
        return [max(c, other) if a == b else other for a, b, c in zip(text, ours, ours_conf,
                                                                      strict=True)]  # fmt: skip
    return [other] * len(text)


def _kind(kind: str | None, colour: str, double_row: bool) -> str | None:
    """The plate's type from its grammar, colour and layout."""
    if kind == "standard":
        if colour == "yellow":
            return "large_vehicle_double_row" if double_row else "large_vehicle"
        if colour == "black":
            return "foreign"
        return "small_vehicle"
    return kind


def load_plate_reader(
    detector: str = "plate-detect-320", threads: int = 1, keep_crops: bool = False,
    conf: float = 0.25,
) -> PlateReader:  # fmt: skip
    """The reader with the zoo's models (a detector name, or a path to a y5fu ONNX)."""
    from shigu.runtime.registry import MODELS
    from shigu.runtime.zoo import ModelZoo

    zoo = ModelZoo()
    det_path = zoo.path(detector) if detector in MODELS else Path(detector)
    if not det_path.is_file():
        raise ModelError(f"unknown plate detector {detector!r}",
                         "use plate-detect-320, plate-detect-640 or a path to a .onnx")  # fmt: skip
    return PlateReader(
        PlateDetector(det_path, threads, conf),
        PlateRecognizer(zoo.path("plate-rec-color"), threads),
        PlateColorClassifier(zoo.path("plate-color-cls"), threads),
        keep_crops,
    )
