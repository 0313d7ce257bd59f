"""Tracks and events on the map: GeoJSON (RFC 7946) and KML 2.2, one writer per format.

A track is a LineString of its ground positions over time (longitude, latitude: GeoJSON's
order) with its id, class, first and last media time and the median position error; a
single-position track is a Point. Events are Points with their type and times.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from shigu.io.atomic import atomic_write


@dataclass
class GeoTrack:
    """One object's ground path: (time s, latitude, longitude, error m) per observation."""

    track_id: int
    class_name: str
    points: list[tuple[float, float, float, float]] = field(default_factory=list)
    source: str | None = None  # the camera, when tracks of several are written together


@dataclass(frozen=True)
class GeoEvent:
    type: str
    time: float
    latitude: float
    longitude: float
    track_id: int | None = None
    source: str | None = None


def geojson(tracks: Sequence[GeoTrack], events: Sequence[GeoEvent] = ()) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the tracks and events."""
    features: list[dict[str, Any]] = []
    for t in tracks:
        if not t.points:
            continue
        coords = [[round(lon, 7), round(lat, 7)] for _, lat, lon, _ in t.points]
        geometry = (
            {"type": "Point", "coordinates": coords[0]}
            if len(coords) == 1
            else {"type": "LineString", "coordinates": coords}
        )
        errors = [e for *_, e in t.points if np.isfinite(e)]
        features.append({
            "type": "Feature", "geometry": geometry,
            "properties": {
                "kind": "track", "track_id": t.track_id, "class": t.class_name,
                **({"source": t.source} if t.source is not None else {}),
                "start": round(t.points[0][0], 3), "end": round(t.points[-1][0], 3),
                "observations": len(t.points),
                "error_m": round(float(np.median(errors)), 2) if errors else None,
            },
        })  # fmt: skip
    for e in events:
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point",
                         "coordinates": [round(e.longitude, 7), round(e.latitude, 7)]},
            "properties": {"kind": "event", "type": e.type, "time": round(e.time, 3),
                           "track_id": e.track_id,
                           **({"source": e.source} if e.source is not None else {})},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def write_geojson(path: Path, tracks: Sequence[GeoTrack], events: Sequence[GeoEvent] = ()) -> None:
    atomic_write(path, json.dumps(geojson(tracks, events), indent=1).encode())


def kml(tracks: Sequence[GeoTrack], events: Sequence[GeoEvent] = ()) -> str:
    """A KML 2.2 document: a Placemark per track (LineString) and per event (Point)."""
    marks = []
    for t in tracks:
        if not t.points:
            continue
        coords = " ".join(f"{lon:.7f},{lat:.7f},0" for _, lat, lon, _ in t.points)
        shape = (
            f"<Point><coordinates>{coords}</coordinates></Point>"
            if len(t.points) == 1
            else f"<LineString><tessellate>1</tessellate><coordinates>{coords}</coordinates>"
            "</LineString>"
        )
        name = escape(f"{t.source + ' ' if t.source else ''}{t.class_name} {t.track_id}")
        span = f"{t.points[0][0]:.3f}-{t.points[-1][0]:.3f} s"
        marks.append(f"<Placemark><name>{name}</name><description>{span}</description>"
                     f"{shape}</Placemark>")  # fmt: skip
    for e in events:
        marks.append(
            f"<Placemark><name>{escape(e.type)}</name><description>"
            f"{escape(e.source + ' ') if e.source else ''}{e.time:.3f} s"
            f"</description><Point><coordinates>{e.longitude:.7f},{e.latitude:.7f},0"
            "</coordinates></Point></Placemark>"
        )
    body = "".join(marks)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
    return f"{head}<Document>{body}</Document></kml>\n"


def write_kml(path: Path, tracks: Sequence[GeoTrack], events: Sequence[GeoEvent] = ()) -> None:
    atomic_write(path, kml(tracks, events).encode())
