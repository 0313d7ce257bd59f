"""`shigu run` throughput vs bare inference, and four streams at once vs one.

(a) The pipeline (decode, inference, ByteTrack with relinking, a zone and two lines, SQLite
events with snapshots) on the PETS2009 video, against a bare
`onnxruntime.InferenceSession.run` loop on the same frames already decoded and letterboxed.
Target: ratio >= 0.90.
(b) Four copies of the same video in one pipeline vs one copy: aggregate fps over
single-stream fps. Target: >= 0.90.
Runs alternate; figures are medians of --repeats.

Usage: python benchmarks/pipeline.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from _common import DATA, machine, median
from shigu.detect import load_detector
from shigu.pipeline import Pipeline, parse_config
from shigu.sources import open_source

VIDEO = DATA / "video" / "pets2009_s2l1_vtest_480x360.avi"


def config(tmp: Path, copies: int) -> dict[str, Any]:
    ids = [f"cam{i}" for i in range(copies)]
    return {
        "sources": [{"id": i, "uri": str(VIDEO)} for i in ids],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "zones": [
            {
                "id": f"lawn-{i}",
                "source": i,
                "polygon": [[200, 150], [330, 150], [330, 300], [200, 300]],
                "rules": [{"type": "intrusion", "min_seconds": 1.0}],
            }
            for i in ids
        ],
        "lines": [
            {"id": f"{name}-{i}", "source": i, "points": pts}
            for i in ids
            for name, pts in (("east", [[330, 80], [330, 340]]), ("west", [[150, 80], [150, 340]]))
        ],
        "store": {
            "url": f"sqlite:///{tmp}/events-{copies}-{time.time_ns()}.db",
            "media_dir": str(tmp / "m"),
        },
    }


def run_pipeline(tmp: Path, copies: int) -> float:
    summary = Pipeline(parse_config(config(tmp, copies))).run()
    return float(summary["fps"])  # aggregate frames / wall seconds


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")

    detector = load_detector("yolox-nano")
    tensors = []
    for f in open_source(VIDEO):
        t = np.empty((1, 3, 416, 416), np.float32)
        detector.preprocess(f.image, t[0])
        tensors.append(t)
    session = ort.InferenceSession(str(detector.model.path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for t in tensors[:20]:
        session.run(None, {name: t})

    def bare() -> float:
        started = time.perf_counter()
        for t in tensors:
            session.run(None, {name: t})
        return len(tensors) / (time.perf_counter() - started)

    bare_fps, one_fps, four_fps = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            bare_fps.append(bare())
            one_fps.append(run_pipeline(Path(tmp), 1))
            four_fps.append(run_pipeline(Path(tmp), 4))
            print(
                f"run {rep + 1}: bare {bare_fps[-1]:.1f} fps, pipeline x1 {one_fps[-1]:.1f} fps, "
                f"x4 aggregate {four_fps[-1]:.1f} fps",
                flush=True,
            )
    b, one, four = median(bare_fps), median(one_fps), median(four_fps)
    print(f"\nmedian bare ONNX Runtime loop: {b:.1f} fps")
    print(f"median shigu run, 1 stream:     {one:.1f} fps  ratio {one / b:.2f} (target >= 0.90)")
    print(
        f"median shigu run, 4 streams:    {four:.1f} fps aggregate  ratio vs 1 stream "
        f"{four / one:.2f} (target >= 0.90)"
    )


if __name__ == "__main__":
    main()
