"""What each track's task means for a submission: its test items, how an upload is unpacked,
what makes it valid, and which Shigu evaluator scores it.

- ``mot``: items are sequences; a zip of MOTChallenge ``SEQ.txt`` files; TrackEval
  (HOTA, MOTA, IDF1) through :func:`shigu.eval.mot.evaluate_mot`.
- ``anomaly``: items are ``<defect>/<image>`` of an MVTec-AD layout; ``scores.csv``
  (``image,score``) with optional ``maps/<defect>/<stem>.npy`` score maps, zipped or the CSV
  alone; image AUROC, pixel AUROC and PRO from :mod:`shigu.solutions.industrial.metrics`.
- ``coco``: items are image ids of a COCO ground-truth JSON; a COCO results JSON; COCOeval.
- ``segmentation``: items are the ground truth's NIfTI label maps; a zip of same-named NIfTI
  masks on the same grid; mean Dice and HD95 over labels, per case, then averaged
  (:mod:`shigu.solutions.medical.metrics`, MONAI's definitions).
- ``plates``: items are plate images named as CCPD does (the name encodes the plate), or a
  ``plates.json`` ``{image: plate}``; a JSON ``{image: plate or null}``; exact and
  per-character accuracy (:func:`shigu.eval.plates.plate_accuracy`).
- ``custom``: the organiser's ``module:function(gt, submission, items) -> metrics``.

Everything here runs inside the scoring sandbox on untrusted files.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import math
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shigu.arena.archive import safe_extract
from shigu.core.errors import InputError

Scorer = Callable[[Path, Path, list[str]], dict[str, float]]


@dataclass(frozen=True)
class Item:
    id: str
    stratum: str = ""


# ------------------------------------------------------------------ items and the split
def list_items(
    task: str, gt: Path, scorer: str | None = None, scorer_dir: Path | None = None
) -> list[Item]:
    """The test items of a ground truth, with the stratum the split keeps balanced
    (a custom scorer's module is looked for in ``scorer_dir`` first)."""
    if task == "mot":
        from shigu.eval.mot import find_sequences

        return [Item(s.name) for s in find_sequences(gt)]
    if task == "anomaly":
        from shigu.solutions.industrial.dataset import mvtec_test_set

        return [
            Item(f"{i.defect}/{i.path.name}", "good" if i.defect == "good" else "defect")
            for i in mvtec_test_set(gt)
        ]
    if task == "coco":
        return [Item(str(img["id"])) for img in _coco_gt(gt)["images"]]
    if task == "segmentation":
        return [Item(p.name) for p in _nifti_files(gt)]
    if task == "plates":
        return [Item(k) for k in sorted(_plate_truth(gt))]
    module = _custom(scorer, scorer_dir)
    items = getattr(module, "items", None)
    if callable(items):
        return [Item(str(i)) for i in items(gt)]
    return [Item(p.name) for p in sorted(gt.iterdir())] if gt.is_dir() else [Item(gt.name)]


def split_items(
    items: list[Item], key: str, public: list[str] | None, fraction: float
) -> tuple[list[str], list[str]]:
    """(public, private) item ids. Given ids are public; otherwise each stratum is cut at
    ``fraction`` after ordering by a hash of ``key`` and the id: stable, unguessable from the
    ids alone, and never an empty side when a stratum has two or more items."""
    ids = [i.id for i in items]
    if public is not None:
        unknown = sorted(set(public) - set(ids))
        if unknown:
            raise InputError(f"public split names unknown item {unknown[0]!r}")
        chosen = set(public)
        return [i for i in ids if i in chosen], [i for i in ids if i not in chosen]
    pub: set[str] = set()
    for stratum in sorted({i.stratum for i in items}):
        group = sorted(
            (i.id for i in items if i.stratum == stratum),
            key=lambda x: hashlib.sha256(f"{key}/{x}".encode()).hexdigest(),
        )
        n = round(len(group) * fraction)
        if len(group) >= 2:
            n = min(max(n, 1), len(group) - 1)
        pub.update(group[:n])
    return [i for i in ids if i in pub], [i for i in ids if i not in pub]


# ------------------------------------------------------------------ unpacking
def unpack(upload: Path, dest: Path, max_bytes: int) -> Path:
    """Unpack a zip (checked for traversal, links and bombs) or place a single file in
    ``dest``; returns the folder the submission's files are in."""
    dest.mkdir(parents=True, exist_ok=True)
    if upload.stat().st_size > max_bytes:
        raise InputError(f"upload is larger than {max_bytes / 1024**2:.0f} MiB")
    if zipfile.is_zipfile(upload):
        files = safe_extract(upload, dest, max_bytes * 20)
        if not files:
            raise InputError("the archive is empty")
        # A zip of one folder: look inside it.
        tops = {f.relative_to(dest).parts[0] for f in files}
        if len(tops) == 1 and (dest / next(iter(tops))).is_dir():
            return dest / next(iter(tops))
        return dest
    shutil.copyfile(upload, dest / upload.name)
    return dest


# ------------------------------------------------------------------ validation and scoring
def validate(task: str, gt: Path, sub: Path, items: list[str], scorer: str | None = None) -> None:
    """Raise InputError with every problem found (one per line in ``details``)."""
    problems = {
        "mot": _validate_mot,
        "anomaly": _validate_anomaly,
        "coco": _validate_coco,
        "segmentation": _validate_segmentation,
        "plates": _validate_plates,
    }.get(task, _validate_custom(scorer))(gt, sub, items)
    if problems:
        err = InputError(
            f"{problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            "see the validation report",
        )
        err.details = problems  # type: ignore[attr-defined]
        raise err


def score(
    task: str, gt: Path, sub: Path, items: list[str], scorer: str | None = None
) -> dict[str, float]:
    builtin: dict[str, Scorer] = {
        "mot": _score_mot,
        "anomaly": _score_anomaly,
        "coco": _score_coco,
        "segmentation": _score_segmentation,
        "plates": _score_plates,
    }
    fn = builtin.get(task) or getattr(_custom(scorer), (scorer or ":").split(":", 1)[1])
    metrics = fn(gt, sub, items)
    return {str(k): float(v) for k, v in metrics.items()}


def _custom(scorer: str | None, scorer_dir: Path | None = None) -> Any:
    if not scorer or ":" not in scorer:
        raise InputError("a custom track needs scorer: 'module:function'")
    if scorer_dir is not None and str(scorer_dir) not in sys.path:
        sys.path.insert(0, str(scorer_dir))
    module_name = scorer.split(":", 1)[0]
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"scorer module {module_name!r} cannot be imported: {exc}") from None


