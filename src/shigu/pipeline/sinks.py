"""Where events go after the store: a JSONL file, webhooks, MQTT.

Every sink takes ``Event`` (new) and ``EventEnd`` (finished) items. Sinks that talk to the
network run in their own thread behind a bounded queue so a slow peer never stalls video.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from shigu.core.events import Event, EventEnd
from shigu.solutions.living.occupancy import OccupancyCount

log = logging.getLogger(__name__)
Item = Event | EventEnd


def item_message(item: Item) -> dict[str, Any]:
    """The JSON message for an item: ``{"type": "new"|"end", "event"|"end": {...}}``."""
    if isinstance(item, Event):
        return {"type": "new", "event": item.to_dict()}
    return {"type": "end", "end": item.to_dict()}


class Sink(Protocol):
    def handle(self, item: Item) -> None: ...

    def close(self) -> None: ...


class JsonlSink:
    """One JSON line per item, flushed as written (other tools tail it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def handle(self, item: Item) -> None:
        line = json.dumps(item_message(item), ensure_ascii=False)
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            self._fh.close()


class _Threaded:
    """A worker thread draining a bounded queue into ``_send``; ``close`` drains it first."""

    def __init__(self, name: str, capacity: int = 10_000) -> None:
        self._queue: queue.Queue[Item | None] = queue.Queue(capacity)
        self.dropped = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def handle(self, item: Item) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            self._overflow(item)

    def _overflow(self, item: Item) -> None:
        log.warning("%s queue full; item dropped", self._thread.name)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._send(item)
            except Exception as exc:  # a sink must never kill the pipeline
                log.warning("%s: %s", self._thread.name, exc)

    def _send(self, item: Item) -> None:
        raise NotImplementedError

    def close(self, timeout: float = 30.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)


class WebhookSink(_Threaded):
    """HTTP POST of each item's JSON, retried with exponential backoff; items that still fail
    are appended to a dead-letter JSONL file (replay it later)."""

    def __init__(
        self,
        url: str,
        retries: int = 5,
        timeout: float = 5.0,
        dead_letter: str | Path = "webhook-dead-letter.jsonl",
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        self.url = url
        self.retries = retries
        self.backoff = backoff
        self.dead_letter = Path(dead_letter)
        self.delivered = 0
        self.failed = 0
        self._sleep = sleep
        self._client = httpx.Client(timeout=timeout)
        super().__init__("webhook")

    def _send(self, item: Item) -> None:
        import httpx

        body = item_message(item)
        error = ""
        for attempt in range(self.retries + 1):
            try:
                resp = self._client.post(self.url, json=body)
                if resp.status_code < 300:
                    self.delivered += 1
                    return
                error = f"HTTP {resp.status_code}"
                if 400 <= resp.status_code < 500 and resp.status_code not in (408, 429):
                    break  # the peer rejects it; retrying will not help
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if attempt < self.retries:
                self._sleep(self.backoff * 2**attempt)
        self._dead(body, error)

    def _overflow(self, item: Item) -> None:
        self._dead(item_message(item), "queue full")

    def _dead(self, body: dict[str, Any], error: str) -> None:
        self.failed += 1
        log.warning("webhook %s failed (%s); written to %s", self.url, error, self.dead_letter)
        self.dead_letter.parent.mkdir(parents=True, exist_ok=True)
        with self.dead_letter.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"error": error, "url": self.url, "message": body}) + "\n")

    def close(self, timeout: float = 60.0) -> None:
        super().close(timeout)
        self._client.close()


