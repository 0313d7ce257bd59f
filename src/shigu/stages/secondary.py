"""Secondary models (DeepStream's SGIE): models run on crops of the objects a detector found.

One :class:`SecondaryStage` per configured model. Per frame it picks the objects to run on
(class, ``min_box``, ``every_n_frames``, ``once_per_track``, ``max_per_frame``), sends their
crops from every frame of the batch through the model in one call, aggregates results per
track (``latest``, ``best``, ``mean``, ``vote``) and attaches them to ``Detections.data``
(``pose``: (N, 17, 3) x, y, score; ``embedding``; rows of NaN where nothing is known, and
``<name>_age``, frames since the value was computed, -1 for none) and to the events the
track raises.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shigu.core.errors import ConfigError
from shigu.core.labels import resolve_classes
from shigu.stages.base import FrameItem, Stage, StageContext

Aggregate = Literal["latest", "best", "mean", "vote"]


class SecondaryConfig(BaseModel):
    """One secondary model in ``pipeline.secondary``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # no NaN or Infinity

    model: str = Field(description="registry name (movenet-lightning, blazepose-full, "
                       "person-reid-0288) or an .onnx path")  # fmt: skip
    classes: list[str] | None = Field(["person"], description="classes to run on; null: all")
    min_box: float = Field(32.0, ge=0, description="skip boxes whose longer side is shorter (px)")
    every_n_frames: int = Field(1, ge=1, description="run on a track at most every n frames")
    once_per_track: bool = Field(False, description="run once per track and keep the result")
    max_per_frame: int | None = Field(None, ge=1, description="crops per frame at most")
    aggregate: Aggregate | None = Field(
        None, description="per track: latest, best (highest quality), mean, vote; "
        "default per model (pose: latest, embeddings: mean)"
    )  # fmt: skip
    device: str | None = Field(None, description="default: the detector's device")


class SecondaryTask(ABC):
    """What one kind of secondary model computes on crops."""

    key: ClassVar[str]
    default_aggregate: ClassVar[Aggregate] = "latest"
    # tasks that look where the last frame's result says (a ``{key}_roi`` value) run frame by
    # frame, so each frame sees the previous frame's results
    follows_tracks: bool = False

    @abstractmethod
    def run(
        self,
        jobs: list[tuple[np.ndarray, np.ndarray]],
        priors: list[list[np.ndarray | None]] | None = None,
    ) -> list[dict[str, np.ndarray]]:
        """For each (BGR image, (n, 4) boxes): arrays with n rows; ``quality`` among them.
        ``priors``: per box, the track's last ``roi`` value when it is from the previous frame."""

    def event_attributes(self, values: dict[str, np.ndarray]) -> dict[str, Any]:
        """What an event of the track carries from this model (small, JSON-ready)."""
        return {}


class PoseTask(SecondaryTask):
    """COCO-17 keypoints (``pose``: x, y, score) and, for BlazePose, ``pose_world``."""

    key = "pose"

    def __init__(self, model: str, device: str) -> None:
        from shigu.pose import load_pose_model

        self.model = load_pose_model(model, device=device, threads=1)
        self.follows_tracks = self.model.passes > 1  # BlazePose: MediaPipe's tracking ROI

    def run(
        self,
        jobs: list[tuple[np.ndarray, np.ndarray]],
        priors: list[list[np.ndarray | None]] | None = None,
    ) -> list[dict[str, np.ndarray]]:
        from shigu.pose.crops import SquareCrop

        crops = None
        if priors is not None:
            crops = [[None if r is None else SquareCrop(*(float(v) for v in r)) for r in rows]
                     for rows in priors]  # fmt: skip
        out: list[dict[str, np.ndarray]] = []
        for poses in self.model.estimate_many(jobs, crops):
            values = {
                "pose": np.concatenate([poses.keypoints, poses.scores[..., None]], axis=2),
                "quality": poses.score,
            }
            if poses.world is not None:
                values["pose_world"] = poses.world
            if poses.next_crops is not None:
                # lost people (pose presence under a half) go back to their detector box
                lost = poses.score < 0.5
                values["pose_roi"] = np.where(lost[:, None], np.nan, poses.next_crops)
            if poses.landmarks is not None and poses.landmark_scores is not None:
                values["pose_landmarks"] = np.concatenate(
                    [poses.landmarks, poses.landmark_scores[..., None]], axis=2
                )  # BlazePose's 33 in image pixels, with visibility
            out.append(values)
        return out

    def event_attributes(self, values: dict[str, np.ndarray]) -> dict[str, Any]:
        return {"pose": np.round(values["pose"], 1).tolist()}


