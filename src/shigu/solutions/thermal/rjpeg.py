"""Reading FLIR radiometric files: R-JPEG (FFF inside APP1 segments), bare FFF and SEQ.

A FLIR R-JPEG carries, split over ``APP1 "FLIR\\0"`` segments, an FFF container whose record
directory points at the raw 16-bit thermal image (``RawData``, TIFF-like words or a PNG with
the bytes swapped) and the calibration (``CameraInfo``: Planck constants, emissivity,
distance, temperatures, humidity). Each record says its own byte order, which is what the
DJI Zenmuse XT2/XTR files (big-endian records) need and flyr 5.1 does not do. Layouts follow
ExifTool's FLIR tables. DJI's own R-JPEG (H20T, M30T, M3T: raw data in APP3, DJI-only
calibration) is recognised and refused: it needs DJI's Thermal SDK.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError

FLIR_MAGIC = b"FLIR\x00"
FFF_MAGICS = (b"FFF\x00", b"AFF\x00")
RAW_DATA, CAMERA_INFO = 0x01, 0x20
DJI_SDK_HINT = (
    "DJI's own R-JPEG format (H20T, M30T, M3T, ...) needs DJI's Thermal SDK (dji_irp) to "
    "convert; export TIFF temperatures with it, or use a FLIR-core camera (XT2, XTR, FLIR)"
)


class ThermalFormatError(InputError):
    """A file that is not a radiometric image Shigu can read."""


@dataclass(frozen=True)
class Calibration:
    """The camera's calibration and the scene parameters it was saved with.

    Temperatures are in kelvin as stored; humidity is a fraction (0..1)."""

    planck_r1: float
    planck_r2: float
    planck_b: float
    planck_f: float
    planck_o: float
    emissivity: float
    object_distance: float
    reflected_temperature: float
    atmospheric_temperature: float
    ir_window_temperature: float
    ir_window_transmission: float
    relative_humidity: float
    alpha1: float = 0.006569
    alpha2: float = 0.01262
    beta1: float = -0.002276
    beta2: float = -0.00667
    atmospheric_x: float = 1.9


@dataclass
class Radiometric:
    """One radiometric frame: the raw counts and how to turn them into temperatures."""

    raw: np.ndarray  # (H, W) uint16 counts
    calibration: Calibration
    camera: dict[str, Any] = field(default_factory=dict)  # make, model, serial, lens, ...

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.raw.shape[0]), int(self.raw.shape[1])


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """``(marker, payload)`` of every segment before the image data (``SOS``)."""
    if data[:2] != b"\xff\xd8":
        raise ThermalFormatError("not a JPEG file", "give a radiometric JPEG, FFF or SEQ file")
    out: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ThermalFormatError("damaged JPEG: a segment marker is missing")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: metadata is over
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise ThermalFormatError("truncated JPEG: a segment runs past the end of the file")
        out.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return out


def flir_container(segments: list[tuple[int, bytes]]) -> bytes | None:
    """The FFF bytes reassembled from the ``APP1 FLIR`` segments, or None if there are none."""
    parts: dict[int, bytes] = {}
    total: int | None = None
    for marker, payload in segments:
        if marker != 0xE1 or not payload.startswith(FLIR_MAGIC) or len(payload) < 8:
            continue
        index, last = payload[6], payload[7]
        if total is None:
            total = last
        if last != total or index > last or index in parts:
            raise ThermalFormatError("damaged FLIR data: its APP1 segments are inconsistent")
        parts[index] = payload[8:]
    if total is None:
        return None
    missing = [i for i in range(total + 1) if i not in parts]
    if missing:
        raise ThermalFormatError(
            f"damaged FLIR data: APP1 segment {missing[0]} of {total + 1} is missing"
        )
    return b"".join(parts[i] for i in range(total + 1))


def _is_dji_rjpeg(segments: list[tuple[int, bytes]]) -> bool:
    """DJI's own format: raw thermal in APP3 segments and a ``DJI`` EXIF make, no FLIR APP1."""
    has_app3 = any(m == 0xE3 for m, _ in segments)
    make = _exif_make(segments)
    return has_app3 and make is not None and make.upper().startswith("DJI")


def _exif_make(segments: list[tuple[int, bytes]]) -> str | None:
    for marker, payload in segments:
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            try:
                from PIL import Image

                exif = Image.Exif()
                exif.load(payload)
                make = exif.get(0x010F)
                return str(make).strip("\x00 ") if make else None
            except Exception:
                return None
    return None


