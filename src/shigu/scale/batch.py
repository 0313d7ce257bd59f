"""Batch detection and tracking over many inputs, in one process or on a Ray cluster.

One input (a video or a MOTChallenge sequence) is one unit of work, processed by
:func:`process_input`, the same function in both modes, so their outputs are identical. Every
unit writes its files under a fixed name through a temporary file and a rename, and writes its
``done/<key>.json`` marker last: a re-run skips finished units, a unit cut off by a crash is
simply done again, and nothing is ever written twice.

Layout of ``OUT``: ``parquet/<key>.parquet`` (one row per detection or track box: source,
frame, timestamp, class, confidence, box, track id), ``mot/<key>.txt`` (track) or
``coco/<key>.json`` (detect, COCO results), ``done/<key>.json``, ``failed/<key>.json``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError, ShiguError
from shigu.io.atomic import atomic_write
from shigu.scale.inputs import localise, unit_key

log = logging.getLogger(__name__)
TASKS = ("detect", "track", "inspect")


@dataclass(frozen=True)
class BatchJob:
    """What to do to every input; plain data so it travels to Ray workers."""

    task: str = "detect"
    model: str = "yolox-nano"
    conf: float = 0.25
    classes: str | None = None
    tracker: str = "bytetrack"
    stride: int = 1
    max_frames: int | None = None
    threads: int = 0  # ONNX Runtime threads per inference run (0: from the plan, i.e. 1 on CPU)
    cores: int = 0  # cores one worker may use (0: all of this machine's)
    inspect_model: str | None = None  # inspect: the .shigu anomaly model
    model_sha256: str = ""  # the model file's checksum, so a resume notices a changed model
    slicing: dict[str, Any] | None = None  # SliceConfig fields: sliced detection (--slice)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise InputError(f"unknown batch task {self.task!r}", f"use one of: {', '.join(TASKS)}")


def model_checksum(model: str) -> str:
    """sha256 of a local model file; for a registry name, its verified or pinned checksum."""
    import hashlib

    path = Path(model)
    if path.is_file():
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    from shigu.runtime.registry import MODELS

    spec = MODELS.get(model)
    if spec is None:
        return ""
    from shigu.runtime.zoo import ModelZoo

    return ModelZoo().expected_sha(spec) or ""


COLUMNS = (
    "source",
    "frame",
    "timestamp",
    "class_id",
    "class_name",
    "confidence",
    "x1",
    "y1",
    "x2",
    "y2",
    "track_id",
)


def _table(rows: dict[str, list[Any]]) -> Any:
    import pyarrow as pa

    schema = pa.schema(
        [
            ("source", pa.string()),
            ("frame", pa.int64()),
            ("timestamp", pa.float64()),
            ("class_id", pa.int32()),
            ("class_name", pa.string()),
            ("confidence", pa.float32()),
            ("x1", pa.float32()),
            ("y1", pa.float32()),
            ("x2", pa.float32()),
            ("y2", pa.float32()),
            ("track_id", pa.int64()),
        ]
    )
    return pa.table({c: rows[c] for c in COLUMNS}, schema=schema)


class Processor:
    """Holds a loaded detector; processes inputs one at a time (a Ray actor, or in-process)."""

    def __init__(self, job: BatchJob, out: str) -> None:
        from shigu.detect import load_detector
        from shigu.detect.stream import throughput_plan
        from shigu.runtime.session import default_threads

        self.job = job
        self.out = Path(out)
        if job.task == "inspect":
            from shigu.solutions.industrial.anomaly import AnomalyModel

            if not job.inspect_model:
                raise InputError("batch inspect needs a model", "pass --model MODEL.shigu")
            self.model = AnomalyModel.load(localise(job.inspect_model, self.out / ".cache"))
            return
        cores = job.cores or default_threads()
        if job.threads:
            self.workers, threads = max(1, cores // job.threads), job.threads
        else:  # the same plan as `shigu detect`: one single-threaded run in flight per core
            self.workers, threads = throughput_plan("cpu", cores)
        self.detector = load_detector(
            job.model, conf=job.conf, classes=job.classes, threads=threads
        )

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Ray Data entry point: a batch of ``{"uri": [...]}`` rows → summaries."""
        results = [process_input(self, str(uri)) for uri in batch["uri"]]
        return {
            "uri": [r["input"] for r in results],
            "status": [r["status"] for r in results],
            "frames": [r.get("frames", 0) for r in results],
            "boxes": [r.get("boxes", 0) for r in results],
            "error": [r.get("error", "") for r in results],
        }


