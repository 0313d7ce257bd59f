"""The engine inside the server: runs the pipeline in a thread and applies live changes.

Every change (a source, zone or line added, changed or removed) is applied to a copy of the
config, validated exactly as a config file is (pydantic, polygon checks, frame bounds), and
only then handed to the running pipeline; a rejected change leaves everything as it was.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import ValidationError

from shigu.core.detections import Detections
from shigu.core.errors import ConfigError, SourceError
from shigu.core.events import Event, EventEnd
from shigu.pipeline.config import Config, SourceConfig, parse_config
from shigu.server.live import LiveHub

log = logging.getLogger(__name__)


def save_config(path: Path, data: dict[str, Any]) -> None:
    """Write the current config over ``path`` atomically, so sources, zones and lines made in
    the dashboard survive a restart. The file as it was before is kept as ``PATH.bak``, and
    the user's own first version, comments included, as ``PATH.orig``."""
    import os
    import shutil
    import tempfile
    from datetime import UTC, datetime

    import yaml

    if path.is_file():
        original = path.with_name(path.name + ".orig")
        if not original.exists():
            shutil.copy2(path, original)
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    header = (
        f"# Written by `shigu serve` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC after a change made "
        f"in the dashboard or API.\n# The previous file is {path.name}.bak, your own first "
        f"version {path.name}.orig.\n"
    )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


