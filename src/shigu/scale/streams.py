"""`shigu run --ray`: each source on its own Ray actor, inference on a pool of model actors.

A source actor runs the ordinary single-machine :class:`~shigu.pipeline.Pipeline` for a
config holding just that source (with its zones and lines): decoding, tracking, analytics,
media, store and sinks happen there, by the same code as on one machine. Only the network's
forward pass leaves it: the detector's ONNX model is swapped for :class:`RemoteModel`, which
sends each preprocessed frame to a model actor. Model actors gather the frames that arrive
from all sources within a few milliseconds into one batch (up to ``pipeline.batch``).

A source actor that dies is restarted by Ray and its ``run`` retried: a file is processed
again from the start, and because events get ids derived from their content (not random
ones) and are upserted, the store ends up with each event once. The run's summary merges the
per-source summaries into the same shape as a single-machine run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import numpy as np

from shigu.core.errors import ConfigError
from shigu.pipeline.config import Config

log = logging.getLogger(__name__)
GPU_DEVICES = ("cuda", "tensorrt")


def source_config(cfg: Config, source_id: str) -> Config:
    """The config restricted to one source and its zones and lines."""
    data = cfg.model_dump(mode="json")
    data["sources"] = [s for s in data["sources"] if s["id"] == source_id]
    data["zones"] = [z for z in data["zones"] if z["source"] == source_id]
    data["lines"] = [ln for ln in data["lines"] if ln["source"] == source_id]
    data["metrics"] = {**data.get("metrics", {}), "port": None, "file": None}
    return Config.model_validate(data)


class ModelActor:
    """One loaded detector network; batches frames from every source that asks at once."""

    def __init__(
        self,
        model: str,
        fmt: str | None,
        device: str,
        threads: int,
        max_batch: int,
        max_wait_ms: float = 4.0,
    ) -> None:
        from shigu.detect import load_detector

        self.detector = load_detector(model, format=fmt, device=device, threads=threads)
        self.max_batch = max(1, max_batch)
        self.max_wait = max_wait_ms / 1000.0
        self.queue: asyncio.Queue[tuple[np.ndarray, asyncio.Future[list[np.ndarray]]]] | None
        self.queue = None
        self.batches = 0
        self.items = 0

    async def _loop(self) -> None:
        assert self.queue is not None
        loop = asyncio.get_running_loop()
        while True:
            first = await self.queue.get()
            items = [first]
            deadline = loop.time() + self.max_wait
            while len(items) < self.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    items.append(await asyncio.wait_for(self.queue.get(), timeout))
                except TimeoutError:
                    break
            batch = np.stack([t for t, _ in items])
            try:
                outs = await loop.run_in_executor(None, self.detector.model.run, batch)
            except Exception as exc:  # hand the failure to every waiting caller
                for _, fut in items:
                    fut.set_exception(exc)
                continue
            self.batches += 1
            self.items += len(items)
            for i, (_, fut) in enumerate(items):
                fut.set_result([o[i] for o in outs])

    async def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        """Raw network outputs for one preprocessed frame (3, H, W)."""
        if self.queue is None:
            self.queue = asyncio.Queue()
            asyncio.get_running_loop().create_task(self._loop())
        fut: asyncio.Future[list[np.ndarray]] = asyncio.get_running_loop().create_future()
        await self.queue.put((tensor, fut))
        return await fut

    def stats(self) -> dict[str, int]:
        return {"batches": self.batches, "items": self.items, "pid": os.getpid()}


class RemoteModel:
    """Stands in for a detector's ``OnnxModel``: ``run`` goes to the model actors."""

    def __init__(self, local: Any, actors: list[Any], offset: int = 0) -> None:
        self.local = local
        self.actors = actors
        self.next = offset

    def __getattr__(self, name: str) -> Any:  # shapes, names, path: from the local model
        return getattr(self.local, name)

    def run(self, batch: np.ndarray, output_names: Any = None) -> list[np.ndarray]:
        import ray

        refs = []
        for i in range(len(batch)):
            actor = self.actors[self.next % len(self.actors)]
            self.next += 1
            refs.append(actor.run.remote(batch[i]))
        parts = ray.get(refs)
        return [np.stack([p[k] for p in parts]) for k in range(len(parts[0]))]


