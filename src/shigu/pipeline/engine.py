"""The engine: config → sources → batched inference → trackers → analytics → store and sinks.

Threads: one decode thread per source (``SourceRunner``), a small pool of inference workers
that run batches gathered round-robin across sources, and this engine's own thread, which
does tracking, analytics, media, the store and the sinks for each frame in order. Stages are
plain objects; only this module knows about threads and queues.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from shigu.analytics import LineSpec, SceneAnalytics, ZoneSpec
from shigu.analytics.motion import MotionDetector
from shigu.annotate import BoxAnnotator, TraceAnnotator, draw_scene, draw_skeletons
from shigu.core.detections import Detections
from shigu.core.errors import ConfigError, ShiguError, SourceError
from shigu.core.events import Event, EventEnd
from shigu.core.frame import Frame
from shigu.core.redact import redact_uri
from shigu.detect import load_detector
from shigu.detect.base import Detector
from shigu.detect.letterbox import LetterboxMeta
from shigu.detect.regions import carried, crops_can_pay, merge_crops, plan_crops
from shigu.detect.slicing import detect_tiles
from shigu.detect.stream import Prepared, throughput_plan
from shigu.io.frame_outputs import FrameOutput
from shigu.io.video_writer import VideoWriter
from shigu.pipeline.config import Config, DetectorConfig, SourceConfig
from shigu.pipeline.graph import StageGraph
from shigu.pipeline.media import ClipRecorder, save_snapshots, write_clip
from shigu.pipeline.metrics import PipelineMetrics
from shigu.pipeline.runner import GateDecision, SourceRunner
from shigu.pipeline.sinks import JsonlSink, MqttSink, Sink, WebhookSink
from shigu.solutions.living.occupancy import OccupancyCount, OccupancyMinute
from shigu.sources.base import Source
from shigu.sources.open import open_source
from shigu.stages import FrameItem, StageContext
from shigu.store import EventStore, MediaStore
from shigu.store.null import NullStore
from shigu.track import create_tracker
from shigu.track.engine import AssociationTracker

log = logging.getLogger(__name__)
RETENTION_EVERY_S = 600.0


# a live stream silent this long while still open counts as down (a frozen camera)
STALL_SECONDS = 5.0


@dataclass
class SourceState:
    """Everything the engine keeps per source."""

    runner: SourceRunner
    tracker: AssociationTracker | None
    scene: SceneAnalytics
    fps: float
    frames: int = 0
    first_frame_at: float | None = None
    last_frame_at: float | None = None
    opened_at: float = field(default_factory=time.perf_counter)  # when the engine took it
    clips: ClipRecorder | None = None
    video: VideoWriter | None = None
    traces: TraceAnnotator | None = None
    events: dict[str, int] = field(default_factory=dict)
    detector: Detector | None = None
    boxes: BoxAnnotator | None = None
    last_found: Detections | None = None  # the last detector output (reused on still frames)
    mapper: Any = None  # TrackMapper: ground positions from the source's flight telemetry
    geo_events: list[Any] = field(default_factory=list)  # GeoEvent per event placed on the map


_LIVE_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "srt://",
                  "webcam:", "/dev/video")  # fmt: skip


def _flight_mapper(sc: SourceConfig, labels: tuple[str, ...]) -> Any:
    """The source's TrackMapper from its ``telemetry`` settings (SRT or the video's KLV)."""
    from shigu.solutions.aerial.dem import read_dem
    from shigu.solutions.aerial.mapping import TrackMapper, load_flight

    t = sc.telemetry
    assert t is not None
    flight = load_flight(sc.uri, t.srt, t.ground_alt, t.dem is not None)
    terrain = read_dem(Path(t.dem)) if t.dem else None
    return TrackMapper(flight, t.hfov, labels, terrain)


def _check_zone_bounds(cfg: Config, source_id: str, width: int, height: int) -> None:
    """Zones and lines of ``source_id`` must lie in its frame (a pixel of slack)."""
    tol = 1.0
    shapes = [("zones", i, z.id, z.source, list(z.polygon)) for i, z in enumerate(cfg.zones)]
    shapes += [("lines", i, ln.id, ln.source, list(ln.points)) for i, ln in enumerate(cfg.lines)]
    for kind, i, name, source, points in shapes:
        if source != source_id:
            continue
        for x, y in points:
            if not (-tol <= x <= width + tol and -tol <= y <= height + tol):
                raise ConfigError(
                    f"{kind}[{i}] ({name}): point ({x:g}, {y:g}) lies outside the "
                    f"{width}x{height} frame of source {source_id!r}",
                    "use pixel coordinates of that video",
                )


class Pipeline:
    """Runs a validated ``Config`` until every file ends or ``stop()`` is called."""

    def __init__(
        self,
        config: Config,
        *,
        max_frames: int | None = None,
        detector: Detector | None = None,
        on_item: Callable[[Event | EventEnd], None] | None = None,
        store: EventStore | NullStore | None = None,
        event_id_salt: str | None = None,
        on_frame: Callable[[str, np.ndarray, Detections], None] | None = None,
        sources: dict[str, Source] | None = None,
        tracker_factory: Callable[[float], Any] | None = None,
        graph: StageGraph | None = None,
        outputs: list[FrameOutput] | None = None,
        workers: int | None = None,
    ) -> None:
        """``event_id_salt``: derive event ids from it and the event's content instead of
        drawing random ones, so re-running the same input stores the same events (Ray).

        The rest make a job of it (``shigu detect``, ``track``, ``pose``): ``sources``
        already open by id, ``tracker_factory(fps)`` for trackers set up by the caller, a
        ``graph`` of stages built by the caller, per-frame ``outputs`` (``shigu.io``), and a
        ``NullStore`` as ``store`` to keep no events, media or run records."""
        self.config = config
        self._salt = event_id_salt
        self._ids: dict[str, str] = {}
        self.max_frames = max_frames
        self.metrics = PipelineMetrics()
        self.metrics.sources_down.set_function(self.sources_down)
        self._stop = threading.Event()
        self._wake = threading.Event()  # a source queued a frame or ended, or a command came
        self._on_item = on_item
        self._on_frame = on_frame
        # Changes asked for from other threads (the web server), run by the engine thread.
        self._commands: queue.Queue[tuple[Callable[[], None], threading.Event]] = queue.Queue()
        self._running = False
        device = config.pipeline.detector.device
        self.workers, threads = throughput_plan(device)
        self.workers = workers or self.workers
        self._given_sources = sources or {}
        self._preopened: dict[str, Any] = {}  # sources opened off the engine thread
        self._retrying: dict[str, tuple[SourceConfig, float, float]] = {}  # id -> (sc, due, wait)
        self._retry_thread: threading.Thread | None = None
        self._tracker_factory = tracker_factory
        self.outputs = outputs or []
        self.written: dict[str, str] = {}
        self._threads = threads
        # One loaded detector per distinct detector config, shared by the sources using it;
        # each is one batching group (frames of sources with the same detector batch together).
        self.detectors: dict[str, Detector] = {}
        self.detector = detector or self._detector_for(config.pipeline.detector)
        self.detectors.setdefault(self._key(config.pipeline.detector), self.detector)
        self.graph = graph or StageGraph.build(
            config.pipeline.secondary,
            config.pipeline.stages,
            StageContext(self.detector.labels, device, store_url=config.store.url),
        )
        self.store: EventStore | NullStore = store or EventStore(config.store.url)
        self._own_store = store is None
        self._record = not isinstance(self.store, NullStore)  # a job keeps no events or media
        if self._own_store:
            from shigu.store.locate import remember_store

            remember_store(config.store.url)
        self.media = MediaStore(
            config.store.media_dir,
            config.store.retention_days,
            int(config.store.retention_gb * 1024**3) if config.store.retention_gb else None,
            config.media.jpeg_quality,
        )
        self.sinks: list[Sink] = []
        self.roadside: Any = None  # RoadsidePublisher when sinks.roadside is set
        self.states: dict[str, SourceState] = {}
        self.run_id: str | None = None
        self.started_at = 0.0
        self.seconds = 0.0
        self.errors: dict[str, str] = {}
        self._boxes = BoxAnnotator(self.detector.labels)
        self._last_retention = 0.0

    # ------------------------------------------------------------------ set-up
    @staticmethod
    def _key(det: DetectorConfig) -> str:
        return det.model_dump_json(exclude={"slice"})  # slicing is per source, not per model

    def _detector_for(self, det: DetectorConfig) -> Detector:
        """The loaded detector for a config, loading it the first time it is asked for."""
        key = self._key(det)
        if key not in self.detectors:
            self.detectors[key] = load_detector(
                det.model,
                format=det.format,
                device=det.device,
                conf=det.conf,
                classes=",".join(det.classes) if det.classes else None,
                threads=self._threads,
            )
        return self.detectors[key]

    def _open_sources(self, keep_running: bool = False) -> None:
        for sc in self.config.sources:
            if not self._open_source(sc, self.config):
                self._retry_later(sc)
        if not self.states and not (keep_running and self._retrying):
            first = next(iter(self.errors.items()))
            raise SourceError(f"no source could be opened ({first[0]}: {first[1]})")

    # ------------------------------------------------------------------ reconnecting
    RETRY_FIRST_S, RETRY_MAX_S = 1.0, 30.0

    def _retry_later(self, sc: SourceConfig) -> None:
        """A camera or stream that could not be opened is tried again, with backoff
        (1 s doubling to 30 s), for as long as the engine runs; files are not."""
        if not sc.uri.startswith(_LIVE_PREFIXES) or sc.id in self._given_sources:
            return
        old = self._retrying.get(sc.id)
        wait = min(old[2] * 2, self.RETRY_MAX_S) if old else self.RETRY_FIRST_S
        self._retrying[sc.id] = (sc, time.monotonic() + wait, wait)
        if self._retry_thread is None:
            self._retry_thread = threading.Thread(target=self._retry_loop, name="reconnect",
                                                  daemon=True)  # fmt: skip
            self._retry_thread.start()

    def _preopen(self, sc: SourceConfig) -> tuple[Any, str | None]:
        """Open ``sc``'s source in the calling thread (the open may take its whole timeout,
        which must not stall the other cameras); (source, None) or (None, error)."""
        opts = {"target_fps": sc.fps} if sc.fps else {}
        try:
            return open_source(sc.uri, source_id=sc.id, **opts), None
        except ShiguError as exc:
            return None, exc.one_line()

    def _retry_loop(self) -> None:
        while not self._stop.wait(0.2):
            now = time.monotonic()
            for sid, (sc, due, _) in list(self._retrying.items()):
                if due > now or sid in self.states:
                    continue
                source, error = self._preopen(sc)
                if source is None:
                    self.errors[sid] = error or "could not open"
                    self._retry_later(sc)
                    continue

                def register(sc: SourceConfig = sc, source: Any = source) -> None:
                    if self._retrying.pop(sc.id, None) is None:  # removed meanwhile
                        source.close()
                        return
                    self._preopened[sc.id] = source
                    if not self._open_source(sc, self.config, start=self._running):
                        self._retry_later(sc)

                try:
                    self._call(register)
                except Exception as exc:  # the engine is ending
                    log.warning("source %s: reconnect: %s", sid, exc)
                    source.close()

    def _open_source(self, sc: SourceConfig, cfg: Config, start: bool = False) -> bool:
        """Open one source and its tracker and analytics; False (and an error) if it fails."""
        detector = self._detector_for(cfg.detector_for(sc.id))
        mapper = None
        if sc.telemetry is not None:
            try:
                mapper = _flight_mapper(sc, detector.labels)
            except ShiguError as exc:  # this source cannot start; the others can
                self.errors[sc.id] = exc.one_line()
                log.warning("source %s: %s", sc.id, self.errors[sc.id])
                return False
        motion_cfg = cfg.motion_for(sc.id)
        gate: list[MotionDetector] = []  # made once the frame size is known
        can_crop: list[bool] = []  # whether crops can ever be chosen for this frame size

        def moving(frame: Frame) -> GateDecision:
            if not gate:
                size = (frame.width, frame.height)
                gate.append(MotionDetector(motion_cfg, size))
                # one model-sized crop covers enough of a small frame that crops never pay
                can_crop.append(
                    motion_cfg.regions
                    and crops_can_pay(size, detector.prep.size, motion_cfg.full_frame_fraction)
                )
            seen = gate[0].update_frame(frame)
            if not (seen.moving and can_crop[0] and seen.regions) or seen.keyframe:
                return seen.moving, None
            crops = plan_crops(  # from motion alone, so the crops do not depend on timing
                np.asarray(seen.regions, np.float32),
                (frame.width, frame.height),
                detector.prep.size,
                motion_cfg.max_regions,
                motion_cfg.full_frame_fraction,
            )
            return True, crops

        runner = SourceRunner(
            sc.id,
            sc.uri,
            detector,
            cfg.pipeline.mode,
            cfg.pipeline.queue,
            sc.fps,
            self.max_frames,
            realtime=sc.realtime,
            loop=sc.loop,
            pre=self.graph.run_pre if self.graph.pre else None,
            source=self._preopened.pop(sc.id, None) or self._given_sources.get(sc.id),
            slicing=cfg.detector_for(sc.id).slice,
        )
        runner.wake = self._wake
        runner.open()
        live = runner.live
        if motion_cfg.enabled or (motion_cfg.enabled is None and live):
            runner.gate = moving
        if runner.error is not None or runner.info is None:
            self.errors[sc.id] = runner.error or "could not open"
            log.warning("source %s: %s", sc.id, self.errors[sc.id])
            return False
        self.errors.pop(sc.id, None)
        info = runner.info
        try:
            _check_zone_bounds(cfg, sc.id, info.width, info.height)
        except ConfigError as exc:
            runner.stop()  # close what is already open before failing
            if self._running:  # a live change: only this source fails, the others go on
                self.errors[sc.id] = exc.one_line()
                log.warning("source %s: %s", sc.id, self.errors[sc.id])
                return False
            for other in self.states.values():
                other.runner.stop()
            raise
        fps = runner.source.output_fps if runner.source is not None else 0.0
        fps = fps or info.fps or 25.0
        tr = cfg.pipeline.tracker
        tracker = None
        if self._tracker_factory is not None:
            tracker = self._tracker_factory(fps)
        elif tr is not None:
            overrides: dict[str, Any] = {}
            if tr.lost_buffer is not None:
                overrides["lost_buffer"] = tr.lost_buffer
            tracker = create_tracker(tr.type, fps, cmc=tr.cmc, reid=tr.reid, **overrides)
        scene = self._scene(sc.id, cfg, (info.width, info.height), detector.labels)
        state = SourceState(runner, tracker, scene, fps, detector=detector, mapper=mapper)
        state.boxes = BoxAnnotator(detector.labels)
        if cfg.media.clips:
            state.clips = ClipRecorder(fps, cfg.media.pre_seconds, cfg.media.post_seconds)
        if cfg.sinks.video_dir:
            state.video = VideoWriter(Path(cfg.sinks.video_dir) / f"{sc.id}.mp4", fps=fps)
            state.traces = TraceAnnotator()
        self.states[sc.id] = state
        if start:
            runner.start()
        return True

    def _scene(
        self,
        source_id: str,
        cfg: Config,
        size: tuple[int, int],
        labels: tuple[str, ...] | None = None,
    ) -> SceneAnalytics:
        sc = next(s for s in cfg.sources if s.id == source_id)
        return SceneAnalytics(
            source_id,
            labels if labels is not None else self.detector.labels,
            [
                ZoneSpec(z.id, list(z.polygon), [r.model_dump() for r in z.rules], z.furniture)
                for z in cfg.zones
                if z.source == source_id
            ],
            [LineSpec(ln.id, ln.points, ln.classes) for ln in cfg.lines if ln.source == source_id],
            (sc.calibration.image, sc.calibration.world) if sc.calibration else None,
            cfg.pipeline.anchor,
            size,
            cfg.pipeline.tracker.relink() if cfg.pipeline.tracker else 0.0,
            heatmap=bool(cfg.sinks.heatmap_dir),  # kept only where it is saved
        )

    # ------------------------------------------------------------------ live changes
    def _call(self, fn: Callable[[], None], timeout: float = 30.0) -> None:
        """Run ``fn`` in the engine thread (between frames) and wait for it."""
        if not self._running:
            fn()
            return
        done = threading.Event()
        box: dict[str, BaseException] = {}

        def wrapped() -> None:
            try:
                fn()
            except BaseException as exc:  # handed back to the caller
                box["error"] = exc

        self._commands.put((wrapped, done))
        self._wake.set()
        if not done.wait(timeout):
            raise TimeoutError("the engine did not apply the change in time")
        if "error" in box:
            raise box["error"]

    def _stalled(self, st: SourceState) -> bool:
        """A live stream still open but silent for STALL_SECONDS: a frozen camera."""
        if not st.runner.live or st.runner.done.is_set():
            return False
        since = st.last_frame_at if st.last_frame_at is not None else st.opened_at
        return time.perf_counter() - since > STALL_SECONDS

    def sources_down(self) -> int:
        """How many configured sources are not delivering frames (failed, retrying, ended or
        stalled live streams)."""
        down = 0
        for sc in self.config.sources:
            st = self.states.get(sc.id)
            if st is None or (st.runner.live and st.runner.done.is_set()) or self._stalled(st):
                down += 1
        return down

    def check_bounds(self, cfg: Config) -> None:
        """Zones and lines of running sources must lie in their frames (ConfigError)."""
        for sid, st in list(self.states.items()):
            if st.runner.info is not None:
                _check_zone_bounds(cfg, sid, st.runner.info.width, st.runner.info.height)

    @property
    def running(self) -> bool:
        """True while the frame loop runs (live changes are applied to it)."""
        return self._running

    def preopen(self, sc: SourceConfig) -> tuple[Any, str | None]:
        """Open ``sc``'s source in the calling thread: (source, None) or (None, the error).
        The server tries a new source this way before it accepts the change."""
        return self._preopen(sc)

    def add_source(
        self, sc: SourceConfig, cfg: Config, opened: tuple[Any, str | None] | None = None
    ) -> None:
        """Open and start a source while the others keep running: the source is opened in
        the caller's thread (or ``opened`` by :meth:`preopen`), then handed to the engine (an
        unreachable camera no longer freezes every other camera for its open timeout); a
        camera that cannot be reached is retried in the background."""
        if opened is not None:
            source, error = opened
        else:
            source, error = self._preopen(sc) if self._running else (None, None)

        def apply() -> None:
            self.config = cfg
            self._retrying.pop(sc.id, None)
            if error is not None:
                self.errors[sc.id] = error
                log.warning("source %s: %s", sc.id, error)
                self._retry_later(sc)
                return
            if source is not None:
                self._preopened[sc.id] = source
            if not self._open_source(sc, cfg, start=self._running):
                self._retry_later(sc)

        self._call(apply)

    def remove_source(self, source_id: str) -> None:
        """Stop a source: its open events are closed, its outputs flushed; others go on."""

        def apply() -> None:
            st = self.states.pop(source_id, None)
            self.errors.pop(source_id, None)
            self._retrying.pop(source_id, None)  # a camera being retried is given up
            if st is None:
                return
            st.runner.stop()
            for item in st.scene.finish():
                self._handle(item, np.zeros((1, 1, 3), np.uint8), st)
            self._occupancy(st)
            if st.video is not None:
                st.video.close()

        self._call(apply)

    def set_geometry(self, source_id: str, cfg: Config) -> None:
        """New zones and lines for a running source, effective from its next frame."""

        def apply() -> None:
            self.config = cfg
            st = self.states.get(source_id)
            if st is None or st.runner.info is None:
                return
            for item in st.scene.finish():  # close what the old zones had open
                self._handle(item, np.zeros((1, 1, 3), np.uint8), st)
            self._occupancy(st)
            size = (st.runner.info.width, st.runner.info.height)
            st.scene = self._scene(
                source_id, cfg, size, st.detector.labels if st.detector else None
            )

        self._call(apply)

    def source_status(self, source_id: str) -> dict[str, Any]:
        st = self.states.get(source_id)
        if st is None:
            return {"connected": False, "error": redact_uri(self.errors.get(source_id)),
                    "retrying": source_id in self._retrying}  # fmt: skip
        elapsed = (st.last_frame_at or 0.0) - (st.first_frame_at or 0.0)
        age = time.perf_counter() - st.last_frame_at if st.last_frame_at is not None else None
        stalled = self._stalled(st)
        return {
            "last_frame_age_s": None if age is None else round(age, 2),
            "retrying": False,
            "connected": not st.runner.done.is_set() and not stalled,
            "stalled": stalled,
            "frames": st.frames,
            "fps": round((st.frames - 1) / elapsed, 2) if elapsed > 0 else 0.0,
            "dropped": st.runner.dropped,
            "error": redact_uri(st.runner.error),
            "width": st.runner.info.width if st.runner.info else None,
            "height": st.runner.info.height if st.runner.info else None,
        }

    def annotate(self, image: np.ndarray, dets: Detections, source_id: str | None = None) -> None:
        """Boxes with class, id and score; with ``source_id`` also its zones and lines."""
        st = self.states.get(source_id) if source_id is not None else None
        if st is not None:
            draw_scene(image, st.scene)
        (st.boxes if st is not None and st.boxes is not None else self._boxes).annotate(image, dets)

    def _open_sinks(self) -> None:
        s = self.config.sinks
        if s.jsonl:
            self.sinks.append(JsonlSink(s.jsonl))
        if s.webhook:
            self.sinks.append(
                WebhookSink(
                    s.webhook.url, s.webhook.retries, s.webhook.timeout, s.webhook.dead_letter
                )
            )
        if s.mqtt:
            m = s.mqtt
            self.sinks.append(
                MqttSink(
                    m.host,
                    m.port,
                    m.topic_prefix,
                    m.username,
                    m.password,
                    m.client_id,
                    m.discovery_prefix,
                )
            )
        if s.roadside:
            from shigu.core.geometry import homography
            from shigu.solutions.vehicles.roadside import GeoFrame, RoadsidePublisher

            calibrated = {
                sc.id: (homography(sc.calibration.image, sc.calibration.world),
                        GeoFrame(sc.calibration.world, sc.calibration.geo)
                        if sc.calibration.geo else None)
                for sc in self.config.sources if sc.calibration is not None
            }  # fmt: skip
            if not calibrated:
                raise ConfigError(
                    "sinks.roadside needs a source calibrated to the road",
                    "give sources[].calibration (image and world points, optionally geo)",
                )
            self.roadside = RoadsidePublisher(s.roadside, calibrated)

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """Ask the engine to finish: stop decoding, process what is in flight, flush."""
        self._stop.set()
        self._wake.set()
        for st in self.states.values():
            st.runner.stop_requested.set()

    def run(self, keep_running: bool = False) -> dict[str, Any]:
        """Run to the end (files) or until ``stop()``; returns the summary.

        ``keep_running``: do not finish when every source has ended (a server, where sources
        can be added later); only ``stop()`` ends the run.
        """
        # Per-frame OpenCV work (letterbox, motion test, drawing) is on small images in threads
        # of their own already; OpenCV's own thread pool on top oversubscribed the cores (the
        # gated idle stream ran ~8% faster single-threaded). Restored when the run ends.
        cv_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            return self._run(keep_running)
        finally:
            cv2.setNumThreads(cv_threads)

    def _run(self, keep_running: bool) -> dict[str, Any]:
        self._open_sources(keep_running)
        self._open_sinks()
        if self.config.metrics.port is not None:
            self.metrics.serve(self.config.metrics.port)
        self.run_id = self.store.start_run(self.config.model_dump(mode="json"))
        self._retention()
        self.started_at = time.perf_counter()
        for st in self.states.values():
            st.runner.start()
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="infer")
        pending: deque[tuple[list[Prepared], Future[list[Detections | None]]]] = deque()
        rr = 0
        batch_size = self.config.pipeline.batch
        self._running = True
        try:
            while True:
                while not self._commands.empty():
                    fn, done = self._commands.get_nowait()
                    fn()
                    done.set()
                order = list(self.states)
                batch: list[Prepared] = []
                group: Detector | None = None  # a batch holds frames for one detector
                for k in range(len(order)):
                    st = self.states[order[(rr + k) % len(order)]]
                    if group is not None and st.detector is not group:
                        continue
                    while len(batch) < batch_size:
                        item = st.runner.take()
                        if item is None:
                            break
                        batch.append(item)
                        group = st.detector
                        if len(order) > 1:
                            break  # one frame per source per turn: fair across sources
                    if len(batch) >= batch_size:
                        break
                rr = (rr + 1) % max(1, len(order))
                if batch:
                    detector = group or self.detector
                    if all(p.skip for p in batch):  # nothing to infer: no thread hand-off
                        ready: Future[list[Detections | None]] = Future()
                        ready.set_result([None] * len(batch))
                        pending.append((batch, ready))
                    else:
                        pending.append((batch, pool.submit(self._infer, batch, detector)))
                    while len(pending) > self.workers:
                        self._post(*pending.popleft())
                    continue
                if pending:
                    self._post(*pending.popleft())
                    continue
                ended = all(s.runner.exhausted for s in self.states.values())
                if ended and (self._stop.is_set() or not keep_running):
                    break
                # nothing to do: wait for a frame (set after a put, so none is missed: a
                # frame queued before the wait returns at once, one after is seen next turn)
                self._wake.wait(0.05)
                self._wake.clear()
        finally:
            self._running = False
            while not self._commands.empty():  # nobody waits forever on a stopped engine
                fn, done = self._commands.get_nowait()
                done.set()
            while pending:
                self._post(*pending.popleft())
            pool.shutdown(wait=True)
            for st in self.states.values():
                st.runner.stop_requested.set()  # all at once, then wait for each
            for st in self.states.values():
                st.runner.stop()
                st.runner.join(timeout=10)
            summary = self._finish()
        return summary

    def _infer(self, batch: list[Prepared], detector: Detector) -> list[Detections | None]:
        """Detections per frame; None for frames the motion gate let skip detection."""
        run = [p for p in batch if not p.skip]
        out: list[Detections | None] = [None] * len(batch)
        if not run:
            return out
        started = time.perf_counter()
        inputs: list[np.ndarray] = []
        metas: list[LetterboxMeta] = []
        for p in run:  # a frame detected on crops gives one network input per crop
            if p.tiles:
                continue  # sliced frames make their inputs chunk by chunk, below
            inputs += [c.tensor for c in p.crops] if p.crops else [p.tensor]
            metas += [c.meta for c in p.crops] if p.crops else [p.meta]
        if inputs:
            tensors = inputs[0][None] if len(inputs) == 1 else np.stack(inputs)
            found = iter(detector.infer(tensors, metas))
        for i, p in enumerate(batch):
            if p.skip:
                continue
            if p.tiles and p.slicing is not None:
                out[i] = detect_tiles(  # one frame in flight keeps every core busy
                    detector, p.frame.pixels(), p.tiles, p.slicing, workers=self.workers
                )
                continue
            if p.crops:
                parts = [next(found) for _ in p.crops]
                out[i] = merge_crops(
                    parts,
                    [c.rect for c in p.crops],
                    detector.iou,
                    detector.class_agnostic_nms,
                    detector.max_det,
                )
            else:
                out[i] = next(found)
        self.metrics.stage.labels("infer").observe((time.perf_counter() - started) / len(run))
        return out

    # ------------------------------------------------------------------ per frame
    def _post(self, batch: list[Prepared], future: Future[list[Detections | None]]) -> None:
        """One inference batch through the rest of the graph: track each frame, run the
        secondary models on all of the batch's objects at once, the rules, post stages, then
        the outputs."""
        results = future.result()
        work: list[tuple[FrameItem, SourceState]] = []
        for prepared, found in zip(batch, results, strict=True):
            st = self.states.get(prepared.frame.source_id)
            if st is None:  # removed while this frame was in flight
                continue
            t0 = time.perf_counter()
            if st.first_frame_at is None:
                st.first_frame_at = t0
            still = found is None
            if found is None:  # nothing moved: the last frame's detections again, as the
                # detector would find them on an unchanged frame (lost tracks age the same way)
                found = st.last_found if st.last_found is not None else Detections.empty()
            elif prepared.crops and st.last_found is not None:
                # detected on crops around motion only: what lies outside them did not move,
                # so its last detections stand (objects that stop keep their tracks)
                crops = [c.rect for c in prepared.crops]
                found = Detections.merge([found, carried(st.last_found, found, crops)])
            st.last_found = found
            dets = found if st.tracker is None else st.tracker.update(found, prepared.frame)
            self.metrics.stage.labels("track").observe(time.perf_counter() - t0)
            labels = st.detector.labels if st.detector is not None else self.detector.labels
            work.append((FrameItem(prepared.frame, dets, labels=labels, still=still, found=found),
                         st))  # fmt: skip
        if not work:
            return
        items = [item for item, _ in work]
        if self.graph.secondary:
            t0 = time.perf_counter()
            self.graph.run_secondary(items)  # still frames: results carried, no model runs
            self.metrics.stage.labels("secondary").observe((time.perf_counter() - t0) / len(items))
        for item, st in work:
            t1 = time.perf_counter()
            # the stages' events (a plate read) first, then the rules'
            item.events = [*item.events,
                           *st.scene.update(item.frame.timestamp, item.frame.index,
                                            item.detections, item.frame)]  # fmt: skip
            self.metrics.stage.labels("analytics").observe(time.perf_counter() - t1)
            self._occupancy(st)
            if self.roadside is not None:
                # now, while the scene is at this frame (the outputs below run after the
                # whole batch, when the tracks are already at its last frame)
                ts = item.frame.timestamp
                seen = [m for m in st.scene.book.tracks.values() if m.last_seen == ts]
                self.roadside.frame(item.frame.source_id, ts, seen, st.scene)
        if self.graph.post:
            self.graph.run_post(items)  # privacy masks: before anything is shown or written
        for item, st in work:
            heatmap = st.scene.heatmap
            if heatmap is not None and heatmap.background is None:
                heatmap.background = item.frame.image.copy()  # masked, like every output
            self._outputs(item, st)

    def _outputs(self, item: FrameItem, st: SourceState) -> None:
        frame, dets = item.frame, item.detections
        t2 = time.perf_counter()
        if st.clips is not None:
            for job in st.clips.push(frame.image):
                self._save_clip(job, st.fps)
        if st.mapper is not None:
            st.mapper(frame, dets)
        for event in item.events:
            if st.mapper is not None and isinstance(event, Event):
                self._place(event, st)
            self._handle(event, frame.image, st)
        if self._on_frame is not None:
            self._on_frame(frame.source_id, frame.image, dets)
        if self.outputs:
            path_at = getattr(st.runner.source, "path_at", None)
            path = path_at.get(frame.index) if path_at is not None else None
            for out in self.outputs:
                out.write(frame, dets, path)
        if st.video is not None:
            image = frame.image.copy()
            draw_scene(image, st.scene)
            if st.traces is not None:
                st.traces.annotate(image, dets)
            (st.boxes or self._boxes).annotate(image, dets)
            if "pose" in dets.data:
                draw_skeletons(image, dets.data["pose"])
            st.video.write(image)
        t3 = time.perf_counter()
        st.frames += 1
        st.last_frame_at = t3
        m = self.metrics
        src = frame.source_id
        m.frames.labels(src).inc()
        m.stage.labels("events").observe(t3 - t2)
        m.queue.labels(src).set(st.runner.queue.qsize())
        elapsed = t3 - self.started_at
        if elapsed > 0:
            m.fps.labels(src).set(st.frames / elapsed)
        if time.monotonic() - self._last_retention > RETENTION_EVERY_S:
            self._retention()

    def _stable_id(self, item: Event | EventEnd) -> None:
        if isinstance(item, Event):
            key = (
                f"{self._salt}|{item.source}|{item.type}|{item.zone}|{item.line}|"
                f"{item.track_id}|{item.frame_index}|{item.start:.6f}"
            )
            new = hashlib.sha256(key.encode()).hexdigest()[:32]
            self._ids[item.id] = new
            item.id = new
        else:
            item.id = self._ids.pop(item.id, item.id)

    def _place(self, event: Event, st: SourceState) -> None:
        """An event on the map: where its track stands on the ground (latitude and longitude
        go into the event's attributes, so the store and every sink have them)."""
        from shigu.io.geo import GeoEvent

        point = st.mapper.last_point(event.track_id) if event.track_id is not None else None
        if point is None:
            return
        lat, lon = point
        event.attributes = {**event.attributes, "latitude": round(lat, 7),
                            "longitude": round(lon, 7)}  # fmt: skip
        st.geo_events.append(GeoEvent(event.type, event.start, lat, lon, event.track_id))

    def _handle(self, item: Event | EventEnd, image: np.ndarray, st: SourceState) -> None:
        if self._salt is not None:
            self._stable_id(item)
        if isinstance(item, Event):
            if self.graph and item.track_id is not None:
                extra = self.graph.track_attributes(item.source, item.track_id)
                item.attributes = {**extra, **item.attributes}
            if self.config.media.snapshots:
                before = self.media.failures
                context = image.copy()
                draw_scene(context, st.scene)  # the full snapshot shows the zone or line too
                save_snapshots(self.media, item, image, context)
                if self.media.failures > before:
                    self.metrics.media_failures.inc(self.media.failures - before)
            item.crop = None  # written (or not wanted): nothing downstream holds the image
            # committed before anyone hears of it
            self.store.add(item, self.run_id, upsert=self._salt is not None)
            st.events[item.type] = st.events.get(item.type, 0) + 1
            self.metrics.events.labels(item.source, item.type).inc()
            if st.clips is not None:
                st.clips.start(item)
        else:
            self.store.close_event(item)
        for sink in self.sinks:
            sink.handle(item)
        if self.roadside is not None and isinstance(item, Event):
            mem = st.scene.book.tracks.get(item.track_id) if item.track_id is not None else None
            self.roadside.event(item, mem.world[-1] if mem is not None and mem.world else None)
        if self._on_item is not None:
            self._on_item(item)

    def _write_map(self) -> None:
        """GeoJSON / KML of every mapped source's tracks and events (``sinks.geojson/kml``)."""
        from dataclasses import replace

        from shigu.io.geo import write_geojson, write_kml

        sinks = self.config.sinks
        mapped = [(sid, st) for sid, st in self.states.items() if st.mapper is not None]
        if not mapped or not (sinks.geojson or sinks.kml):
            return
        tracks = [replace(t, source=sid) for sid, st in mapped
                  for t in sorted(st.mapper.tracks.values(), key=lambda t: t.track_id)]  # fmt: skip
        events = [replace(e, source=sid) for sid, st in mapped for e in st.geo_events]
        try:
            if sinks.geojson:
                write_geojson(Path(sinks.geojson), tracks, events)
                self.written["geojson"] = sinks.geojson
            if sinks.kml:
                write_kml(Path(sinks.kml), tracks, events)
                self.written["kml"] = sinks.kml
        except OSError as exc:  # the events are in the store already; say what was not written
            log.warning("writing the map: %s", exc)

    def _save_clip(self, job: Any, fps: float) -> None:
        rel = write_clip(self.media, job, fps)
        if rel is None:
            self.metrics.media_failures.inc()
            return
        job.event.clip = rel
        self.store.set_media(job.event.id, clip=rel)

    def _occupancy(self, st: SourceState) -> None:
        """Occupancy rules' finished minutes into the store, count changes to the sinks."""
        updates = st.scene.drain_occupancy()
        if not updates:
            return
        minutes = [u for u in updates if isinstance(u, OccupancyMinute)]
        if minutes:
            self.store.add_occupancy(minutes, self.run_id)
        for u in updates:
            if isinstance(u, OccupancyCount):
                for sink in self.sinks:
                    tell = getattr(sink, "occupancy", None)
                    if tell is not None:
                        tell(u)

    def _retention(self) -> None:
        self._last_retention = time.monotonic()
        if not self._record:
            return
        deleted = self.media.enforce_retention()
        if deleted:
            self.store.forget_media(deleted)
            log.info("retention removed %d media files", len(deleted))

    # ------------------------------------------------------------------ end
    def _finish(self) -> dict[str, Any]:
        self.seconds = time.perf_counter() - self.started_at if self.started_at else 0.0
        for sid, st in self.states.items():
            owed = [e for stage in self.graph.stages for e in stage.finish(sid)]
            for item in [*owed, *st.scene.finish()]:
                self._handle(item, np.zeros((1, 1, 3), np.uint8), st)
            self._occupancy(st)
            if st.clips is not None:
                for job in st.clips.flush():
                    self._save_clip(job, st.fps)
            if st.video is not None:
                st.video.close()
            hdir = self.config.sinks.heatmap_dir
            if hdir and st.scene.heatmap is not None:
                Path(hdir).mkdir(parents=True, exist_ok=True)
                st.scene.heatmap.save(Path(hdir) / f"{st.runner.source_id}.png")
            self.metrics.decoded.labels(st.runner.source_id).inc(st.runner.decoded)
            self.metrics.dropped.labels(st.runner.source_id).inc(st.runner.dropped)
        self._write_map()
        if self.roadside is not None:
            for sid, st in self.states.items():
                if st.scene.lines or st.scene.zones:
                    self.roadside.flow(sid, st.scene.last_time, st.scene)
            self.roadside.close()
        self.graph.close()
        for out in self.outputs:
            try:
                self.written.update(out.close())
            except Exception as exc:  # one output failing to flush must not lose the others
                log.warning("closing an output: %s", exc)
        summary = self.summary()
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:  # flushing one sink must not lose the others
                log.warning("closing sink: %s", exc)
        if self.run_id is not None:
            self.store.finish_run(self.run_id, summary)
        if self.config.metrics.file:
            self.metrics.write(self.config.metrics.file)
        if self._own_store:
            self.store.close()
        return summary

    def summary(self) -> dict[str, Any]:
        sources: dict[str, Any] = {}
        lines: dict[str, Any] = {}
        zones: dict[str, Any] = {}
        events: dict[str, int] = {}
        for sid, st in self.states.items():
            active = (st.last_frame_at - self.started_at) if st.last_frame_at is not None else 0.0
            r = st.runner
            stats = r.source.stats if r.source is not None else None
            sources[sid] = {
                "frames": st.frames,
                "fps": round(st.frames / active, 2) if active > 0 else 0.0,
                "dropped": r.dropped,
                "reconnects": stats.reconnects if stats is not None else 0,
                "decode_errors": stats.decode_errors if stats is not None else 0,
                "error": redact_uri(r.error),
                "live": r.live,
            }
            if r.gate is not None:
                sources[sid]["motion_skipped"] = r.skipped
                sources[sid]["motion_cropped"] = r.cropped
            s = st.scene.summary()
            lines.update(s["lines"])
            zones.update(s["zones"])
            sources[sid]["tracks"] = s["tracks"]
            if s["speed_kmh"]:
                sources[sid]["speed_kmh"] = s["speed_kmh"]
            for k, v in st.events.items():
                events[k] = events.get(k, 0) + v
        for sid, err in self.errors.items():
            sources[sid] = {"frames": 0, "fps": 0.0, "error": redact_uri(err)}
        total = sum(st.frames for st in self.states.values())
        return {
            "sources": sources,
            "lines": lines,
            "zones": zones,
            "events": events,
            "frames": total,
            "seconds": round(self.seconds, 3),
            "fps": round(total / self.seconds, 2) if self.seconds > 0 else 0.0,
            "run_id": self.run_id,
            "media_failures": self.media.failures,
            "store": self.config.store.url.split("@")[-1],
            **({"stages": self.graph.summary()} if self.graph else {}),
        }