def process_input(proc: Processor, uri: str) -> dict[str, Any]:
    """Detect (and track) one input and write its outputs; never raises for a bad input."""

    if proc.job.task == "inspect":
        return inspect_unit(proc, uri)
    job, out = proc.job, proc.out
    key = unit_key(uri)
    started = time.perf_counter()
    labels = proc.detector.labels
    from shigu.core.labels import coco_categories

    categories = coco_categories(tuple(labels))
    category_of = [int(str(c["id"])) for c in categories]
    rows_out: _Rows | None = None
    try:
        source = _open_input(uri, out / ".cache", job.stride)
        tracker = None
        if job.task == "track":
            from shigu.track import create_tracker

            tracker = create_tracker(job.tracker, source.output_fps or 30.0)
        rows_out = _Rows(uri, labels, category_of, tracker is not None, source)
        try:
            from shigu.detect.slicing import SliceConfig
            from shigu.pipeline.job import job_pipeline, source_error

            # The pipeline engine: decoding runs ahead in its own thread, inference in a pool.
            slicing = SliceConfig(**job.slicing) if job.slicing else None
            pipeline = job_pipeline(
                source, proc.detector, [rows_out], tracker=tracker,
                max_frames=job.max_frames or None, workers=proc.workers, slicing=slicing,
            )  # fmt: skip
            pipeline.run()
            error = source_error(pipeline, source)
            if error is not None:
                raise error
        finally:
            source.close()
    except ShiguError as exc:
        summary = {
            "input": uri,
            "key": key,
            "status": "failed",
            "error": exc.one_line(),
            "frames": rows_out.frames if rows_out is not None else 0,
        }
        atomic_write(out / "failed" / f"{key}.json", json.dumps(summary).encode())
        return summary
    import io

    import pyarrow.parquet as pq

    assert rows_out is not None
    rows, frames = rows_out.rows, rows_out.frames
    buf = io.BytesIO()
    pq.write_table(_table(rows), buf)
    atomic_write(out / "parquet" / f"{key}.parquet", buf.getvalue())
    if tracker is not None:
        atomic_write(out / "mot" / f"{key}.txt", "".join(rows_out.mot_lines).encode())
    else:
        unit = {"images": rows_out.coco_images, "annotations": rows_out.coco,
                "categories": categories}  # fmt: skip
        atomic_write(out / "coco" / f"{key}.json", json.dumps(unit).encode())
    summary = {
        "input": uri,
        "key": key,
        "status": "done",
        "frames": frames,
        "boxes": len(rows["frame"]),
        "seconds": round(time.perf_counter() - started, 3),
        "job": asdict(job),
    }
    (out / "failed" / f"{key}.json").unlink(missing_ok=True)
    atomic_write(out / "done" / f"{key}.json", json.dumps(summary).encode())
    return summary


class _Rows:
    """One input's Parquet rows and MOT or COCO records, filled frame by frame."""

    def __init__(self, uri: str, labels: tuple[str, ...], category_of: list[int],
                 tracked: bool, source: Any) -> None:  # fmt: skip
        self.uri, self.labels, self.category_of = uri, labels, category_of
        self.tracked, self.source = tracked, source
        self.rows: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        self.mot_lines: list[str] = []
        self.coco: list[dict[str, Any]] = []
        self.coco_images: list[dict[str, Any]] = []
        self.frames = 0

    def write(self, frame: Any, dets: Any, path: Path | None) -> None:
        rows, labels, category_of = self.rows, self.labels, self.category_of
        self.frames += 1
        if not self.tracked:
            self.coco_images.append(_coco_image(self.source, frame, self.uri))
        ids = dets.tracker_id if dets.tracker_id is not None else np.full(len(dets), -1)
        for i in range(len(dets)):
            x1, y1, x2, y2 = (float(v) for v in dets.xyxy[i])
            c = int(dets.class_id[i])
            score = float(dets.confidence[i])
            rows["source"].append(self.uri)
            rows["frame"].append(frame.index)
            rows["timestamp"].append(frame.timestamp)
            rows["class_id"].append(c)
            rows["class_name"].append(labels[c] if 0 <= c < len(labels) else str(c))
            rows["confidence"].append(score)
            for name, v in (("x1", x1), ("y1", y1), ("x2", x2), ("y2", y2)):
                rows[name].append(v)
            rows["track_id"].append(int(ids[i]))
            if self.tracked:
                self.mot_lines.append(
                    f"{frame.index + 1},{int(ids[i])},{x1:.2f},{y1:.2f},{x2 - x1:.2f},"
                    f"{y2 - y1:.2f},{score:.4f},-1,-1,-1\n"
                )
            else:
                self.coco.append(
                    {
                        "frame": frame.index,
                        "category_id": category_of[c] if 0 <= c < len(category_of) else c + 1,
                        "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
                        "score": round(score, 5),
                    }
                )

    def close(self) -> dict[str, str]:
        return {}


