"""MISB ST 0601 KLV: decoding against the standard's examples and klvdata, checksums, the
camera attitude from platform and sensor angles, and KLV read back from an MPEG-TS."""

from __future__ import annotations

import fractions
import math
from pathlib import Path

import numpy as np
import pytest

from shigu.core.errors import InputError
from shigu.solutions.aerial.geo import CameraPose, Intrinsics, ground_offsets, rotation
from shigu.solutions.aerial.klv import (
    UAS_LOCAL_SET_KEY,
    camera_attitude,
    checksum,
    decode_local_set,
    encode_local_set,
    klv_samples,
    matrix_ypr,
    read_klv,
    split_packets,
    ypr_matrix,
)

# Item bytes and values from the MISB ST 0601 document's conversion examples
SPEC_EXAMPLES = [
    ("05 02 71 C2", "platform_heading", 159.9744),
    ("06 02 FD 3D", "platform_pitch", -0.4315251),
    ("07 02 08 B8", "platform_roll", 3.405814),
    ("0D 04 55 95 B6 6D", "sensor_latitude", 60.1768229669783),
    ("0E 04 5B 53 60 C4", "sensor_longitude", 128.426759042045),
    ("0F 02 C2 21", "sensor_true_altitude", 14190.72),
    ("10 02 CD 9C", "sensor_hfov", 144.5713),
    ("11 02 D9 17", "sensor_vfov", 152.6436),
    ("12 04 72 4A 0A 20", "sensor_relative_azimuth", 160.719211474396),
    ("13 04 87 F8 4B 86", "sensor_relative_elevation", -168.792324833941),
    ("14 04 7D C5 5E CE", "sensor_relative_roll", 176.865437690572),
    ("15 04 03 83 09 26", "slant_range", 68590.98),
    ("17 04 F1 01 A2 29", "frame_center_latitude", -10.5423886331461),
    ("18 04 14 BC 08 2B", "frame_center_longitude", 29.157890122923),
    ("19 02 34 F3", "frame_center_elevation", 3216.037),
]


def _packet(items: bytes) -> bytes:
    body = items + bytes([1, 2])
    head = UAS_LOCAL_SET_KEY + bytes([len(body) + 2])
    return head + body + checksum(head + body).to_bytes(2, "big")


def test_spec_examples_decode_to_their_values() -> None:
    items = b"".join(bytes.fromhex(h) for h, _, _ in SPEC_EXAMPLES)
    items = bytes.fromhex("02 08 00 04 59 F4 A6 AA 4A A8") + items  # 2008-10-24 00:13:29.913
    record = decode_local_set(_packet(items), time=1.5)
    assert record.time == 1.5 and record.timestamp_us == 1224807209913000
    for _, name, value in SPEC_EXAMPLES:
        assert getattr(record, name) == pytest.approx(value, rel=1e-7, abs=2e-3), name


def test_encoding_round_trips_and_agrees_with_klvdata() -> None:
    klvdata = pytest.importorskip("klvdata")
    values = {5: 45.0, 6: -3.0, 7: 2.0, 13: 30.25, 14: 120.15, 15: 150.0, 16: 60.0, 18: 10.0,
              19: -80.0, 20: 0.5, 23: 30.2501, 24: 120.1502, 25: 10.0}  # fmt: skip
    packet = encode_local_set(values, timestamp_us=1_700_000_000_000_000)
    ours = decode_local_set(packet)
    (theirs,) = list(klvdata.StreamParser(packet))
    for tag, (_lds, _esd, _uds, text) in theirs.MetadataList().items():
        if tag in (1, 2):
            continue
        name = {5: "platform_heading", 6: "platform_pitch", 7: "platform_roll",
                13: "sensor_latitude", 14: "sensor_longitude", 15: "sensor_true_altitude",
                16: "sensor_hfov", 18: "sensor_relative_azimuth",
                19: "sensor_relative_elevation", 20: "sensor_relative_roll",
                23: "frame_center_latitude", 24: "frame_center_longitude",
                25: "frame_center_elevation"}[tag]  # fmt: skip
        assert getattr(ours, name) == pytest.approx(float(text), abs=1e-9), name
        assert getattr(ours, name) == pytest.approx(values[tag], abs=0.2), name


def test_bad_checksum_truncation_and_out_of_range_marker() -> None:
    packet = encode_local_set({13: 30.0, 14: 120.0, 15: 100.0})
    broken = packet[:-1] + bytes([packet[-1] ^ 0xFF])
    with pytest.raises(ValueError, match="checksum"):
        decode_local_set(broken)
    with pytest.raises(ValueError):
        decode_local_set(packet[:-5])
    # -2**31 marks "out of range": decoded as absent, not as -90 degrees
    record = decode_local_set(_packet(bytes.fromhex("0D 04 80 00 00 00")))
    assert record.sensor_latitude is None
    # two packets and some foreign bytes in one buffer
    two = b"\x00junk" + packet + encode_local_set({13: 31.0, 14: 121.0, 15: 90.0})
    assert [decode_local_set(p).sensor_latitude for p in split_packets(two)] == [
        pytest.approx(30.0, abs=1e-6), pytest.approx(31.0, abs=1e-6)]  # fmt: skip


