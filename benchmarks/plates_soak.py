"""Plate reading soak: a looped video of the CCPD pictures read frame after frame for
--minutes, printing the process's resident memory (RSS) every --every seconds, so memory
growth in a long-running plate service shows (HyperLPR users report it).

Usage: python benchmarks/plates_soak.py [--minutes 30] [--every 60]
"""

from __future__ import annotations

import argparse
import fractions
import resource
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from _common import DATA, ROOT, machine

sys.path.insert(0, str(ROOT / "src"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--every", type=float, default=60)
    args = parser.parse_args()
    import av

    from shigu.solutions.vehicles.plates import load_plate_reader
    from shigu.sources.open import open_source

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "gate.mp4"
        with av.open(str(video), "w") as out:
            stream = out.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
            for i, p in enumerate(sorted((DATA / "lpr" / "ccpd").glob("*.jpg")) * 3):
                im = cv2.imread(str(p))
                small = cv2.resize(im, (round(im.shape[1] * 720 / im.shape[0]), 720))
                canvas = np.full((720, 1280, 3), 114, np.uint8)
                x = (1280 - small.shape[1]) // 2
                canvas[:, x : x + small.shape[1]] = small
                frame = av.VideoFrame.from_ndarray(canvas, format="bgr24")
                frame.pts, frame.time_base = i, fractions.Fraction(1, 10)
                for pkt in stream.encode(frame):
                    out.mux(pkt)
            for pkt in stream.encode():
                out.mux(pkt)
        reader = load_plate_reader(threads=0)
        start = time.monotonic()
        next_report = start
        frames = plates = 0
        print("minute  frames  plates  rss_mb")
        while time.monotonic() - start < args.minutes * 60:
            src = open_source(str(video))  # the loop: the file again from its start
            for frame in src:
                plates += len(reader.read(frame.image))
                frames += 1
                now = time.monotonic()
                if now >= next_report:
                    print(f"{(now - start) / 60:6.1f}  {frames:6d}  {plates:6d}  {rss_mb():6.1f}",
                          flush=True)  # fmt: skip
                    next_report += args.every
            src.close()
        print(f"{(time.monotonic() - start) / 60:6.1f}  {frames:6d}  {plates:6d}  {rss_mb():6.1f}")


if __name__ == "__main__":
    main()
