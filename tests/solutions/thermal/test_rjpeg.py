"""Reading FLIR R-JPEGs: parity with flyr 5.1.0 and the reference temperatures, the
byte orders DJI XT2/XTR use, SEQ videos, and damaged or foreign files."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from shigu.solutions.thermal.planck import celsius_to_raw, raw_to_celsius
from shigu.solutions.thermal.rjpeg import (
    DJI_SDK_HINT,
    ThermalFormatError,
    parse_bytes,
    parse_fff,
    read_radiometric,
    read_seq,
)
from tests.solutions.thermal.seqmaker import as_rjpeg, big_endian, fff_of, with_raw, write_seq

NAMES = ["Flir_E40.jpg", "T640.jpg", "ax8.jpg", "flir_example.jpg"]


@pytest.fixture(scope="module")
def thermal_dir(data_dir: Path) -> Path:
    folder = data_dir / "thermal"
    if not (folder / "rjpeg").is_dir():
        pytest.skip("thermal samples not in the shared data")
    return folder


@pytest.fixture(scope="module")
def reference(thermal_dir: Path) -> dict:
    return json.loads((thermal_dir / "reference_temperatures.json").read_text())


@pytest.mark.parametrize("name", NAMES)
def test_matches_reference_statistics(thermal_dir: Path, reference: dict, name: str) -> None:
    rad = read_radiometric(thermal_dir / "rjpeg" / name)
    ref = reference[name]
    assert list(rad.shape) == ref["flyr_5.1.0"]["thermal_shape"]
    assert int(rad.raw.min()) >= 0
    exif = ref["exif"]
    cal = rad.calibration
    assert cal.planck_r1 == pytest.approx(exif["PlanckR1"], rel=1e-6)
    assert cal.planck_b == pytest.approx(exif["PlanckB"], rel=1e-6)
    assert cal.planck_o == exif["PlanckO"]
    assert cal.planck_r2 == pytest.approx(exif["PlanckR2"], rel=1e-6)
    assert cal.emissivity == pytest.approx(exif["Emissivity"], rel=1e-6)
    assert cal.object_distance == pytest.approx(exif["ObjectDistance"])
    assert cal.relative_humidity == pytest.approx(exif["RelativeHumidity"], rel=1e-5)
    if exif["Model"] != "*":
        assert rad.camera["model"] == exif["Model"]
    c = raw_to_celsius(rad.raw, cal)
    h, w = c.shape
    got = {"celsius_min": c.min(), "celsius_max": c.max(), "celsius_mean": c.mean(),
           "celsius_center": c[h // 2, w // 2]}  # fmt: skip
    for key, value in got.items():
        assert abs(value - ref["flyr_5.1.0"][key]) <= 0.1, (key, value)


@pytest.mark.parametrize("name", NAMES)
def test_every_pixel_within_a_tenth_of_flyr(thermal_dir: Path, name: str) -> None:
    flyr = pytest.importorskip("flyr")
    path = thermal_dir / "rjpeg" / name
    theirs = flyr.unpack(str(path)).celsius
    rad = read_radiometric(path)
    ours = raw_to_celsius(rad.raw, rad.calibration)
    assert ours.shape == theirs.shape
    assert float(np.max(np.abs(ours - theirs))) < 0.1
    assert float(np.max(np.abs(ours - theirs))) < 0.01  # the same model: far inside the bound


def test_big_endian_records_read_the_same(thermal_dir: Path) -> None:
    """DJI Zenmuse XT2/XTR write their FFF records big-endian; flyr assumes little-endian."""
    fff = fff_of(thermal_dir / "rjpeg" / "Flir_E40.jpg")
    le, be = parse_fff(fff), parse_fff(big_endian(fff))
    np.testing.assert_array_equal(le.raw, be.raw)
    assert le.calibration == be.calibration
    jpeg = (thermal_dir / "rjpeg" / "Flir_E40.jpg").read_bytes()
    again = parse_bytes(as_rjpeg(big_endian(fff), b"\xff\xd8\xff\xd9"))
    np.testing.assert_array_equal(again.raw, le.raw)
    assert jpeg[:2] == b"\xff\xd8"


def test_seq_frames_in_order(thermal_dir: Path, tmp_path: Path) -> None:
    fff = fff_of(thermal_dir / "rjpeg" / "Flir_E40.jpg")
    base = parse_fff(fff)
    frames = []
    for k in range(5):
        raw = base.raw.copy()
        raw[10, 10] = int(celsius_to_raw(30.0 + 10 * k, base.calibration))
        frames.append(with_raw(fff, raw))
    seq = read_seq(write_seq(tmp_path / "clip.seq", frames))
    assert len(seq) == 5
    peaks = [raw_to_celsius(f.raw, f.calibration)[10, 10] for f in seq]
    np.testing.assert_allclose(peaks, [30, 40, 50, 60, 70], atol=0.05)


def _segments_with(payloads: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(b"\xff" + bytes([m]) + struct.pack(">H", len(p) + 2) + p for m, p in payloads)
    return b"\xff\xd8" + body + b"\xff\xda\x00\x02\xff\xd9"


def _dji_exif() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "DJI"
    exif[0x0110] = "ZH20T"
    return b"Exif\x00\x00" + exif.tobytes()


def test_dji_own_rjpeg_is_refused_with_the_sdk_hint() -> None:
    data = _segments_with([(0xE1, _dji_exif()), (0xE3, b"\x00" * 512), (0xE4, b"DJI...")])
    with pytest.raises(ThermalFormatError) as info:
        parse_bytes(data)
    assert "DJI" in info.value.one_line() and info.value.hint == DJI_SDK_HINT


def test_damaged_and_foreign_files(thermal_dir: Path, tmp_path: Path) -> None:
    data = (thermal_dir / "rjpeg" / "Flir_E40.jpg").read_bytes()
    cases = {
        "plain.jpg": (_segments_with([(0xE0, b"JFIF\x00")]), "no radiometric data"),
        "text.jpg": (b"hello", "not a JPEG"),
        "cut.jpg": (data[:3000], "truncated"),
    }
    # drop the second FLIR segment: the reader must say which is missing
    fff = fff_of(thermal_dir / "rjpeg" / "Flir_E40.jpg")
    parts = as_rjpeg(fff + b"\x00" * 70000, b"\xff\xd8\xff\xd9")
    first_len = struct.unpack(">H", parts[4:6])[0]
    second = 4 + first_len
    second_len = struct.unpack(">H", parts[second + 2 : second + 4])[0]
    cases["gap.jpg"] = (
        parts[:second] + parts[second + 2 + second_len :],
        "segment 1 of 2 is missing",
    )
    for name, (blob, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(blob)
        with pytest.raises(ThermalFormatError, match=message):
            read_radiometric(path)