def _validate_custom(scorer: str | None) -> Callable[[Path, Path, list[str]], list[str]]:
    def run(gt: Path, sub: Path, items: list[str]) -> list[str]:
        fn = getattr(_custom(scorer), "validate", None)
        return list(fn(gt, sub, items)) if callable(fn) else []

    return run


# mot ---------------------------------------------------------------------------
def _mot_files(sub: Path) -> dict[str, Path]:
    return {p.stem: p for p in sub.rglob("*.txt") if p.is_file()}


def _validate_mot(gt: Path, sub: Path, items: list[str]) -> list[str]:
    from shigu.sources.mot import read_seqinfo

    problems: list[str] = []
    files = _mot_files(sub)
    known = {s.name for s in gt.iterdir() if s.is_dir()}
    for extra in sorted(set(files) - known):
        problems.append(f"{extra}.txt is not a sequence of this phase")
    for seq in items:
        path = files.get(seq)
        if path is None:
            problems.append(f"{seq}.txt is missing")
            continue
        try:
            length = read_seqinfo(gt / seq).length
        except InputError:
            length = None
        problems.extend(_check_mot_rows(path, seq, length))
    return problems


def _check_mot_rows(path: Path, seq: str, length: int | None) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[float, float]] = set()
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            parts = line.replace(" ", ",").strip().split(",")
            try:
                values = [float(p) for p in parts[:6]]
            except ValueError:
                problems.append(f"{seq}.txt line {n}: not numbers ({line.strip()[:40]!r})")
                break
            if len(parts) < 6 or not all(math.isfinite(v) for v in values):
                problems.append(
                    f"{seq}.txt line {n}: need frame,id,left,top,width,height as numbers"
                )
                break
            if values[0] < 1 or (length is not None and values[0] > length):
                problems.append(f"{seq}.txt line {n}: frame {values[0]:g} outside 1..{length}")
                break
            if values[4] < 0 or values[5] < 0:
                problems.append(f"{seq}.txt line {n}: negative box size")
                break
            if (values[0], values[1]) in seen:
                problems.append(
                    f"{seq}.txt line {n}: id {values[1]:g} appears twice in frame {values[0]:g}"
                )
                break
            seen.add((values[0], values[1]))
    return problems


