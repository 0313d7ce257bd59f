"""Live fan-out: the newest annotated JPEG per source and new events to WebSocket clients.

The engine thread publishes; the web server's event loop consumes. Frames are encoded only
while someone watches (``wanted``), so an idle dashboard costs nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any


class LiveHub:
    def __init__(self) -> None:
        self._frames: dict[str, tuple[int, bytes, float]] = {}
        self._cond = threading.Condition()
        self._watchers: dict[str, float] = {}
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]]
        self._subscribers = set()
        self._sub_lock = threading.Lock()

    # ---------------------------------------------------------------- frames
    def wanted(self, source: str) -> bool:
        """Whether a client asked for this source's frames in the last 10 s."""
        return time.monotonic() - self._watchers.get(source, -1e9) < 10.0

    def watch(self, source: str) -> None:
        self._watchers[source] = time.monotonic()

    def publish_frame(self, source: str, jpeg: bytes) -> None:
        with self._cond:
            seq = self._frames.get(source, (0, b"", 0.0))[0] + 1
            self._frames[source] = (seq, jpeg, time.time())
            self._cond.notify_all()

    def latest(self, source: str) -> tuple[int, bytes, float] | None:
        return self._frames.get(source)

    def wait_frame(
        self, source: str, after: int, timeout: float
    ) -> tuple[int, bytes, float] | None:
        """Block (in a worker thread) until a frame newer than ``after`` arrives."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._frames.get(source, (0, b"", 0.0))[0] > after, timeout=timeout
            )
            item = self._frames.get(source)
        return item if item is not None and item[0] > after else None

    # ---------------------------------------------------------------- events
    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        with self._sub_lock:
            self._subscribers.add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        with self._sub_lock:
            self._subscribers = {(lp, q) for lp, q in self._subscribers if q is not queue}

    def publish_event(self, message: dict[str, Any]) -> None:
        with self._sub_lock:
            subs = list(self._subscribers)
        for loop, queue in subs:

            def put(q: asyncio.Queue[dict[str, Any]] = queue) -> None:
                if not q.full():  # a stuck client loses messages, never blocks the engine
                    q.put_nowait(message)

            try:
                loop.call_soon_threadsafe(put)
            except RuntimeError:  # its loop is closed
                continue
