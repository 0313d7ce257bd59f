"""``SourceRunner``: one thread per source that decodes and letterboxes into a bounded queue.

File mode blocks when the queue is full (every frame is processed); live mode drops the
oldest queued frame instead, so latency stays bounded, and counts the drop.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from shigu.core.errors import ShiguError
from shigu.core.frame import Frame
from shigu.detect.base import Detector
from shigu.detect.letterbox import LetterboxMeta
from shigu.detect.regions import Rect
from shigu.detect.slicing import SliceConfig, plan_slices
from shigu.detect.stream import Crop, Prepared
from shigu.sources import open_source
from shigu.sources.base import Source, SourceInfo

log = logging.getLogger(__name__)

# The motion gate's answer for a frame: detect it at all, and on which crops (None: whole)
GateDecision = tuple[bool, "list[Rect] | None"]


class SourceRunner(threading.Thread):
    def __init__(
        self,
        source_id: str,
        uri: str,
        detector: Detector,
        mode: str = "auto",
        queue_size: int = 8,
        fps: float | None = None,
        max_frames: int | None = None,
        realtime: bool = False,
        loop: bool = False,
        pre: Callable[[Frame], Frame] | None = None,
        gate: Callable[[Frame], GateDecision] | None = None,
        slicing: SliceConfig | None = None,
        source: Source | None = None,
    ) -> None:
        """``pre``: the pipeline's ``pre`` stages, run on each frame before letterboxing.
        ``gate``: the motion gate; (False, _) for a frame means it needs no detection,
        (True, crops) detection on those crops only (None: the whole frame). ``slicing``:
        detect every frame on tiles (``shigu.detect.slicing``), the gate's crops aside."""
        super().__init__(name=f"source-{source_id}", daemon=True)
        self.pre = pre
        self.gate = gate
        self.slicing = slicing
        self.skipped = 0
        self.cropped = 0  # frames detected on crops around motion only
        self.source_id = source_id
        self.uri = uri
        self.detector = detector
        self.mode = mode
        self.fps = fps
        self.max_frames = max_frames
        self.realtime = realtime
        self.loop = loop
        self.queue: queue.Queue[Prepared] = queue.Queue(queue_size)
        self.opened = threading.Event()
        self.done = threading.Event()
        self.stop_requested = threading.Event()
        self.info: SourceInfo | None = None
        self.source: Source | None = source  # given already open (a job's), or opened here
        self.error: str | None = None
        self.exception: ShiguError | None = None  # what stopped the source, for the caller
        self.decoded = 0
        self.dropped = 0
        self.decode_seconds = 0.0
        self.live = False
        self.wake: threading.Event | None = None  # set on every frame queued and at the end

    def open(self) -> None:
        """Open the source (in the caller's thread, so start-up errors surface at once)."""
        try:
            if self.source is None:
                opts = {"target_fps": self.fps} if self.fps else {}
                self.source = open_source(self.uri, source_id=self.source_id, **opts)
            self.info = self.source.info
            self.live = (
                self.mode == "live"
                or (self.mode == "auto" and bool(self.info.live))
                or self.realtime
            )
        except ShiguError as exc:
            self.error = exc.one_line()
            self.done.set()
        finally:
            self.opened.set()

    def run(self) -> None:
        if self.source is None:
            self.done.set()
            return
        w, h = self.detector.prep.size
        canvas = np.empty((h, w, 3), np.uint8)
        nothing = np.empty((0,), np.float32)
        meta = None
        try:
            started = time.perf_counter()
            for frame in self._frames():
                if self.stop_requested.is_set():
                    break
                if self.pre is not None:
                    frame = self.pre(frame)
                self.decoded += 1
                moving, crops = (True, None) if self.gate is None else self.gate(frame)
                if not moving and meta is not None:  # the first frame is always detected
                    self.skipped += 1
                    self.decode_seconds += time.perf_counter() - started
                    self._put(Prepared(frame, nothing, meta, skip=True))
                elif self.slicing is not None and (
                    tiles := plan_slices(frame.width, frame.height, self.slicing, (w, h))
                ) != [(0, 0, frame.width, frame.height)]:
                    meta = LetterboxMeta(1.0, 1.0, 0.0, 0.0, frame.width, frame.height)
                    self.decode_seconds += time.perf_counter() - started
                    self._put(
                        Prepared(frame, nothing, meta, tiles=tuple(tiles), slicing=self.slicing)
                    )
                elif crops:
                    parts = tuple(self._crop(frame.image, rect, w, h, canvas) for rect in crops)
                    meta = parts[0].meta
                    self.cropped += 1
                    self.decode_seconds += time.perf_counter() - started
                    self._put(Prepared(frame, nothing, meta, crops=parts))
                else:
                    tensor = np.empty((3, h, w), np.float32)
                    meta = self.detector.preprocess(frame.image, tensor, canvas)
                    self.decode_seconds += time.perf_counter() - started
                    self._put(Prepared(frame, tensor, meta))
                if self.max_frames and self.decoded >= self.max_frames:
                    break
                started = time.perf_counter()
        except ShiguError as exc:
            self.error = exc.one_line()
            self.exception = exc
            log.warning("source %s stopped: %s", self.source_id, self.error)
        except Exception as exc:  # a broken source must not take the others down
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("source %s failed", self.source_id)
        finally:
            self.source.close()
            self.done.set()
            if self.wake is not None:
                self.wake.set()

    def _crop(self, image: np.ndarray, rect: Rect, w: int, h: int, canvas: np.ndarray) -> Crop:
        x0, y0, x1, y1 = rect
        tensor = np.empty((3, h, w), np.float32)
        return Crop(rect, tensor, self.detector.preprocess(image[y0:y1, x0:x1], tensor, canvas))

    def _frames(self) -> Iterator[Frame]:
        """The source's frames; paced to their timestamps (``realtime``) and started over at
        the end (``loop``) with indices and timestamps that keep increasing."""
        assert self.source is not None
        index_offset, time_offset = 0, 0.0
        clock0: float | None = None
        while True:
            last: Frame | None = None
            for frame in self.source:
                if index_offset or time_offset:  # the frame is fresh from the source: ours
                    frame.index += index_offset
                    frame.timestamp += time_offset
                if self.realtime:
                    if clock0 is None:
                        clock0 = time.monotonic() - frame.timestamp
                    delay = clock0 + frame.timestamp - time.monotonic()
                    if delay > 0 and self.stop_requested.wait(delay):
                        return
                last = frame
                yield frame
            if not self.loop or last is None or self.stop_requested.is_set():
                return
            step = 1.0 / (self.source.output_fps or self.info.fps or 25.0) if self.info else 0.04
            index_offset, time_offset = last.index + 1, last.timestamp + step
            self.source.close()
            self.source = open_source(
                self.uri, source_id=self.source_id, **({"target_fps": self.fps} if self.fps else {})
            )

    def _put(self, item: Prepared) -> None:
        if self.live:
            while True:
                try:
                    self.queue.put_nowait(item)
                    if self.wake is not None:
                        self.wake.set()
                    return
                except queue.Full:
                    try:
                        self.queue.get_nowait()
                        self.dropped += 1
                    except queue.Empty:
                        pass
        while not self.stop_requested.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                if self.wake is not None:
                    self.wake.set()
                return
            except queue.Full:
                continue

    def take(self) -> Prepared | None:
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            return None

    @property
    def exhausted(self) -> bool:
        return self.done.is_set() and self.queue.empty()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the reading thread to stop and let it close its own source.

        Closing a PyAV container from here while the thread decodes from it crashed the process
        (SIGSEGV in libavformat when a source was removed live). Only a read still blocked
        after ``timeout`` (a stalled network stream) is cut by closing the source from here.
        """
        self.stop_requested.set()
        if self.ident is not None and self.done.wait(timeout):
            return  # run() has closed the source
        if self.source is not None:
            self.source.close()
