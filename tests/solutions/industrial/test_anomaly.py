"""PatchCore and PaDiM on the hazelnut toy set, the model file and the bad inputs."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from shigu.cli import app
from shigu.core.errors import InputError, ModelError
from shigu.solutions.industrial.anomaly import AnomalyModel, train
from shigu.solutions.industrial.dataset import load_images, training_images
from shigu.sources.images import read_image

pytestmark = pytest.mark.integration
runner = CliRunner()


def test_patchcore_meets_the_acceptance_figures(
    hazelnut_model: Path, hazelnut: Path, tmp_path: Path
) -> None:
    out = tmp_path / "metrics.json"
    result = runner.invoke(
        app, ["inspect", "eval", str(hazelnut_model), str(hazelnut), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert metrics["image_auroc"] >= 0.98
    assert metrics["pixel_auroc"] >= 0.95
    assert metrics["pro"] >= 0.85
    assert metrics["f1"] >= 0.9  # at the threshold calibrated on held-out good images only
    assert metrics["images"] == 23 and metrics["defective"] == 17
    assert (tmp_path / "metrics.roc.png").stat().st_size > 10_000


def test_predict_writes_overlays_and_json(
    hazelnut_model: Path, hazelnut: Path, tmp_path: Path
) -> None:
    out_json = tmp_path / "pred.json"
    result = runner.invoke(
        app,
        [
            "inspect",
            "predict",
            str(hazelnut_model),
            str(hazelnut / "test" / "colour"),
            "--out",
            str(tmp_path / "ov"),
            "--json",
            str(out_json),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out_json.read_text())["results"]
    assert len(data) == 17
    assert sum(r["anomalous"] for r in data) >= 16
    assert all(r["regions"] for r in data if r["anomalous"])
    overlays = sorted((tmp_path / "ov").glob("*_anomaly.png"))
    assert len(overlays) == 17
    image = cv2.imread(str(overlays[0]))
    assert (
        image is not None
        and image.shape[:2] == read_image(hazelnut / "test" / "colour" / "00.jpg").shape[:2]
    )


def test_defect_regions_overlap_the_ground_truth(hazelnut_model: Path, hazelnut: Path) -> None:
    model = AnomalyModel.load(hazelnut_model)
    hits = 0
    names = sorted(p.name for p in (hazelnut / "test" / "colour").iterdir())
    for name in names:
        image = read_image(hazelnut / "test" / "colour" / name)
        truth = (
            cv2.imread(str(hazelnut / "ground_truth" / "colour" / f"{Path(name).stem}.png"), 0) > 0
        )
        pred = model.predict([image])[0]
        hits += bool((pred.mask.astype(bool) & truth).any())
    assert hits >= len(names) - 1


def test_padim_also_separates_good_from_defective(hazelnut: Path) -> None:
    from shigu.solutions.industrial.evaluate import evaluate

    images, _ = load_images(training_images(hazelnut))
    model = train(images, method="padim")
    metrics = evaluate(model, hazelnut)
    assert metrics["image_auroc"] >= 0.95
    assert metrics["pixel_auroc"] >= 0.9


def test_model_file_round_trip_gives_the_same_scores(
    hazelnut_model: Path, hazelnut: Path, tmp_path: Path
) -> None:
    model = AnomalyModel.load(hazelnut_model)
    image = read_image(hazelnut / "test" / "colour" / "03.jpg")
    copy = model.save(tmp_path / "copy.shigu")
    again = AnomalyModel.load(copy)
    assert again.threshold == model.threshold
    np.testing.assert_allclose(
        again.predict([image])[0].anomaly_map, model.predict([image])[0].anomaly_map
    )
    with zipfile.ZipFile(copy) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["method"] == "patchcore"
    assert manifest["preprocess"]["size"] == [256, 256]
    assert manifest["meta"]["bank_size"] >= 1024


def test_a_user_supplied_onnx_backbone_works(hazelnut: Path, tmp_path: Path) -> None:
    onnx_path = tmp_path / "mine.onnx"
    result = runner.invoke(
        app, ["inspect", "export-backbone", "--out", str(onnx_path), "--size", "224"]
    )
    assert result.exit_code == 0, result.output
    images, _ = load_images(training_images(hazelnut))
    from shigu.solutions.industrial.features import Preprocess

    model = train(images, backbone=onnx_path, size=(224, 224), preprocess=Preprocess((224, 224)))
    bad = read_image(hazelnut / "test" / "colour" / "00.jpg")
    good = read_image(hazelnut / "test" / "good" / "04.jpg")
    assert model.predict([bad])[0].score > model.predict([good])[0].score


def test_grayscale_and_other_sizes_are_handled(
    hazelnut_model: Path, hazelnut: Path, tmp_path: Path
) -> None:
    model = AnomalyModel.load(hazelnut_model)
    colour = read_image(hazelnut / "test" / "colour" / "00.jpg")
    gray_path = tmp_path / "gray.png"
    cv2.imwrite(str(gray_path), cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY))
    gray = read_image(gray_path)  # read as 3 channels
    assert gray is not None and gray.shape[2] == 3
    assert model.predict([gray])[0].anomaly_map.shape == colour.shape[:2]
    small = cv2.resize(colour, (300, 200))
    pred = model.predict([small])[0]
    assert pred.anomaly_map.shape == (200, 300) and pred.mask.shape == (200, 300)
    assert pred.anomalous


def test_mixed_image_sizes_train(hazelnut: Path, tmp_path: Path) -> None:
    folder = tmp_path / "good"
    folder.mkdir()
    for i, path in enumerate(sorted((hazelnut / "train" / "good").iterdir())[:8]):
        image = read_image(path)
        size = (512, 512) if i % 2 else (400, 300)
        cv2.imwrite(str(folder / f"{i}.png"), cv2.resize(image, size))
    result = runner.invoke(
        app, ["inspect", "train", str(folder), "--out", str(tmp_path / "m.shigu")]
    )
    assert result.exit_code == 0, result.output


def _cli_error(args: list[str]) -> str:
    result = runner.invoke(app, args, standalone_mode=True)
    assert result.exit_code != 0
    return str(result.exception) if result.exception else result.output


def test_empty_and_defect_training_folders_are_refused(hazelnut: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images"):
        training_images(tmp_path / "empty")
    with pytest.raises(InputError, match="defect images"):
        training_images(hazelnut / "test" / "colour")
    with pytest.raises(InputError, match="not found"):
        training_images(tmp_path / "nope")
    with pytest.raises(InputError, match="at least 2"):
        train([read_image(hazelnut / "train" / "good" / "00.jpg")])


def test_corrupt_model_files_are_refused(hazelnut_model: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.shigu"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a valid"):
        AnomalyModel.load(garbage)
    truncated = tmp_path / "truncated.shigu"
    truncated.write_bytes(hazelnut_model.read_bytes()[: hazelnut_model.stat().st_size // 2])
    with pytest.raises(ModelError):
        AnomalyModel.load(truncated)
    tampered = tmp_path / "tampered.shigu"
    shutil.copy(hazelnut_model, tampered)
    with zipfile.ZipFile(hazelnut_model) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "arrays.npz":
                data = data[:-10] + b"0123456789"
            dst.writestr(item, data)
    with pytest.raises(ModelError, match="corrupt"):
        AnomalyModel.load(tampered)
    with pytest.raises(ModelError, match="not found"):
        AnomalyModel.load(tmp_path / "missing.shigu")


def test_cli_bad_inputs_exit_cleanly(hazelnut: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shigu", *args], capture_output=True, text=True, timeout=120
        )

    bad = tmp_path / "bad.shigu"
    bad.write_bytes(b"\x00" * 100)
    for args, needle in (
        (["inspect", "predict", str(bad), str(hazelnut / "test" / "good")], "not a valid"),
        (
            [
                "inspect",
                "train",
                str(hazelnut / "test" / "colour"),
                "--out",
                str(tmp_path / "x.shigu"),
            ],
            "defect images",
        ),
        (["inspect", "train", str(hazelnut), "--out", str(tmp_path / "x.txt")], "should end in"),
        (
            [
                "inspect",
                "train",
                str(hazelnut),
                "--out",
                str(tmp_path / "x.shigu"),
                "--size",
                "abc",
            ],
            "not a size",
        ),
        (
            [
                "inspect",
                "train",
                str(hazelnut),
                "--out",
                str(tmp_path / "x.shigu"),
                "--method",
                "magic",
            ],
            "unknown method",
        ),
        (["inspect", "eval", str(bad), str(tmp_path)], "not a valid"),
    ):
        proc = run(*args)
        assert proc.returncode != 0, args
        assert "Traceback" not in proc.stderr, proc.stderr
        assert needle in proc.stderr, proc.stderr
    assert not (tmp_path / "x.shigu").exists()


def test_overlays_of_same_named_images_never_overwrite(tmp_path: Path) -> None:
    from shigu.cli.inspect_cmd import overlay_paths

    for rel in ("good/00.jpg", "crack/00.jpg", "crack/00.png", "crack/01.jpg"):
        (tmp_path / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / rel).write_bytes(b"x")
    paths = sorted((tmp_path / "in").glob("*/*.*"))
    names = overlay_paths(paths, tmp_path / "ov")
    assert len(set(names.values())) == len(paths) == 4
    rel = sorted(str(p.relative_to(tmp_path / "ov")) for p in names.values())
    assert rel == [
        "crack/00_jpg_anomaly.png",
        "crack/00_png_anomaly.png",
        "crack/01_anomaly.png",
        "good/00_anomaly.png",
    ]


def test_images_keep_their_shape_by_default(hazelnut_model: Path, hazelnut: Path) -> None:
    """--resize scale: one factor for every image (the typical shorter side becomes 256
    network pixels), padded by reflection to multiples of 32, never stretched."""
    model = AnomalyModel.load(hazelnut_model)
    prep = model.embedder.preprocess
    assert prep.resize == "scale" and prep.scale > 0
    image = read_image(hazelnut / "test" / "colour" / "00.jpg")
    assert image is not None
    long = cv2.resize(image, (image.shape[1] * 2, image.shape[0]))  # twice as wide
    full_h, full_w, top, left = prep.input_shape(long.shape)
    assert full_h % 32 == 0 and full_w % 32 == 0
    h, w = round(long.shape[0] * prep.scale), round(long.shape[1] * prep.scale)
    assert abs(w / h - 2.0) < 0.02  # the shape is kept
    assert full_h - h < 32 and full_w - w < 32 and top >= 0 and left >= 0
    pred = model.predict([long])[0]
    assert pred.anomaly_map.shape == long.shape[:2]
    assert model.meta["preprocessing"].startswith("images scaled by")


def test_resize_choices_and_their_errors(hazelnut: Path, tmp_path: Path) -> None:
    images, _ = load_images(training_images(hazelnut))
    stretched = train(images[:6], resize="stretch")
    assert stretched.embedder.preprocess.resize == "stretch"
    assert stretched.maps(images[:1])[0].shape == images[0].shape[:2]
    with pytest.raises(InputError, match="PaDiM compares each patch"):
        train(images[:6], method="padim", resize="scale")
    with pytest.raises(InputError, match="fixed input shape"):
        train(images[:6], size=(256, 320), resize="scale")
    with pytest.raises(InputError, match="unknown --resize"):
        train(images[:6], resize="squash")
    result = runner.invoke(app, ["inspect", "train", str(hazelnut), "--out",
                                 str(tmp_path / "m.shigu"), "--resize", "squash"])  # fmt: skip
    assert result.exit_code != 0 and "unknown --resize" in str(result.exception or result.output)
    with pytest.raises(InputError, match="unknown --network"):
        train(images[:6], network="lite9")


def test_models_saved_before_scale_mode_still_stretch(hazelnut_model: Path, tmp_path: Path) -> None:
    """A manifest without "resize" is a model from before 2026-12-06: it stretched."""
    from shigu.solutions.industrial.features import Preprocess

    old = Preprocess.from_json({"size": [256, 256], "mean": [0, 0, 0], "std": [1, 1, 1]})
    assert old.resize == "stretch" and old.input_shape((100, 300, 3)) == (256, 256, 0, 0)
    again = Preprocess.from_json(AnomalyModel.load(hazelnut_model).embedder.preprocess.to_json())
    assert again.resize == "scale"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "network", "floors"),
    [
        # measured 2026-12-06 (docs/industrial.md): 1.000 / 0.959 / 0.884; stretched to
        # 256x256 the same set gave 1.000 / 0.870 / 0.675
        ("kolektorsdd_commutator", "lite0", {"image_auroc": 0.95, "pixel_auroc": 0.94,
                                             "pro": 0.85}),
        # with EfficientNet-Lite2: measured 1.000 / 0.974 / 0.923, F1 0.93
        ("kolektorsdd_commutator", "lite2", {"image_auroc": 0.95, "pixel_auroc": 0.95,
                                             "pro": 0.9, "f1": 0.85}),
        # measured 0.833 / 0.650 / 0.728 (stretched: 0.800 / 0.658 / 0.687): a floor, not the
        # 0.95 / 0.95 / 0.90 the texture issue asks for
        ("mtd_magnetic_tile", "lite0", {"image_auroc": 0.78, "pixel_auroc": 0.6, "pro": 0.68}),
    ],
)  # fmt: skip
def test_texture_sets_through_the_cli(
    data_dir: Path, tmp_path: Path, name: str, floors: dict[str, float], network: str
) -> None:
    root = data_dir / "anomaly" / name
    model, out = tmp_path / "m.shigu", tmp_path / "metrics.json"
    result = runner.invoke(
        app, ["inspect", "train", str(root), "--out", str(model), "--network", network]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["inspect", "eval", str(model), str(root), "--json", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    for key, floor in floors.items():
        assert metrics[key] >= floor, (name, key, metrics[key])
