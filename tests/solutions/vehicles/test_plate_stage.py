"""Plates in the pipeline: the vote over a track's readings, one plate_read per vehicle,
watchlist alerts, and events found again by plate (exact, prefix, one character off)."""

from __future__ import annotations

import fractions
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.solutions.vehicles.stage import PlateOptions, PlateStage, _Reading, vote
from shigu.stages.base import FrameItem, StageContext
from shigu.store.events import plate_matches
from tests.cli import run_cli


def _r(text: str, conf: float) -> _Reading:
    return _Reading(text, [conf] * len(text), "blue", "standard", True, False, [0, 0, 1, 1], 0, 0)


def test_vote_per_character_weighted_by_confidence() -> None:
    text, confs, voters = vote([_r("皖A12345", 0.9), _r("陕A12345", 0.5), _r("皖A12346", 0.6),
                                _r("皖A1234", 0.99)])  # fmt: skip
    assert text == "皖A12345" and voters == 3
    assert confs[0] == pytest.approx((0.9 + 0.6) / 3)


class _Reader:
    """Reads the plate written in the frame's data (no models)."""

    second_opinion = True

    def __init__(self, texts: dict[int, str]) -> None:
        self.texts = texts
        self.calls = 0

    def read(self, image: np.ndarray) -> list:  # type: ignore[type-arg]
        from shigu.solutions.vehicles.plates import Plate

        self.calls += 1
        text = self.texts.get(int(image[0, 0, 0]), "")
        if not text:
            return []
        return [Plate(text, 0.99, [0.99] * len(text), np.zeros((4, 2)), np.array([1, 1, 9, 5]),
                      "blue", False, True, "small_vehicle", 0.9)]  # fmt: skip


def _item(index: int, plate_code: int, track: int, t: float) -> FrameItem:
    image = np.full((200, 200, 3), plate_code, np.uint8)
    dets = Detections(np.array([[10, 10, 150, 150]], np.float32), np.array([0.9], np.float32),
                      np.array([2], np.int32), tracker_id=np.array([track]))  # fmt: skip
    return FrameItem(Frame(image, index, t, "gate"), dets, labels=("person", "bicycle", "car"))


def test_one_plate_read_per_vehicle_and_a_watchlist_alert() -> None:
    options = PlateOptions(
        every_n_frames=1,
        min_reads=3,
        lost_seconds=1.0,
        watchlist=[{"plate": "皖A1*", "label": "stolen"}],
    )  # type: ignore[list-item]
    reader = _Reader({7: "皖A12345"})
    stage = PlateStage(options, StageContext(("person", "bicycle", "car")), reader=reader)
    events = []
    for i in range(6):  # one car, track 1, then the track breaks: the same car as track 2
        item = _item(i, 7, 1 if i < 3 else 2, i * 0.1)
        stage.process([item])
        events += item.events
    assert [e.type for e in events] == ["plate_read", "watchlist"]  # track 2: a repeat
    read, alert = events
    assert read.attributes["plate"] == "皖A12345" and read.attributes["readings"] == 3
    assert (
        read.track_id == 1 and read.class_name == "car" and read.box == [4.0, 4.0, 12.0, 8.0]
    )  # the plate in the frame (crop from 3, 3)
    assert alert.attributes["label"] == "stolen"
    assert reader.calls == 6  # three per track; a decided track is not read again
    assert stage.finish("gate") == []


def test_plate_search_patterns() -> None:
    assert plate_matches("皖A12345", "皖A12345") and not plate_matches("皖A12345", "皖A12346")
    assert plate_matches("皖A1*", "皖A12345") and not plate_matches("皖B*", "皖A12345")
    assert plate_matches("~皖A12345", "陕A12345") and plate_matches("~皖A12345", "皖A1234")
    assert plate_matches("~皖A12345", "皖A123456") and not plate_matches("~皖A12345", "陕A12346")


@pytest.mark.integration
def test_run_reads_plates_and_events_are_found_by_plate(data_dir: Path, tmp_path: Path) -> None:
    import av

    paths = sorted((data_dir / "lpr" / "ccpd").glob("*.jpg"))
    video = tmp_path / "cars.mp4"
    with av.open(str(video), "w") as out:  # two cars drive slowly past, with a gap between
        st = out.add_stream("libx264", rate=10)
        st.width, st.height, st.pix_fmt = 720, 1152, "yuv420p"
        i = 0
        for p in (paths[0], paths[1]):  # CCPD: 皖AYL375, 皖AY766D
            image = cv2.imread(str(p))[:1152]
            for k in range(20):
                picture = np.roll(image, 2 * k, axis=1) if k < 15 else np.full_like(image, 90)
                frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
                frame.pts, frame.time_base = i, fractions.Fraction(1, 10)
                i += 1
                for pkt in st.encode(frame):
                    out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    db = tmp_path / "events.db"
    cfg = {
        "sources": [{"id": "gate", "uri": str(video)}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["car", "bus", "truck"]},
                     "stages": [{"use": "plates", "options": {
                         "watchlist": [{"plate": "皖AY7*", "label": "stolen"}]}}]},
        "store": {"url": f"sqlite:///{db}", "media_dir": str(tmp_path / "media")},
    }  # fmt: skip
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    proc = run_cli("run", config, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "plates.jsonl"
    proc = run_cli("events", "export", out, "--db", f"sqlite:///{db}", "--type", "plate_read")
    assert proc.returncode == 0, proc.stderr
    reads = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["attributes"]["plate"] for r in reads) == ["皖AY766D", "皖AYL375"]
    for r in reads:
        assert r["attributes"]["valid"] and r["attributes"]["color"] == "blue"
        assert r["confidence"] > 0.9 and r["box"] and r["has_snapshot"]
    import sqlite3

    crops = [row[0] for row in sqlite3.connect(db).execute(
        "select snapshot_crop from events where type = 'plate_read'")]  # fmt: skip
    for rel in crops:  # the crop snapshot is the rectified plate: wide, not the vehicle
        crop = cv2.imread(str(tmp_path / "media" / rel))
        assert crop is not None and crop.shape[1] > 2.5 * crop.shape[0]
    for pattern, expect in (("皖AYL375", 1), ("皖AY*", 2), ("~皖AYL376", 1), ("~京AYL376", 0)):
        out = tmp_path / "found.jsonl"
        proc = run_cli("events", "export", out, "--db", f"sqlite:///{db}", "--plate", pattern,
                       "--type", "plate_read")  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert len(out.read_text(encoding="utf-8").splitlines()) == expect, pattern
    proc = run_cli("events", "export", out, "--db", f"sqlite:///{db}", "--type", "watchlist")
    assert proc.returncode == 0, proc.stderr
    (alert,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert alert["attributes"]["label"] == "stolen" and alert["attributes"]["plate"] == "皖AY766D"
