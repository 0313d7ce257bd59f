"""Privacy masks: faces or whole people blurred, pixelated or filled in everything shown.

The ``privacy`` stage is a ``post`` stage: it changes the frame itself after the rules and
before any output, so the live view, snapshots, clips, annotated videos, heatmaps and job
outputs all see the masked picture and nothing unmasked is written while it is on.

Masks follow tracks so they do not flicker: every tracked box is masked, and so is every
detection of the masked classes the tracker did not (yet) confirm; a track the detector
misses stays masked where it was heading for ``hold_seconds``, its region growing with the
time since it was last seen (``grow_per_second``). ``mask: faces`` masks the head part of each
person box (the top ``head_fraction``) and, with ``face_detector`` set, the faces YuNet finds
every ``face_every`` frames (held the same way); ``mask: persons`` masks the whole box.
``static`` polygons per source are always masked (a neighbour's window, a screen);
``regions`` per source limit masking to the people standing in them (a zone's polygon).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shigu.core.detections import Detections
from shigu.core.geometry import Polygon
from shigu.core.labels import resolve_classes
from shigu.stages.base import FrameItem, Stage, StageContext

Style = Literal["blur", "pixelate", "fill"]
Point = tuple[float, float]


class PrivacyOptions(BaseModel):
    """Options of the ``privacy`` stage (``pipeline.stages: [{use: privacy, options: ...}]``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    mask: Literal["faces", "persons"] = Field("faces", description="what to mask of a person")
    style: Style = "blur"
    classes: list[str] = Field(["person"], description="classes whose boxes are masked")
    sources: list[str] | None = Field(None, description="sources to mask; null: all")
    static: dict[str, list[list[Point]]] = Field(
        default_factory=dict, description="source id -> polygons always masked"
    )
    regions: dict[str, list[list[Point]]] = Field(
        default_factory=dict,
        description="source id -> polygons: mask only people standing in them (a room, a "
        "desk); sources not listed: everyone",
    )
    min_score: float = Field(0.2, ge=0, le=1, description="untracked detections masked from")
    hold_seconds: float = Field(1.0, ge=0, le=30, description="keep masking a missed track")
    grow: float = Field(0.2, ge=0, le=2, description="grow each region by this share a side")
    grow_per_second: float = Field(
        0.5, ge=0, le=10, description="and by this share per second since last seen"
    )
    head_fraction: float = Field(0.3, gt=0, le=1, description="faces: the top of the box")
    face_detector: str | None = Field(
        None, description="e.g. yunet-face: also mask the faces it finds"
    )
    face_every: int = Field(5, ge=1, le=100, description="run the face detector every n frames")
    colour: tuple[int, int, int] = Field((0, 0, 0), description="BGR colour for style fill")


@dataclass
class _Held:
    box: np.ndarray  # xyxy where the region was last seen
    velocity: np.ndarray  # px/s of the box (xyxy)
    time: float
    tall: float = 0.0  # the track's recent full height: a shorter box has its top cut off


def grown(box: np.ndarray, fraction: float) -> np.ndarray:
    """``box`` (xyxy) grown by ``fraction`` of its width and height on each side."""
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] - fraction * w, box[1] - fraction * h,
                     box[2] + fraction * w, box[3] + fraction * h], np.float64)  # fmt: skip


def head_of(box: np.ndarray, fraction: float) -> np.ndarray:
    """The top ``fraction`` of a person box: where the face is when the person is upright."""
    return np.array([box[0], box[1], box[2], box[1] + fraction * (box[3] - box[1])])


def apply_mask(
    image: np.ndarray, boxes: list[np.ndarray], style: Style, colour: tuple[int, int, int]
) -> None:
    """Blur, pixelate or fill each box of ``image`` in place (boxes clipped to the image)."""
    h, w = image.shape[:2]
    for box in boxes:
        x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
        x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
        if x2 <= x1 or y2 <= y1:
            continue
        roi = image[y1:y2, x1:x2]
        if style == "fill":
            roi[:] = colour
            continue
        rh, rw = roi.shape[:2]
        # a few cells across the shorter side: nothing of a face survives
        cells = 6 if style == "blur" else 8
        scale = cells / max(1, min(rh, rw))
        small = cv2.resize(roi, (max(1, round(rw * scale)), max(1, round(rh * scale))),
                           interpolation=cv2.INTER_AREA)  # fmt: skip
        interp = cv2.INTER_LINEAR if style == "blur" else cv2.INTER_NEAREST
        roi[:] = cv2.resize(small, (rw, rh), interpolation=interp)


