"""Per-stage latency, fps and drop metrics in Prometheus text format (prometheus_client)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


class PipelineMetrics:
    """The engine's metrics in their own registry (several pipelines can live in a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.frames = Counter("shigu_frames", "Frames processed", ["source"], registry=r)
        self.decoded = Counter("shigu_frames_decoded", "Frames decoded", ["source"], registry=r)
        self.dropped = Counter(
            "shigu_frames_dropped",
            "Frames dropped to bound latency (live mode)",
            ["source"],
            registry=r,
        )
        self.events = Counter("shigu_events", "Events raised", ["source", "type"], registry=r)
        self.stage = Histogram(
            "shigu_stage_seconds",
            "Time per frame in each stage",
            ["stage"],
            buckets=BUCKETS,
            registry=r,
        )
        self.fps = Gauge("shigu_source_fps", "Frames processed per second", ["source"], registry=r)
        self.queue = Gauge("shigu_queue_depth", "Decoded frames waiting", ["source"], registry=r)
        self.media_failures = Counter(
            "shigu_media_failures", "Snapshots/clips not written", registry=r
        )
        self.sources_down = Gauge(
            "shigu_sources_down",
            "Configured sources not delivering frames (failed, retrying, ended or stalled)",
            registry=r,
        )

    def text(self) -> str:
        return generate_latest(self.registry).decode()

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.text(), encoding="utf-8")

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        start_http_server(port, addr=addr, registry=self.registry)
