"""Tracks on the map: each tracked box's ground point from the flight telemetry (DJI SRT
or MISB KLV) at its frame's time, over flat ground or a DEM, gathered per track and
written as GeoJSON and/or KML at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.detections import Detections
from shigu.core.errors import InputError
from shigu.core.frame import Frame
from shigu.io.geo import GeoTrack, write_geojson, write_kml
from shigu.solutions.aerial.dem import Dem
from shigu.solutions.aerial.geo import CameraPose, Intrinsics, ground_error, pixels_to_ground
from shigu.solutions.aerial.telemetry import Telemetry, TelemetrySample

DEFAULT_HFOV = 82.0  # most DJI wide cameras


def load_flight(
    source: str, srt: Path | str | None, ground_alt: float | None, with_dem: bool
) -> Telemetry:
    """A flight's telemetry: the DJI SRT file, else the MISB KLV in the video itself."""
    from shigu.solutions.aerial.telemetry import read_srt

    if srt is not None:
        return Telemetry(read_srt(Path(srt)))
    from shigu.solutions.aerial.klv import klv_samples, read_klv

    path = Path(source)
    records = read_klv(path) if path.is_file() else []
    if not records:
        raise InputError(
            f"{source} carries no MISB KLV telemetry, so tracks cannot be placed on the map",
            "give the drone's flight log as an SRT (--srt FILE.SRT, or telemetry.srt in a config)",
        )
    samples = klv_samples(records, ground_alt)
    if not with_dem and all(s.rel_alt is None for s in samples):
        raise InputError(
            f"the KLV in {source} gives no ground height (no frame-centre elevation)",
            "give the ground's height above sea level (--ground-alt / telemetry.ground_alt) "
            "or a DEM",
        )
    return Telemetry(samples)


def pose_of(sample: TelemetrySample, dem: Dem | None = None) -> CameraPose:
    """The camera pose of a telemetry sample (gimbal angles; straight down when absent).
    Over a DEM the camera's height above sea level (``abs_alt``) places it."""
    if dem is not None and sample.abs_alt is None:
        raise InputError(
            f"the telemetry at {sample.start:.3f} s has no height above sea level (abs_alt), "
            "which a DEM needs",
            "drop --dem to use flat ground at rel_alt below the drone",
        )
    if dem is None and (sample.rel_alt is None or sample.rel_alt <= 0):
        raise InputError(
            f"the telemetry at {sample.start:.3f} s has no height above the ground",
            "use an SRT with rel_alt (DJI's newer layout) or H ...m; for KLV give "
            "--ground-alt or --dem",
        )
    return CameraPose(
        sample.latitude,
        sample.longitude,
        sample.rel_alt if sample.rel_alt is not None else 0.0,
        yaw=sample.gimbal_yaw or 0.0,
        pitch=sample.gimbal_pitch if sample.gimbal_pitch is not None else -90.0,
        roll=sample.gimbal_roll or 0.0,
        elevation=sample.abs_alt,
    )


class TrackMapper:
    """A per-frame callback (``on_frame``) that places tracked objects on the ground.
    ``hfov_deg`` None takes the field of view from the telemetry (KLV states it, and it
    changes with zoom), else 82 degrees."""

    def __init__(
        self,
        telemetry: Telemetry,
        hfov_deg: float | None,
        labels: tuple[str, ...],
        dem: Dem | None = None,
    ) -> None:
        self.telemetry, self.hfov, self.labels, self.dem = telemetry, hfov_deg, labels, dem
        self.tracks: dict[int, GeoTrack] = {}

    def _intrinsics(self, frame: Frame, sample: TelemetrySample) -> Intrinsics:
        hfov = self.hfov if self.hfov is not None else sample.hfov or DEFAULT_HFOV
        return Intrinsics.from_hfov(frame.width, frame.height, hfov)

    def __call__(self, frame: Frame, dets: Detections, path: Any = None) -> None:
        if dets.tracker_id is None or len(dets) == 0:
            return
        keep = dets.tracker_id >= 0
        if not keep.any():
            return
        sample = self.telemetry.at(frame.timestamp)
        pose = pose_of(sample, self.dem)
        k = self._intrinsics(frame, sample)
        boxes = dets.xyxy[keep].astype(np.float64)
        feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
        ground = pixels_to_ground(feet, pose, k, self.dem)
        errors = ground_error(feet, pose, k, dem=self.dem)
        for tid, cls, (lat, lon), err in zip(
            dets.tracker_id[keep].tolist(), dets.class_id[keep].tolist(), ground, errors,
            strict=True,
        ):  # fmt: skip
            if not np.isfinite(lat):
                continue  # above the horizon
            name = self.labels[cls] if 0 <= cls < len(self.labels) else str(cls)
            track = self.tracks.setdefault(tid, GeoTrack(tid, name))
            track.points.append((frame.timestamp, float(lat), float(lon), float(err)))

    def last_point(self, track_id: int) -> tuple[float, float] | None:
        """The latest ground position of a track (latitude, longitude), if it has one."""
        track = self.tracks.get(track_id)
        if track is None or not track.points:
            return None
        _, lat, lon, _ = track.points[-1]
        return lat, lon

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
