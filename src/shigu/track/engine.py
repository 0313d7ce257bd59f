"""The association engine behind Shigu's trackers, vectorised over all tracks.

ByteTrack and OC-SORT differ in which tracks meet which detections in which order, and in a
few corrections; they share everything else. This engine runs one frame as a short cascade:

1. predict every track (Kalman, optional camera-motion compensation);
2. high-score detections against the first pool (confirmed + lost tracks for ByteTrack, every
   track for OC-SORT) by IoU, optionally weighted by score, plus OC-SORT's velocity-direction
   term (OCM) and an appearance term (ReID);
3. low-score detections against still-unmatched confirmed tracks (ByteTrack's BYTE step);
4. OC-SORT's recovery (OCR): unmatched tracks' last *observed* boxes against the high-score
   leftovers, for objects that stopped while hidden;
5. tentative tracks against the leftovers (ByteTrack);
6. matched tracks that were lost are re-updated along a virtual path from their last
   observation (OC-SORT's ORU) before the real update, so the gap does not bend their velocity;
7. new tracks from confident leftovers; lifecycle bookkeeping.

Per-class: a track only ever matches detections of its own class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.track.base import RING, TrackStore, class_gate, frames_for
from shigu.track.cmc import CameraMotion
from shigu.track.kalman import BoxKalmanFilter, KalmanConfig, xywh_to_xyxy, xyxy_to_xywh
from shigu.track.matching import iou_matrix, linear_assignment
from shigu.track.reid import ReIDModel

Ints = npt.NDArray[np.intp]
F64 = npt.NDArray[np.float64]

# track states as plain ints: enum attribute lookups cost more than the arithmetic here
TENTATIVE, CONFIRMED, LOST = 0, 1, 2


@dataclass
class TrackerConfig:
    """Every knob of the engine. Presets live in ``shigu.track.factory``.

    Attributes:
        high_thresh: detections at or above this score take part in the first association.
        low_thresh: detections below this score are ignored.
        new_track_thresh: unmatched high detections start tracks at or above this score.
        match_iou: minimum IoU (after score weighting) in the first association.
        low_match_iou: minimum IoU for the low-score association.
        tentative_match_iou: minimum IoU for tentative tracks.
        recovery_iou: minimum IoU for OC-SORT's recovery on last observations (0: off).
        lost_buffer: frames a lost track is kept, counted at 30 fps and scaled to the video.
        min_hits: matches before a track is confirmed and reported.
        fuse_score: weight IoU by detection score in the first association.
        tentative_in_first_pool: OC-SORT puts tentative tracks in the first association;
            ByteTrack gives them only the leftovers.
        byte: run the low-score association.
        oru: OC-SORT's observation-centric re-update after a gap.
        ocm_weight: OC-SORT's velocity-direction consistency weight (0: off).
        ocm_delta: frames back used for a track's motion direction.
        output: ``"detection"`` reports the detection box, ``"filtered"`` the Kalman box.
        box_buffer: grow boxes by this fraction of their size on each side before the first
            IoU (buffered IoU, as C-BIoU), so small or fast objects still overlap their
            prediction at low frame rates (0: plain IoU).
    """

    high_thresh: float = 0.6
    low_thresh: float = 0.1
    new_track_thresh: float = 0.7
    match_iou: float = 0.2
    low_match_iou: float = 0.5
    tentative_match_iou: float = 0.3
    recovery_iou: float = 0.0
    lost_buffer: int = 30
    min_hits: int = 2
    fuse_score: bool = True
    tentative_in_first_pool: bool = False
    byte: bool = True
    oru: bool = False
    ocm_weight: float = 0.0
    ocm_delta: int = 3
    output: str = "detection"
    box_buffer: float = 0.0


class AssociationTracker:
    """Multi-object tracker over ``Detections`` (see the module docstring for the cascade).

    Args:
        config: thresholds, buffers and which corrections run.
        frame_rate: the video's frame rate (scales ``lost_buffer``).
        cmc: camera-motion compensation applied when frames are passed to ``update``.
        reid: appearance model; embeddings are fused into the first association.
        kalman: Kalman noise settings.
    """

    name = "custom"

    def __init__(
        self,
        config: TrackerConfig | None = None,
        frame_rate: float = 30.0,
        cmc: CameraMotion | None = None,
        reid: ReIDModel | None = None,
        kalman: KalmanConfig | None = None,
    ) -> None:
        self.config = config or TrackerConfig()
        self.frame_rate = frame_rate
        self.max_lost = frames_for(self.config.lost_buffer, frame_rate)
        self.kf = BoxKalmanFilter(kalman)
        self.cmc = cmc
        self.reid = reid
        self.reset()

    def reset(self) -> None:
        self.tracks = TrackStore()
        self.frame_no = 0
        self.next_id = 1
        # the one class every track has so far (-1: no tracks yet), None once classes mix
        self._track_class: int | None = -1
        if self.cmc is not None:
            self.cmc.reset()

    # ------------------------------------------------------------------ one frame
    def update(self, detections: Detections, frame: Frame | np.ndarray | None = None) -> Detections:
        """Associate one frame; returns the detections of confirmed tracks with their ids."""
        cfg = self.config
        self.frame_no += 1
        t = self.tracks
        image = None  # read only when needed: a decoded frame makes its pixels on first use
        if self.cmc is not None or self.reid is not None:
            image = frame.image if isinstance(frame, Frame) else frame
        n_tracks = len(t)
        if n_tracks:
            t.since_update += 1  # matched tracks are reset to 0 below
            self.kf.predict(t.kf, freeze_size_velocity=t.state != CONFIRMED)
            if self.cmc is not None and image is not None:
                self.cmc.apply(image, t.kf)
        elif self.cmc is not None and image is not None:
            self.cmc.observe(image)

        scores = detections.confidence
        det_boxes = detections.xyxy.astype(np.float64)
        det_xywh = xyxy_to_xywh(det_boxes)
        det_cls = detections.class_id
        is_high = scores >= cfg.high_thresh
        high = is_high.nonzero()[0]
        low = ((scores >= cfg.low_thresh) & ~is_high).nonzero()[0] if cfg.byte else high[:0]
        embeddings = None
        if self.reid is not None and image is not None and len(high):
            embeddings = np.zeros((len(detections), self.reid.dim), np.float32)
            embeddings[high] = self.reid.embed(image, det_boxes[high])

        state = t.state
        pred = t.kf.xyxy() if n_tracks else np.zeros((0, 4))
        gate = class_gate if self._mixed_classes(det_cls) else _no_gate
        # one IoU matrix of every track against every high detection, sliced per stage
        if cfg.box_buffer > 0:
            iou_high = iou_matrix(
                _grow(pred, cfg.box_buffer), _grow(det_boxes[high], cfg.box_buffer)
            )
        else:
            iou_high = iou_matrix(pred, det_boxes[high])
        matched_t: list[Ints] = []
        matched_d: list[Ints] = []

        # 1) first association
        if cfg.tentative_in_first_pool:
            pool = np.arange(n_tracks)
        else:
            pool = (state != TENTATIVE).nonzero()[0]
        iou = iou_high if len(pool) == n_tracks else iou_high[pool]
        sim = iou * scores[high][None, :] if cfg.fuse_score else iou
        if cfg.ocm_weight > 0 and len(pool) and len(high):
            sim = sim + self._direction_term(pool, det_boxes[high], scores[high])
        cost = 1.0 - sim
        if embeddings is not None and t.embedding is not None and len(pool) and len(high):
            cost = self._fuse_appearance(cost, iou, t.embedding[pool], embeddings[high])
        gate(cost, t.cls[pool], det_cls[high])
        r, c, un_t, un_d = linear_assignment(cost, 1.0 - cfg.match_iou)
        matched_t.append(pool[r])
        matched_d.append(high[c])
        left_tracks = pool[un_t]
        left_high_pos = un_d  # positions within `high`

        # 2) low-score detections rescue confirmed tracks (BYTE)
        if len(low):
            pool2 = left_tracks[state[left_tracks] == CONFIRMED]
            if len(pool2):
                cost = 1.0 - iou_matrix(pred[pool2], det_boxes[low])
                gate(cost, t.cls[pool2], det_cls[low])
                r, c, _, _ = linear_assignment(cost, 1.0 - cfg.low_match_iou)
                matched_t.append(pool2[r])
                matched_d.append(low[c])
                done = np.zeros(n_tracks, bool)
                done[pool2[r]] = True
                left_tracks = left_tracks[~done[left_tracks]]

        # 3) recovery on last observations (OC-SORT's OCR)
        if cfg.recovery_iou > 0 and len(left_tracks) and len(left_high_pos):
            pool3 = left_tracks[state[left_tracks] != TENTATIVE]
            if len(pool3):
                dets3 = high[left_high_pos]
                cost = 1.0 - iou_matrix(t.last_box[pool3], det_boxes[dets3])
                gate(cost, t.cls[pool3], det_cls[dets3])
                r, c, _, un = linear_assignment(cost, 1.0 - cfg.recovery_iou)
                matched_t.append(pool3[r])
                matched_d.append(dets3[c])
                left_high_pos = left_high_pos[un]

        # 4) tentative tracks with the leftovers (ByteTrack)
        if not cfg.tentative_in_first_pool and len(left_high_pos):
            tent = (state == TENTATIVE).nonzero()[0]
            if len(tent):
                iou = iou_high[np.ix_(tent, left_high_pos)]
                dets4 = high[left_high_pos]
                sim = iou * scores[dets4][None, :] if cfg.fuse_score else iou
                cost = 1.0 - sim
                gate(cost, t.cls[tent], det_cls[dets4])
                r, c, _, un = linear_assignment(cost, 1.0 - cfg.tentative_match_iou)
                matched_t.append(tent[r])
                matched_d.append(dets4[c])
                left_high_pos = left_high_pos[un]

        ti = np.concatenate(matched_t) if len(matched_t) > 1 else matched_t[0]
        di = np.concatenate(matched_d) if len(matched_d) > 1 else matched_d[0]
        out_ids, out_filtered = self._apply_matches(ti, di, det_boxes, det_xywh, scores, embeddings)

        # lifecycle: a confirmed track's first miss makes it lost (and freezes a snapshot for
        # ORU); missed tentative tracks and tracks lost for too long go
        if n_tracks:
            missed_now = t.since_update == 1
            newly_lost = missed_now & (t.state == CONFIRMED)
            if newly_lost.any():
                if cfg.oru:
                    rows = newly_lost.nonzero()[0]
                    t.saved.assign(rows, t.kf.select(rows))
                t.state[newly_lost] = LOST
            dead = (missed_now & (t.state == TENTATIVE)) | (t.since_update > self.max_lost)
            if dead.any():
                t.keep(~dead)

        # 5) new tracks
        starters = high[left_high_pos]
        starters = starters[scores[starters] >= cfg.new_track_thresh]
        if len(starters):
            born_confirmed = self.frame_no == 1 or cfg.min_hits <= 1
            emb = embeddings[starters] if embeddings is not None else None
            self.next_id = t.add(
                self.kf.initiate(det_boxes[starters], det_xywh[starters]),
                det_boxes[starters],
                det_cls[starters],
                scores[starters],
                self.frame_no,
                born_confirmed,
                self.next_id,
                emb,
            )
            if self._track_class is not None:
                born = det_cls[starters]
                c0 = int(born[0])
                mixed = (born != c0).any() or (self._track_class >= 0 and self._track_class != c0)
                self._track_class = None if mixed else c0
            if born_confirmed:
                return self._output(
                    detections,
                    np.concatenate([di, starters]),
                    np.concatenate([out_ids, t.ids[-len(starters) :]]),
                    None
                    if out_filtered is None
                    else np.concatenate([out_filtered, det_boxes[starters]]),
                )
        return self._output(detections, di, out_ids, out_filtered)

    # ------------------------------------------------------------------ helpers
    def _mixed_classes(self, det_cls: npt.NDArray[np.int32]) -> bool:
        """Whether class gating can change anything this frame (not when all share a class)."""
        if len(det_cls) == 0:
            return False
        first = int(det_cls[0])
        if self._track_class is None or (self._track_class >= 0 and self._track_class != first):
            return True
        return bool((det_cls != first).any())

    def _apply_matches(
        self,
        ti: Ints,
        di: Ints,
        det_boxes: F64,
        det_xywh: F64,
        scores: npt.NDArray[np.float32],
        embeddings: npt.NDArray[np.float32] | None,
    ) -> tuple[npt.NDArray[np.int64], F64 | None]:
        t = self.tracks
        if len(ti) == 0:
            return np.zeros(0, np.int64), None if self.config.output == "detection" else np.zeros(
                (0, 4)
            )
        boxes = det_boxes[di]
        if self.config.oru:
            self._reupdate_after_gap(ti, boxes)
        corrected = self.kf.update(t.kf, ti, boxes, det_xywh[di])
        t.observe(ti, boxes, self.frame_no, ring=self.config.ocm_weight > 0)
        t.score[ti] = scores[di]
        t.since_update[ti] = 0
        t.hits[ti] += 1
        st = t.state[ti]
        t.state[ti[st == LOST]] = CONFIRMED
        promote = ti[(st == TENTATIVE) & (t.hits[ti] >= self.config.min_hits)]
        if len(promote):
            t.state[promote] = CONFIRMED
            t.ids[promote] = np.arange(self.next_id, self.next_id + len(promote))
            self.next_id += len(promote)
        if embeddings is not None and t.embedding is not None:
            fresh = np.any(embeddings[di] != 0, axis=1)
            if fresh.any():
                rows = ti[fresh]
                mixed = 0.9 * t.embedding[rows] + 0.1 * embeddings[di[fresh]]
                mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-6)
                t.embedding[rows] = mixed
        filtered = xywh_to_xyxy(corrected) if self.config.output == "filtered" else None
        return t.ids[ti], filtered

    def _reupdate_after_gap(self, ti: Ints, boxes: F64) -> None:
        """ORU: replay a lost track from its frozen state along a straight virtual path."""
        t = self.tracks
        gaps = self.frame_no - t.last_frame[ti]
        back = ((gaps > 1) & (t.hits[ti] > 1)).nonzero()[0]
        if len(back) == 0:
            return
        rows = ti[back]
        start, end, gap = t.last_box[rows], boxes[back], gaps[back]
        replay = t.saved.select(rows)
        for step in range(1, int(gap.max())):
            active = (gap > step).nonzero()[0]
            if len(active) == 0:
                break
            frac = (step / gap[active])[:, None]
            virtual = start[active] + (end[active] - start[active]) * frac
            self.kf.update(replay, active, virtual)
            self.kf.predict(replay, index=active)
        t.kf.assign(rows, replay)

    def _direction_term(self, pool: Ints, boxes: F64, scores: npt.NDArray[np.float32]) -> F64:
        """OCM: reward candidates that continue each track's recent direction of motion."""
        t = self.tracks
        frames = t.obs_frame[pool]
        centres = t.obs_centre[pool]
        last = centres[:, -1]
        # the observation about `ocm_delta` frames before the last one (oldest in the ring)
        k = max(0, RING - 1 - self.config.ocm_delta)
        prev = centres[:, k]
        valid = (frames[:, k] >= 0) & (frames[:, -1] > frames[:, k])
        track_dir = last - prev
        track_dir /= np.maximum(np.linalg.norm(track_dir, axis=1, keepdims=True), 1e-6)
        det_centre = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
        cand = det_centre[None, :, :] - prev[:, None, :]
        cand /= np.maximum(np.linalg.norm(cand, axis=2, keepdims=True), 1e-6)
        cos = np.clip(np.einsum("tk,tdk->td", track_dir, cand), -1.0, 1.0)
        angle = np.arccos(cos)
        term: F64 = (np.pi / 2 - np.abs(angle)) / np.pi * valid[:, None]
        term *= self.config.ocm_weight * scores[None, :]
        return term

    def _fuse_appearance(
        self,
        cost: F64,
        iou: F64,
        track_emb: npt.NDArray[np.float32],
        det_emb: npt.NDArray[np.float32],
    ) -> F64:
        """BoT-SORT style: trust appearance only where boxes are near and looks agree."""
        emb_cost = (1.0 - np.clip(track_emb @ det_emb.T, -1, 1).astype(np.float64)) / 2.0
        emb_cost[(emb_cost > 0.25) | (iou < self.config.match_iou)] = 1.0
        fused: F64 = np.minimum(cost, emb_cost)
        return fused

    def _output(
        self, detections: Detections, di: Ints, ids: npt.NDArray[np.int64], filtered: F64 | None
    ) -> Detections:
        confirmed = ids >= 0
        rows = di[confirmed]
        return Detections.trusted(
            detections.xyxy[rows] if filtered is None else filtered[confirmed].astype(np.float32),
            detections.confidence[rows],
            detections.class_id[rows],
            ids[confirmed],
            None if detections.mask is None else detections.mask[rows],
            None if detections.keypoints is None else detections.keypoints[rows],
            {k: v[rows] for k, v in detections.data.items()} if detections.data else None,
        )


def _grow(xyxy: F64, fraction: float) -> F64:
    """Boxes enlarged by ``fraction`` of their width/height on every side."""
    wh = xyxy[:, 2:4] - xyxy[:, 0:2]
    pad = np.concatenate([wh, wh], axis=1) * fraction
    out: F64 = xyxy + pad * np.array([-1.0, -1.0, 1.0, 1.0])
    return out


def _no_gate(cost: F64, track_cls: npt.NDArray[np.int32], det_cls: npt.NDArray[np.int32]) -> None:
    """Single-class frame: nothing to forbid."""
