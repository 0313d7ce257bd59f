"""Roadside perception for vehicle-road-cloud systems: road users and traffic events over MQTT.

A source calibrated to the road (``sources[].calibration``: image points and their ground
positions in metres, optionally ``geo``: the same points' latitude and longitude) becomes a
roadside unit. At ``rate_hz`` (media time) it publishes a **roadside safety message** (RSM)
with every tracked road user: id, participant type, position in metres and, with ``geo``,
latitude and longitude, speed, heading, size, confidence; and each traffic event (wrong way,
stopped vehicle, speeding, crowding, intrusion, line crossing, plate read...) as a **roadside
information message** (RSI), plus the counts per line (lane) every ``flow_seconds``.

The messages are modelled on China's CSAE 53-2020 RSM/RSI and SAE J2735 (participant types,
metres and m/s, heading clockwise from north in degrees) but written as JSON; their JSON
Schemas ship beside this module (``schemas/rsm.schema.json``, ``rsi.schema.json``) and every
message a test sees is validated against them. Topics: ``<prefix>/<rsu_id>/rsm`` and
``<prefix>/<rsu_id>/rsi``.

Heading: from the track's ground displacement over the last second; with ``geo`` it is
clockwise from true north, without it clockwise from the world frame's +y axis (say so in
``heading_ref``). Size: the width is the box's bottom edge projected to the ground; a single
view cannot see length, so it is the participant type's typical length (documented as such).
"""

from __future__ import annotations

import json
import math
import queue
import threading
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from shigu.core.events import Event, EventEnd
from shigu.core.geometry import apply_homography

PARTICIPANTS = {
    "person": "pedestrian", "bicycle": "non_motor_vehicle", "motorcycle": "motorcycle",
    "car": "motor_vehicle", "bus": "motor_vehicle", "truck": "motor_vehicle",
}  # fmt: skip
TYPICAL_LENGTH_M = {"person": 0.5, "bicycle": 1.8, "motorcycle": 2.0, "car": 4.6, "bus": 12.0,
                    "truck": 8.0}  # fmt: skip
EVENT_CODES = {  # RSI event kinds, after CSAE 53's traffic event classes
    "wrong_way": "wrong_way_driving", "stopped": "abnormal_stop", "speeding": "overspeed",
    "crowding": "congestion", "intrusion": "restricted_area", "line_crossing": "lane_flow",
    "plate_read": "vehicle_identified", "watchlist": "watchlisted_vehicle",
}  # fmt: skip


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of ``rsm`` or ``rsi`` messages."""
    text = resources.files("shigu.solutions.vehicles").joinpath(f"schemas/{name}.schema.json")
    out: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return out


class GeoFrame:
    """World metres to latitude/longitude: an affine map from the calibration's world
    points onto their east/north offsets (from their own latitude/longitude) around the
    points' centre, fitted by least squares."""

    def __init__(self, world: Sequence[Sequence[float]], geo: Sequence[Sequence[float]]) -> None:
        from shigu.solutions.aerial.geo import latlon_to_enu

        w = np.asarray(world, np.float64)
        g = np.asarray(geo, np.float64)
        self.lat0, self.lon0 = float(g[:, 0].mean()), float(g[:, 1].mean())
        en = latlon_to_enu(g[:, 0], g[:, 1], self.lat0, self.lon0)
        a = np.hstack([w, np.ones((len(w), 1))])
        self.m, *_ = np.linalg.lstsq(a, en, rcond=None)  # (3, 2): [x y 1] -> [e n]
        self.residual_m = float(np.sqrt(((a @ self.m - en) ** 2).sum(1)).max())

    def to_latlon(self, xy: np.ndarray) -> np.ndarray:
        from shigu.solutions.aerial.geo import enu_to_latlon

        en = np.hstack([np.asarray(xy, np.float64).reshape(-1, 2), np.ones((len(xy), 1))]) @ self.m
        return enu_to_latlon(en[:, 0], en[:, 1], self.lat0, self.lon0)

    def heading(self, dx: float, dy: float) -> float:
        """Degrees clockwise from north of a world displacement."""
        e, n = np.array([dx, dy]) @ self.m[:2]
        return math.degrees(math.atan2(e, n)) % 360.0


def participant(mem: Any, homography: np.ndarray, geo: GeoFrame | None) -> dict[str, Any]:
    """One road user of an RSM from its track memory."""
    x, y = mem.world[-1]
    dx, dy, dt = mem.displacement_since(1.0, world=True)
    speed = math.hypot(dx, dy) / dt if dt > 0 else 0.0
    moving = speed > 0.3
    heading = (geo.heading(dx, dy) if geo is not None
               else math.degrees(math.atan2(dx, dy)) % 360.0) if moving else None  # fmt: skip
    x1, _, x2, y2 = mem.box
    left, right = apply_homography(homography, np.array([[x1, y2], [x2, y2]], np.float64))
    width = float(np.hypot(*(right - left)))
    out: dict[str, Any] = {
        "id": int(mem.identity), "track_id": int(mem.track_id),
        "type": PARTICIPANTS.get(mem.class_name, "unknown"), "class": mem.class_name,
        "position": {"x": round(float(x), 2), "y": round(float(y), 2)},
        "speed": round(speed, 2), "heading": None if heading is None else round(heading, 1),
        "size": {"width": round(width, 2),
                 "length": TYPICAL_LENGTH_M.get(mem.class_name, 1.0)},
        "confidence": round(float(mem.confidence), 3),
    }  # fmt: skip
    if geo is not None:
        lat, lon = geo.to_latlon(np.array([[x, y]]))[0]
        out["lat"], out["lon"] = round(float(lat), 7), round(float(lon), 7)
    return out