def _records(fff: bytes) -> dict[int, tuple[int, int, int]]:
    """Record type -> (offset, length, subtype) from the FFF record directory."""
    if fff[:4] not in FFF_MAGICS or len(fff) < 64:
        raise ThermalFormatError("damaged FLIR data: the FFF header is missing")
    dir_offset, count = struct.unpack(">II", fff[24:32])
    if dir_offset + 32 * count > len(fff) or count > 4096:
        raise ThermalFormatError("damaged FLIR data: the record directory runs past the data")
    out: dict[int, tuple[int, int, int]] = {}
    for i in range(count):
        entry = fff[dir_offset + 32 * i : dir_offset + 32 * (i + 1)]
        rtype, subtype = struct.unpack(">HH", entry[:4])
        offset, length = struct.unpack(">II", entry[12:20])
        if rtype == 0 or rtype in out:
            continue
        if offset + length > len(fff):
            raise ThermalFormatError(f"damaged FLIR data: record {rtype:#x} runs past the data")
        out[rtype] = (offset, length, subtype)
    return out


def _order(record: bytes) -> str:
    """A record's byte order: its first 16-bit word is 2 in the order it is written in."""
    return "<" if struct.unpack("<H", record[:2])[0] == 2 else ">"


def _text(record: bytes, offset: int, size: int) -> str:
    return record[offset : offset + size].split(b"\x00", 1)[0].decode("latin-1").strip()


def parse_camera_info(record: bytes) -> tuple[Calibration, dict[str, Any]]:
    """The calibration and camera description from a ``CameraInfo`` record."""
    if len(record) < 0x340:
        raise ThermalFormatError("damaged FLIR data: the CameraInfo record is too short")
    bo = _order(record)

    def f32(off: int) -> float:
        return float(struct.unpack(bo + "f", record[off : off + 4])[0])

    humidity = f32(0x3C)
    if humidity > 2:  # some cameras store percent
        humidity /= 100.0
    calibration = Calibration(
        planck_r1=f32(0x58),
        planck_r2=f32(0x30C),
        planck_b=f32(0x5C),
        planck_f=f32(0x60),
        planck_o=float(struct.unpack(bo + "i", record[0x308:0x30C])[0]),
        emissivity=f32(0x20),
        object_distance=f32(0x24),
        reflected_temperature=f32(0x28),
        atmospheric_temperature=f32(0x2C),
        ir_window_temperature=f32(0x30),
        ir_window_transmission=f32(0x34),
        relative_humidity=humidity,
        alpha1=f32(0x70),
        alpha2=f32(0x74),
        beta1=f32(0x78),
        beta2=f32(0x7C),
        atmospheric_x=f32(0x80),
    )
    if not calibration.planck_r1 or not calibration.planck_b:
        raise ThermalFormatError("the file has no Planck calibration: it is not radiometric")
    camera = {
        "model": _text(record, 0xD4, 32),
        "part_number": _text(record, 0xF4, 16),
        "serial": _text(record, 0x104, 16),
        "software": _text(record, 0x114, 16),
        "lens": _text(record, 0x170, 32),
        "range_c": [round(f32(0x94) - 273.15, 2), round(f32(0x90) - 273.15, 2)],
    }
    return calibration, camera


def parse_raw_data(record: bytes) -> np.ndarray:
    """The (H, W) uint16 counts from a ``RawData`` record (words or an embedded PNG)."""
    if len(record) < 32:
        raise ThermalFormatError("damaged FLIR data: the RawData record is too short")
    bo = _order(record)
    width, height = struct.unpack(bo + "HH", record[2:6])
    body = record[32:]
    if body[:4] == b"\x89PNG":
        import cv2

        png = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
        if png is None or png.dtype != np.uint16:
            raise ThermalFormatError("damaged FLIR data: the raw thermal PNG does not decode")
        raw = png.byteswap()  # FLIR writes the PNG's 16-bit words little-endian
    else:
        need = width * height * 2
        if width == 0 or height == 0 or len(body) < need:
            raise ThermalFormatError("damaged FLIR data: the raw thermal image is truncated")
        raw = np.frombuffer(body[:need], dtype=np.dtype(bo + "u2")).astype(np.uint16)
        raw = raw.reshape(height, width)
    if raw.shape != (height, width):
        raise ThermalFormatError(
            f"damaged FLIR data: raw image is {raw.shape[1]}x{raw.shape[0]}, "
            f"the record says {width}x{height}"
        )
    return np.ascontiguousarray(raw)