class SourceActor:
    """Runs one source's pipeline with inference on the model actors."""

    def __init__(
        self,
        config_json: dict[str, Any],
        actors: list[Any],
        index: int,
        salt: str,
        max_frames: int | None,
    ) -> None:
        self.config = Config.model_validate(config_json)
        self.actors = actors
        self.index = index
        self.salt = salt
        self.max_frames = max_frames

    def pid(self) -> int:
        return os.getpid()

    def run(self) -> dict[str, Any]:
        from shigu.detect import load_detector
        from shigu.pipeline import Pipeline

        det = self.config.pipeline.detector
        detector = load_detector(
            det.model,
            format=det.format,
            device="cpu",
            conf=det.conf,
            classes=",".join(det.classes) if det.classes else None,
            threads=1,
        )
        detector.model = RemoteModel(  # type: ignore[assignment]
            detector.model, self.actors, self.index
        )
        pipeline = Pipeline(
            self.config, max_frames=self.max_frames, detector=detector, event_id_salt=self.salt
        )
        return pipeline.run()


def merge_summaries(parts: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """One run summary from per-source summaries, in the single-machine shape."""
    out: dict[str, Any] = {"sources": {}, "lines": {}, "zones": {}, "events": {}}
    frames = 0
    failures = 0
    for part in parts:
        out["sources"].update(part["sources"])
        out["lines"].update(part["lines"])
        out["zones"].update(part["zones"])
        for k, v in part["events"].items():
            out["events"][k] = out["events"].get(k, 0) + v
        frames += part["frames"]
        failures += part.get("media_failures", 0)
    out.update(
        frames=frames,
        seconds=round(seconds, 3),
        fps=round(frames / seconds, 2) if seconds > 0 else 0.0,
        run_ids=[p.get("run_id") for p in parts],
        media_failures=failures,
        store=parts[0]["store"] if parts else None,
        ray=True,
    )
    return out


def run_on_ray(
    cfg: Config,
    address: str | None,
    max_frames: int | None = None,
    model_actors: int | None = None,
    on_actors: Any = None,
) -> dict[str, Any]:
    """Run the pipeline config on a Ray cluster and return the merged summary."""
    import ray

    from shigu.scale.batch import connect

    if cfg.store.url.startswith("sqlite") and address not in (None, "local", "auto"):
        log.warning("several machines cannot share a SQLite file: use a PostgreSQL store URL")
    connect(address)
    det = cfg.pipeline.detector
    gpu = det.device in GPU_DEVICES
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))  # type: ignore[no-untyped-call]
    n_models = model_actors or max(1, cpus // 2)
    model_cls = ray.remote(
        num_cpus=1, num_gpus=1 if gpu else 0, max_restarts=-1, max_task_retries=-1
    )(ModelActor)
    models = [
        model_cls.remote(det.model, det.format, det.device, 1, cfg.pipeline.batch)
        for _ in range(n_models)
    ]
    source_cls = ray.remote(num_cpus=0.5, max_restarts=-1, max_task_retries=-1)(SourceActor)
    salt = f"{time.time_ns()}"
    started = time.perf_counter()
    actors: dict[str, Any] = {
        s.id: source_cls.remote(
            source_config(cfg, s.id).model_dump(mode="json"),
            models,
            i,
            f"{salt}:{s.id}",
            max_frames,
        )
        for i, s in enumerate(cfg.sources)
    }
    if on_actors is not None:
        on_actors(actors, models)
    refs = {sid: a.run.remote() for sid, a in actors.items()}
    parts = []
    for sid, ref in refs.items():
        try:
            parts.append(ray.get(ref))
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(exc.cause, Exception) else exc
            if isinstance(cause, ConfigError):
                raise cause from None
            raise
        log.info("source %s finished", sid)
    return merge_summaries(parts, time.perf_counter() - started)
