"""Run a tracker over MOTChallenge detection files and write MOTChallenge result files."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shigu.core.detections import Detections
from shigu.core.errors import InputError
from shigu.sources.mot import SeqInfo, read_mot_txt, read_seqinfo
from shigu.track.base import Tracker


@dataclass
class SequenceDetections:
    """One sequence's public detections, one ``Detections`` per frame (index 0 = frame 1)."""

    info: SeqInfo
    frames: list[Detections]


def normalise_scores(scores: np.ndarray) -> np.ndarray:
    """Map detector scores onto 0..1 when they are not already there.

    MOT15's ACF detections, for instance, score from about -1 to 140. Negative scores become
    0 and the 99th percentile becomes 1, so score thresholds mean the same on every file.
    Scores already within 0..1 are returned unchanged.
    """
    if len(scores) == 0 or (scores.min() >= 0 and scores.max() <= 1):
        return scores
    top = float(np.percentile(scores, 99))
    if top <= 0:
        return np.zeros_like(scores)
    return np.clip(scores / top, 0.0, 1.0).astype(scores.dtype)


def load_mot_detections(
    seq_dir: str | Path, min_score: float = -np.inf, normalise: bool = True
) -> SequenceDetections:
    """Read ``SEQ/det/det.txt`` (MOTChallenge: frame, -1, left, top, width, height, score).

    ``normalise`` maps scores outside 0..1 onto it (see :func:`normalise_scores`).
    """
    seq = Path(seq_dir)
    info = read_seqinfo(seq)
    det_file = seq / "det" / "det.txt"
    if not det_file.is_file():
        raise InputError(f"{seq} has no det/det.txt", "each sequence needs public detections")
    rows = read_mot_txt(det_file)
    rows = rows[rows[:, 6] >= min_score] if len(rows) else rows
    frame_no = rows[:, 0].astype(np.int64)
    length = max(info.length, int(frame_no.max()) if len(frame_no) else 0)
    order = np.argsort(frame_no, kind="stable")
    rows, frame_no = rows[order], frame_no[order]
    bounds = np.searchsorted(frame_no, np.arange(1, length + 2))
    xyxy = rows[:, 2:6].astype(np.float32).copy()
    xyxy[:, 2:] += xyxy[:, :2]
    score = rows[:, 6].astype(np.float32)
    if normalise:
        score = normalise_scores(score)
    frames = []
    for f in range(length):
        a, b = bounds[f], bounds[f + 1]
        frames.append(Detections(xyxy[a:b], score[a:b], np.zeros(b - a, np.int32)))
    return SequenceDetections(info, frames)


def find_mot_sequences(root: str | Path) -> list[Path]:
    """Sequence folders (with ``det/det.txt`` and ``seqinfo.ini``) under ``root`` or ``root``."""
    base = Path(root)
    if not base.is_dir():
        raise InputError(f"folder not found: {root}")
    if (base / "det" / "det.txt").is_file():
        return [base]
    seqs = sorted(p for p in base.iterdir() if (p / "det" / "det.txt").is_file())
    if not seqs:
        raise InputError(
            f"no MOTChallenge sequences in {root}",
            "expected folders with det/det.txt and seqinfo.ini",
        )
    return seqs


@dataclass
class TrackRun:
    """What running a tracker over one sequence produced."""

    name: str
    tracked: list[Detections]
    update_seconds: float

    @property
    def fps(self) -> float:
        return len(self.tracked) / self.update_seconds if self.update_seconds else 0.0


def run_tracker(tracker: Tracker, seq: SequenceDetections) -> TrackRun:
    """Feed every frame's detections to ``tracker`` and time only its ``update`` calls."""
    tracker.reset()
    out: list[Detections] = []
    spent = 0.0
    for dets in seq.frames:
        started = time.perf_counter()
        tracked = tracker.update(dets)
        spent += time.perf_counter() - started
        out.append(tracked)
    return TrackRun(seq.info.name, out, spent)


def write_mot_results(
    path: str | Path, tracked: Sequence[Detections], frame_numbers: Sequence[int] | None = None
) -> int:
    """Write MOTChallenge rows ``frame,id,left,top,width,height,conf,-1,-1,-1``; returns rows."""
    lines: list[str] = []
    for k, dets in enumerate(tracked):
        if dets.tracker_id is None or len(dets) == 0:
            continue
        frame = frame_numbers[k] if frame_numbers is not None else k + 1
        ids = dets.tracker_id
        for i in range(len(dets)):
            if ids[i] < 0:
                continue
            x1, y1, x2, y2 = (float(v) for v in dets.xyxy[i])
            lines.append(
                f"{frame},{int(ids[i])},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},"
                f"{float(dets.confidence[i]):.4f},-1,-1,-1\n"
            )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def track_mot_folder(
    root: str | Path,
    out_dir: str | Path,
    make_tracker: Callable[[SeqInfo], Tracker],
    post: Callable[[list[Detections], SeqInfo], list[Detections]] | None = None,
) -> list[TrackRun]:
    """Track every sequence under ``root`` and write ``out_dir/SEQ.txt`` for each."""
    runs = []
    for seq_dir in find_mot_sequences(root):
        seq = load_mot_detections(seq_dir)
        run = run_tracker(make_tracker(seq.info), seq)
        tracked = post(run.tracked, seq.info) if post is not None else run.tracked
        write_mot_results(Path(out_dir) / f"{seq.info.name}.txt", tracked)
        runs.append(run)
    return runs
