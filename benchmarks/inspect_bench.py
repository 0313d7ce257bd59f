"""PatchCore inference vs the bare backbone forward pass, and training time for 200 images.

(a) Images/s of `AnomalyModel.predict` (preprocess, EfficientNet-Lite0 features on ONNX
Runtime, patch embedding, nearest-neighbour search over the memory bank, Gaussian-smoothed
map, mask and regions) on 256x256 images, against the same backbone ONNX file run bare by
`onnxruntime.InferenceSession.run` on the same images (the limit; the faster of ONNX
Runtime's default session and one with idle-thread spinning off). Target: ratio >= 0.70.
(b) Training time for 200 good images (features + greedy coreset + calibration).
Runs alternate; figures are medians of --repeats.

Usage: python benchmarks/inspect.py [--repeats 5] [--network lite2]   (this module holds its
code)
"""

from __future__ import annotations

import argparse
import logging
import time

import cv2
import numpy as np
import onnxruntime as ort

from _common import DATA, machine, median
from shigu.solutions.industrial.anomaly import AnomalyModel, train
from shigu.solutions.industrial.dataset import load_images, training_images

ROOT = DATA / "anomaly" / "hazelnut_toy"
SIZE = 256
BATCH = 8


def two_hundred_good_images() -> list[np.ndarray]:
    """The toy set's good images at 256x256, flipped and rotated into 200 distinct ones."""
    base, _ = load_images(training_images(ROOT))
    base = [cv2.resize(b, (SIZE, SIZE)) for b in base]
    out = []
    k = 0
    while len(out) < 200:
        image = base[k % len(base)]
        variant = k // len(base)
        if variant % 2:
            image = cv2.flip(image, 1)
        image = np.ascontiguousarray(np.rot90(image, variant // 2 % 4))
        out.append(image)
        k += 1
    return out


def bare_session(path: str, spin: bool) -> ort.InferenceSession:
    """The model's own backbone file, run bare."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def timed(fn: object, images: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for lo in range(0, len(images), BATCH):
        fn(images[lo : lo + BATCH])  # type: ignore[operator]
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--network", default="lite0", help="lite0 (default) or lite2")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(machine())
    images = two_hundred_good_images()

    train_times, model = [], None
    for _ in range(max(1, args.repeats // 2)):
        start = time.perf_counter()
        model = train(images, method="patchcore", size=(SIZE, SIZE), network=args.network)
        train_times.append(time.perf_counter() - start)
    assert model is not None
    print(
        f"training on {len(images)} images: median {median(train_times):.2f} s "
        f"(features {model.meta['feature_seconds']:.2f} s, coreset+calibration "
        f"{model.meta['fit_seconds']:.2f} s, bank {model.meta['bank_size']} patches)"
    )

    test = images[:96]
    model = AnomalyModel(model.embedder, model.scorer, model.threshold)
    preprocess = model.embedder.preprocess
    path = str(model.embedder.model_path)
    sessions = {"bare (ORT default)": bare_session(path, True),
                "bare (no spin)": bare_session(path, False)}  # fmt: skip
    print(model.embedder.preprocess.describe())

    def bare(name: str) -> object:
        session = sessions[name]
        return lambda chunk: session.run(None, {"images": preprocess(chunk)})

    runs: dict[str, list[float]] = {name: [] for name in [*sessions, "patchcore"]}
    for name in sessions:  # warm-up
        timed(bare(name), test[:16])
    model.predict(test[:16])
    for _ in range(args.repeats):
        for name in sessions:
            runs[name].append(timed(bare(name), test))
        runs["patchcore"].append(timed(model.predict, test))
    for name, values in runs.items():
        shown = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:20s} {median(values):7.1f} images/s  (runs: {shown})")
    limit = max(median(runs[n]) for n in sessions)
    print(f"PatchCore / bare backbone: {median(runs['patchcore']) / limit:.3f} (target >= 0.70)")


if __name__ == "__main__":
    main()
