"""Top-down human pose models on ONNX Runtime: MoveNet Lightning and BlazePose full.

Both take one person per square crop around a detector box and return COCO-17 keypoints in
image pixels with a score per keypoint; BlazePose also gives its 33 landmarks and 33 world
landmarks (metres, origin at the hip centre). Pre/post-processing follows
``../shared/data/MANIFEST.md`` and the models' own documentation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from shigu.core.errors import ModelError
from shigu.pose.crops import SquareCrop
from shigu.pose.skeleton import BLAZEPOSE_TO_COCO
from shigu.runtime.session import OnnxModel


@dataclass
class Poses:
    """Poses of N people. Keypoints are COCO-17 in image pixels.

    Attributes:
        keypoints: (N, 17, 2) float32 x, y.
        scores: (N, 17) float32 per-keypoint confidence in [0, 1].
        landmarks: (N, 33, 2) BlazePose landmarks in image pixels, or None.
        landmark_scores: (N, 33) visibility in [0, 1], or None.
        world: (N, 33, 3) world landmarks in metres around the hips, or None.
    """

    keypoints: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray | None = None
    landmark_scores: np.ndarray | None = None
    world: np.ndarray | None = None
    next_crops: np.ndarray | None = None  # (N, 4) cx, cy, side, angle: where to look next frame

    def __len__(self) -> int:
        return len(self.keypoints)

    @property
    def score(self) -> np.ndarray:
        """(N,) one confidence per person: the mean keypoint score."""
        return self.scores.mean(axis=1) if len(self) else np.zeros(0, np.float32)

    def slice(self, start: int, stop: int) -> Poses:
        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[start:stop]

        return Poses(self.keypoints[start:stop], self.scores[start:stop], cut(self.landmarks),
                     cut(self.landmark_scores), cut(self.world), cut(self.next_crops))  # fmt: skip

    @classmethod
    def mean(cls, parts: list[Poses]) -> Poses:
        """The same people seen in several passes: every array averaged, the next crops
        taken from the last pass."""

        def avg(name: str) -> np.ndarray | None:
            arrays = [getattr(p, name) for p in parts]
            if any(a is None for a in arrays):
                return None
            averaged: np.ndarray = np.mean(arrays, axis=0).astype(np.float32)
            return averaged

        kp, sc = avg("keypoints"), avg("scores")
        assert kp is not None and sc is not None
        return cls(kp, sc, avg("landmarks"), avg("landmark_scores"), avg("world"),
                   parts[-1].next_crops)  # fmt: skip

    def with_rows(self, rows: list[int], other: Poses) -> Poses:
        """A copy with the people at ``rows`` replaced by ``other``'s, in order."""

        def put(mine: np.ndarray | None, theirs: np.ndarray | None) -> np.ndarray | None:
            if mine is None or theirs is None:
                return None
            out = mine.copy()
            out[rows] = theirs
            return out

        kp, sc = put(self.keypoints, other.keypoints), put(self.scores, other.scores)
        assert kp is not None and sc is not None
        return Poses(
            kp,
            sc,
            put(self.landmarks, other.landmarks),
            put(self.landmark_scores, other.landmark_scores),
            put(self.world, other.world),
            put(self.next_crops, other.next_crops),
        )

    @classmethod
    def concat(cls, parts: list[Poses]) -> Poses:
        def cat(name: str) -> np.ndarray | None:
            arrays = [getattr(p, name) for p in parts]
            return None if any(a is None for a in arrays) else np.concatenate(arrays)

        if not parts:
            return cls(np.zeros((0, 17, 2), np.float32), np.zeros((0, 17), np.float32))
        kp, sc = cat("keypoints"), cat("scores")
        assert kp is not None and sc is not None
        return cls(kp, sc, cat("landmarks"), cat("landmark_scores"), cat("world"),
                   cat("next_crops"))  # fmt: skip


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = (1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))).astype(np.float32)
    return out


