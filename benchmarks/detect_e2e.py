"""`shigu detect` end to end vs a bare ONNX Runtime loop on pre-letterboxed frames.

The bare loop is the limit on this machine: a default ``onnxruntime.InferenceSession.run``
over frames that are already decoded and letterboxed (YOLOX-nano, PETS2009 480x360, 795
frames). The end-to-end figure is the same code path as ``shigu detect VIDEO --jsonl FILE``
(decode, letterbox, inference, decode of the outputs, NMS, JSONL writing), timed from the first
frame to the last. Runs alternate, and the ratio is the median over the repeats.

Usage: python benchmarks/detect_e2e.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from _common import DATA, machine, median
from shigu.cli._video_job import run_video_job
from shigu.detect import load_detector
from shigu.detect.stream import throughput_plan
from shigu.sources import open_source

VIDEO = DATA / "video" / "pets2009_s2l1_vtest_480x360.avi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    workers, threads = throughput_plan("cpu")
    detector = load_detector("yolox-nano", conf=0.25, threads=threads)
    frames = [f.image for f in open_source(VIDEO)]
    tensors = []
    for image in frames:
        t = np.empty((1, 3, 416, 416), np.float32)
        detector.preprocess(image, t[0])
        tensors.append(t)
    bare_session = ort.InferenceSession(
        str(detector.model.path), providers=["CPUExecutionProvider"]
    )
    name = bare_session.get_inputs()[0].name
    for t in tensors[:20]:
        bare_session.run(None, {name: t})

    def bare() -> float:
        started = time.perf_counter()
        for t in tensors:
            bare_session.run(None, {name: t})
        return len(tensors) / (time.perf_counter() - started)

    def pool() -> float:
        """Pure inference with the same plan shigu uses (workers x single-thread runs)."""
        from concurrent.futures import ThreadPoolExecutor

        session = detector.model.session
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(lambda t: session.run(None, {name: t}), tensors))
        return len(tensors) / (time.perf_counter() - started)

    def end_to_end(out: Path) -> float:
        report = run_video_job(
            open_source(VIDEO),
            detector,
            workers=workers,
            jsonl=out / "d.jsonl",
            show_progress=False,
        )
        assert report.frames == len(frames)
        return report.fps

    bares, pools, e2es, ratios, pool_ratios = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            b = bare()
            e = end_to_end(Path(tmp))
            p = pool()
            bares.append(b)
            pools.append(p)
            e2es.append(e)
            ratios.append(e / b)
            pool_ratios.append(e / p)
            print(
                f"  bare {b:6.1f} fps   shigu detect {e:6.1f} fps   ratio {e / b:.2f}   "
                f"inference-only pool {p:6.1f} fps   ratio {e / p:.2f}"
            )

    # where the time goes, per frame, single-threaded pieces
    src = list(open_source(VIDEO))
    started = time.perf_counter()
    for _ in open_source(VIDEO):
        pass
    decode_ms = (time.perf_counter() - started) / len(src) * 1e3
    out = np.empty((3, 416, 416), np.float32)
    started = time.perf_counter()
    metas = [detector.preprocess(f.image, out) for f in src]
    prep_ms = (time.perf_counter() - started) / len(src) * 1e3
    raw = detector.model.run(tensors[0])
    started = time.perf_counter()
    for meta in metas:
        detector.decode([raw[0][0]], meta)
    post_ms = (time.perf_counter() - started) / len(src) * 1e3

    print(f"\nmachine: {machine()}; inference plan: {workers} workers x {threads} thread(s)")
    print(f"bare ONNX Runtime (default session): median {median(bares):.1f} fps")
    print(f"shigu detect end to end:             median {median(e2es):.1f} fps")
    print(f"ratio end-to-end / bare:             median {median(ratios):.2f} (target >= 0.90)")
    print(f"inference only, same worker plan:    median {median(pools):.1f} fps")
    print(f"ratio end-to-end / that:             median {median(pool_ratios):.2f}")
    print(
        f"per frame: decode {decode_ms:.2f} ms, letterbox+tensor {prep_ms:.2f} ms, "
        f"output decode+NMS {post_ms:.2f} ms"
    )


if __name__ == "__main__":
    main()