@pytest.mark.parametrize("angles", [(0, 0, 0), (30, -60, 5), (250, -45, -3), (91, -89.5, 1)])
def test_aerospace_angles_match_the_camera_convention(angles: tuple[float, float, float]) -> None:
    yaw, pitch, roll = angles
    # camera (right, down, forward) -> body (forward, right, down); NED -> ENU
    cam_to_body = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]], float)
    ned_to_enu = np.array([[0, 1, 0], [1, 0, 0], [0, 0, -1]], float)
    aero = ned_to_enu @ ypr_matrix(yaw, pitch, roll) @ cam_to_body
    ours = rotation(CameraPose(0, 0, 100, yaw=yaw, pitch=pitch, roll=roll))
    np.testing.assert_allclose(aero, ours, atol=1e-12)
    back = matrix_ypr(ypr_matrix(yaw, pitch, roll))
    np.testing.assert_allclose(ypr_matrix(*back), ypr_matrix(yaw, pitch, roll), atol=1e-9)


def test_straight_down_is_folded_without_losing_the_view() -> None:
    m = ypr_matrix(40, -90, 15)
    yaw, pitch, roll = matrix_ypr(m)
    assert pitch == -90 and roll == 0
    np.testing.assert_allclose(ypr_matrix(yaw, pitch, roll), m, atol=1e-9)


def test_platform_and_sensor_angles_compose_to_the_camera_attitude() -> None:
    # heading east, nose up 10 degrees, sensor 55 degrees down relative: 45 down to the east
    packet = encode_local_set({5: 90.0, 6: 10.0, 7: 0.0, 18: 0.0, 19: -55.0, 20: 0.0})
    yaw, pitch, roll = camera_attitude(decode_local_set(packet))
    assert (yaw, pitch, roll) == pytest.approx((90.0, -45.0, 0.0), abs=0.01)
    pose = CameraPose(30.0, 120.0, 100.0, yaw=yaw, pitch=pitch, roll=roll)
    k = Intrinsics.from_hfov(1280, 720, 60.0)
    east, north = ground_offsets(np.array([[640.0, 360.0]]), pose, k)[0]
    assert east == pytest.approx(100.0, abs=0.1) and abs(north) < 0.1
    # sensor looking right of the nose (azimuth 90) from a north-heading platform: east
    packet = encode_local_set({5: 0.0, 18: 90.0, 19: -30.0})
    yaw, pitch, _ = camera_attitude(decode_local_set(packet))
    assert (yaw, pitch) == pytest.approx((90.0, -30.0), abs=0.01)


def klv_video(path: Path, frames: int, fps: int = 10, size: tuple[int, int] = (320, 240),
              images: list[np.ndarray] | None = None, every: int = 1) -> Path:  # fmt: skip
    """An MPEG-TS of ``frames`` H.264 frames with one ST 0601 packet every ``every`` frames:
    the sensor 100 m above ground at 10 m (true altitude 110), moving north 1 m a frame,
    looking straight down, heading north, HFOV 60."""
    import av

    w, h = size
    with av.open(str(path), "w", format="mpegts") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        data = out.add_data_stream("klv")
        for i in range(frames):
            image = images[i] if images is not None else np.full((h, w, 3), 60, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = i, fractions.Fraction(1, fps)
            for p in video.encode(frame):
                out.mux(p)
            if i % every == 0:
                lat = 30.0 + i * (1.0 / 110_574.0)
                values = {5: 0.0, 6: 0.0, 7: 0.0, 13: lat, 14: 120.0, 15: 110.0, 16: 60.0,
                          18: 0.0, 19: -90.0, 20: 0.0, 25: 10.0}  # fmt: skip
                klv = encode_local_set(values)
                pkt = av.Packet(klv)
                pkt.stream = data
                pkt.pts = pkt.dts = i * 90000 // fps
                pkt.time_base = fractions.Fraction(1, 90000)
                out.mux(pkt)
        for p in video.encode():
            out.mux(p)
    return path


def test_klv_read_back_from_mpeg_ts_on_the_video_clock(tmp_path: Path) -> None:
    path = klv_video(tmp_path / "flight.ts", 20, every=2)
    records = read_klv(path)
    assert len(records) == 10
    times = [r.time for r in records]
    assert times == pytest.approx([i * 0.2 for i in range(10)], abs=1e-3)
    assert records[3].sensor_latitude == pytest.approx(30.0 + 6 / 110_574.0, abs=1e-7)
    samples = klv_samples(records, ground_elevation=None)
    assert samples[0].rel_alt == pytest.approx(100.0, abs=0.5)  # 110 - frame centre 10
    assert samples[0].gimbal_pitch == pytest.approx(-90.0)
    assert samples[0].hfov == pytest.approx(60.0)
    assert klv_samples(records, ground_elevation=30.0)[0].rel_alt == pytest.approx(80.0, abs=0.5)


def test_video_without_klv_has_no_records_and_positionless_klv_is_refused(
    tmp_path: Path, pets_video: Path
) -> None:
    assert read_klv(pets_video) == []
    with pytest.raises(InputError, match="cannot open"):
        read_klv(tmp_path / "missing.ts")
    record = decode_local_set(encode_local_set({5: 10.0}), time=0.0)
    with pytest.raises(InputError, match="no sensor position"):
        klv_samples([record], None)
    assert math.isfinite(checksum(b"\x01\x02"))
