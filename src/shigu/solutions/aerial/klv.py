"""MISB ST 0601 (UAS Datalink Local Set) KLV telemetry from MPEG-TS video.

Military and many professional drones (and STANAG 4609 video in general) carry the aircraft's
and sensor's position and attitude as KLV packets in a data stream of the transport stream.
A packet is the 16-byte universal key ``06 0E 2B 34 02 0B 01 01 0E 01 03 01 01 00 00 00``, a
BER length, then tag-length-value items (tags BER-OID encoded). Values are integers mapped
linearly onto their ranges (ST 0601 section 6: e.g. latitude int32 onto +-90 degrees, with
``-2**31`` reserved for "out of range"); the last item, tag 1, is a 16-bit checksum over
the whole packet up to and including its own length byte, which is checked.

The camera's attitude is the platform's (heading, pitch, roll) followed by the sensor's
angles relative to the platform (azimuth, elevation, roll), composed as rotations and given
as absolute yaw/pitch/roll in the convention of :mod:`shigu.solutions.aerial.geo`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError
from shigu.solutions.aerial.telemetry import TelemetrySample

UAS_LOCAL_SET_KEY = bytes.fromhex("060E2B34020B01010E01030101000000")


@dataclass(frozen=True)
class _Field:
    name: str
    size: int  # bytes
    signed: bool
    low: float
    high: float


# tag -> (field, size, signed, range); unsigned map 0..2^n-1, signed map +-(2^(n-1)-1)
_FIELDS = {
    5: _Field("platform_heading", 2, False, 0, 360),
    6: _Field("platform_pitch", 2, True, -20, 20),
    7: _Field("platform_roll", 2, True, -50, 50),
    13: _Field("sensor_latitude", 4, True, -90, 90),
    14: _Field("sensor_longitude", 4, True, -180, 180),
    15: _Field("sensor_true_altitude", 2, False, -900, 19000),
    16: _Field("sensor_hfov", 2, False, 0, 180),
    17: _Field("sensor_vfov", 2, False, 0, 180),
    18: _Field("sensor_relative_azimuth", 4, False, 0, 360),
    19: _Field("sensor_relative_elevation", 4, True, -180, 180),
    20: _Field("sensor_relative_roll", 4, False, 0, 360),
    21: _Field("slant_range", 4, False, 0, 5_000_000),
    23: _Field("frame_center_latitude", 4, True, -90, 90),
    24: _Field("frame_center_longitude", 4, True, -180, 180),
    25: _Field("frame_center_elevation", 2, False, -900, 19000),
    75: _Field("sensor_ellipsoid_height", 2, False, -900, 19000),
}


@dataclass(frozen=True)
class KlvRecord:
    """One decoded UAS Datalink Local Set: the items Shigu uses, None where absent or marked
    out of range. ``time`` is the packet's time in the video (seconds from its first frame);
    ``timestamp_us`` the Precision Time Stamp (microseconds since 1970, UTC)."""

    time: float | None
    timestamp_us: int | None = None
    platform_heading: float | None = None
    platform_pitch: float | None = None
    platform_roll: float | None = None
    sensor_latitude: float | None = None
    sensor_longitude: float | None = None
    sensor_true_altitude: float | None = None
    sensor_hfov: float | None = None
    sensor_vfov: float | None = None
    sensor_relative_azimuth: float | None = None
    sensor_relative_elevation: float | None = None
    sensor_relative_roll: float | None = None
    slant_range: float | None = None
    frame_center_latitude: float | None = None
    frame_center_longitude: float | None = None
    frame_center_elevation: float | None = None
    sensor_ellipsoid_height: float | None = None


def _ber_length(data: bytes, pos: int) -> tuple[int, int]:
    """(length, position after it) of a BER length at ``pos``."""
    if pos >= len(data):
        raise ValueError("truncated length")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    n = first & 0x7F
    if n == 0 or n > 8 or pos + 1 + n > len(data):
        raise ValueError("bad BER length")
    return int.from_bytes(data[pos + 1 : pos + 1 + n], "big"), pos + 1 + n


def _ber_oid(data: bytes, pos: int) -> tuple[int, int]:
    """(tag, position after it) of a BER-OID tag (7 bits per byte, high bit = more)."""
    tag = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated tag")
        b = data[pos]
        pos += 1
        tag = (tag << 7) | (b & 0x7F)
        if b < 0x80:
            return tag, pos


def checksum(packet: bytes) -> int:
    """ST 0601's running 16-bit sum: bytes alternately in the high and low byte."""
    total = 0
    for i, b in enumerate(packet):
        total += b << (8 * ((i + 1) % 2))
    return total & 0xFFFF