def mqtt_client(
    host: str, port: int, username: str | None, password: str | None, client_id: str,
    where: str, will: tuple[str, str] | None = None, on_connect: Any = None,
) -> Any:  # fmt: skip
    """A connected paho client with its network loop running (ConfigError naming the config
    section ``where`` when the broker cannot be reached)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from shigu.core.errors import ConfigError

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if username:
        client.username_pw_set(username, password)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    if on_connect is not None:
        client.on_connect = on_connect
    client.reconnect_delay_set(1, 30)
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        raise ConfigError(
            f"cannot reach MQTT broker {host}:{port}: {exc}",
            f"check {where}.host/port and that the broker runs",
        ) from None
    client.loop_start()
    return client


class MqttSink(_Threaded):
    """MQTT in the style Frigate users know: ``<prefix>/available`` (retained ``online``, and
    ``offline`` by last will), ``<prefix>/events`` (new/end JSON), and retained per-source
    counters ``<prefix>/<source>/<line>/in|out`` and ``<prefix>/<source>/<type>`` totals."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        prefix: str = "shigu",
        username: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
        discovery_prefix: str | None = "homeassistant",
    ) -> None:
        self.prefix = prefix.rstrip("/")
        self.discovery_prefix = discovery_prefix.rstrip("/") if discovery_prefix else None
        self.announced: set[tuple[str, str]] = set()
        self.totals: dict[tuple[str, str], int] = {}
        self.lines: dict[tuple[str, str, str], int] = {}
        self.client = mqtt_client(host, port, username, password,
                                  client_id or f"shigu-{id(self):x}", "sinks.mqtt",
                                  will=(f"{self.prefix}/available", "offline"),
                                  on_connect=self._on_connect)  # fmt: skip
        super().__init__("mqtt")

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.publish(f"{self.prefix}/available", "online", qos=1, retain=True)

    def occupancy(self, update: OccupancyCount) -> None:
        """A zone's head count changed: its retained state topics (queued like events)."""
        self.handle(update)  # type: ignore[arg-type]

    def _announce(self, source: str, zone: str) -> None:
        """Home Assistant MQTT discovery: the room as an occupancy binary sensor and a
        people-count sensor, both unavailable when Shigu is offline."""
        if self.discovery_prefix is None or (source, zone) in self.announced:
            return
        self.announced.add((source, zone))
        base = f"{self.prefix}/{source}/{zone}"
        uid = re.sub(r"[^A-Za-z0-9_-]", "_", f"shigu_{self.prefix}_{source}_{zone}")
        device = {"identifiers": [f"shigu_{self.prefix}_{source}"], "name": f"Shigu {source}",
                  "manufacturer": "Shigu", "model": "camera"}  # fmt: skip
        common = {"availability_topic": f"{self.prefix}/available", "device": device}
        configs = {
            f"binary_sensor/{uid}_occupied": {
                **common, "name": f"{zone} occupied", "unique_id": f"{uid}_occupied",
                "device_class": "occupancy", "state_topic": f"{base}/occupied",
                "payload_on": "ON", "payload_off": "OFF",
            },
            f"sensor/{uid}_count": {
                **common, "name": f"{zone} people", "unique_id": f"{uid}_count",
                "state_topic": f"{base}/count", "unit_of_measurement": "people",
                "state_class": "measurement", "icon": "mdi:account-group",
            },
        }  # fmt: skip
        for topic, config in configs.items():
            self.client.publish(f"{self.discovery_prefix}/{topic}/config", json.dumps(config),
                                qos=1, retain=True)  # fmt: skip

    def _send(self, item: Item) -> None:
        if isinstance(item, OccupancyCount):
            self._announce(item.source, item.zone)
            base = f"{self.prefix}/{item.source}/{item.zone}"
            self.client.publish(f"{base}/count", str(item.count), qos=1, retain=True)
            self.client.publish(f"{base}/occupied", "ON" if item.occupied else "OFF", qos=1,
                                retain=True)  # fmt: skip
            return
        self.client.publish(f"{self.prefix}/events", json.dumps(item_message(item)), qos=1)
        if not isinstance(item, Event):
            return
        key = (item.source, item.type)
        self.totals[key] = self.totals.get(key, 0) + 1
        self.client.publish(
            f"{self.prefix}/{item.source}/{item.type}", str(self.totals[key]), qos=1, retain=True
        )
        if item.line and "direction" in item.attributes:
            lk = (item.source, item.line, str(item.attributes["direction"]))
            self.lines[lk] = self.lines.get(lk, 0) + 1
            self.client.publish(
                f"{self.prefix}/{item.source}/{item.line}/{lk[2]}",
                str(self.lines[lk]),
                qos=1,
                retain=True,
            )

    def close(self, timeout: float = 30.0) -> None:
        super().close(timeout)
        info = self.client.publish(f"{self.prefix}/available", "offline", qos=1, retain=True)
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(timeout=5)
        self.client.loop_stop()
        self.client.disconnect()