class EmbeddingTask(SecondaryTask):
    """Unit-length appearance vectors (``embedding``), e.g. for search and re-identification."""

    key = "embedding"
    default_aggregate = "mean"

    def __init__(self, model: str, device: str) -> None:
        from shigu.track.reid import ReIDModel

        self.model = ReIDModel(model, device=device)

    def run(
        self,
        jobs: list[tuple[np.ndarray, np.ndarray]],
        priors: list[list[np.ndarray | None]] | None = None,
    ) -> list[dict[str, np.ndarray]]:
        out = []
        for image, boxes in jobs:
            wh = boxes[:, 2:] - boxes[:, :2]
            out.append({"embedding": self.model.embed(image, boxes), "quality": wh.prod(axis=1)})
        return out


def make_task(model: str, device: str) -> SecondaryTask:
    """The task a model performs, from its registry format or its input size."""
    from pathlib import Path

    from shigu.runtime.registry import MODELS

    spec = MODELS.get(model)
    fmt = spec.format if spec is not None else None
    if fmt in ("movenet", "blazepose"):
        return PoseTask(model, device)
    if fmt == "reid":
        return EmbeddingTask(model, device)
    if spec is not None:
        raise ConfigError(
            f"{model} is a {fmt} model; it cannot run as a secondary model",
            "secondary models: movenet-lightning, blazepose-full, person-reid-0288",
        )
    if not Path(model).is_file():
        raise ConfigError(f"secondary model not found: {model}", "give a registry name or a path")
    try:
        return PoseTask(model, device)
    except Exception:
        return EmbeddingTask(model, device)


@dataclass
class _TrackResult:
    values: dict[str, np.ndarray]
    weight: float
    frame: int
    runs: int = 1
    votes: dict[bytes, float] = field(default_factory=dict)