def _map(raw: bytes, f: _Field) -> float | None:
    value = int.from_bytes(raw, "big", signed=f.signed)
    bits = 8 * len(raw)
    if f.signed:
        if value == -(1 << (bits - 1)):
            return None  # "out of range" marker
        return value * (f.high - f.low) / ((1 << bits) - 2) + (f.high + f.low) / 2
    return value * (f.high - f.low) / ((1 << bits) - 1) + f.low


def decode_local_set(packet: bytes, time: float | None = None) -> KlvRecord:
    """Decode one whole packet (key, length, value); ValueError on a bad checksum, a
    truncated item or a foreign key."""
    if not packet.startswith(UAS_LOCAL_SET_KEY):
        raise ValueError("not a UAS Datalink Local Set")
    length, pos = _ber_length(packet, 16)
    end = pos + length
    if end > len(packet):
        raise ValueError("truncated packet")
    values: dict[str, Any] = {}
    checked = False
    while pos < end:
        item_start = pos
        tag, pos = _ber_oid(packet, pos)
        size, pos = _ber_length(packet, pos)
        raw = packet[pos : pos + size]
        if pos + size > end:
            raise ValueError(f"item {tag} runs past the packet")
        pos += size
        if tag == 1:
            if size != 2:
                raise ValueError("checksum item is not 2 bytes")
            if checksum(packet[: item_start + 2]) != int.from_bytes(raw, "big"):
                raise ValueError("checksum mismatch")
            checked = True
        elif tag == 2 and size == 8:
            values["timestamp_us"] = int.from_bytes(raw, "big")
        elif tag in _FIELDS and size == _FIELDS[tag].size:
            values[_FIELDS[tag].name] = _map(raw, _FIELDS[tag])
    if not checked:
        raise ValueError("no checksum item")
    return KlvRecord(time=time, **values)


def split_packets(data: bytes) -> Iterator[bytes]:
    """Every UAS Local Set packet in a buffer (a PES payload may hold several, or other
    KLV sets, which are skipped)."""
    pos = data.find(UAS_LOCAL_SET_KEY)
    while pos >= 0:
        try:
            length, body = _ber_length(data, pos + 16)
        except ValueError:
            return
        yield data[pos : body + length]
        pos = data.find(UAS_LOCAL_SET_KEY, body + length)


def _klv_stream(container: Any) -> Any:
    for stream in container.streams:
        if stream.type != "data":
            continue
        name = getattr(stream.codec_context, "name", None) if stream.codec_context else None
        tag = str(stream.metadata.get("codec_tag", "")) if stream.metadata else ""
        if name in (None, "klv", "smpte_klv") or "KLVA" in tag:
            return stream
    return None


