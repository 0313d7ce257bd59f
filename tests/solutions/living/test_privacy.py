"""Privacy masks: the stage on synthetic frames, then PETS through the pipeline and its outputs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.eval.privacy import Leakage
from shigu.pipeline import Pipeline, parse_config
from shigu.solutions.living.privacy import PrivacyOptions, PrivacyStage, apply_mask
from shigu.stages.base import FrameItem, StageContext

MAGENTA = (255, 0, 255)


def textured(h: int = 240, w: int = 320) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(30, 200, (h, w, 3), dtype=np.uint8)


def item(image: np.ndarray, index: int, boxes: list[list[float]], ids: list[int] | None,
         found: list[list[float]] | None = None, fps: float = 10.0) -> FrameItem:  # fmt: skip
    def dets(bs: list[list[float]], tids: list[int] | None) -> Detections:
        if not bs:
            return Detections.empty()
        return Detections(np.array(bs, np.float32), np.full(len(bs), 0.9, np.float32),
                          np.zeros(len(bs), np.int64),
                          tracker_id=None if tids is None else np.array(tids))  # fmt: skip

    frame = Frame(image, index=index, timestamp=index / fps, source_id="cam")
    raw = dets(found, None) if found is not None else None
    return FrameItem(frame, dets(boxes, ids), labels=("person",), found=raw)


def stage(**options: object) -> PrivacyStage:
    return PrivacyStage(PrivacyOptions.model_validate(options), StageContext(("person",)))


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


@pytest.mark.parametrize("style", ["blur", "pixelate", "fill"])
def test_each_style_changes_the_box_and_nothing_else(style: str) -> None:
    image = textured()
    out = image.copy()
    apply_mask(out, [np.array([50.0, 40.0, 110.0, 160.0])], style, MAGENTA)  # type: ignore[arg-type]
    diff = changed(image, out)
    assert diff[40:160, 50:110].mean() > 0.9
    assert not diff[:40].any() and not diff[160:].any() and not diff[:, 110:].any()
    roi = out[40:160, 50:110].astype(np.float64)
    assert roi.std(axis=(0, 1)).mean() < 0.5 * image[40:160, 50:110].std(axis=(0, 1)).mean()


def test_persons_are_masked_whole_and_faces_only_at_the_top() -> None:
    image = textured()
    persons = stage(mask="persons", style="fill", colour=MAGENTA, grow=0.0)
    it = item(image.copy(), 0, [[100, 50, 140, 170]], [1])
    persons.process([it])
    assert changed(image, it.frame.image)[50:170, 100:140].all()
    faces = stage(mask="faces", style="fill", colour=MAGENTA, grow=0.0)
    it = item(image.copy(), 0, [[100, 50, 140, 170]], [1])
    faces.process([it])
    diff = changed(image, it.frame.image)
    assert diff[50:80, 100:140].all()  # the top 30%: the head
    assert not diff[100:170, 100:140].any()  # the body stays visible


def test_a_missed_track_stays_masked_where_it_was_going_then_lets_go() -> None:
    image = textured()
    st = stage(mask="persons", style="fill", colour=MAGENTA, grow=0.0, hold_seconds=1.0)
    for i in range(5):  # walking right at 50 px/s (5 px a frame at 10 fps)
        st.process([item(image.copy(), i, [[100 + 5 * i, 50, 140 + 5 * i, 170]], [7])])
    missed = item(image.copy(), 7, [], [])  # the detector misses it for two frames
    st.process([missed])
    diff = changed(image, missed.frame.image)
    assert diff[50:170, 135:175].all()  # predicted 15 px further on, and grown
    later = item(image.copy(), 20, [], [])  # 1.6 s after: no longer held
    st.process([later])
    assert not changed(image, later.frame.image).any()


def test_detections_no_track_holds_yet_are_masked_too() -> None:
    image = textured()
    st = stage(mask="persons", style="fill", colour=MAGENTA, grow=0.0)
    it = item(image.copy(), 0, [], [], found=[[10, 10, 50, 100]])  # a tentative track
    st.process([it])
    assert changed(image, it.frame.image)[10:100, 10:50].all()


def test_static_zones_and_source_selection() -> None:
    image = textured()
    window = [[[200.0, 20.0], [300.0, 20.0], [300.0, 100.0], [200.0, 100.0]]]
    st = stage(style="blur", static={"cam": window}, sources=["cam"])
    it = item(image.copy(), 0, [], [])
    st.process([it])
    diff = changed(image, it.frame.image)
    assert diff[25:95, 205:295].mean() > 0.9 and not diff[120:].any()
    other = stage(style="fill", sources=["elsewhere"])
    it = item(image.copy(), 0, [[10, 10, 50, 100]], [1])
    other.process([it])
    assert not changed(image, it.frame.image).any()


def test_regions_mask_only_the_people_standing_in_them() -> None:
    image = textured()
    desk = [[[0.0, 0.0], [160.0, 0.0], [160.0, 240.0], [0.0, 240.0]]]  # the left half
    st = stage(mask="persons", style="fill", colour=MAGENTA, grow=0.0, regions={"cam": desk})
    it = item(image.copy(), 0, [[20, 20, 60, 120], [200, 20, 240, 120]], [1, 2])
    st.process([it])
    diff = changed(image, it.frame.image)
    assert diff[20:120, 20:60].all() and not diff[:, 160:].any()


def test_unknown_options_are_refused() -> None:
    with pytest.raises(ValueError, match="style"):
        PrivacyOptions.model_validate({"style": "swirl"})


# ---------------------------------------------------------------------- PETS, every output
def _pets_gt(data_dir: Path) -> dict[int, np.ndarray]:
    rows = np.loadtxt(data_dir / "mot" / "MOT15" / "PETS09-S2L1" / "gt" / "gt.txt", delimiter=",")
    out: dict[int, list[list[float]]] = {}
    for r in rows:
        x, y, w, h = (r[2:6] * 0.625).tolist()
        out.setdefault(int(r[0]) - 1, []).append([x, y, x + w, y + h])
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.slow
def test_pets_no_tracked_person_is_visible_in_any_output(
    pets_video: Path, data_dir: Path, tmp_path: Path
) -> None:
    frames = 120
    gt = _pets_gt(data_dir)
    with av.open(str(pets_video)) as c:
        originals = []
        for f in c.decode(video=0):
            originals.append(f.to_ndarray(format="bgr24"))
            if len(originals) == frames:
                break
    cfg = parse_config({
        "sources": [{"id": "gate", "uri": str(pets_video)}],
        "pipeline": {"detector": {"classes": ["person"]},
                     "stages": [{"use": "privacy", "options": {
                         "mask": "persons", "style": "fill", "colour": list(MAGENTA)}}]},
        "zones": [{"id": "all", "source": "gate",
                   "polygon": [[0, 0], [480, 0], [480, 360], [0, 360]],
                   "rules": [{"type": "intrusion", "classes": ["person"]}]}],
        "store": {"url": f"sqlite:///{tmp_path}/p.db", "media_dir": str(tmp_path / "media")},
        "media": {"snapshots": True, "clips": True, "pre_seconds": 1, "post_seconds": 1},
        "sinks": {"video_dir": str(tmp_path / "video"), "heatmap_dir": str(tmp_path / "heat"),
                  "jsonl": str(tmp_path / "events.jsonl")},
    })  # fmt: skip
    leak = Leakage()
    seen = 0

    def check(_sid: str, image: np.ndarray, dets: Detections) -> None:
        nonlocal seen
        leak.add(seen, originals[seen], image, gt.get(seen, np.zeros((0, 4))), dets.xyxy)
        seen += 1

    pipeline = Pipeline(cfg, max_frames=frames, on_frame=check)
    pipeline.run()
    summary = leak.summary()
    assert seen == frames and leak.tracked > 300
    assert summary["frames_with_visible_tracked_person"] == 0.0, summary

    # snapshots: the event's box is the mask's colour, in the full picture and the crop
    events = [json.loads(ln)["event"] for ln in (tmp_path / "events.jsonl").read_text().splitlines()
              if json.loads(ln)["type"] == "new"]  # fmt: skip
    assert len(events) >= 3
    media = tmp_path / "media"
    for ev in events[:3]:
        crop = cv2.imread(str(media / ev["snapshot_crop"]))  # the box with a margin around it
        h, w = crop.shape[:2]
        centre = crop[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].reshape(-1, 3)
        assert np.abs(np.median(centre, axis=0) - MAGENTA).max() < 40, ev["id"]
        full = cv2.imread(str(media / ev["snapshot"]))
        x1, y1, x2, y2 = (int(v) for v in ev["box"])
        inner = full[y1 + 3 : y2 - 3, x1 + 3 : x2 - 3].reshape(-1, 3)
        assert np.abs(np.median(inner, axis=0) - MAGENTA).max() < 40
    # clips and the annotated video: sampled where a person stands in the ground truth
    with sqlite3.connect(tmp_path / "p.db") as db:
        clips = [r[0] for r in db.execute("select clip from events where clip is not null")]
    assert clips
    for path in [media / clips[0], tmp_path / "video" / "gate.mp4"]:
        with av.open(str(path)) as c:
            image = next(c.decode(video=0)).to_ndarray(format="bgr24")
        assert (np.abs(image.astype(int) - MAGENTA).max(axis=2) < 60).mean() > 0.005, path
    # the heatmap's background is the masked first frame, not the original
    heatmap = pipeline.states["gate"].scene.heatmap
    assert heatmap is not None and heatmap.background is not None
    first = Leakage()
    first.add(0, originals[0], heatmap.background, gt[0], gt[0])
    assert first.tracked == len(gt[0]) and first.tracked_leaked == 0
    assert next((tmp_path / "heat").glob("*.png")).stat().st_size > 0
