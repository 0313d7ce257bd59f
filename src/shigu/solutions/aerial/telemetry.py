"""DJI flight telemetry from the ``.SRT`` subtitle file a drone writes beside each video.

Each subtitle block covers one frame (or a short interval) and carries the aircraft's
position and, on newer models, the gimbal's angles, in one of DJI's bracketed layouts::

    1
    00:00:00,000 --> 00:00:00,033
    <font size="28">FrameCnt: 1, DiffTime: 33ms
    2023-05-01 10:12:13.123
    [iso: 100] [shutter: 1/1000.0] [fnum: 2.8] [ev: 0] [focal_len: 24.00] [latitude: 30.274085]
    [longitude: 120.155070] [rel_alt: 100.000 abs_alt: 135.250] [gb_yaw: 45.0 gb_pitch: -90.0
    gb_roll: 0.0] </font>

or the older ``GPS(120.155070,30.274085,19) ... H 100.00m`` layout. Keys are read wherever
they appear, so small layout differences between models do not matter.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

from shigu.core.errors import InputError

_TIME = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{1,3})\s*-->\s*(\d+):(\d\d):(\d\d)[,.](\d{1,3})")
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_KEYS = {
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "long"),
    "rel_alt": ("rel_alt", "altitude"),
    "abs_alt": ("abs_alt",),
    "gimbal_yaw": ("gb_yaw", "gimbal_yaw"),
    "gimbal_pitch": ("gb_pitch", "gimbal_pitch"),
    "gimbal_roll": ("gb_roll", "gimbal_roll"),
    "focal_len": ("focal_len",),
}
_OLD_GPS = re.compile(r"GPS\s*\(\s*" + _NUMBER + r"\s*,\s*" + _NUMBER + r"\s*,\s*" + _NUMBER)
_OLD_HEIGHT = re.compile(r"\bH\s*" + _NUMBER + r"\s*m")


@dataclass(frozen=True)
class TelemetrySample:
    """The aircraft and gimbal during [start, end) seconds of the video. Angles in degrees:
    yaw clockwise from north, pitch 0 level and -90 straight down; altitudes in metres
    (``rel_alt`` above the ground, for DJI the take-off point; ``abs_alt`` above sea level);
    None if absent. SRT and KLV (:mod:`shigu.solutions.aerial.klv`) both give these."""

    start: float
    end: float
    latitude: float
    longitude: float
    rel_alt: float | None = None
    abs_alt: float | None = None
    gimbal_yaw: float | None = None
    gimbal_pitch: float | None = None
    gimbal_roll: float | None = None
    focal_len: float | None = None
    hfov: float | None = None  # degrees, where the telemetry states it (KLV tag 16)


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def _value(text: str, names: tuple[str, ...]) -> float | None:
    for name in names:
        found = re.search(r"\b" + name + r"\s*[:=]\s*" + _NUMBER, text)
        if found:
            return float(found.group(1))
    return None


def parse_srt(text: str, source: str = "SRT") -> list[TelemetrySample]:
    """Every block of a DJI SRT that has a position, in time order."""
    samples: list[TelemetrySample] = []
    for block in re.split(r"\r?\n\s*\r?\n", text.strip()):
        times = _TIME.search(block)
        if times is None:
            continue
        g = times.groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        body = block[times.end() :]
        values = {key: _value(body, names) for key, names in _KEYS.items()}
        if values["latitude"] is None or values["longitude"] is None:
            old = _OLD_GPS.search(body)
            if old is None:
                continue
            values["longitude"], values["latitude"] = float(old.group(1)), float(old.group(2))
            height = _OLD_HEIGHT.search(body)
            values["rel_alt"] = float(height.group(1)) if height else values["rel_alt"]
        lat, lon = values.pop("latitude"), values.pop("longitude")
        assert lat is not None and lon is not None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"{source}: a position out of range at {start:.3f} s: {lat}, {lon}")
        samples.append(TelemetrySample(start, end, lat, lon, **values))
    if not samples:
        raise InputError(
            f"{source} holds no DJI telemetry (no subtitle block with a latitude and longitude)",
            "pass the .SRT the drone wrote beside the video",
        )
    samples.sort(key=lambda s: s.start)
    return samples


def read_srt(path: Path) -> list[TelemetrySample]:
    """``parse_srt`` on a file (UTF-8, or UTF-16 as some DJI apps write)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = (
        raw.decode("utf-16")
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff")
        else raw.decode("utf-8", errors="replace")
    )
    return parse_srt(text, str(path))


class Telemetry:
    """Samples looked up by video time: the block covering ``t``, else the nearest one."""

    def __init__(self, samples: list[TelemetrySample]) -> None:
        self.samples = samples
        self.starts = [s.start for s in samples]

    def at(self, t: float) -> TelemetrySample:
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return self.samples[0]
        if i + 1 < len(self.samples) and t >= self.samples[i].end:
            before, after = self.samples[i], self.samples[i + 1]
            return before if t - before.end < after.start - t else after
        return self.samples[i]
