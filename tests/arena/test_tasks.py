"""Detection (COCO), segmentation (NIfTI) and plate-reading tracks, scored in the sandbox on
shared data: a perfect, a worse and a malformed submission each."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from shigu.arena import tasks
from shigu.arena.sandbox import run_scoring

pytestmark = pytest.mark.integration


def _score(task: str, gt: Path, upload: Path, work: Path) -> dict[str, Any]:
    items = [i.id for i in tasks.list_items(task, gt)]
    public, private = tasks.split_items([tasks.Item(i) for i in items], "test", None, 0.5)
    job = {"task": task, "scorer": None, "ground_truth": str(gt), "upload": str(upload),
           "max_bytes": 50 * 1024**2, "public": public, "private": private}  # fmt: skip
    return run_scoring(job, work, time_limit_s=120, memory_mb=4096)


def test_coco_detection(tmp_path: Path, data_dir: Path) -> None:
    gt = data_dir / "pose" / "coco" / "person_keypoints_subset.json"
    truth = json.loads(gt.read_text())
    perfect = [{"image_id": a["image_id"], "category_id": 1, "bbox": a["bbox"], "score": 0.9}
               for a in truth["annotations"]]  # fmt: skip
    shifted = [{**d, "bbox": [d["bbox"][0] + d["bbox"][2] * 0.6, *d["bbox"][1:]]} for d in perfect]
    for name, dets in (("perfect", perfect), ("shifted", shifted)):
        (tmp_path / f"{name}.json").write_text(json.dumps(dets))
    good = _score("coco", gt, tmp_path / "perfect.json", tmp_path / "w1")
    worse = _score("coco", gt, tmp_path / "shifted.json", tmp_path / "w2")
    assert good["status"] == "scored", good
    assert good["public"]["AP"] == pytest.approx(1.0) and good["private"]["AP"] == pytest.approx(
        1.0
    )
    assert worse["public"]["AP"] < 0.5
    (tmp_path / "bad.json").write_text(json.dumps([{"image_id": 1, "bbox": [1, 2], "score": "x"}]))
    bad = _score("coco", gt, tmp_path / "bad.json", tmp_path / "w3")
    assert bad["status"] == "invalid"
    assert any("unknown image_id" in r for r in bad["report"])
    assert any("bbox must be" in r for r in bad["report"])


def test_segmentation_masks(tmp_path: Path, data_dir: Path) -> None:
    source = data_dir / "medical" / "totalsegmentator" / "example_seg.nii.gz"
    if not source.is_file():
        pytest.skip("TotalSegmentator example not in the shared data")
    gt = tmp_path / "gt"
    gt.mkdir()
    for case in ("case_a.nii.gz", "case_b.nii.gz"):
        (gt / case).symlink_to(source)
    image = nib.load(str(source))
    labels = np.asarray(image.dataobj)

    def upload(name: str, volumes: dict[str, np.ndarray], affine: Any = None) -> Path:
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for case, data in volumes.items():
                out = tmp_path / name / case
                out.parent.mkdir(exist_ok=True)
                nib.save(nib.Nifti1Image(data, image.affine if affine is None else affine), out)
                zf.write(out, f"masks/{case}")
        return path

    cases = ["case_a.nii.gz", "case_b.nii.gz"]
    same = _score("segmentation", gt, upload("same", dict.fromkeys(cases, labels)), tmp_path / "w1")
    assert same["status"] == "scored", same
    assert same["public"]["dice"] == pytest.approx(1.0) and same["public"]["hd95_mm"] == 0.0
    moved = np.roll(labels, 2, axis=0)
    off = _score("segmentation", gt, upload("off", dict.fromkeys(cases, moved)), tmp_path / "w2")
    assert 0.2 < off["public"]["dice"] < 0.95 and off["public"]["hd95_mm"] > 4.0  # ~2 x 3 mm
    wrong = _score(
        "segmentation", gt, upload("wrong", {cases[0]: labels[:50], cases[1]: labels}),
        tmp_path / "w3",
    )  # fmt: skip
    assert wrong["status"] == "invalid" and "shape" in wrong["report"][0]


def test_plate_reading(tmp_path: Path, data_dir: Path) -> None:
    gt = data_dir / "lpr" / "ccpd"
    from shigu.eval.plates import ccpd_plate

    truth = {p.name: ccpd_plate(p) for p in sorted(gt.glob("*.jpg"))}
    one_off = {k: v[:-1] + ("0" if v[-1] != "0" else "1") for k, v in truth.items()}
    for name, reads in (("exact", truth), ("one_off", one_off), ("none", dict.fromkeys(truth))):
        (tmp_path / f"{name}.json").write_text(json.dumps(reads, ensure_ascii=False))
    exact = _score("plates", gt, tmp_path / "exact.json", tmp_path / "w1")
    assert exact["status"] == "scored", exact
    assert exact["public"] == {"exact": 1.0, "chars": 1.0}
    off = _score("plates", gt, tmp_path / "one_off.json", tmp_path / "w2")
    assert off["public"]["exact"] == 0.0 and 0.8 < off["public"]["chars"] < 0.9
    none = _score("plates", gt, tmp_path / "none.json", tmp_path / "w3")
    assert none["public"] == {"exact": 0.0, "chars": 0.0}
    (tmp_path / "partial.json").write_text(json.dumps(dict(list(truth.items())[:3])))
    partial = _score("plates", gt, tmp_path / "partial.json", tmp_path / "w4")
    assert partial["status"] == "invalid" and "no plate given" in partial["report"][0]
