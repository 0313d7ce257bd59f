"""What trackers share: the ``Tracker`` protocol, track lifecycle, and a struct-of-arrays store.

Tracks live in parallel numpy arrays (one row per track) rather than one Python object each,
so prediction, cost matrices and updates are single array operations over all tracks.

Lifecycle: a new track is ``TENTATIVE`` until it has been matched ``min_hits`` times; then it
is ``CONFIRMED`` and receives an id. A confirmed track that misses a frame becomes ``LOST``
and is kept for ``lost_buffer`` frames in case its object reappears; after that it is
``REMOVED`` (deleted from the store). A tentative track that misses a frame is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.track.kalman import KalmanState

RING = 4  # observations remembered per track for motion direction


class TrackState(IntEnum):
    TENTATIVE = 0
    CONFIRMED = 1
    LOST = 2
    REMOVED = 3


@runtime_checkable
class Tracker(Protocol):
    """Turns each frame's detections into detections with ``tracker_id`` set."""

    def update(self, detections: Detections, frame: Frame | np.ndarray | None = None) -> Detections:
        """Associate one frame's detections; returns the tracked ones with ids (>= 1)."""
        ...

    def reset(self) -> None:
        """Forget every track (a new video)."""
        ...


@dataclass
class TrackStore:
    """All live tracks as parallel arrays; row i of every array is track i."""

    kf: KalmanState = field(default_factory=KalmanState.empty)
    ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    cls: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    state: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    hits: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    since_update: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    score: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    last_box: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 4)))
    first_frame: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    last_frame: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    # Kalman state frozen when a confirmed track is first missed (OC-SORT's ORU restores it)
    saved: KalmanState = field(default_factory=KalmanState.empty)
    # centres of the last RING observations and the frames they came from (OC-SORT's OCM)
    obs_centre: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, RING, 2)))
    obs_frame: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, RING), np.int64))
    embedding: npt.NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        kf: KalmanState,
        boxes: npt.NDArray[np.float64],
        cls: npt.NDArray[np.int32],
        score: npt.NDArray[np.float32],
        frame_no: int,
        confirmed: bool,
        next_id: int,
        embedding: npt.NDArray[np.float32] | None = None,
    ) -> int:
        """Append tracks; confirmed ones take ids from ``next_id``. Returns the next free id."""
        n = len(boxes)
        if n == 0:
            return next_id
        if confirmed:
            new_ids = np.arange(next_id, next_id + n, dtype=np.int64)
            next_id += n
        else:
            new_ids = np.full(n, -1, np.int64)
        self.kf = self.kf.concat(kf)
        self.ids = np.concatenate([self.ids, new_ids])
        self.cls = np.concatenate([self.cls, cls.astype(np.int32)])
        state = TrackState.CONFIRMED if confirmed else TrackState.TENTATIVE
        self.state = np.concatenate([self.state, np.full(n, state, np.int8)])
        self.hits = np.concatenate([self.hits, np.ones(n, np.int32)])
        self.since_update = np.concatenate([self.since_update, np.zeros(n, np.int32)])
        self.score = np.concatenate([self.score, score.astype(np.float32)])
        self.last_box = np.concatenate([self.last_box, boxes.astype(np.float64)])
        self.first_frame = np.concatenate([self.first_frame, np.full(n, frame_no, np.int64)])
        self.last_frame = np.concatenate([self.last_frame, np.full(n, frame_no, np.int64)])
        self.saved = self.saved.concat(kf)
        centre = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
        ring = np.repeat(centre[:, None, :], RING, axis=1)
        frames = np.full((n, RING), -1, np.int64)
        frames[:, -1] = frame_no
        self.obs_centre = np.concatenate([self.obs_centre, ring])
        self.obs_frame = np.concatenate([self.obs_frame, frames])
        if embedding is not None:
            base = (
                self.embedding
                if self.embedding is not None
                else np.zeros((len(self.ids) - n, embedding.shape[1]), np.float32)
            )
            self.embedding = np.concatenate([base, embedding.astype(np.float32)])
        elif self.embedding is not None:
            self.embedding = np.concatenate(
                [self.embedding, np.zeros((n, self.embedding.shape[1]), np.float32)]
            )
        return next_id

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        """Drop the tracks where ``mask`` is False."""
        if mask.all():
            return
        self.kf = self.kf.select(mask)
        self.ids = self.ids[mask]
        self.cls = self.cls[mask]
        self.state = self.state[mask]
        self.hits = self.hits[mask]
        self.since_update = self.since_update[mask]
        self.score = self.score[mask]
        self.last_box = self.last_box[mask]
        self.first_frame = self.first_frame[mask]
        self.last_frame = self.last_frame[mask]
        self.saved = self.saved.select(mask)
        self.obs_centre = self.obs_centre[mask]
        self.obs_frame = self.obs_frame[mask]
        if self.embedding is not None:
            self.embedding = self.embedding[mask]

    def observe(
        self,
        rows: npt.NDArray[np.intp],
        boxes: npt.NDArray[np.float64],
        frame_no: int,
        ring: bool = True,
    ) -> None:
        """Record matched observations (last box, frame and, with ``ring``, the centre ring)."""
        if len(rows) == 0:
            return
        self.last_box[rows] = boxes
        self.last_frame[rows] = frame_no
        if not ring:
            return
        self.obs_centre[rows, :-1] = self.obs_centre[rows, 1:]
        self.obs_centre[rows, -1] = (boxes[:, :2] + boxes[:, 2:]) * 0.5
        self.obs_frame[rows, :-1] = self.obs_frame[rows, 1:]
        self.obs_frame[rows, -1] = frame_no


def class_gate(
    cost: npt.NDArray[np.float64],
    track_cls: npt.NDArray[np.int32],
    det_cls: npt.NDArray[np.int32],
    blocked: float = 1e6,
) -> None:
    """Forbid matches across classes (in place), so a car never takes a person's id."""
    if cost.size and (
        track_cls.min(initial=0) != track_cls.max(initial=0)
        or det_cls.min(initial=0) != det_cls.max(initial=0)
        or (len(track_cls) and len(det_cls) and track_cls[0] != det_cls[0])
    ):
        cost[track_cls[:, None] != det_cls[None, :]] = blocked


def frames_for(seconds_or_frames: float, frame_rate: float, reference_rate: float = 30.0) -> int:
    """A buffer given in frames at ``reference_rate`` scaled to this video's frame rate."""
    return max(1, round(seconds_or_frames * frame_rate / reference_rate))
