"""Radiometric test files made from a real one: FLIR SEQ videos (FFF frames one after
another) and R-JPEGs with changed counts or byte order, so the reader's paths are exercised
on real calibrations."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from shigu.solutions.thermal.rjpeg import RAW_DATA, _records, flir_container, jpeg_segments


def fff_of(path: Path) -> bytes:
    """The FFF container inside an R-JPEG."""
    fff = flir_container(jpeg_segments(path.read_bytes()))
    assert fff is not None
    return fff


def with_raw(fff: bytes, raw: np.ndarray) -> bytes:
    """The FFF with its word-stored raw image replaced (same size, the record's byte order)."""
    offset, length, _ = _records(fff)[RAW_DATA]
    order = "<" if struct.unpack("<H", fff[offset : offset + 2])[0] == 2 else ">"
    body = raw.astype(order + "u2").tobytes()
    assert len(body) <= length - 32
    return fff[: offset + 32] + body + fff[offset + 32 + len(body) :]


def big_endian(fff: bytes) -> bytes:
    """The FFF with its RawData and CameraInfo records rewritten big-endian (as DJI XT2/XTR
    write them): every 16/32-bit field the reader uses is swapped."""
    out = bytearray(fff)
    recs = _records(fff)
    off, length, _ = recs[RAW_DATA]
    rec = fff[off : off + length]
    w, h = struct.unpack("<HH", rec[2:6])
    out[off : off + 6] = struct.pack(">HHH", 2, w, h)
    raw = np.frombuffer(rec[32 : 32 + 2 * w * h], "<u2")
    out[off + 32 : off + 32 + 2 * w * h] = raw.astype(">u2").tobytes()
    off, length, _ = recs[0x20]
    rec = fff[off : off + length]
    out[off : off + 2] = struct.pack(">H", 2)
    floats = [0x20, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x3C, 0x58, 0x5C, 0x60, 0x70, 0x74, 0x78,
              0x7C, 0x80, 0x90, 0x94, 0x30C]  # fmt: skip
    for f in floats:
        out[off + f : off + f + 4] = rec[f : f + 4][::-1]
    out[off + 0x308 : off + 0x30C] = rec[0x308:0x30C][::-1]
    return bytes(out)


def as_rjpeg(fff: bytes, jpeg: bytes) -> bytes:
    """A JPEG carrying ``fff`` in APP1 ``FLIR`` segments (the way cameras split it)."""
    chunk = 65000
    parts = [fff[i : i + chunk] for i in range(0, len(fff), chunk)]
    segs = b""
    for i, part in enumerate(parts):
        payload = b"FLIR\x00\x01" + bytes([i, len(parts) - 1]) + part
        segs += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segs + jpeg[2:]


def write_seq(path: Path, frames: list[bytes]) -> Path:
    path.write_bytes(b"".join(frames))
    return path