def _score_mot(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    from shigu.eval.mot import evaluate_mot

    files = _mot_files(sub)
    flat = sub / ".flat"
    flat.mkdir(exist_ok=True)
    for seq in items:
        target = flat / f"{seq}.txt"
        if not target.exists():
            target.symlink_to(files[seq].resolve())
    combined = evaluate_mot(gt, flat, sequences=items).combined
    return {k: combined[k] for k in ("HOTA", "MOTA", "IDF1", "DetA", "AssA", "IDSW")}


# anomaly -----------------------------------------------------------------------
def _anomaly_scores(sub: Path) -> tuple[dict[str, float], list[str]]:
    candidates = [p for p in sub.rglob("*.csv") if p.is_file()]
    if len(candidates) != 1:
        return {}, [f"expected one scores.csv, found {len(candidates)} CSV files"]
    scores: dict[str, float] = {}
    problems: list[str] = []
    with candidates[0].open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        if [h.strip().lower() for h in header[:2]] != ["image", "score"]:
            return {}, ["scores.csv must start with the header image,score"]
        for n, row in enumerate(reader, 2):
            if len(row) < 2:
                problems.append(f"scores.csv line {n}: need image,score")
                continue
            try:
                value = float(row[1])
            except ValueError:
                value = float("nan")
            if not math.isfinite(value):
                problems.append(f"scores.csv line {n}: score {row[1]!r} is not a finite number")
            if row[0] in scores:
                problems.append(f"scores.csv line {n}: {row[0]} given twice")
            scores[row[0]] = value
    return scores, problems


def _anomaly_map(sub: Path, item: str) -> Path | None:
    defect, name = item.split("/", 1)
    path = next(iter(sub.rglob(f"maps/{defect}/{Path(name).stem}.npy")), None)
    return path if path is not None and path.is_file() else None


def _gt_mask_shape(gt: Path, item: str) -> tuple[int, int]:
    import cv2

    image = cv2.imread(str(gt / "test" / item), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise InputError(f"ground-truth image {item} cannot be read")
    return int(image.shape[0]), int(image.shape[1])


def _load_map(path: Path) -> np.ndarray:
    try:
        amap = np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError) as exc:
        raise InputError(f"{path.name} is not a NumPy .npy array: {exc}") from None
    return np.asarray(amap)


def _validate_anomaly(gt: Path, sub: Path, items: list[str]) -> list[str]:
    scores, problems = _anomaly_scores(sub)
    if not scores and problems:
        return problems
    known = {i.id for i in list_items("anomaly", gt)}
    problems += [f"scores.csv: {x} is not a test image" for x in sorted(set(scores) - known)]
    problems += [f"scores.csv: no score for {x}" for x in items if x not in scores]
    maps = {i: _anomaly_map(sub, i) for i in items}
    given = [i for i, m in maps.items() if m is not None]
    if given and len(given) != len(items):
        missing = next(i for i, m in maps.items() if m is None)
        problems.append(f"score maps given for {len(given)} of {len(items)} images ({missing})")
    for item in given:
        amap = _load_map(maps[item])  # type: ignore[arg-type]
        want = _gt_mask_shape(gt, item)
        if amap.shape != want or amap.dtype.kind not in "fiu":
            problems.append(
                f"maps/{item}: shape {amap.shape} {amap.dtype}, expected {want} numbers"
            )
        elif not np.isfinite(amap).all():
            problems.append(f"maps/{item}: holds NaN or infinity")
    return problems


def _score_anomaly(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    import cv2

    from shigu.solutions.industrial import metrics
    from shigu.solutions.industrial.dataset import mvtec_test_set

    scores, _ = _anomaly_scores(sub)
    by_id = {f"{i.defect}/{i.path.name}": i for i in mvtec_test_set(gt)}
    labels = np.array([by_id[i].is_anomalous for i in items])
    values = np.array([scores[i] for i in items])
    out = {"image_auroc": metrics.image_auroc(labels, values)}
    paths = [_anomaly_map(sub, i) for i in items]
    if all(p is not None for p in paths):
        maps = [_load_map(p).astype(np.float32) for p in paths if p is not None]
        masks = []
        for item, amap in zip(items, maps, strict=True):
            mask_path = by_id[item].mask
            mask = (
                cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE) if mask_path is not None else None
            )
            masks.append(np.zeros(amap.shape, np.uint8) if mask is None else mask)
        out["pixel_auroc"] = metrics.pixel_auroc(masks, maps)
        out["pro"] = metrics.pro(masks, maps)
    return out


# coco --------------------------------------------------------------------------
def _coco_gt(gt: Path) -> dict[str, Any]:
    path = gt if gt.is_file() else next(iter(sorted(gt.glob("*.json"))), gt)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"COCO ground truth {path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or "images" not in data:
        raise InputError(f"{path} is not COCO ground truth (no images)")
    return data


def _coco_results(sub: Path) -> tuple[list[Any], list[str]]:
    files = [p for p in sub.rglob("*.json") if p.is_file()]
    if len(files) != 1:
        return [], [f"expected one COCO results JSON, found {len(files)}"]
    try:
        data = json.loads(files[0].read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [], [f"{files[0].name} is not JSON: {exc}"]
    if not isinstance(data, list):
        return [], [f"{files[0].name} must be a list of detections"]
    return data, []


def _validate_coco(gt: Path, sub: Path, items: list[str]) -> list[str]:
    results, problems = _coco_results(sub)
    data = _coco_gt(gt)
    images = {int(i["id"]) for i in data["images"]}
    cats = {int(c["id"]) for c in data.get("categories", [])}
    for n, r in enumerate(results):
        if len(problems) >= 20:
            break
        if not isinstance(r, dict):
            problems.append(f"detection {n}: not an object")
            continue
        box, sc = r.get("bbox"), r.get("score")
        if r.get("image_id") not in images:
            problems.append(f"detection {n}: unknown image_id {r.get('image_id')!r}")
        if r.get("category_id") not in cats:
            problems.append(f"detection {n}: unknown category_id {r.get('category_id')!r}")
        if not (
            isinstance(box, list)
            and len(box) == 4
            and all(isinstance(v, int | float) and math.isfinite(v) for v in box)
            and box[2] >= 0
            and box[3] >= 0
        ):
            problems.append(f"detection {n}: bbox must be [x, y, width, height]")
        if not (isinstance(sc, int | float) and math.isfinite(sc)):
            problems.append(f"detection {n}: score must be a number")
    return problems


def _score_coco(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    from shigu.eval.coco import coco_evaluate

    wanted = {int(i) for i in items}
    data = _coco_gt(gt)
    subset = dict(data)
    subset["images"] = [i for i in data["images"] if int(i["id"]) in wanted]
    subset["annotations"] = [a for a in data.get("annotations", []) if a["image_id"] in wanted]
    results, _ = _coco_results(sub)
    mine = [r for r in results if r["image_id"] in wanted]
    return coco_evaluate(subset, mine)


# segmentation ------------------------------------------------------------------
def _nifti_files(folder: Path) -> list[Path]:
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.name.endswith((".nii", ".nii.gz"))
    )
    if not files and folder.is_dir():
        raise InputError(f"no NIfTI label maps in {folder}")
    return files


def _load_nifti(path: Path) -> tuple[np.ndarray, tuple[float, ...], np.ndarray]:
    import nibabel as nib

    try:
        image: Any = nib.load(str(path))
        data = np.asarray(image.dataobj)
    except Exception as exc:  # nibabel raises many kinds on a damaged file
        raise InputError(f"{path.name} is not a readable NIfTI file: {exc}") from None
    zooms = tuple(float(z) for z in image.header.get_zooms()[:3])
    return data, zooms, np.asarray(image.affine)


def _validate_segmentation(gt: Path, sub: Path, items: list[str]) -> list[str]:
    given = {p.name: p for p in _nifti_files(sub)} if sub.is_dir() else {}
    problems = [f"{x} is not a case of this phase" for x in sorted(set(given) - set(items))]
    for item in items:
        if item not in given:
            problems.append(f"{item} is missing")
            continue
        truth = _nifti_shape(gt / item)
        try:
            data, _, affine = _load_nifti(given[item])
        except InputError as exc:
            problems.append(exc.message)
            continue
        if data.shape != truth[0]:
            problems.append(f"{item}: shape {data.shape}, the ground truth is {truth[0]}")
        elif not np.allclose(affine, truth[1], atol=1e-3):
            problems.append(f"{item}: its affine differs from the ground truth's grid")
        elif data.dtype.kind not in "iub" and not np.all(np.equal(np.mod(data, 1), 0)):
            problems.append(f"{item}: labels must be whole numbers")
    return problems


def _nifti_shape(path: Path) -> tuple[tuple[int, ...], np.ndarray]:
    import nibabel as nib

    image: Any = nib.load(str(path))
    return tuple(int(v) for v in image.shape), np.asarray(image.affine)


def _score_segmentation(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    from shigu.solutions.medical.metrics import score_labels, summary

    given = {p.name: p for p in _nifti_files(sub)}
    dice, hd95 = [], []
    for item in items:
        truth, spacing, _ = _load_nifti(gt / item)
        pred, _, _ = _load_nifti(given[item])
        means = summary(score_labels(pred.astype(np.int32), truth.astype(np.int32), spacing))
        dice.append(means["mean_dice"] if means["mean_dice"] is not None else 0.0)
        if means["mean_hd95_mm"] is not None:
            hd95.append(means["mean_hd95_mm"])
    out = {"dice": float(np.mean(dice))}
    if hd95:
        out["hd95_mm"] = float(np.mean(hd95))
    return out


# plates ------------------------------------------------------------------------
def _plate_truth(gt: Path) -> dict[str, str]:
    from shigu.eval.plates import ccpd_plate

    table = gt / "plates.json" if gt.is_dir() else gt
    if table.is_file() and table.suffix == ".json":
        try:
            data = json.loads(table.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(f"{table} is not JSON: {exc}") from None
        return {str(k): str(v) for k, v in data.items()}
    images = [p for p in sorted(gt.iterdir()) if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    return {p.name: ccpd_plate(p) for p in images}


def _plate_reads(sub: Path) -> tuple[dict[str, Any], list[str]]:
    files = [p for p in sub.rglob("*.json") if p.is_file()]
    if len(files) != 1:
        return {}, [f"expected one plates JSON, found {len(files)}"]
    try:
        data = json.loads(files[0].read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, [f"{files[0].name} is not JSON: {exc}"]
    if not isinstance(data, dict):
        return {}, [f"{files[0].name} must map each image to its plate (or null)"]
    return data, []


def _validate_plates(gt: Path, sub: Path, items: list[str]) -> list[str]:
    reads, problems = _plate_reads(sub)
    if problems:
        return problems
    known = set(_plate_truth(gt))
    problems += [f"{k} is not a test image" for k in sorted(set(reads) - known)[:20]]
    problems += [f"no plate given for {k} (use null for none)" for k in items if k not in reads]
    problems += [
        f"{k}: the plate must be text or null" for k, v in reads.items()
        if v is not None and not (isinstance(v, str) and len(v) <= 16)
    ][:20]  # fmt: skip
    return problems


def _score_plates(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    from shigu.eval.plates import plate_accuracy

    truth = _plate_truth(gt)
    reads, _ = _plate_reads(sub)
    result = plate_accuracy((truth[k], reads.get(k)) for k in items)
    return {"exact": result.exact, "chars": result.chars}