class PoseModel(ABC):
    """A top-down pose model: crops in, :class:`Poses` out.

    ``estimate_many`` sends the crops of many frames and sources through the network in one
    call; models fixed at batch 1 are run crop by crop inside it.
    """

    name: str = "pose"
    size: int = 192
    crop_scale: float = 1.25
    replicate_border: bool = False  # outside the image: black (MoveNet's reference pads zeros)

    def __init__(self, path: str | Path, device: str = "cpu", threads: int = 0) -> None:
        self.model = OnnxModel(path, device=device, intra_threads=threads)
        shape = self.model.input_shape
        if len(shape) != 4 or shape[3] != 3 or (shape[1] and shape[1] != self.size):
            raise ModelError(
                f"{Path(path).name} does not look like a {self.name} model (input {shape})",
                f"give the {self.name} ONNX file from the model zoo",
            )

    def crops(self, xyxy: np.ndarray) -> list[SquareCrop]:
        return [SquareCrop.around(b, self.crop_scale) for b in np.asarray(xyxy).reshape(-1, 4)]

    def prepare(self, image: np.ndarray, crops: list[SquareCrop]) -> np.ndarray:
        """(N, size, size, 3) network input for the crops of one BGR image."""
        batch = np.empty((len(crops), self.size, self.size, 3), self.input_dtype)
        for i, crop in enumerate(crops):
            rgb = cv2.cvtColor(crop.cut(image, self.size, self.replicate_border), cv2.COLOR_BGR2RGB)
            batch[i] = rgb if self.input_dtype == np.uint8 else rgb * np.float32(1 / 255)
        return batch

    @property
    def input_dtype(self) -> type[np.generic]:
        return np.uint8

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        return self.model.run(batch) if len(batch) else []

    @abstractmethod
    def decode(self, outputs: list[np.ndarray], crops: list[SquareCrop]) -> Poses: ...

    passes: int = 1

    def refined(self, outputs: list[np.ndarray], crops: list[SquareCrop]) -> list[SquareCrop]:
        """Crops for another pass, from what the last pass found (models that track)."""
        return crops

    def estimate(self, image: np.ndarray, xyxy: np.ndarray) -> Poses:
        """Poses for the people in boxes ``xyxy`` (N, 4) of a BGR image."""
        return self.estimate_many([(image, xyxy)])[0]

    def estimate_many(
        self,
        jobs: list[tuple[np.ndarray, np.ndarray]],
        priors: list[list[SquareCrop | None]] | None = None,
    ) -> list[Poses]:
        """Poses for (image, boxes) pairs from many frames, all crops in one model call.

        ``priors``: per job and box, a crop to use instead of the box (where the person was
        found on the previous frame, as MediaPipe tracks): one pass instead of ``passes``."""
        crops = [self.crops(boxes) for _, boxes in jobs]
        known: list[list[SquareCrop | None]] = (
            [[None] * len(c) for c in crops] if priors is None else priors
        )
        for cs, ps in zip(crops, known, strict=True):
            for k, prior in enumerate(ps):
                if prior is not None:
                    cs[k] = prior
        counts = [len(c) for c in crops]
        flat = [c for cs in crops for c in cs]
        if not flat:
            return [Poses.concat([]) for _ in jobs]
        tracked = np.array([p is not None for ps in known for p in ps], bool)
        images = [img for (img, _), n in zip(jobs, counts, strict=True) for _ in range(n)]

        def run(imgs: list[np.ndarray], cs: list[SquareCrop]) -> list[np.ndarray]:
            batch = [self.prepare(im, [c]) for im, c in zip(imgs, cs, strict=True)]
            return [np.array(o) for o in self.run(np.concatenate(batch))]

        outputs = run(images, flat)
        poses = self.decode(outputs, flat)
        redo = [i for i in range(len(flat)) if not tracked[i]]
        if self.passes > 1 and redo:
            # people not tracked: the later passes from the crops they lead to, averaged
            redo_images = [images[i] for i in redo]
            sub_crops = [flat[i] for i in redo]
            sub_out = [o.reshape(len(flat), *o.shape[1:])[redo] for o in outputs]
            later = []
            for _ in range(self.passes - 1):
                sub_crops = self.refined(sub_out, sub_crops)
                sub_out = run(redo_images, sub_crops)
                later.append(self.decode(sub_out, sub_crops))
            poses = poses.with_rows(redo, Poses.mean(later))
        out, start = [], 0
        for n in counts:
            out.append(poses.slice(start, start + n))
            start += n
        return out


class MoveNet(PoseModel):
    """MoveNet SinglePose Lightning: uint8 RGB 192x192 in; (y, x, score) x 17 out."""

    name = "movenet"
    size = 192

    def decode(self, outputs: list[np.ndarray], crops: list[SquareCrop]) -> Poses:
        out = outputs[0].reshape(len(crops), 17, 3)
        xy = out[..., 1::-1] * self.size  # (y, x) normalised -> (x, y) crop pixels
        points = np.stack([c.to_image(p, self.size) for c, p in zip(crops, xy, strict=True)])
        return Poses(points.astype(np.float32), out[..., 2].astype(np.float32))