class SecondaryStage(Stage):
    """Runs one secondary model on the objects of every frame of a batch."""

    kind = "secondary"
    Options = SecondaryConfig
    PRUNE_AFTER_FRAMES = 3000  # forget tracks not seen for this long (memory stays bounded)

    def __init__(self, options: SecondaryConfig, context: StageContext,
                 task: SecondaryTask | None = None) -> None:  # fmt: skip
        super().__init__(options, context)
        self.cfg = options
        self.task = task or make_task(options.model, options.device or context.device)
        self.name = self.task.key
        self.aggregate: Aggregate = options.aggregate or self.task.default_aggregate
        self._class_ids: dict[tuple[str, ...], np.ndarray | None] = {}
        self.class_ids = self._classes_of(context.labels)  # unknown classes fail here
        self.tracks: dict[tuple[str, int], _TrackResult] = {}
        self.crops_run = 0
        self.model_calls = 0
        self._last_prune: dict[str, int] = {}

    # ------------------------------------------------------------------ choosing objects
    def _classes_of(self, labels: tuple[str, ...]) -> np.ndarray | None:
        """The wanted classes' ids in a detector's labels (sources may differ in detector)."""
        if labels not in self._class_ids:
            if not self.cfg.classes:
                self._class_ids[labels] = None
            else:
                known = [
                    c for c in self.cfg.classes if c in labels or labels == self.context.labels
                ]
                ids = resolve_classes(known, labels) if known else []
                self._class_ids[labels] = np.array(ids or [], np.int32)
        return self._class_ids[labels]

    def _chosen(self, item: FrameItem, pending: dict[tuple[str, int], int]) -> np.ndarray:
        """Rows of ``item`` to run the model on; ``pending`` holds the tracks already chosen
        on earlier frames of the batch (their results are not known yet) and is updated."""
        dets, cfg = item.detections, self.cfg
        if not len(dets) or item.still:  # a still frame: tracks keep what they have
            return np.zeros(0, np.int64)
        ok = np.ones(len(dets), bool)
        class_ids = self._classes_of(item.labels or self.context.labels)
        if class_ids is not None:
            ok &= np.isin(dets.class_id, class_ids)
        wh = dets.xyxy[:, 2:] - dets.xyxy[:, :2]
        ok &= wh.max(axis=1) >= cfg.min_box
        ids = dets.tracker_id
        index = item.frame.index
        due = np.zeros(len(dets), np.int64)  # frames since the last run; large = never
        for i in np.flatnonzero(ok):
            tid = int(ids[i]) if ids is not None else -1
            key = (item.source_id, tid)
            known = self.tracks.get(key) if tid >= 0 else None
            last = known.frame if known is not None else None
            if tid >= 0 and key in pending:  # chosen on an earlier frame of this batch
                last = pending[key]
            if last is None:
                due[i] = 1 << 40
                continue
            if cfg.once_per_track:
                ok[i] = False
                continue
            due[i] = index - last
            if due[i] < cfg.every_n_frames:
                ok[i] = False
        untracked = ids is None or not (ids >= 0).any()
        if untracked and index % cfg.every_n_frames:  # untracked: every n-th frame
            ok[:] = False
        chosen = np.flatnonzero(ok)
        if cfg.max_per_frame is not None and len(chosen) > cfg.max_per_frame:
            area = wh[chosen].prod(axis=1)
            order = np.lexsort((-area, -due[chosen]))  # never run first, then stalest, then big
            chosen = np.sort(chosen[order[: cfg.max_per_frame]])
        if ids is not None:
            for row in chosen.tolist():
                if ids[row] >= 0:
                    pending[(item.source_id, int(ids[row]))] = index
        return chosen

    # ------------------------------------------------------------------ aggregating
    def _remember(self, key: tuple[str, int], values: dict[str, np.ndarray], weight: float,
                  frame: int) -> dict[str, np.ndarray]:  # fmt: skip
        old = self.tracks.get(key)
        if old is None:
            res = _TrackResult(dict(values), weight, frame)
            if self.aggregate == "vote":
                res.votes[self._ballot(values)] = weight
            self.tracks[key] = res
            return res.values
        old.runs += 1
        old.frame = frame
        if self.aggregate == "latest":
            old.values, old.weight = dict(values), weight
        elif self.aggregate == "best":
            if weight >= old.weight:
                old.values, old.weight = dict(values), weight
        elif self.aggregate == "mean":
            total = old.weight + weight
            mix = {
                k: (old.values[k] * old.weight + v * weight) / max(total, 1e-9)
                for k, v in values.items()
            }
            if "embedding" in mix:
                e = mix["embedding"]
                mix["embedding"] = e / max(float(np.linalg.norm(e)), 1e-9)
            old.values, old.weight = mix, total
        else:  # vote: the value most often seen, weighted by quality
            ballot = self._ballot(values)
            old.votes[ballot] = old.votes.get(ballot, 0.0) + weight
            if max(old.votes, key=old.votes.__getitem__) == ballot:
                old.values = dict(values)
        return old.values

    @staticmethod
    def _ballot(values: dict[str, np.ndarray]) -> bytes:
        return b"|".join(np.ascontiguousarray(v).tobytes() for k, v in sorted(values.items())
                         if k != "quality")  # fmt: skip

    # ------------------------------------------------------------------ the stage
    def process(self, items: list[FrameItem]) -> None:
        if self.task.follows_tracks and len(items) > 1:
            for item in items:  # each frame sees the one before it
                self.process([item])
            return
        pending: dict[tuple[str, int], int] = {}
        chosen = [self._chosen(item, pending) for item in items]
        jobs = [
            (item.frame.image, item.detections.xyxy[idx])
            for item, idx in zip(items, chosen, strict=True)
            if len(idx)
        ]
        priors = None
        if self.task.follows_tracks and jobs:
            priors = [self._priors(item, idx) for item, idx in zip(items, chosen, strict=True)
                      if len(idx)]  # fmt: skip
        results: Iterator[dict[str, np.ndarray]]
        if not jobs:
            results = iter([])
        elif priors is None:  # plugin tasks may not know priors
            results = iter(self.task.run(jobs))
        else:
            results = iter(self.task.run(jobs, priors))
        if jobs:
            self.model_calls += 1
            self.crops_run += sum(len(b) for _, b in jobs)
        for item, idx in zip(items, chosen, strict=True):
            fresh = next(results) if len(idx) else {}
            self._attach(item, idx, fresh)
            self._prune(item)

    def _priors(self, item: FrameItem, idx: np.ndarray) -> list[np.ndarray | None]:
        """Per chosen row, its track's last ``roi`` when that is from the previous frame."""
        ids = item.detections.tracker_id
        out: list[np.ndarray | None] = []
        for i in idx.tolist():
            known = self.tracks.get((item.source_id, int(ids[i]))) if ids is not None else None
            roi = None if known is None else known.values.get(f"{self.name}_roi")
            fresh = known is not None and known.frame == item.frame.index - 1
            out.append(roi if fresh and roi is not None and np.isfinite(roi).all() else None)
        return out

    def _attach(self, item: FrameItem, idx: np.ndarray, fresh: dict[str, np.ndarray]) -> None:
        dets = item.detections
        n = len(dets)
        ids = dets.tracker_id
        rows: dict[int, dict[str, np.ndarray]] = {}
        age = np.full(n, -1, np.int32)  # frames since computed; -1: nothing for this object
        for j, i in enumerate(idx.tolist()):
            values = {k: v[j] for k, v in fresh.items()}
            tid = int(ids[i]) if ids is not None else -1
            weight = float(values.get("quality", dets.confidence[i]))
            if tid >= 0:
                values = self._remember((item.source_id, tid), values, weight, item.frame.index)
            rows[i] = values
            age[i] = 0
        if ids is not None:
            for i in range(n):
                if i in rows or ids[i] < 0:
                    continue
                known = self.tracks.get((item.source_id, int(ids[i])))
                if known is not None:
                    rows[i] = known.values
                    age[i] = item.frame.index - known.frame
        if not rows:
            return
        sample = next(iter(rows.values()))
        for key, value in sample.items():
            if key == "quality":
                continue
            full = np.full((n, *np.shape(value)), np.nan, np.float32)
            for i, values in rows.items():
                full[i] = values[key]
            dets.data[key] = full
        dets.data[f"{self.name}_age"] = age

    def _prune(self, item: FrameItem) -> None:
        sid, index = item.source_id, item.frame.index
        if index - self._last_prune.get(sid, -(1 << 40)) < 256:
            return
        self._last_prune[sid] = index
        stale = [k for k, r in self.tracks.items()
                 if k[0] == sid and index - r.frame > self.PRUNE_AFTER_FRAMES]  # fmt: skip
        for k in stale:
            del self.tracks[k]

    def track_attributes(self, source_id: str, track_id: int) -> dict[str, Any]:
        known = self.tracks.get((source_id, track_id))
        return self.task.event_attributes(known.values) if known is not None else {}
