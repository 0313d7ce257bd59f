"""Plates in the pipeline: a secondary stage that reads the plate of every vehicle track.

``pipeline.stages: [{use: plates, options: {...}}]``. On vehicle tracks (car, bus, truck,
motorcycle by default) whose box is large enough, every ``every_n_frames`` frames, the
plate detector runs on the vehicle's crop and the best plate inside it is read. Readings
of a track are combined by a vote per character weighted by confidence (over the readings
of the most common length), so one bad frame does not decide the plate. When a track has
``min_reads`` readings (or ends, ``lost_seconds`` after it was last seen, or the run ends),
one ``plate_read`` event carries the plate, colour, kind, its confidence, per-character
confidences and how many readings voted; its box is the plate in that frame, so the event's
crop snapshot is the plate. A plate on the ``watchlist`` (exact, or with ``*`` and ``?``
wildcards) also raises a ``watchlist`` event with the entry's label.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shigu.core.errors import ConfigError
from shigu.core.events import Event, EventEnd
from shigu.core.labels import resolve_classes
from shigu.stages.base import FrameItem, Stage, StageContext


class WatchEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # no NaN or Infinity

    plate: str = Field(description="a plate, or a pattern with * and ? (皖A*, 京?12345)")
    label: str = Field("watchlist", description="why it is watched (stolen, VIP, ...)")


class PlateOptions(BaseModel):
    """Options of the ``plates`` stage."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # no NaN or Infinity

    classes: list[str] = Field(["car", "bus", "truck", "motorcycle"])
    detector: str = Field("plate-detect-320", description="plate detector (or 640, a path)")
    every_n_frames: int = Field(2, ge=1, description="read a track at most every n frames")
    min_box: float = Field(64.0, ge=0, description="skip vehicles smaller than this (px)")
    min_reads: int = Field(3, ge=1, description="readings before a track's plate is decided")
    max_reads: int = Field(12, ge=1, description="readings kept per track (the best ones)")
    lost_seconds: float = Field(2.0, gt=0, description="a track unseen this long has ended")
    second_opinion: bool = Field(True, description="PP-OCRv4 for unsure characters")
    repeat_seconds: float = Field(
        10.0, ge=0, description="the same plate again on a source within this is not a new read "
        "(a vehicle whose track broke)",
    )  # fmt: skip
    watchlist: list[WatchEntry] = Field(default_factory=list)


@dataclass
class _Reading:
    text: str
    confs: list[float]
    color: str
    kind: str | None
    valid: bool
    double_row: bool
    box: list[float]
    frame: int
    time: float
    crop: np.ndarray | None = None  # the rectified plate


@dataclass
class _Track:
    class_name: str
    readings: list[_Reading] = field(default_factory=list)
    last_seen: float = 0.0
    last_read: int = -(1 << 40)
    decided: bool = False


def vote(readings: list[_Reading]) -> tuple[str, list[float], int]:
    """The plate the readings agree on: among the readings of the most common length
    (weighted by confidence), each character is the one with the most confidence summed
    over the readings; its confidence is that sum's share of all readings' confidence."""
    by_len: dict[int, float] = {}
    for r in readings:
        by_len[len(r.text)] = by_len.get(len(r.text), 0.0) + sum(r.confs) / max(len(r.confs), 1)
    length = max(by_len, key=lambda n: (by_len[n], n))
    same = [r for r in readings if len(r.text) == length]
    text, confs = [], []
    for i in range(length):
        score: dict[str, float] = {}
        for r in same:
            score[r.text[i]] = score.get(r.text[i], 0.0) + r.confs[i]
        best = max(score, key=lambda c: score[c])
        text.append(best)
        confs.append(score[best] / len(same))
    return "".join(text), confs, len(same)