def parse_fff(fff: bytes) -> Radiometric:
    """One FFF container (from an R-JPEG, an .fff file or one frame of a .seq)."""
    records = _records(fff)
    if RAW_DATA not in records or CAMERA_INFO not in records:
        raise ThermalFormatError(
            "the FLIR data has no raw thermal image or no calibration: not radiometric",
            "save images as radiometric JPEG on the camera",
        )
    off, length, _ = records[CAMERA_INFO]
    calibration, camera = parse_camera_info(fff[off : off + length])
    off, length, _ = records[RAW_DATA]
    raw = parse_raw_data(fff[off : off + length])
    return Radiometric(raw=raw, calibration=calibration, camera=camera)


def read_radiometric(path: str | Path) -> Radiometric:
    """A FLIR R-JPEG or FFF file as raw counts plus calibration (``ThermalFormatError``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ThermalFormatError(f"file not found: {path}") from None
    except OSError as exc:
        raise ThermalFormatError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_bytes(data)
    except ThermalFormatError as exc:
        raise ThermalFormatError(f"{path.name}: {exc.message}", exc.hint) from None


def parse_bytes(data: bytes) -> Radiometric:
    """As :func:`read_radiometric`, from the file's bytes."""
    if data[:4] in FFF_MAGICS:
        return parse_fff(data)
    segments = jpeg_segments(data)
    fff = flir_container(segments)
    if fff is None:
        if _is_dji_rjpeg(segments):
            raise ThermalFormatError("a DJI R-JPEG (not FLIR-core)", DJI_SDK_HINT)
        raise ThermalFormatError(
            "no radiometric data (no FLIR segments): an ordinary JPEG",
            "give a radiometric JPEG (FLIR, DJI Zenmuse XT2/XTR) or an FFF/SEQ file",
        )
    out = parse_fff(fff)
    make = _exif_make(segments)
    if make:
        out.camera["make"] = make
    return out


def seq_frames(data: bytes) -> list[int]:
    """Offsets of the FFF frames in a FLIR ``.seq`` file (FFF containers one after another)."""
    starts: list[int] = []
    pos = data.find(b"FFF\x00")
    while pos >= 0:
        if len(data) >= pos + 64:
            dir_offset, count = struct.unpack(">II", data[pos + 24 : pos + 32])
            if 0 < count < 4096 and dir_offset >= 64:  # a header, not the bytes inside an image
                starts.append(pos)
        pos = data.find(b"FFF\x00", pos + 4)
    return starts


def read_seq(path: str | Path) -> list[Radiometric]:
    """Every frame of a FLIR ``.seq`` radiometric video (or an FFF file as one frame)."""
    data = Path(path).read_bytes()
    starts = seq_frames(data)
    if not starts:
        raise ThermalFormatError(f"{Path(path).name}: no FFF frames: not a FLIR SEQ file")
    frames = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        frames.append(parse_fff(data[start:end]))
    return frames


RADIOMETRIC_SUFFIXES = (".jpg", ".jpeg", ".fff", ".seq")


def list_radiometric(
    spec: str | Path, suffixes: tuple[str, ...] = RADIOMETRIC_SUFFIXES
) -> list[Path]:
    """The files a file, folder or glob names, in natural order (``ThermalFormatError`` when
    it names none)."""
    from shigu.sources.images import is_glob, natural_key

    text = str(spec)
    path = Path(text)
    if is_glob(text):
        import glob

        found = [Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file()]
        if not found:
            raise ThermalFormatError(f"no file matches {text!r}", "check the pattern")
    elif path.is_dir():
        found = [p for p in path.iterdir() if p.suffix.lower() in suffixes and p.is_file()]
        if not found:
            raise ThermalFormatError(f"no {', '.join(suffixes)} file in {path}")
    elif path.is_file():
        return [path]
    else:
        raise ThermalFormatError(f"not found: {text}", "check the file, folder or pattern")
    return sorted(found, key=natural_key)


def visible_image(path: str | Path) -> np.ndarray | None:
    """The ordinary (visible or thermal-rendered) JPEG picture of an R-JPEG, BGR."""
    import cv2

    image = cv2.imdecode(np.frombuffer(Path(path).read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    return image


__all__ = [
    "Calibration",
    "Radiometric",
    "ThermalFormatError",
    "parse_bytes",
    "parse_fff",
    "read_radiometric",
    "read_seq",
]