class EngineHost:
    """Owns the running :class:`~shigu.pipeline.Pipeline` and the current config."""

    def __init__(
        self,
        config: Config,
        hub: LiveHub,
        run_engine: bool = True,
        config_path: Path | None = None,
    ) -> None:
        from shigu.pipeline import Pipeline

        self.hub = hub
        self.config_path = config_path  # changes made live are saved here (None: not saved)
        self._data = config.model_dump(mode="json")
        self.config = config
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()  # one config change at a time
        self.pipeline: Pipeline | None = None
        self.thread: threading.Thread | None = None
        self.error: str | None = None
        self.summary: dict[str, Any] | None = None
        if run_engine:
            self.pipeline = Pipeline(config, on_item=self._on_item, on_frame=self._on_frame)

    # ---------------------------------------------------------------- running
    def start(self) -> None:
        if self.pipeline is None:
            return

        def main() -> None:
            assert self.pipeline is not None
            try:
                self.summary = self.pipeline.run(keep_running=True)
            except Exception as exc:  # reported on /healthz and /api/sources
                self.error = f"{type(exc).__name__}: {exc}"
                log.exception("engine stopped")

        self.thread = threading.Thread(target=main, name="engine", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.pipeline is not None:
            self.pipeline.stop()
        if self.thread is not None:
            self.thread.join(timeout=30)

    def _on_item(self, item: Event | EventEnd) -> None:
        if isinstance(item, Event):
            from shigu.store.paging import event_json

            self.hub.publish_event({"kind": "event", "event": event_json(item)})
        else:
            self.hub.publish_event({"kind": "end", "id": item.id, "end": item.end})

    def _on_frame(self, source: str, image: np.ndarray, dets: Detections) -> None:
        if not self.hub.wanted(source):
            return
        assert self.pipeline is not None
        canvas = image.copy()
        self.pipeline.annotate(canvas, dets, source)
        ok, jpeg = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 75])
        if ok:
            self.hub.publish_frame(source, jpeg.tobytes())

    # ---------------------------------------------------------------- status
    def sources(self, reveal: bool = False) -> list[dict[str, Any]]:
        """Every source's status; passwords in URIs and errors are redacted unless
        ``reveal`` (an admin editing sources)."""
        from shigu.core.redact import redact_uri

        with self._lock:
            configured = list(self._data["sources"])
        out = []
        for sc in configured:
            status: dict[str, Any] = {
                "id": sc["id"],
                "uri": sc["uri"] if reveal else redact_uri(sc["uri"]),
                "connected": False,
                "frames": 0,
                "fps": 0.0,
                "dropped": 0,
                "last_frame_at": None,
                "error": None,
            }
            if self.pipeline is not None:
                status.update(self.pipeline.source_status(sc["id"]))
            status["error"] = redact_uri(status.get("error"))
            latest = self.hub.latest(sc["id"])
            if latest is not None:
                status["last_frame_at"] = latest[2]
            out.append(status)
        return out

    def data(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._data)

    # ---------------------------------------------------------------- changes
    def _apply(self, change: Any) -> Config:
        """Apply ``change(data)`` to a copy, validate it, then make it current. Changes run
        one at a time (``_write_lock``); readers wait on ``_lock`` only for the copy and the
        swap, never for the validation (a large zone used to stall the sources list)."""
        with self._write_lock:
            with self._lock:
                data = copy.deepcopy(self._data)
            change(data)
            cfg = parse_config(data, "change")
            if self.pipeline is not None:
                self.pipeline.check_bounds(cfg)
            with self._lock:
                self._data = cfg.model_dump(mode="json")
                self.config = cfg
            if self.config_path is not None:
                save_config(self.config_path, self._data)
            return cfg

    def put_source(
        self, source: dict[str, Any], create: bool, offline_ok: bool = False
    ) -> dict[str, Any]:
        """Add or replace a source. While the engine runs, the source is opened first (in
        the caller's thread): one that cannot be opened is refused with its error and nothing
        changes, unless ``offline_ok`` (a camera that is down now: saved and retried)."""
        sid = source.get("id")
        existing = any(s["id"] == sid for s in self._data["sources"])
        if create and existing:
            raise ConfigError(f"source {sid!r} already exists", "use PUT to change it")
        if not create and not existing:
            raise KeyError(sid)
        opened = self._try_open(source, offline_ok)

        def change(data: dict[str, Any]) -> None:
            data["sources"] = [s for s in data["sources"] if s["id"] != sid] + [source]

        try:
            cfg = self._apply(change)
        except Exception:
            if opened is not None and opened[0] is not None:
                opened[0].close()
            raise
        if self.pipeline is not None:
            sc = next(s for s in cfg.sources if s.id == sid)
            if not create:
                self.pipeline.remove_source(str(sid))
            self.pipeline.add_source(sc, cfg, opened)
        return source

    def _try_open(self, source: dict[str, Any], offline_ok: bool) -> tuple[Any, str | None] | None:
        """Open ``source`` before the change is accepted (None when no engine runs)."""
        if self.pipeline is None or not self.pipeline.running:
            return None
        try:
            sc = SourceConfig.model_validate(source)
        except ValidationError as exc:
            raise ConfigError(f"source: {exc.errors()[0].get('msg', 'invalid')}") from None
        opened: tuple[Any, str | None] = self.pipeline.preopen(sc)
        if opened[1] is not None and not offline_ok:
            raise SourceError(
                f"source {sc.id!r} could not be opened: {opened[1]}",
                "check the URI; to add a camera that is down now and keep retrying it, "
                'send "offline_ok": true',
            )
        return opened

    def delete_source(self, sid: str) -> None:
        if not any(s["id"] == sid for s in self._data["sources"]):
            raise KeyError(sid)

        def change(data: dict[str, Any]) -> None:
            data["sources"] = [s for s in data["sources"] if s["id"] != sid]
            data["zones"] = [z for z in data["zones"] if z["source"] != sid]
            data["lines"] = [ln for ln in data["lines"] if ln["source"] != sid]

        self._apply(change)
        if self.pipeline is not None:
            self.pipeline.remove_source(sid)

    def put_shape(self, kind: str, shape: dict[str, Any], create: bool) -> dict[str, Any]:
        """Add or replace a zone (``kind="zones"``) or line (``"lines"``); effective live."""
        sid = shape.get("id")
        existing = [s for s in self._data[kind] if s["id"] == sid]
        if create and existing:
            raise ConfigError(f"{kind[:-1]} {sid!r} already exists", "use PUT to change it")
        if not create and not existing:
            raise KeyError(sid)
        sources = {shape.get("source")} | {s["source"] for s in existing}

        def change(data: dict[str, Any]) -> None:
            data[kind] = [s for s in data[kind] if s["id"] != sid] + [shape]

        cfg = self._apply(change)
        self._refresh(cfg, sources)
        return next(s for s in self._data[kind] if s["id"] == sid)

    def delete_shape(self, kind: str, sid: str) -> None:
        existing = [s for s in self._data[kind] if s["id"] == sid]
        if not existing:
            raise KeyError(sid)

        def change(data: dict[str, Any]) -> None:
            data[kind] = [s for s in data[kind] if s["id"] != sid]

        cfg = self._apply(change)
        self._refresh(cfg, {existing[0]["source"]})

    def _refresh(self, cfg: Config, sources: set[Any]) -> None:
        if self.pipeline is None:
            return
        for source in sources:
            if isinstance(source, str):
                self.pipeline.set_geometry(source, cfg)

    def wait_started(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while (
            self.pipeline is not None and not self.pipeline.states and time.monotonic() < deadline
        ):
            if self.error:
                return
            time.sleep(0.05)
