"""One result set per batch run, in the names other tools expect.

Each input writes its own files under a hashed key (so inputs with the same name never
collide and a re-run resumes). After the run, this writes what users hand to evaluators:
``coco_images.json`` (COCO ``images`` and ``categories``, an empty ``annotations`` list) and
``coco_results.json`` (results whose ``image_id`` points into it) for detection, and
``results/<sequence>.txt`` (named as TrackEval expects: the MOT sequence folder's name or the
video's stem) for tracking.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from shigu.io.atomic import atomic_write
from shigu.scale.inputs import unit_key

log = logging.getLogger(__name__)


def sequence_name(uri: str) -> str:
    """The name TrackEval looks for: a sequence folder's name, or a video file's stem."""
    path = Path(uri.rstrip("/"))
    return path.name if path.is_dir() or not path.suffix else path.stem


def combine_coco(out: Path, inputs: list[str]) -> tuple[Path, Path] | None:
    """Merge the inputs' COCO files (in input order) into one images file and one results."""
    images: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    categories: dict[int, dict[str, Any]] = {}
    for uri in inputs:
        path = out / "coco" / f"{unit_key(uri)}.json"
        if not (out / "done" / f"{unit_key(uri)}.json").is_file() or not path.is_file():
            continue
        unit = json.loads(path.read_text())
        ids: dict[int, int] = {}
        for image in unit["images"]:
            ids[image["frame"]] = len(images) + 1
            images.append(
                {"id": ids[image["frame"]], **{k: v for k, v in image.items() if k != "frame"}}
            )
        for cat in unit["categories"]:
            categories.setdefault(int(cat["id"]), cat)
        for det in unit["annotations"]:
            image_id = ids.get(det["frame"])
            if image_id is not None:
                results.append(
                    {"image_id": image_id, **{k: v for k, v in det.items() if k != "frame"}}
                )
    if not images:
        return None
    dataset = {
        "images": images,
        "annotations": [],
        "categories": [categories[k] for k in sorted(categories)],
    }
    images_path, results_path = out / "coco_images.json", out / "coco_results.json"
    atomic_write(images_path, json.dumps(dataset).encode())
    atomic_write(results_path, json.dumps(results).encode())
    return images_path, results_path


def combine_mot(out: Path, inputs: list[str]) -> Path | None:
    """``results/<sequence>.txt`` for every finished input; a name two inputs share keeps
    its hashed key instead (and says so)."""
    names = [sequence_name(u) for u in inputs]
    folder = out / "results"
    written = 0
    for uri, name in zip(inputs, names, strict=True):
        source = out / "mot" / f"{unit_key(uri)}.txt"
        if not source.is_file() or not (out / "done" / f"{unit_key(uri)}.json").is_file():
            continue
        if names.count(name) > 1:
            log.warning("two inputs are named %s; writing %s.txt", name, unit_key(uri))
            name = unit_key(uri)
        atomic_write(folder / f"{name}.txt", source.read_bytes())
        written += 1
    return folder if written else None
