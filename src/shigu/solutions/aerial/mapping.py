"""Tracks on the map: each tracked box's ground point from the flight telemetry at its
frame's time, gathered per track and written as GeoJSON and/or KML at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.detections import Detections
from shigu.core.errors import InputError
from shigu.core.frame import Frame
from shigu.io.geo import GeoTrack, write_geojson, write_kml
from shigu.solutions.aerial.geo import CameraPose, Intrinsics, ground_error, pixels_to_ground
from shigu.solutions.aerial.telemetry import Telemetry, TelemetrySample


def pose_of(sample: TelemetrySample) -> CameraPose:
    """The camera pose of a telemetry sample (gimbal angles; straight down when absent)."""
    if sample.rel_alt is None or sample.rel_alt <= 0:
        raise InputError(
            f"the telemetry at {sample.start:.3f} s has no height above the ground (rel_alt)",
            "use an SRT with rel_alt (DJI's newer layout) or H ...m",
        )
    return CameraPose(
        sample.latitude,
        sample.longitude,
        sample.rel_alt,
        yaw=sample.gimbal_yaw or 0.0,
        pitch=sample.gimbal_pitch if sample.gimbal_pitch is not None else -90.0,
        roll=sample.gimbal_roll or 0.0,
    )


class TrackMapper:
    """A per-frame callback (``on_frame``) that places tracked objects on the ground."""

    def __init__(self, telemetry: Telemetry, hfov_deg: float, labels: tuple[str, ...]) -> None:
        self.telemetry, self.hfov, self.labels = telemetry, hfov_deg, labels
        self.tracks: dict[int, GeoTrack] = {}
        self._k: Intrinsics | None = None

    def __call__(self, frame: Frame, dets: Detections, path: Any = None) -> None:
        if dets.tracker_id is None or len(dets) == 0:
            return
        keep = dets.tracker_id >= 0
        if not keep.any():
            return
        if self._k is None:
            self._k = Intrinsics.from_hfov(frame.width, frame.height, self.hfov)
        pose = pose_of(self.telemetry.at(frame.timestamp))
        boxes = dets.xyxy[keep].astype(np.float64)
        feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
        ground = pixels_to_ground(feet, pose, self._k)
        errors = ground_error(feet, pose, self._k)
        for tid, cls, (lat, lon), err in zip(
            dets.tracker_id[keep].tolist(), dets.class_id[keep].tolist(), ground, errors,
            strict=True,
        ):  # fmt: skip
            if not np.isfinite(lat):
                continue  # above the horizon
            name = self.labels[cls] if 0 <= cls < len(self.labels) else str(cls)
            track = self.tracks.setdefault(tid, GeoTrack(tid, name))
            track.points.append((frame.timestamp, float(lat), float(lon), float(err)))

    def write(self, geojson: Path | None, kml: Path | None) -> dict[str, str]:
        tracks = sorted(self.tracks.values(), key=lambda t: t.track_id)
        written = {}
        if geojson is not None:
            write_geojson(geojson, tracks)
            written["geojson"] = str(geojson)
        if kml is not None:
            write_kml(kml, tracks)
            written["kml"] = str(kml)
        return written
