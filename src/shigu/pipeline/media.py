"""Event media: snapshots (full frame and crop) and clips from a pre/post ring buffer."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from shigu.core.events import Event
from shigu.io.video_writer import VideoWriter
from shigu.store.media import MediaStore


def _stem(ev: Event) -> str:
    day = ev.wall_time.strftime("%Y-%m-%d")
    return f"{ev.source}/{day}/{ev.wall_time.strftime('%H%M%S')}-{ev.type}-{ev.id[:12]}"


def save_snapshots(
    media: MediaStore, ev: Event, image: np.ndarray, context: np.ndarray | None = None
) -> None:
    """Full frame (``context``: the frame with the scene drawn) with the event's box, and the
    crop around the object from the clean frame; paths set on ``ev``."""
    stem = _stem(ev)
    full = (context if context is not None else image).copy()
    if ev.crop is not None and np.asarray(ev.crop).size:
        ev.snapshot_crop = media.save_jpeg(f"{stem}-crop.jpg", ev.crop)
    if ev.box is not None:
        x1, y1, x2, y2 = (round(v) for v in ev.box)
        cv2.rectangle(full, (x1, y1), (x2, y2), (0, 0, 255), 2)
        h, w = image.shape[:2]
        pad_x, pad_y = max(8, (x2 - x1) // 4), max(8, (y2 - y1) // 4)
        crop = image[
            max(0, y1 - pad_y) : min(h, y2 + pad_y), max(0, x1 - pad_x) : min(w, x2 + pad_x)
        ]
        if crop.size and ev.snapshot_crop is None:
            ev.snapshot_crop = media.save_jpeg(f"{stem}-crop.jpg", crop)
    ev.snapshot = media.save_jpeg(f"{stem}.jpg", full)


@dataclass
class ClipJob:
    event: Event
    frames: list[np.ndarray]
    remaining: int


@dataclass
class ClipRecorder:
    """Keeps the last ``pre`` seconds of one source; an event's clip adds ``post`` seconds."""

    fps: float
    pre_seconds: float
    post_seconds: float
    ring: deque[np.ndarray] = field(init=False)
    jobs: list[ClipJob] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ring = deque(maxlen=max(1, round(self.pre_seconds * self.fps)))

    def push(self, image: np.ndarray) -> list[ClipJob]:
        """Add a frame; returns jobs whose clip is now complete."""
        self.ring.append(image)
        done = []
        for job in self.jobs:
            job.frames.append(image)
            job.remaining -= 1
            if job.remaining <= 0:
                done.append(job)
        self.jobs = [j for j in self.jobs if j.remaining > 0]
        return done

    def start(self, ev: Event) -> None:
        self.jobs.append(ClipJob(ev, list(self.ring), max(1, round(self.post_seconds * self.fps))))

    def flush(self) -> list[ClipJob]:
        done, self.jobs = self.jobs, []
        return done


def write_clip(media: MediaStore, job: ClipJob, fps: float) -> str | None:
    rel = f"{_stem(job.event)}.mp4"

    def write(path: Path) -> None:
        with VideoWriter(path, fps=fps) as writer:
            for image in job.frames:
                writer.write(image)

    return media.save_with(rel, write)