def read_klv(path: Path) -> list[KlvRecord]:
    """Every valid UAS Local Set in the video's KLV data stream, in time order (packets
    with a bad checksum are dropped, as receivers do). Empty when the file has no data
    stream; InputError when it cannot be opened."""
    import av

    try:
        container = av.open(str(path))
    except (OSError, av.FFmpegError) as exc:
        raise InputError(f"cannot open {path} to read KLV: {exc}") from None
    records: list[KlvRecord] = []
    with container:
        stream = _klv_stream(container)
        if stream is None:
            return records
        video = container.streams.video[0] if container.streams.video else None
        base = 0.0
        if video is not None and video.start_time is not None and video.time_base:
            base = float(video.start_time * video.time_base)
        last: float | None = None
        for pkt in container.demux(stream):
            if not pkt.size:
                continue
            stamp = pkt.pts if pkt.pts is not None else pkt.dts
            t = float(stamp * pkt.time_base) - base if stamp is not None else last
            for packet in split_packets(bytes(pkt)):
                try:
                    records.append(decode_local_set(packet, t))
                except ValueError:
                    continue
            last = t
    records.sort(key=lambda r: r.time if r.time is not None else -math.inf)
    return records


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rx(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def ypr_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Aerospace z-y-x rotation (degrees) from body (forward, right, down) to NED."""
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    out: np.ndarray = _rz(y) @ _ry(p) @ _rx(r)
    return out


def matrix_ypr(m: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch, roll (degrees) of a z-y-x rotation; at pitch +-90 roll is folded into
    yaw (the two turn the view the same way there)."""
    s = -float(m[2, 0])
    if abs(s) > 1 - 1e-12:
        pitch = math.copysign(90.0, s)
        yaw = math.degrees(math.atan2(-m[0, 1], m[1, 1]))
        return yaw % 360.0, pitch, 0.0
    pitch = math.degrees(math.asin(s))
    yaw = math.degrees(math.atan2(m[1, 0], m[0, 0]))
    roll = math.degrees(math.atan2(m[2, 1], m[2, 2]))
    return yaw % 360.0, pitch, roll


def camera_attitude(record: KlvRecord) -> tuple[float, float, float]:
    """The camera's absolute yaw, pitch, roll: platform attitude, then the sensor's
    relative angles (absent angles are 0; a missing relative elevation means straight
    down, ST 0601's usual nadir payload)."""
    body = ypr_matrix(
        record.platform_heading or 0.0, record.platform_pitch or 0.0, record.platform_roll or 0.0
    )
    rel_el = record.sensor_relative_elevation
    sensor = ypr_matrix(
        record.sensor_relative_azimuth or 0.0,
        rel_el if rel_el is not None else -90.0,
        record.sensor_relative_roll or 0.0,
    )
    return matrix_ypr(body @ sensor)


def klv_samples(records: list[KlvRecord], ground_elevation: float | None) -> list[TelemetrySample]:
    """Telemetry samples (one per record with a position and an altitude) for the mapper.
    The ground is ``ground_elevation`` metres above sea level, else the packet's frame
    centre elevation; ``rel_alt`` is the sensor's height above it."""
    timed = [r for r in records if r.time is not None and r.sensor_latitude is not None
             and r.sensor_longitude is not None and r.sensor_true_altitude is not None]  # fmt: skip
    if not timed:
        raise InputError(
            "the video's KLV holds no sensor position (ST 0601 tags 13, 14, 15)",
            "pass the flight telemetry with --srt instead",
        )
    samples = []
    for i, r in enumerate(timed):
        assert r.time is not None and r.sensor_true_altitude is not None
        end = timed[i + 1].time if i + 1 < len(timed) else r.time + 1.0
        assert end is not None
        ground = ground_elevation if ground_elevation is not None else r.frame_center_elevation
        rel = r.sensor_true_altitude - ground if ground is not None else None
        yaw, pitch, roll = camera_attitude(r)
        assert r.sensor_latitude is not None and r.sensor_longitude is not None
        samples.append(TelemetrySample(
            r.time, max(end, r.time), r.sensor_latitude, r.sensor_longitude, rel_alt=rel,
            abs_alt=r.sensor_true_altitude, gimbal_yaw=yaw, gimbal_pitch=pitch, gimbal_roll=roll,
            hfov=r.sensor_hfov,
        ))  # fmt: skip
    return samples


def encode_local_set(values: dict[int, float | int], timestamp_us: int | None = None) -> bytes:
    """A packet with the given tags' values (the inverse of decoding, checksum appended):
    for writing test streams and for relaying telemetry."""
    body = bytearray()
    if timestamp_us is not None:
        body += bytes([2, 8]) + int(timestamp_us).to_bytes(8, "big")
    for tag, value in sorted(values.items()):
        f = _FIELDS[tag]
        bits = 8 * f.size
        if f.signed:
            raw = round((value - (f.high + f.low) / 2) * ((1 << bits) - 2) / (f.high - f.low))
        else:
            raw = round((value - f.low) * ((1 << bits) - 1) / (f.high - f.low))
        body += bytes([tag, f.size]) + int(raw).to_bytes(f.size, "big", signed=f.signed)
    body += bytes([1, 2])
    length = len(body) + 2
    head = UAS_LOCAL_SET_KEY + (
        bytes([length]) if length < 128 else bytes([0x82]) + length.to_bytes(2, "big")
    )
    partial = head + bytes(body)
    return partial + checksum(partial).to_bytes(2, "big")
