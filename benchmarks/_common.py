"""Shared benchmark helpers: data paths, timing, medians, the offline model mirror."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SHIGU_TEST_DATA", ROOT.parent / "shared" / "data")).resolve()
if not os.environ.get("SHIGU_MODEL_MIRROR") and (DATA / "models").is_dir():
    os.environ["SHIGU_MODEL_MIRROR"] = str(DATA / "models")


def timed(fn: Callable[[], int]) -> float:
    """Run ``fn`` (which returns how many items it processed) and return items per second."""
    started = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - started)


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
