"""The ``faces`` stage (opt-in): who a tracked person is, from their face over the track.

Every ``every_n_frames`` frames YuNet looks for faces in the picture; a face belongs to the
person box whose top part (``head_share`` of its height) holds the face's centre. Each
track collects the MobileFaceNet embeddings of its faces; once it has ``min_faces`` of them
its *mean* embedding is compared with the gallery (each enrolled person's mean): at least
``threshold`` cosine similarity raises ``known_person`` (attribute ``person``), otherwise
``unknown_person``; an unknown track that later matches raises ``known_person`` then. One
frame's face in video is small and blurred; the mean over a track is what separates people
(docs/living.md has the measurements behind the threshold). The gallery is read from the
pipeline's store and re-read every ``refresh_seconds``, so enrolments and deletions made
through the API or CLI apply to a running pipeline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shigu.core.events import Event, EventEnd
from shigu.core.labels import resolve_classes
from shigu.solutions.living.faces import (
    DEFAULT_THRESHOLD,
    MIN_FACE_PX,
    FaceEmbedder,
    best_match,
    gallery_of,
)
from shigu.stages.base import FrameItem, Stage, StageContext


class FaceOptions(BaseModel):
    """Options of the ``faces`` stage."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    threshold: float = Field(DEFAULT_THRESHOLD, gt=0, lt=1, description="cosine similarity")
    min_faces: int = Field(5, ge=1, le=1000, description="faces of a track before deciding")
    every_n_frames: int = Field(2, ge=1, le=100, description="look for faces this often")
    min_face: float = Field(MIN_FACE_PX, ge=8, description="smaller faces are not used (px)")
    face_conf: float = Field(0.8, gt=0, lt=1, description="YuNet score for a face")
    classes: list[str] = Field(["person"], description="the boxes faces belong to")
    head_share: float = Field(0.4, gt=0, le=1, description="top part of a box holding the face")
    refresh_seconds: float = Field(10.0, gt=0, le=3600, description="re-read the gallery")


@dataclass
class _Track:
    total: np.ndarray
    faces: int = 0
    decided: str | None = None  # "known" or "unknown"
    person: str | None = None
    similarity: float = 0.0


class FaceStage(Stage):
    """Known and unknown people from their faces (module docstring)."""

    kind = "secondary"
    Options = FaceOptions
    name = "faces"

    def __init__(self, options: FaceOptions, context: StageContext) -> None:
        from shigu.detect import load_detector

        super().__init__(options, context)
        self.cfg = options
        self.class_ids = np.array(resolve_classes(options.classes, context.labels), np.int64)
        self.detector = load_detector("yunet-face", conf=options.face_conf)
        self.embedder = FaceEmbedder()
        self.store: Any = None
        if context.store_url:
            from shigu.store.events import EventStore

            self.store = EventStore(context.store_url)
        self.names: list[str] = []
        self.gallery = np.zeros((0, 128), np.float32)
        self._loaded_at = -np.inf
        self.tracks: dict[tuple[str, int], _Track] = {}
        self.faces_embedded = 0

    def _refresh(self) -> None:
        now = time.monotonic()
        if self.store is None or now - self._loaded_at < self.cfg.refresh_seconds:
            return
        self._loaded_at = now
        self.names, self.gallery = gallery_of(self.store.face_embeddings())
        for track in self.tracks.values():  # a deleted person is nobody now
            if track.person is not None and track.person not in self.names:
                track.person, track.decided = None, None

    def process(self, items: list[FrameItem]) -> None:
        self._refresh()
        for item in items:
            if item.still or item.frame.index % self.cfg.every_n_frames:
                continue
            dets = item.detections
            if dets.tracker_id is None or not len(dets):
                continue
            rows = np.flatnonzero(np.isin(dets.class_id, self.class_ids) & (dets.tracker_id >= 0))
            if not len(rows):
                continue
            faces = self.detector.detect(item.frame.image)
            owners = self._owners(faces.xyxy, dets.xyxy[rows])
            keep = [k for k, o in enumerate(owners) if o >= 0
                    and faces.xyxy[k, 2] - faces.xyxy[k, 0] >= self.cfg.min_face]  # fmt: skip
            if not keep:
                continue
            embeddings = self.embedder.embed(item.frame.image, faces[np.array(keep)])
            self.faces_embedded += len(keep)
            for k, emb in zip(keep, embeddings, strict=True):
                row = int(rows[owners[k]])
                tid = int(dets.tracker_id[row])
                key = (item.source_id, tid)
                track = self.tracks.get(key)
                if track is None:
                    track = self.tracks[key] = _Track(np.zeros(128, np.float64))
                track.total += emb
                track.faces += 1
                item.events.extend(self._decide(item, row, tid, track))

    def _owners(self, faces: np.ndarray, boxes: np.ndarray) -> list[int]:
        """Per face, the index of the box whose head part holds its centre (smallest such
        box: the nearest person), or -1."""
        out = []
        cx, cy = (faces[:, 0] + faces[:, 2]) / 2, (faces[:, 1] + faces[:, 3]) / 2
        heights = boxes[:, 3] - boxes[:, 1]
        areas = (boxes[:, 2] - boxes[:, 0]) * heights
        for x, y in zip(cx, cy, strict=True):
            inside = ((boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y)
                      & (y <= boxes[:, 1] + self.cfg.head_share * heights))  # fmt: skip
            idx = np.flatnonzero(inside)
            out.append(int(idx[np.argmin(areas[idx])]) if len(idx) else -1)
        return out

    def _decide(self, item: FrameItem, row: int, tid: int, track: _Track) -> list[Event]:
        if track.faces < self.cfg.min_faces or track.decided == "known":
            return []
        mean = track.total / max(float(np.linalg.norm(track.total)), 1e-9)
        match = best_match(mean.astype(np.float32), self.names, self.gallery, self.cfg.threshold)
        track.similarity = round(match.similarity, 4)
        if match.name is not None:
            track.decided, track.person = "known", match.name
            kind = "known_person"
        elif track.decided is None:
            track.decided = "unknown"
            kind = "unknown_person"
        else:
            return []
        dets = item.detections
        ev = Event(type=kind, source=item.source_id, start=item.frame.timestamp,
                   end=item.frame.timestamp, track_id=tid, class_name="person",
                   confidence=float(dets.confidence[row]), frame_index=item.frame.index,
                   box=[float(v) for v in dets.xyxy[row]])  # fmt: skip
        ev.attributes.update(person=match.name, similarity=track.similarity, faces=track.faces)
        return [ev]

    def track_attributes(self, source_id: str, track_id: int) -> dict[str, Any]:
        track = self.tracks.get((source_id, track_id))
        if track is None or track.decided is None:
            return {}
        return {"person": track.person, "face_similarity": track.similarity}

    def finish(self, source_id: str) -> list[Event | EventEnd]:
        self.tracks = {k: v for k, v in self.tracks.items() if k[0] != source_id}
        return []

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