def polygon_mask(shape: tuple[int, int], polygons: list[list[Point]]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for poly in polygons:
        cv2.fillPoly(mask, [np.round(np.asarray(poly)).astype(np.int32)], 1)
    return mask.astype(bool)


class PrivacyStage(Stage):
    """Masks people (faces or whole) and static regions in every frame (module docstring)."""

    kind = "post"
    Options = PrivacyOptions
    name = "privacy"

    def __init__(self, options: PrivacyOptions, context: StageContext) -> None:
        super().__init__(options, context)
        self.cfg = options
        self.class_ids = np.array(resolve_classes(options.classes, context.labels), np.int64)
        self.held: dict[tuple[str, int], _Held] = {}
        self.faces: dict[str, list[tuple[np.ndarray, float]]] = {}
        self.static_masks: dict[tuple[str, tuple[int, int]], np.ndarray] = {}
        self.areas = {sid: [Polygon(p) for p in polys] for sid, polys in options.regions.items()}
        self.face_model: Any = None
        if options.face_detector:
            from shigu.detect import load_detector

            self.face_model = load_detector(options.face_detector, conf=0.6)
        self.masked_regions = 0

    def process(self, items: list[FrameItem]) -> None:
        for item in items:
            sid = item.source_id
            if self.cfg.sources is not None and sid not in self.cfg.sources:
                continue
            regions = self.regions(item)
            image = item.frame.image
            apply_mask(image, regions, self.cfg.style, self.cfg.colour)
            self.masked_regions += len(regions)
            polygons = self.cfg.static.get(sid)
            if polygons:
                self._mask_static(image, sid, polygons)

    # ------------------------------------------------------------------ regions
    def _person_rows(self, dets: Detections | None, sid: str) -> np.ndarray:
        """Rows of the masked classes (standing in the source's regions, when it has any)."""
        if dets is None or not len(dets):
            return np.zeros(0, np.int64)
        rows = np.flatnonzero(np.isin(dets.class_id, self.class_ids))
        areas = self.areas.get(sid)
        if areas and len(rows):
            feet = np.stack([(dets.xyxy[rows, 0] + dets.xyxy[rows, 2]) / 2, dets.xyxy[rows, 3]], 1)
            inside = np.zeros(len(rows), bool)
            for area in areas:
                inside |= area.contains(feet)
            rows = rows[inside]
        return rows

    def regions(self, item: FrameItem) -> list[np.ndarray]:
        """The boxes to mask in this frame (already grown)."""
        cfg, sid, now = self.cfg, item.source_id, item.frame.timestamp
        dets = item.detections
        boxes: list[np.ndarray] = []
        seen: set[int] = set()
        rows = self._person_rows(dets, sid)
        ids = dets.tracker_id
        for i in rows.tolist():
            box = dets.xyxy[i].astype(np.float64)
            boxes.append(box)
            if ids is not None and ids[i] >= 0:
                tid = int(ids[i])
                seen.add(tid)
                old = self.held.get((sid, tid))
                velocity = np.zeros(4)
                height = float(box[3] - box[1])
                tall = height
                if old is not None and now > old.time:
                    dt = now - old.time
                    velocity = 0.5 * old.velocity + 0.5 * (box - old.box) / dt
                    tall = max(height, old.tall * max(0.0, 1.0 - 0.25 * dt))  # forgets in ~4 s
                self.held[(sid, tid)] = _Held(box, velocity, now, tall)
                if tall > height:  # occluded at the top (a sign, another person): the head
                    boxes[-1] = np.array([box[0], box[3] - tall, box[2], box[3]])  # is above
        found = item.found
        if found is not None and found is not dets:  # detections no track holds yet
            for i in self._person_rows(found, sid).tolist():
                if found.confidence[i] >= cfg.min_score:
                    boxes.append(found.xyxy[i].astype(np.float64))
        out = [self._region(b, 0.0) for b in boxes]
        for (hsid, tid), held in list(self.held.items()):
            if hsid != sid or tid in seen:
                continue
            age = now - held.time
            if age > cfg.hold_seconds or age < 0:
                del self.held[(hsid, tid)]
                continue
            predicted = held.box + held.velocity * age  # where it was heading
            out.append(self._region(predicted, age))
        out += self._faces(item, now)
        return out

    def _region(self, box: np.ndarray, age: float) -> np.ndarray:
        """The region to mask for a person box, grown by ``grow`` (plus the uncertainty of
        ``age`` seconds unseen) of the *person's* size: a head region grows as much as the
        whole box would, since detector boxes often cut the top of the head."""
        cfg = self.cfg
        region = grown(box, cfg.grow + cfg.grow_per_second * age)
        if cfg.mask == "faces" and box[3] - box[1] >= box[2] - box[0]:
            # upright: the head is at the top (lying: it may be anywhere, so the whole box)
            region[3] = min(region[3], box[1] + cfg.head_fraction * (box[3] - box[1]))
        return region

    def _faces(self, item: FrameItem, now: float) -> list[np.ndarray]:
        if self.face_model is None or self.cfg.mask != "faces":
            return []
        sid = item.source_id
        kept = [(b, t) for b, t in self.faces.get(sid, []) if now - t <= self.cfg.hold_seconds]
        if item.frame.index % self.cfg.face_every == 0:
            found = self.face_model.detect(item.frame.image)
            kept += [(b.astype(np.float64), now) for b in found.xyxy]
        self.faces[sid] = kept
        return [grown(b, self.cfg.grow + 0.25 + self.cfg.grow_per_second * (now - t))
                for b, t in kept]  # fmt: skip

    def _mask_static(self, image: np.ndarray, sid: str, polygons: list[list[Point]]) -> None:
        key = (sid, image.shape[:2])
        mask = self.static_masks.get(key)
        if mask is None:
            mask = self.static_masks[key] = polygon_mask(image.shape[:2], polygons)
        if self.cfg.style == "fill":
            image[mask] = self.cfg.colour
            return
        ys, xs = np.nonzero(mask)
        if not len(ys):
            return
        y1, y2, x1, x2 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        roi, inside = image[y1:y2, x1:x2], mask[y1:y2, x1:x2]
        blurred = roi.copy()
        apply_mask(blurred, [np.array([0, 0, x2 - x1, y2 - y1], np.float64)], self.cfg.style,
                   self.cfg.colour)  # fmt: skip
        roi[inside] = blurred[inside]

    def finish(self, source_id: str) -> list[Any]:
        self.held = {k: v for k, v in self.held.items() if k[0] != source_id}
        self.faces.pop(source_id, None)
        return []
