"""`shigu batch` ends with one result set in the names evaluators expect (no Ray needed)."""

import json
from pathlib import Path

import pytest

from shigu.cli import _fill_optional_values
from tests.cli import run_cli

pytestmark = pytest.mark.integration


def test_batch_detect_writes_one_coco_results_file(data_dir: Path, tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    images = data_dir / "images" / "coco_val2017"
    out = tmp_path / "out"
    proc = run_cli("batch", "detect", f"{images}/*.jpg", "--out", out)
    assert proc.returncode == 0, proc.stderr
    dataset = json.loads((out / "coco_images.json").read_text())
    names = sorted(Path(i["file_name"]).name for i in dataset["images"])
    assert names == sorted(p.name for p in images.glob("*.jpg"))
    assert len({i["id"] for i in dataset["images"]}) == len(names)  # one id per image
    gt = COCO(str(out / "coco_images.json"))
    results = gt.loadRes(str(out / "coco_results.json"))
    cats = {c["name"]: c["id"] for c in dataset["categories"]}
    assert cats["person"] == 1 and cats["tv"] == 72  # COCO's ids, not the 0-79 class index
    assert len(results.getImgIds()) > 1
    person = [a for a in results.dataset["annotations"] if a["category_id"] == 1]
    assert person, "the COCO images have people in them"


def test_batch_track_names_results_for_trackeval(data_dir: Path, tmp_path: Path) -> None:
    seq = sorted(
        p for p in (data_dir / "mot" / "MOT17").iterdir() if (p / "seqinfo.ini").is_file()
    )[0]
    out = tmp_path / "out"
    proc = run_cli("batch", "track", seq, "--out", out, "--max-frames", "20")
    assert proc.returncode == 0, proc.stderr
    assert (out / "results" / f"{seq.name}.txt").stat().st_size > 0
    assert "shigu eval mot" in proc.stdout


def test_ray_alone_means_local() -> None:
    assert _fill_optional_values(["batch", "detect", "x", "--ray"]) == [
        "batch",
        "detect",
        "x",
        "--ray",
        "local",
    ]
    assert _fill_optional_values(["run", "c.yaml", "--ray", "--max-frames", "5"])[3] == "local"
    assert _fill_optional_values(["run", "c.yaml", "--ray", "10.0.0.1:6379"])[3] == "10.0.0.1:6379"


def test_resume_notices_changed_settings(data_dir: Path, tmp_path: Path) -> None:
    images = sorted((data_dir / "images" / "coco_val2017").glob("*.jpg"))[:2]
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(map(str, images)) + "\n")
    out = tmp_path / "out"
    assert run_cli("batch", "detect", listing, "--out", out).returncode == 0
    again = run_cli("batch", "detect", listing, "--out", out)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    changed = run_cli("batch", "detect", listing, "--out", out, "--conf", "0.5")
    assert changed.returncode == 2 and "conf 0.25 -> 0.5" in changed.stderr
    assert "Traceback" not in changed.stderr
    forced = run_cli("batch", "detect", listing, "--out", out, "--conf", "0.5", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "1 input(s) done, 0 failed, 2 frames" in forced.stdout  # still images: one chunk
    marker = json.loads(next((out / "done").glob("*.json")).read_text())
    assert marker["job"]["conf"] == 0.5 and len(marker["job"]["model_sha256"]) == 64
