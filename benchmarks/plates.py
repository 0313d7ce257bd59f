"""Plate reading, ours vs RapidOCR (PP-OCRv4 detection + recognition) end to end, on the
same images, back to back, two cores.

(a) The 10 shared CCPD images as they are (720x1160): exact plates and ms per image.
(b) The same pictures as 720p frames (scaled to 720 high, centred on 1280x720 grey): ms per
    frame. RapidOCR's answer is the text line that, with separators dropped, fits the plate
    grammar best (the same normalisation as our second opinion).
(c) The 120 LPRNet plate crops: ms per plate for recognition alone (ours with the PP-OCRv4
    second opinion where a character is unsure, vs PP-OCRv4's recogniser on every crop).

Usage: python benchmarks/plates.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np

from _common import DATA, ROOT, machine, median

sys.path.insert(0, str(ROOT / "src"))


def _frames() -> tuple[list[np.ndarray], list[str], list[np.ndarray]]:
    from shigu.eval.plates import ccpd_plate

    paths = sorted((DATA / "lpr" / "ccpd").glob("*.jpg"))
    images = [cv2.imread(str(p)) for p in paths]
    frames = []
    for im in images:
        scale = 720 / im.shape[0]
        small = cv2.resize(im, (round(im.shape[1] * scale), 720))
        canvas = np.full((720, 1280, 3), 114, np.uint8)
        x = (1280 - small.shape[1]) // 2
        canvas[:, x : x + small.shape[1]] = small
        frames.append(canvas)
    return images, [ccpd_plate(p) for p in paths], frames


def _rapid_plate(engine, image: np.ndarray) -> str | None:  # type: ignore[no-untyped-def]
    from shigu.solutions.vehicles.grammar import check_plate
    from shigu.solutions.vehicles.plates import normalise_ocr

    result, _ = engine(image)
    best = None
    for _box, text, score in result or []:
        t = normalise_ocr(text)
        key = (check_plate(t).valid, float(score))
        if best is None or key > best[0]:
            best = (key, t)
    return best[1] if best else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from rapidocr_onnxruntime import RapidOCR

    from shigu.eval.plates import plate_accuracy
    from shigu.solutions.industrial.ocr import read_text
    from shigu.solutions.vehicles.plates import load_plate_reader

    print(f"machine: {machine()}\n")
    reader = load_plate_reader(threads=0)
    engine = RapidOCR()
    images, truth, frames = _frames()

    def ours(batch: list[np.ndarray]) -> list[str | None]:
        out = []
        for im in batch:
            found = reader.read(im)
            out.append(max(found, key=lambda p: p.detection_score).text if found else None)
        return out

    def theirs(batch: list[np.ndarray]) -> list[str | None]:
        return [_rapid_plate(engine, im) for im in batch]

    for label, batch in (("(a) CCPD images", images), ("(b) 720p frames", frames)):
        ours(batch[:2]), theirs(batch[:2])  # warm up
        times: dict[str, list[float]] = {"ours": [], "rapidocr": []}
        reads: dict[str, list[str | None]] = {}
        for _ in range(args.repeats):
            for name, fn in (("ours", ours), ("rapidocr", theirs)):
                t = time.perf_counter()
                reads[name] = fn(batch)
                times[name].append((time.perf_counter() - t) / len(batch))
        o, r = median(times["ours"]), median(times["rapidocr"])
        so = plate_accuracy(zip(truth, reads["ours"], strict=True))
        sr = plate_accuracy(zip(truth, reads["rapidocr"], strict=True))
        print(f"{label}: ours {1000 * o:.1f} ms, exact {so.exact:.0%}, chars {so.chars:.1%}; "
              f"RapidOCR {1000 * r:.1f} ms, exact {sr.exact:.0%}, chars {sr.chars:.1%}; "
              f"speed-up {r / o:.1f}x (runs ours {[round(1000 * v, 1) for v in times['ours']]}, "
              f"RapidOCR {[round(1000 * v, 1) for v in times['rapidocr']]})")  # fmt: skip
    crops = sorted((DATA / "lpr" / "lprnet_crops").glob("*.jpg"))
    plates = [cv2.imdecode(np.fromfile(p, np.uint8), 1) for p in crops]
    names = [p.stem for p in crops]
    before = reader.second_opinions
    t = time.perf_counter()
    mine = [reader.read_crop(p).text for p in plates]
    o = (time.perf_counter() - t) / len(plates)
    asked = reader.second_opinions - before
    t = time.perf_counter()
    from shigu.solutions.vehicles.plates import normalise_ocr

    other = [normalise_ocr(x[0].text) if (x := read_text(p, 0.0, detect=False)) else None
             for p in plates]  # fmt: skip
    r = (time.perf_counter() - t) / len(plates)
    so = plate_accuracy(zip(names, mine, strict=True))
    sr = plate_accuracy(zip(names, other, strict=True))
    print(f"(c) 120 plate crops: ours {1000 * o:.2f} ms/plate, exact {so.exact:.1%}, chars "
          f"{so.chars:.1%} ({asked} second opinions); PP-OCRv4 recogniser {1000 * r:.2f} "
          f"ms/plate, exact {sr.exact:.1%}, chars {sr.chars:.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