class PlateStage(Stage):
    """Reads vehicle tracks' plates (see the module's docstring)."""

    kind = "secondary"
    Options = PlateOptions
    name = "plates"

    def __init__(self, options: PlateOptions, context: StageContext, reader: Any = None) -> None:
        super().__init__(options, context)
        self.cfg = options
        if reader is None:
            from shigu.solutions.vehicles.plates import load_plate_reader

            reader = load_plate_reader(options.detector, threads=1, keep_crops=True)
            reader.second_opinion = options.second_opinion
        self.reader = reader
        known = [c for c in options.classes if c in context.labels]  # the detector's classes
        if not known:
            raise ConfigError(
                f"plates: none of the classes {options.classes} is a class of the detector",
                f"the detector knows: {', '.join(context.labels[:12])}...",
            )
        self.class_ids = set(resolve_classes(known, context.labels) or [])
        self.tracks: dict[tuple[str, int], _Track] = {}
        self.crops_run = 0
        self.reads = 0
        self._last_plate: dict[tuple[str, str], float] = {}  # (source, plate) -> media time

    def _watch(self, plate: str) -> WatchEntry | None:
        for entry in self.cfg.watchlist:
            if fnmatch.fnmatchcase(plate, entry.plate):
                return entry
        return None

    def _decide(self, source: str, tid: int, track: _Track, frame: int) -> list[Event]:
        """The track's plate_read (and watchlist) events; none without readings."""
        track.decided = True
        if not track.readings:
            return []
        from shigu.solutions.vehicles.grammar import check_plate

        text, confs, voters = vote(track.readings)
        grammar = check_plate(text)
        best = max((r for r in track.readings if r.text == text),
                   key=lambda r: min(r.confs), default=track.readings[-1])  # fmt: skip
        confidence = min(confs) if confs else 0.0
        last = self._last_plate.get((source, text))
        self._last_plate[(source, text)] = best.time
        if last is not None and best.time - last <= self.cfg.repeat_seconds:
            return []  # the same vehicle seen again under a new track
        if len(self._last_plate) > 4096:  # keep it bounded on a long run
            cutoff = best.time - self.cfg.repeat_seconds
            self._last_plate = {k: t for k, t in self._last_plate.items() if t >= cutoff}
        attributes = {
            "plate": text, "color": best.color, "kind": best.kind if grammar.valid else None,
            "valid": grammar.valid, "double_row": best.double_row,
            "chars_confidence": [round(c, 3) for c in confs], "readings": len(track.readings),
            "voters": voters,
        }  # fmt: skip
        events = [Event(
            type="plate_read", source=source, start=best.time, end=best.time, track_id=tid,
            class_name=track.class_name, confidence=round(confidence, 4),
            frame_index=best.frame, box=best.box, attributes=attributes, crop=best.crop,
        )]  # fmt: skip
        entry = self._watch(text) if grammar.valid else None
        if entry is not None:
            events.append(Event(
                type="watchlist", source=source, start=best.time, end=best.time, track_id=tid,
                class_name=track.class_name, confidence=round(confidence, 4),
                frame_index=best.frame, box=best.box, crop=best.crop,
                attributes={**attributes, "label": entry.label, "pattern": entry.plate},
            ))  # fmt: skip
        return events

    def process(self, items: list[FrameItem]) -> None:
        for item in items:
            self._frame(item)

    def _frame(self, item: FrameItem) -> None:
        dets, frame = item.detections, item.frame
        now, source = frame.timestamp, item.source_id
        ids = dets.tracker_id
        labels = item.labels or self.context.labels
        seen: set[int] = set()
        if ids is not None and len(dets):
            for i in range(len(dets)):
                tid, cls = int(ids[i]), int(dets.class_id[i])
                if tid < 0 or cls not in self.class_ids:
                    continue
                seen.add(tid)
                key = (source, tid)
                track = self.tracks.get(key)
                if track is None:
                    name = labels[cls] if 0 <= cls < len(labels) else str(cls)
                    track = self.tracks[key] = _Track(name)
                track.last_seen = now
                box = dets.xyxy[i]
                big = float(max(box[2] - box[0], box[3] - box[1])) >= self.cfg.min_box
                due = frame.index - track.last_read >= self.cfg.every_n_frames
                if track.decided or item.still or not big or not due:
                    continue
                track.last_read = frame.index
                self._read(frame.image, box, track, frame.index, now)
                if len(track.readings) >= self.cfg.min_reads:
                    item.events.extend(self._decide(source, tid, track, frame.index))
        for key, track in list(self.tracks.items()):  # ended tracks: decide and forget
            if key[0] != source or key[1] in seen:
                continue
            if now - track.last_seen > self.cfg.lost_seconds:
                if not track.decided:
                    item.events.extend(self._decide(source, key[1], track, frame.index))
                del self.tracks[key]

    def _read(self, image: np.ndarray, box: np.ndarray, track: _Track, index: int,
              now: float) -> None:  # fmt: skip
        h, w = image.shape[:2]
        x1, y1, x2, y2 = (float(v) for v in box)
        pad_x, pad_y = 0.05 * (x2 - x1), 0.05 * (y2 - y1)
        a, b = max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y))
        c, d = min(w, int(x2 + pad_x) + 1), min(h, int(y2 + pad_y) + 1)
        if c - a < 16 or d - b < 16:
            return
        self.crops_run += 1
        plates = self.reader.read(image[b:d, a:c])
        if not plates:
            return
        p = max(plates, key=lambda q: q.detection_score)
        self.reads += 1
        track.readings.append(_Reading(
            p.text, list(p.chars_confidence), p.color, p.kind, p.valid, p.double_row,
            [float(p.box[0] + a), float(p.box[1] + b), float(p.box[2] + a), float(p.box[3] + b)],
            index, now, p.crop,
        ))  # fmt: skip
        if len(track.readings) > self.cfg.max_reads:  # keep the surest readings
            track.readings.sort(key=lambda r: min(r.confs) if r.confs else 0.0, reverse=True)
            del track.readings[self.cfg.max_reads :]

    def finish(self, source_id: str) -> list[Event | EventEnd]:
        """At the end of the run: the plates of tracks not decided yet."""
        out: list[Event | EventEnd] = []
        for key, track in list(self.tracks.items()):
            if key[0] == source_id:
                if not track.decided:
                    out += self._decide(source_id, key[1], track, -1)
                del self.tracks[key]
        return out

    def track_attributes(self, source_id: str, track_id: int) -> dict[str, Any]:
        track = self.tracks.get((source_id, track_id))
        if track is None or not track.readings:
            return {}
        text, _, _ = vote(track.readings)
        return {"plate": text}
