"""`shigu eval aerial`: DOTA, VisDrone and COCO ground truth against `shigu detect` JSONL,
as a user runs it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run_cli


def _jsonl(path: Path, images: dict[str, list[tuple[list[float], float, str]]]) -> Path:
    lines = []
    for i, (name, dets) in enumerate(images.items()):
        records = [{"xyxy": box, "confidence": s, "class_id": 0, "class_name": c}
                   for box, s, c in dets]  # fmt: skip
        lines.append(json.dumps({"frame": i, "time": 0.0, "file": name, "detections": records}))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture()
def dota(tmp_path: Path) -> Path:
    labels = tmp_path / "labelTxt"
    labels.mkdir()
    (labels / "P1.txt").write_text(
        "imagesource:GoogleEarth\ngsd:0.3\n"
        "10 10 30 10 30 40 10 40 small-vehicle 0\n"
        "100 100 180 100 180 160 100 160 large-vehicle 0\n"
        "300 300 310 300 310 310 300 310 small-vehicle 1\n"
    )
    (labels / "P2.txt").write_text("50 50 70 50 70 70 50 70 small-vehicle 0\n")
    return labels


def test_dota_folder_scored_per_category_and_per_image(dota: Path, tmp_path: Path) -> None:
    pred = _jsonl(tmp_path / "pred.jsonl", {
        "images/P1.png": [([10, 10, 30, 40], 0.9, "car"), ([100, 100, 180, 160], 0.8, "truck"),
                          ([400, 400, 420, 420], 0.3, "car")],
        "images/P2.png": [],
        "images/P9.png": [([1, 1, 5, 5], 0.5, "car")],
    })  # fmt: skip
    out_json, out_csv = tmp_path / "m.json", tmp_path / "m.csv"
    proc = run_cli("eval", "aerial", "--gt", dota, "--pred", pred, "--map",
                   "car=vehicle,truck=vehicle,small-vehicle=vehicle,large-vehicle=vehicle",
                   "--json", out_json, "--csv", out_csv)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1 predicted images have no ground truth" in proc.stdout
    metrics = json.loads(out_json.read_text())
    # 3 objects (the difficult one ignored); 2 found, the third image's object missed
    assert metrics["overall"]["recall50"] == pytest.approx(2 / 3, abs=1e-3)
    assert set(metrics["per_category"]) == {"vehicle"}
    rows = {r["image"]: r for r in csv.DictReader(out_csv.open())}
    assert rows["P1"]["objects"] == "2" and float(rows["P1"]["recall50"]) == pytest.approx(1.0)
    assert rows["P2"]["detections"] == "0" and float(rows["P2"]["recall50"]) == 0.0
    # --agnostic: any box for any object, the same here
    proc = run_cli("eval", "aerial", "--gt", dota, "--pred", pred, "--agnostic", "--json",
                   out_json)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out_json.read_text())["overall"]["recall50"] == pytest.approx(2 / 3, 1e-3)


def test_visdrone_file_and_coco_truth(tmp_path: Path) -> None:
    vis = tmp_path / "0001.txt"
    vis.write_text("684,8,273,116,0,0,0,0\n406,119,265,70,1,4,0,0\n255,22,119,128,1,9,0,1\n")
    found = [([406, 119, 671, 189], 0.9, "car"), ([255, 22, 374, 150], 0.7, "bus")]
    pred = _jsonl(tmp_path / "pred.jsonl", {"0001.jpg": found})
    out = tmp_path / "m.json"
    proc = run_cli("eval", "aerial", "--gt", vis, "--pred", pred, "--json", out)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(out.read_text())
    assert set(metrics["per_category"]) == {"car", "bus"}  # shared names, by default
    assert metrics["overall"]["AP50"] == pytest.approx(1.0)
    coco = tmp_path / "gt.json"
    coco.write_text(json.dumps({
        "images": [{"id": 7, "file_name": "0001.jpg", "width": 1000, "height": 800}],
        "categories": [{"id": 3, "name": "car"}],
        "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [406, 119, 265, 70],
                         "area": 18550, "iscrowd": 0}],
    }))  # fmt: skip
    proc = run_cli("eval", "aerial", "--gt", coco, "--pred", pred, "--json", out)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["overall"]["AP50"] == pytest.approx(1.0)


def test_mistakes_get_one_line_errors(dota: Path, tmp_path: Path) -> None:
    pred = _jsonl(tmp_path / "pred.jsonl", {"P1.png": [([10, 10, 30, 40], 0.9, "car")]})
    proc = run_cli("eval", "aerial", "--gt", dota, "--pred", pred)
    assert_one_line_error(proc, "share no category", code=2)
    proc = run_cli("eval", "aerial", "--gt", dota, "--pred", pred, "--map", "car")
    assert_one_line_error(proc, "is not NAME=CATEGORY", code=2)
    other = _jsonl(tmp_path / "other.jsonl", {"X.png": [([1, 1, 2, 2], 0.9, "car")]})
    proc = run_cli("eval", "aerial", "--gt", dota, "--pred", other, "--agnostic")
    assert_one_line_error(proc, "has ground truth", code=2)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"frame": 0}\n')
    proc = run_cli("eval", "aerial", "--gt", dota, "--pred", bad, "--agnostic")
    assert_one_line_error(proc, "not a `shigu detect` image record", code=2)
    proc = run_cli("eval", "aerial", "--gt", tmp_path / "none", "--pred", pred)
    assert_one_line_error(proc, "does not exist", code=2)
    proc = run_cli("eval", "aerial", "--gt", dota, "--pred", pred, "--format", "yolo")
    assert_one_line_error(proc, "unknown ground-truth format", code=2)
