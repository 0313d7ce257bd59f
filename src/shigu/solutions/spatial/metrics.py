"""Pose evaluation as 3DMatch does it: relative rotation and translation errors, success rates.

Poses are read from 3DMatch ``.log`` files (``i j n`` then four matrix rows per pair), plain
4x4 text, ``.npy`` or the JSON ``shigu pcd register`` writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError
from shigu.solutions.spatial.transforms import check_rigid, rotation_angle_deg

# (RRE degrees, RTE metres): 3DMatch's success criterion first, then tighter ones
THRESHOLDS = ((15.0, 0.30), (5.0, 0.10), (2.0, 0.05), (1.0, 0.02))
SINGLE = "pose"  # the key of a file holding one pose


def registration_errors(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float]:
    """(RRE in degrees, RTE in the poses' length unit) between two 4x4 poses."""
    rre = rotation_angle_deg(pred[:3, :3].T @ gt[:3, :3])
    rte = float(np.linalg.norm(pred[:3, 3] - gt[:3, 3]))
    return rre, rte


def read_poses(path: str | Path) -> dict[str, np.ndarray]:
    """Poses by pair key (``"i j"`` for .log files, ``"pose"`` for a single pose)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"pose file not found: {path}", "check the path")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return {SINGLE: check_rigid(np.load(path, allow_pickle=False), str(path))}
        text = path.read_text()
        if suffix == ".json":
            data: Any = json.loads(text)
            if not isinstance(data, dict) or "transform" not in data:
                raise InputError(f"{path} has no 'transform' key", "give register's JSON")
            return {SINGLE: check_rigid(np.asarray(data["transform"], float), str(path))}
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read poses from {path} ({exc})", "check the file") from exc
    return _parse_text(text, path)


def _parse_text(text: str, path: Path) -> dict[str, np.ndarray]:
    rows = [line.split() for line in text.splitlines() if line.strip() and line[0] != "#"]
    try:
        if rows and len(rows[0]) == 3:  # 3DMatch .log: header "i j n", then 4 rows
            if len(rows) % 5:
                raise ValueError("a .log needs 5 lines per pair")
            out = {}
            for k in range(0, len(rows), 5):
                i, j = int(rows[k][0]), int(rows[k][1])
                matrix = np.array(rows[k + 1 : k + 5], dtype=np.float64)
                out[f"{i} {j}"] = check_rigid(matrix, f"{path} pair {i} {j}")
            return out
        matrix = np.array(rows, dtype=np.float64)
    except ValueError as exc:
        raise InputError(
            f"{path} is neither a 3DMatch .log nor a 4x4 matrix ({exc})", "check the file"
        ) from exc
    return {SINGLE: check_rigid(matrix, str(path))}


def evaluate_poses(gt: dict[str, np.ndarray], pred: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per pair RRE/RTE and success rates; a pair with no prediction counts as a failure."""
    if set(gt) == {SINGLE} and len(pred) == 1:
        pred = {SINGLE: next(iter(pred.values()))}
    pairs: list[dict[str, Any]] = []
    for key, g in gt.items():
        p = pred.get(key)
        if p is None:
            pairs.append({"pair": key, "rre_deg": None, "rte": None, "missing": True})
            continue
        rre, rte = registration_errors(p, g)
        pairs.append({"pair": key, "rre_deg": rre, "rte": rte, "missing": False})
    found = [p for p in pairs if not p["missing"]]
    success = {}
    for rre_max, rte_max in THRESHOLDS:
        ok = sum(1 for p in found if p["rre_deg"] < rre_max and p["rte"] < rte_max)
        success[f"rre<{rre_max:g}deg,rte<{rte_max:g}"] = ok / len(pairs) if pairs else 0.0
    summary: dict[str, Any] = {
        "pairs": len(pairs),
        "missing": len(pairs) - len(found),
        "extra_predictions": sorted(set(pred) - set(gt)),
        "success": success,
    }
    if found:
        summary["rre_deg_median"] = float(np.median([p["rre_deg"] for p in found]))
        summary["rte_median"] = float(np.median([p["rte"] for p in found]))
    return {"summary": summary, "pairs": pairs}