class BlazePose(PoseModel):
    """BlazePose GHUM full landmarks: float RGB 0..1 256x256 in; 33 landmarks in crop pixels
    with visibility and presence logits, a pose-presence probability, and 33 world
    landmarks in metres."""

    name = "blazepose"
    size = 256
    # MediaPipe's landmark graph leaves ImageToTensor's border mode unset: replicate
    replicate_border = True
    # A person seen for the first time: a pass on the box, then the crop MediaPipe's tracking
    # derives from the alignment points, iterated as it would be over frames of a video; the
    # passes after the first are averaged (shared COCO people, OKS AP on detector boxes: 0.59
    # with 2 passes, 0.61 averaging 2-4, 0.63 averaging 2-6 and 2-8). A tracked person: one pass.
    passes = 6

    @property
    def input_dtype(self) -> type[np.generic]:
        return np.float32

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        if not len(batch):
            return []
        names = [o.name for o in self.model.outputs]
        want = [n for n in ("Identity", "Identity_1", "Identity_4") if n in names]
        if len(want) != 3:
            raise ModelError(f"{self.model.path.name}: not a BlazePose landmark model")
        return self.model.run(batch, want)

    def refined(self, outputs: list[np.ndarray], crops: list[SquareCrop]) -> list[SquareCrop]:
        """The next crops from landmarks 33 (body centre) and 34 (top of head), rotated
        upright, as MediaPipe tracks a person (shared COCO people, OKS AP: 0.29 with one
        pass, 0.50 with two)."""
        raw = outputs[0].reshape(len(crops), 39, 5)
        out = []
        for crop, r in zip(crops, raw, strict=True):
            center, top = crop.to_image(r[33:35, :2], self.size)
            out.append(SquareCrop.from_axis(center, top, self.crop_scale))
        return out

    def decode(self, outputs: list[np.ndarray], crops: list[SquareCrop]) -> Poses:
        n = len(crops)
        raw = outputs[0].reshape(n, 39, 5)[:, :33]
        presence = np.clip(outputs[1].reshape(n, 1), 0, 1)  # already a probability
        world = outputs[2].reshape(n, 39, 3)[:, :33].astype(np.float32)
        marks = np.stack([c.to_image(r[:, :2], self.size) for c, r in zip(crops, raw, strict=True)])
        # A landmark counts as seen when it is in the picture (presence) and not hidden.
        vis = _sigmoid(raw[..., 3]) * _sigmoid(raw[..., 4]) * presence
        idx = list(BLAZEPOSE_TO_COCO)
        ahead = self.refined(outputs, crops)
        next_crops = np.array([[c.cx, c.cy, c.side, c.angle] for c in ahead], np.float32)
        return Poses(marks[:, idx].astype(np.float32), vis[:, idx], marks.astype(np.float32),
                     vis, world, next_crops.reshape(n, 4))  # fmt: skip


POSE_MODELS: dict[str, type[PoseModel]] = {"movenet": MoveNet, "blazepose": BlazePose}


def load_pose_model(model: str, device: str = "cpu", threads: int = 0) -> PoseModel:
    """A pose model by registry name (``movenet-lightning``, ``blazepose-full``) or path.

    A local file's kind is read from its input size (192: MoveNet, 256: BlazePose).
    """
    from shigu.runtime.registry import MODELS
    from shigu.runtime.zoo import ModelZoo

    spec = MODELS.get(model)
    if spec is not None:
        check_pose_model(model)
        return POSE_MODELS[spec.format](ModelZoo().path(model), device, threads)
    path = Path(model)
    if not path.is_file():
        raise ModelError(
            f"unknown pose model {model!r}",
            "use movenet-lightning or blazepose-full, or a path to a MoveNet/BlazePose .onnx",
        )
    probe = OnnxModel(path, device=device)
    size = probe.input_shape[1] if len(probe.input_shape) == 4 else None
    kinds = {cls.size: cls for cls in POSE_MODELS.values()}
    if size not in kinds:
        raise ModelError(
            f"{path.name}: input {probe.input_shape} is neither MoveNet (192) nor BlazePose (256)"
        )
    return kinds[size](path, device, threads)


def check_pose_model(model: str) -> None:
    """ModelError unless ``model`` is a pose model's registry name or an existing file."""
    from shigu.runtime.registry import MODELS

    spec = MODELS.get(model)
    if spec is not None and spec.format not in POSE_MODELS:
        names = ", ".join(n for n, s in MODELS.items() if s.format in POSE_MODELS)
        raise ModelError(f"{model} is a {spec.format} model, not a pose model",
                         f"pose models: {names}")  # fmt: skip
    if spec is None and not Path(model).is_file():
        raise ModelError(
            f"unknown pose model {model!r}",
            "use movenet-lightning or blazepose-full, or a path to a MoveNet/BlazePose .onnx",
        )
