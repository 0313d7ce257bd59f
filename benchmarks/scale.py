"""Batch detection on Ray (1 and 2 model actors) vs single-process `shigu detect`.

Inputs: the shared videos (car traffic, crowd top-down, PETS2009), whole (or the first
--frames frames of each). Every figure is a whole command's wall time, start-up included
(model load, and for Ray: connecting, starting actors): frames / seconds.
- single: `shigu detect VIDEO` once per video, back to back (one process each).
- ray-1 / ray-2: `shigu batch detect LIST --ray ADDRESS --workers 1|2` on a local Ray head
  started by this script with the machine's cores.
Targets: ray-1 >= 0.85 x single; ray-2 / ray-1 is the scaling efficiency x 2 workers.
Runs alternate; figures are medians of --repeats.

Usage: python benchmarks/scale.py [--repeats 3] [--frames 300]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import DATA, machine, median

VIDEOS = sorted((DATA / "video").glob("*.*"))
ENV = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")


def frame_count(video: Path) -> int:
    import av

    with av.open(str(video)) as container:
        return sum(1 for _ in container.decode(video=0))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shigu(*args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "shigu", *args], env=ENV, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"shigu {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def start_head(root: Path, port: int) -> subprocess.Popen[bytes]:
    ray = str(Path(sys.executable).with_name("ray"))
    proc = subprocess.Popen(
        [
            ray,
            "start",
            "--head",
            "--block",
            f"--port={port}",
            f"--num-cpus={os.cpu_count()}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={root}",
            "--node-ip-address=127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(3)  # the GCS port opens before the raylet is ready
                return proc
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("Ray head did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=0, help="per video; 0: all")
    args = parser.parse_args()
    print(machine())
    frames = sum(min(frame_count(v), args.frames or 10**9) for v in VIDEOS)
    root = Path(tempfile.mkdtemp(prefix="shigu-bench-"))
    listing = root / "inputs.txt"
    listing.write_text("\n".join(str(v) for v in VIDEOS) + "\n")
    port = free_port()
    head = start_head(root / "ray", port)
    address = f"127.0.0.1:{port}"
    runs: dict[str, list[float]] = {"single": [], "ray-1": [], "ray-2": []}
    try:
        shigu(
            "batch",
            "detect",
            str(listing),
            "--out",
            str(root / "warm"),
            "--ray",
            address,
            "--max-frames",
            "5",
        )  # warm caches and the cluster
        limit = ["--max-frames", str(args.frames)] if args.frames else []
        for r in range(args.repeats):
            seconds = sum(shigu("detect", str(v), *limit, "--no-progress") for v in VIDEOS)
            runs["single"].append(frames / seconds)
            for workers in (1, 2):
                out = root / f"out-{workers}-{r}"
                seconds = shigu(
                    "batch",
                    "detect",
                    str(listing),
                    "--out",
                    str(out),
                    "--ray",
                    address,
                    "--workers",
                    str(workers),
                    *limit,
                )
                runs[f"ray-{workers}"].append(frames / seconds)
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)
    for name, values in runs.items():
        shown = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:8s} {median(values):6.1f} frames/s  (runs: {shown})")
    single, one, two = (median(runs[k]) for k in ("single", "ray-1", "ray-2"))
    print(f"ray-1 / single: {one / single:.3f} (target >= 0.85)")
    print(f"ray-2 / ray-1: {two / one:.3f} (scaling efficiency {two / one / 2:.0%} of linear)")


if __name__ == "__main__":
    main()