def _open_input(uri: str, cache: Path, stride: int) -> Any:
    """A video or sequence by its URI, or a chunk of still images (paths joined by newlines)."""
    from shigu.scale.inputs import is_image_unit
    from shigu.sources import open_source
    from shigu.sources.images import ImageFolderSource

    if is_image_unit(uri):
        return ImageFolderSource([localise(p, cache) for p in uri.split("\n")], stride=stride)
    return open_source(localise(uri, cache), stride=stride)


def _coco_image(source: Any, frame: Any, uri: str) -> dict[str, Any]:
    """A COCO ``images`` entry: an image's own path, or the video and frame it came from."""
    path = getattr(source, "path_at", {}).get(frame.index)
    name = str(path) if path is not None else f"{uri}#frame={frame.index}"
    return {"frame": frame.index, "file_name": name, "width": frame.width, "height": frame.height}


def inspect_unit(proc: Processor, unit: str) -> dict[str, Any]:
    """Inspect one chunk of images (paths joined by newlines); one Parquet row per image.

    An unreadable image gets a row with its error and no score; the others go on."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from shigu.sources.images import read_image

    started = time.perf_counter()
    key = unit_key(unit)
    paths = unit.split("\n")
    cols: dict[str, list[Any]] = {
        k: [] for k in ("source", "score", "anomalous", "regions", "width", "height", "error")
    }
    for path in paths:
        image = read_image(localise(path, proc.out / ".cache"))
        cols["source"].append(path)
        if image is None:
            for k, v in (
                ("score", None),
                ("anomalous", None),
                ("regions", None),
                ("width", None),
                ("height", None),
                ("error", "unreadable image"),
            ):
                cols[k].append(v)
            continue
        pred = proc.model.predict([image])[0]
        cols["score"].append(pred.score)
        cols["anomalous"].append(pred.anomalous)
        cols["regions"].append(json.dumps([r.to_json() for r in pred.regions]))
        cols["width"].append(image.shape[1])
        cols["height"].append(image.shape[0])
        cols["error"].append(None)
    schema = pa.schema(
        [
            ("source", pa.string()),
            ("score", pa.float64()),
            ("anomalous", pa.bool_()),
            ("regions", pa.string()),
            ("width", pa.int32()),
            ("height", pa.int32()),
            ("error", pa.string()),
        ]
    )
    buf = io.BytesIO()
    pq.write_table(pa.table(cols, schema=schema), buf)
    atomic_write(proc.out / "parquet" / f"{key}.parquet", buf.getvalue())
    bad = sum(1 for e in cols["error"] if e)
    summary = {
        "input": unit,
        "key": key,
        "status": "done",
        "frames": len(paths) - bad,
        "boxes": sum(1 for a in cols["anomalous"] if a),
        "unreadable": bad,
        "seconds": round(time.perf_counter() - started, 3),
        "job": asdict(proc.job),
    }
    atomic_write(proc.out / "done" / f"{key}.json", json.dumps(summary).encode())
    return summary


# settings that do not change what an input's outputs hold
_NOT_RESULT_SETTINGS = {"threads", "cores"}


def _result_settings(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k not in _NOT_RESULT_SETTINGS}


def pending(
    inputs: list[str], out: Path, job: BatchJob | None = None, force: bool = False
) -> list[str]:
    """Inputs without a ``done`` marker (a re-run resumes with these).

    An input done with other settings (threshold, frames, model file...) is not "done" for
    this job: without ``force`` that is an error naming the difference; with it, it is redone.
    """
    todo, changed = [], []
    wanted = _result_settings(asdict(job)) if job is not None else None
    for uri in inputs:
        marker = out / "done" / f"{unit_key(uri)}.json"
        if not marker.is_file():
            todo.append(uri)
            continue
        if wanted is None:
            continue
        try:
            before = _result_settings(json.loads(marker.read_text()).get("job") or {})
        except (OSError, ValueError):
            before = {}
        if before != wanted:
            changed.append((uri, before))
    if changed and not force:
        uri, before = changed[0]
        diff = ", ".join(
            f"{k} {before.get(k)!r} -> {wanted.get(k)!r}"  # type: ignore[union-attr]
            for k in sorted(set(before) | set(wanted or {}))
            if before.get(k) != (wanted or {}).get(k)
        )
        raise InputError(
            f"{len(changed)} input(s) in {out} were done with other settings ({diff})",
            "use another --out folder, or --force to redo them with these settings",
        )
    return todo + [uri for uri, _ in changed]


def run_local(job: BatchJob, inputs: list[str], out: Path) -> Iterator[dict[str, Any]]:
    """Process inputs one after another in this process."""
    proc = Processor(job, str(out))
    for uri in inputs:
        yield process_input(proc, uri)


def connect(address: str | None, timeout_s: float = 30.0) -> None:
    """Connect to a Ray cluster (``auto``, ``HOST:PORT``, or None for a local one), or fail
    within ``timeout_s`` with a clear error."""
    import socket

    import ray

    if ray.is_initialized():
        return
    if address and address not in ("auto", "local"):
        host, _, port = address.removeprefix("ray://").rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
                pass
        except (OSError, ValueError) as exc:
            raise InputError(
                f"cannot reach the Ray cluster at {address} ({exc})",
                "start it with `ray start --head` or check the address (HOST:PORT of the head)",
            ) from exc
    # Ray Data's actor pool always logs a C++ warning about restartable actors with
    # constructor arguments; it does not apply to ours (see _bound_processor).
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    try:
        ray.init(
            address=None if address == "local" else address,
            logging_level=logging.WARNING,
            log_to_driver=False,
            configure_logging=False,
        )
    except (ConnectionError, RuntimeError, TimeoutError) as exc:
        raise InputError(f"cannot connect to Ray at {address}: {exc}", "check the address") from exc


def _bound_processor(job: BatchJob, out: str) -> type[Processor]:
    """A Processor class with its arguments built in: a restarted actor needs no arguments
    from the object store, which could be gone by then."""

    class BoundProcessor(Processor):
        def __init__(self) -> None:
            super().__init__(job, out)

    return BoundProcessor


def run_ray(
    job: BatchJob, inputs: list[str], out: Path, address: str | None, workers: int | None = None
) -> Iterator[dict[str, Any]]:
    """Process inputs on a Ray cluster: Ray Data ``map_batches`` over a pool of model actors.

    Actors are restarted when they die (and their input is retried); ``workers`` is the
    actor pool size (default: the cluster's CPUs).
    """
    import ray

    connect(address)
    for name in ("ray.data", "ray.data._internal"):
        logging.getLogger(name).setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # ours is shown instead
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))  # type: ignore[no-untyped-call]
    size = workers or cpus
    per_actor = max(1, cpus // size)  # each model actor gets its share of the cluster's cores
    job = replace(job, cores=job.cores or per_actor)
    dataset = ray.data.from_items([{"uri": u} for u in inputs], override_num_blocks=len(inputs))
    results = dataset.map_batches(
        _bound_processor(job, str(out)),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=size),
        num_cpus=per_actor,  # Ray Data restarts dead actors and retries their input by default
    )
    for row in results.iter_rows():
        yield {
            "input": row["uri"],
            "status": row["status"],
            "frames": row["frames"],
            "boxes": row["boxes"],
            "error": row["error"],
        }


def read_parquet(out: Path) -> Any:
    """Every box of a finished job as one pandas DataFrame (temporary files are ignored)."""
    import pyarrow.parquet as pq

    if not any((out / "parquet").glob("*.parquet")):
        raise InputError(f"no Parquet output in {out}")
    return pq.read_table(str(out / "parquet")).to_pandas()
