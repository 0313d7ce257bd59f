"""Known faces (opt-in): YuNet faces, 5-point alignment, MobileFaceNet embeddings, matching.

A face is aligned onto the ArcFace 112x112 template by the similarity transform that best
maps YuNet's five landmarks (eyes, nose tip, mouth corners) onto it, then embedded by
MobileFaceNet (128-d, L2-normalised; cosine similarity). People are enrolled from pictures
(`shigu faces enrol`, `POST /api/faces`) into the store's ``faces`` table; a person's
embeddings are deleted on request (`shigu faces delete`, `DELETE /api/faces/{name}`).

:data:`DEFAULT_THRESHOLD` is the cosine similarity from which a face is taken as an enrolled
person; how it was chosen, and the evidence, is in docs/living.md (`benchmarks/faces.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from shigu.core.detections import Detections
from shigu.core.errors import InputError

# ArcFace's 112x112 template: left eye, right eye, nose tip, left and right mouth corners
TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
     [70.7299, 92.2041]], np.float32,
)  # fmt: skip
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
DEFAULT_THRESHOLD = 0.72  # on a track's mean embedding (docs/living.md)
MIN_FACE_PX = 24  # smaller faces are not matched (too few pixels for the embedding)


def align(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 112x112 BGR crop of the face whose five landmarks are ``landmarks`` (5, 2)."""
    matrix, _ = cv2.estimateAffinePartial2D(
        np.asarray(landmarks, np.float32), TEMPLATE, method=cv2.LMEDS
    )
    if matrix is None:
        raise InputError("face landmarks are degenerate (cannot align)")
    return cv2.warpAffine(image, matrix, (112, 112), borderValue=(0, 0, 0))


class FaceEmbedder:
    """MobileFaceNet on aligned crops: (N, 128) unit vectors (``../shared/data/MANIFEST.md``:
    RGB, x/255, ImageNet mean and std, NCHW)."""

    def __init__(self, model: str | Path = "mobilefacenet", device: str = "cpu") -> None:
        from shigu.runtime.registry import MODELS
        from shigu.runtime.session import OnnxModel
        from shigu.runtime.zoo import ModelZoo

        path = ModelZoo().path(str(model)) if str(model) in MODELS else Path(model)
        self.model = OnnxModel(path, device=device, intra_threads=1)
        self.dim = 128

    def embed_crops(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, self.dim), np.float32)
        out = []
        for crop in crops:  # the exported graph takes one face at a time
            rgb = crop[..., ::-1].astype(np.float32) / 255.0
            x = ((rgb - MEAN) / STD).transpose(2, 0, 1)[None]
            (feat,) = self.model.run(np.ascontiguousarray(x, np.float32))
            out.append(feat.reshape(-1))
        feats = np.stack(out).astype(np.float32)
        feats /= np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-6)
        return feats

    def embed(self, image: np.ndarray, faces: Detections) -> np.ndarray:
        """Embeddings of YuNet's faces (their ``keypoints`` are the five landmarks)."""
        if not len(faces) or faces.keypoints is None:
            return np.zeros((0, self.dim), np.float32)
        return self.embed_crops([align(image, kp) for kp in faces.keypoints])


@dataclass(frozen=True)
class Match:
    name: str | None  # None: nobody enrolled is close enough
    similarity: float  # to the best enrolled embedding


def best_match(embedding: np.ndarray, names: list[str], gallery: np.ndarray,
               threshold: float) -> Match:  # fmt: skip
    """The enrolled person most like ``embedding`` (each person's best embedding counts)."""
    if not len(gallery):
        return Match(None, 0.0)
    sims = gallery @ embedding
    best = int(np.argmax(sims))
    sim = float(sims[best])
    return Match(names[best] if sim >= threshold else None, sim)


def largest_face(faces: Detections) -> Detections:
    """The biggest face of a picture (enrolment pictures show one person)."""
    if len(faces) <= 1:
        return faces
    area = (faces.xyxy[:, 2] - faces.xyxy[:, 0]) * (faces.xyxy[:, 3] - faces.xyxy[:, 1])
    return faces[np.array([int(np.argmax(area))])]


def enrolment_embeddings(
    paths: list[Path], detector: object | None = None, embedder: FaceEmbedder | None = None
) -> list[tuple[str, np.ndarray]]:
    """(file name, embedding) of the largest face of each picture; a picture without a face
    big enough is an InputError naming it (enrolment must not silently skip people)."""
    from shigu.detect import load_detector

    det = detector or load_detector("yunet-face", conf=0.8)
    emb = embedder or FaceEmbedder()
    out = []
    for path in paths:
        image = cv2.imread(str(path))
        if image is None:
            raise InputError(f"cannot read picture {path}", "give JPEG or PNG files")
        out.append((path.name, embedding_of_picture(image, det, emb, path.name)))
    return out


def embedding_of_picture(image: np.ndarray, detector: object, embedder: FaceEmbedder,
                         name: str) -> np.ndarray:  # fmt: skip
    """The embedding of the largest face in ``image`` (InputError when there is none)."""
    faces = largest_face(detector.detect(image))  # type: ignore[attr-defined]
    if not len(faces):
        raise InputError(f"no face found in {name}", "use a picture where the face is clear")
    size = float(faces.xyxy[0, 2] - faces.xyxy[0, 0])
    if size < MIN_FACE_PX:
        raise InputError(f"the face in {name} is {size:.0f} px wide, under {MIN_FACE_PX}",
                         "use a closer or larger picture")  # fmt: skip
    embedding: np.ndarray = embedder.embed(image, faces)[0]
    return embedding


def gallery_of(rows: list[tuple[str, list[float]]]) -> tuple[list[str], np.ndarray]:
    """One unit vector per person: the mean of their enrolled embeddings."""
    by_name: dict[str, list[list[float]]] = {}
    for name, emb in rows:
        by_name.setdefault(name, []).append(emb)
    names = sorted(by_name)
    if not names:
        return [], np.zeros((0, 128), np.float32)
    means = np.stack([np.mean(np.asarray(by_name[n], np.float32), axis=0) for n in names])
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-6)
    return names, means.astype(np.float32)