class RoadsidePublisher:
    """Builds RSM/RSI messages from the engine's frames and events and publishes them on
    MQTT from a thread of its own (a bounded queue: a slow broker never stalls video)."""

    def __init__(self, cfg: Any, calibrations: dict[str, tuple[np.ndarray, GeoFrame | None]],
                 client: Any = None) -> None:  # fmt: skip
        self.cfg = cfg
        self.calibrations = calibrations
        self.prefix = f"{cfg.topic_prefix.rstrip('/')}/{cfg.rsu_id}"
        self._last_rsm: dict[str, float] = {}
        self._last_flow: dict[str, float] = {}
        self.sent: list[tuple[str, dict[str, Any]]] = []  # the last messages (for tests)
        self.published = self.dropped = 0
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(2000)
        self.client = client if client is not None else self._connect()
        self._thread = threading.Thread(target=self._loop, name="roadside", daemon=True)
        self._thread.start()

    def _connect(self) -> Any:
        from shigu.pipeline.sinks import mqtt_client

        c = self.cfg
        return mqtt_client(c.host, c.port, c.username, c.password,
                           c.client_id or f"shigu-rsu-{id(self):x}", "sinks.roadside")  # fmt: skip

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            topic, payload = item
            try:
                self.client.publish(topic, payload, qos=self.cfg.qos)
                self.published += 1
            except Exception:  # a sink must never kill the pipeline
                self.dropped += 1

    def _publish(self, kind: str, message: dict[str, Any]) -> None:
        self.sent = [*self.sent[-99:], (kind, message)]
        try:
            self._queue.put_nowait(
                (f"{self.prefix}/{kind}", json.dumps(message, ensure_ascii=False))
            )
        except queue.Full:
            self.dropped += 1

    def _header(self, kind: str, source: str, time_s: float) -> dict[str, Any]:
        import datetime as dt

        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        return {"msgType": kind.upper(), "version": 1, "rsuId": self.cfg.rsu_id,
                "source": source, "mediaTime": round(time_s, 3), "timestamp": now}  # fmt: skip

    def frame(self, source: str, time_s: float, seen: list[Any], scene: Any) -> None:
        """One frame of a calibrated source: an RSM when one is due, and lane counts."""
        calibration = self.calibrations.get(source)
        if calibration is None:
            return
        homography, geo = calibration
        last = self._last_rsm.get(source)
        if last is None or time_s - last >= 1.0 / self.cfg.rate_hz - 1e-6:
            self._last_rsm[source] = time_s
            message = self._header("rsm", source, time_s)
            message["heading_ref"] = "true_north" if geo is not None else "world_y"
            message["participants"] = [participant(m, homography, geo) for m in seen if m.world]
            self._publish("rsm", message)
        flow = self._last_flow.get(source)
        due = flow is None or time_s - flow >= self.cfg.flow_seconds
        if (scene.lines or scene.zones) and due:
            self._last_flow[source] = time_s
            self.flow(source, time_s, scene)

    def flow(self, source: str, time_s: float, scene: Any) -> None:
        """Counts per line (lane) since the start, and the queue in each zone now."""
        message = self._header("rsi", source, time_s)
        message["events"] = []
        message["flow"] = [{"lane": ln.line_id, "in": int(ln.counts["in"]),
                            "out": int(ln.counts["out"])} for ln in scene.lines]  # fmt: skip
        message["queues"] = self.queues(scene, time_s)
        self._publish("rsi", message)

    def queues(self, scene: Any, time_s: float) -> list[dict[str, Any]]:
        """Per zone: the vehicles standing in it (slower than ``queue_kmh``) and the queue's
        length, from the farthest apart of them plus one vehicle's length."""
        slow = [m for m in scene.book.tracks.values()
                if m.last_seen == time_s and m.world and PARTICIPANTS.get(m.class_name) in
                ("motor_vehicle", "motorcycle")
                and (m.speed_kmh or 0.0) < self.cfg.queue_kmh]  # fmt: skip
        out = []
        for zone in scene.zones:
            inside = [m for m in slow if scene.areas[zone.id].contains(np.array([m.anchor]))[0]]
            length = 0.0
            if inside:
                xy = np.array([m.world[-1] for m in inside])
                spread = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)).max()
                length = float(spread) + max(TYPICAL_LENGTH_M.get(m.class_name, 4.6)
                                             for m in inside)  # fmt: skip
            out.append({"zone": zone.id, "vehicles": len(inside), "length_m": round(length, 1)})
        return out

    def event(self, item: Event | EventEnd, geo_point: tuple[float, float] | None) -> None:
        """A new traffic event of a calibrated source as an RSI (ends are not sent)."""
        if not isinstance(item, Event) or item.source not in self.calibrations:
            return
        _, geo = self.calibrations[item.source]
        entry: dict[str, Any] = {
            "id": item.id, "type": EVENT_CODES.get(item.type, item.type), "shigu_type": item.type,
            "start": round(item.start, 3), "track_id": item.track_id,
            "class": item.class_name, "zone": item.zone, "lane": item.line,
            "description": ", ".join(f"{k}={v}" for k, v in sorted(item.attributes.items())
                                     if isinstance(v, str | int | float))[:200],
        }  # fmt: skip
        if geo_point is not None:
            entry["position"] = {"x": round(geo_point[0], 2), "y": round(geo_point[1], 2)}
            if geo is not None:
                lat, lon = geo.to_latlon(np.array([geo_point]))[0]
                entry["lat"], entry["lon"] = round(float(lat), 7), round(float(lon), 7)
        message = self._header("rsi", item.source, item.start)
        message["events"] = [entry]
        self._publish("rsi", message)

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
        if hasattr(self.client, "loop_stop"):
            self.client.loop_stop()
            self.client.disconnect()
