"""`shigu thermal` and the thermal pipeline (``thermal:`` source, ``temperature`` rule) as a
user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.solutions.thermal.planck import celsius_to_raw
from shigu.solutions.thermal.rjpeg import parse_fff
from tests.cli import assert_one_line_error, run_cli
from tests.solutions.thermal.seqmaker import fff_of, with_raw, write_seq

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rjpeg_dir(data_dir: Path) -> Path:
    folder = data_dir / "thermal" / "rjpeg"
    if not folder.is_dir():
        pytest.skip("thermal samples not in the shared data")
    return folder


def test_folder_to_json_palettes_and_measurements(rjpeg_dir: Path, data_dir: Path,
                                                  tmp_path: Path) -> None:  # fmt: skip
    ref = json.loads((data_dir / "thermal" / "reference_temperatures.json").read_text())
    out_json, out_dir = tmp_path / "t.json", tmp_path / "pal"
    proc = run_cli("thermal", rjpeg_dir / "T640.jpg", rjpeg_dir / "Flir_E40.jpg", "--json",
                   out_json, "--out", out_dir, "--save-celsius", "--spot", "20,30", "--box",
                   "0,0,50,40", "--line", "0,10,59,10", "--palette", "rainbow",
                   "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out_json.read_text())
    assert [Path(r["file"]).name for r in results] == ["T640.jpg", "Flir_E40.jpg"]
    for r in results:
        name = Path(r["file"]).name
        assert set(r) >= {"file", "shape", "celsius_min", "celsius_max", "celsius_mean",
                          "celsius_center", "camera", "measurements"}  # fmt: skip
        for key in ("celsius_min", "celsius_max", "celsius_mean", "celsius_center"):
            assert abs(r[key] - ref[name]["flyr_5.1.0"][key]) <= 0.1
        spot, box, line = r["measurements"]
        celsius = cv2.imread(str(out_dir / f"{Path(name).stem}_celsius.tiff"), cv2.IMREAD_UNCHANGED)
        assert celsius.shape == tuple(r["shape"]) and celsius.dtype == np.float32
        assert spot["celsius"] == pytest.approx(float(celsius[30, 20]), abs=0.01)
        assert box["celsius_max"] == pytest.approx(float(celsius[:41, :51].max()), abs=0.01)
        assert len(line["profile"]) == 60
        assert line["profile"][0] == pytest.approx(float(celsius[10, 0]), abs=0.01)
        palette = cv2.imread(str(out_dir / f"{Path(name).stem}.png"))
        assert palette.shape[1] > r["shape"][1]  # the image plus its scale bar


def test_mistakes_are_one_line_errors(rjpeg_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    coco = next((data_dir / "images" / "coco_val2017").glob("*.jpg"))
    assert_one_line_error(run_cli("thermal", coco, "--no-progress"), "no radiometric data", 2)
    assert_one_line_error(run_cli("thermal", rjpeg_dir / "ax8.jpg", "--spot", "100,3",
                                  "--no-progress"), "outside the 80x60", 2)  # fmt: skip
    assert_one_line_error(run_cli("thermal", rjpeg_dir / "ax8.jpg", "--spot", "x"),
                          "expected X,Y", 2)  # fmt: skip
    assert_one_line_error(run_cli("thermal", tmp_path / "nope.jpg"), "not found", 2)
    assert_one_line_error(run_cli("thermal", rjpeg_dir / "ax8.jpg", "--palette", "hot"),
                          "unknown", 2)  # fmt: skip
    # a DJI R-JPEG (APP3 raw data, DJI make): refused, saying the DJI SDK is needed
    from tests.solutions.thermal.test_rjpeg import _dji_exif, _segments_with

    dji = tmp_path / "DJI_0001_R.JPG"
    dji.write_bytes(_segments_with([(0xE1, _dji_exif()), (0xE3, b"\x00" * 256)]))
    proc = run_cli("thermal", dji, "--no-progress")
    assert_one_line_error(proc, "DJI's Thermal SDK", 2)


def _hot_seq(rjpeg_dir: Path, path: Path) -> Path:
    """12 frames of the E40 scene; frames 3-8 have a 60 C patch at x 70-79, y 50-59."""
    fff = fff_of(rjpeg_dir / "Flir_E40.jpg")
    base = parse_fff(fff)
    hot = round(float(celsius_to_raw(60.0, base.calibration)))
    frames = []
    for t in range(12):
        raw = base.raw.copy()
        if 3 <= t < 9:
            raw[50:60, 70:80] = hot
        frames.append(with_raw(fff, raw))
    return write_seq(path, frames)


def test_temperature_rule_in_a_pipeline(rjpeg_dir: Path, tmp_path: Path) -> None:
    seq = _hot_seq(rjpeg_dir, tmp_path / "panel.seq")
    config = tmp_path / "thermal.yaml"
    config.write_text(f"""
sources:
  - {{id: ir, uri: "thermal:{seq}"}}
pipeline:
  detector: {{model: yolox-nano, conf: 0.3}}
zones:
  - id: panel
    source: ir
    polygon: [[60, 40], [100, 40], [100, 80], [60, 80]]
    rules:
      - {{type: temperature, max_celsius: 40, min_seconds: 2}}
  - id: cold
    source: ir
    polygon: [[0, 0], [40, 0], [40, 30], [0, 30]]
    rules:
      - {{type: temperature, max_celsius: 40}}
store: {{url: "sqlite:///{tmp_path / "e.db"}", media_dir: {tmp_path / "media"}}}
media: {{snapshots: true, clips: false}}
sinks: {{jsonl: {tmp_path / "events.jsonl"}}}
""")
    proc = run_cli("run", config, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    new = [r["event"] for r in records if r["type"] == "new"]
    ends = [r["end"] for r in records if r["type"] == "end"]
    assert len(new) == 1 and new[0]["zone"] == "panel"  # the cold corner never fires
    ev = new[0]
    assert ev["start"] == pytest.approx(3.0) and ev["frame_index"] == 5  # 2 s later, at 1 fps
    assert ev["attributes"]["celsius"] == pytest.approx(60.0, abs=0.1)
    assert ev["attributes"]["hot_spot"] == [70, 50]
    assert (tmp_path / "media" / ev["snapshot_crop"]).is_file()
    assert len(ends) == 1 and ends[0]["end"] == pytest.approx(9.0)


def test_temperature_rule_needs_a_thermal_source(pets_video: Path, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"""
sources: [{{id: cam, uri: "{pets_video}"}}]
zones:
  - {{id: z, source: cam, polygon: [[0, 0], [10, 0], [10, 10]],
      rules: [{{type: temperature, max_celsius: 50}}]}}
""")
    assert_one_line_error(run_cli("run", config), "needs a thermal source", 5)  # a config error


def test_seq_gives_one_result_per_frame(rjpeg_dir: Path, tmp_path: Path) -> None:
    seq = _hot_seq(rjpeg_dir, tmp_path / "panel.seq")
    out_json = tmp_path / "seq.json"
    proc = run_cli("thermal", seq, "--json", out_json, "--box", "70,50,79,59", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out_json.read_text())
    assert [r["frame"] for r in results] == list(range(12))
    peaks = [r["measurements"][0]["celsius_max"] for r in results]
    assert all(abs(p - 60.0) < 0.1 for p in peaks[3:9])
    assert all(p < 30 for p in peaks[:3] + peaks[9:])
