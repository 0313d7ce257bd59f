"""Plate reading: the grammar, CTC decoding and row merging on synthetic inputs, and
accuracy on the shared CCPD images and LPRNet crops (>= 95% exact plates on each), the
double-row yellow plate, and no plates on COCO images without any."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.eval.plates import ccpd_plate, plate_accuracy
from shigu.solutions.vehicles.grammar import check_plate
from shigu.solutions.vehicles.plates import (
    CHARSET,
    INVALID_CONFIDENCE_CAP,
    PlateReader,
    load_plate_reader,
    merge_rows,
    normalise_ocr,
    rectify,
)


@pytest.mark.parametrize(
    ("text", "valid", "kind"),
    [("皖AYL375", True, "standard"), ("粤BD12345", True, "new_energy"),
     ("粤B12345F", True, "new_energy"), ("京A1234学", True, "coach"),
     ("京A1234警", True, "police"), ("粤Z1234港", True, "cross_border"),
     ("皖AI2345", False, None), ("皖A12", False, None), ("AB12345", False, None),
     ("CA 12345", False, None), ("粤B1234567", False, None)],
)  # fmt: skip
def test_plate_grammar(text: str, valid: bool, kind: str | None) -> None:
    verdict = check_plate(text)
    assert (verdict.valid, verdict.kind) == (valid, kind)


def test_ccpd_names_and_accuracy() -> None:
    name = "0-90_91-1&2_3&4-1&2_3&4_5&6_7&8-0_0_22_10_27_31_29-121-11.jpg"
    assert ccpd_plate(name) == "皖AYL375"
    score = plate_accuracy([("皖AYL375", "皖AYL375"), ("皖AYL375", "皖AYL37"), ("皖A12345", None)])
    assert score.n == 3 and score.exact == pytest.approx(1 / 3)
    assert score.chars == pytest.approx((7 + 6 + 0) / 21)


def test_rows_merge_and_rectify_geometry() -> None:
    plate = np.zeros((120, 220, 3), np.uint8)
    plate[:50] = 200  # upper row bright
    merged = merge_rows(plate)
    assert merged.shape == (80, 440, 3)  # the lower 2/3, twice as wide
    assert merged[:, :220].mean() > merged[:, 220:].mean()
    image = np.zeros((300, 400, 3), np.uint8)
    corners = np.array([[100, 100], [300, 120], [300, 170], [100, 150]], np.float32)
    cv2.fillPoly(image, [corners.astype(np.int32)], (255, 255, 255))
    flat = rectify(image, corners)
    assert flat.shape[0] < flat.shape[1] and flat.mean() > 240  # all plate, upright


def test_ocr_text_is_normalised_to_plate_form() -> None:
    assert normalise_ocr("皖A·25654") == "皖A25654"
    assert normalise_ocr("皖A-AIR81") == "皖AA1R81"
    assert normalise_ocr("粤B DO123") == "粤BD0123"


class _FakeRecognizer:
    """Reads one fixed string with fixed confidences (to test the reader's decisions)."""

    def __init__(self, text: str, conf: float) -> None:
        self.text, self.conf = text, conf

    def read(self, plates: list[np.ndarray]) -> list[tuple[str, list[float], str, float]]:
        return [(self.text, [self.conf] * len(self.text), "blue", 0.9) for _ in plates]


def test_a_string_outside_the_grammar_is_flagged_not_forced() -> None:
    reader = PlateReader(None, _FakeRecognizer("CA12AB3", 0.99), None, second_opinion=False)  # type: ignore[arg-type]
    plate = reader.read_crop(np.full((48, 168, 3), 128, np.uint8))
    assert plate.text == "CA12AB3" and not plate.valid and plate.kind is None
    assert plate.confidence <= INVALID_CONFIDENCE_CAP


def test_ctc_decoding_merges_repeats_and_drops_blanks(shared_models: Path) -> None:
    reader = load_plate_reader()
    rec = reader.recognizer
    steps = "#皖皖#A#11#11#222333##4#"
    logits = np.full((1, 21, len(CHARSET)), -10.0, np.float32)
    for t, ch in enumerate(steps[:21]):
        logits[0, t, CHARSET.index(ch)] = 10.0

    class Fixed:
        def run(self, batch: np.ndarray) -> list[np.ndarray]:
            return [logits, np.array([[0, 5, 0, 0, 0]], np.float32)]

    rec.model = Fixed()  # type: ignore[assignment]
    ((text, confs, colour, _),) = rec.read([np.zeros((48, 168, 3), np.uint8)])
    assert text == "皖A11234" and colour == "blue" and len(confs) == 7


@pytest.fixture(scope="module")
def shared_models(data_dir: Path) -> Path:
    models = data_dir / "models"
    if not (models / "y5fu_320x_sim.onnx").is_file():
        pytest.skip("plate models not in the shared data")
    return models


@pytest.fixture(scope="module")
def reader(shared_models: Path) -> PlateReader:
    return load_plate_reader()


@pytest.mark.integration
def test_ccpd_plates_read_exactly(reader: PlateReader, data_dir: Path) -> None:
    images = sorted((data_dir / "lpr" / "ccpd").glob("*.jpg"))
    pairs = []
    for path in images:
        found = reader.read(cv2.imread(str(path)))
        best = max(found, key=lambda p: p.detection_score).text if found else None
        pairs.append((ccpd_plate(path), best))
    score = plate_accuracy(pairs)
    assert score.n == 10 and score.exact >= 0.95, pairs


@pytest.mark.integration
def test_plate_crops_read_exactly(reader: PlateReader, data_dir: Path) -> None:
    crops = sorted((data_dir / "lpr" / "lprnet_crops").glob("*.jpg"))
    pairs = [(p.stem, reader.read_crop(cv2.imdecode(np.fromfile(p, np.uint8), 1)).text)
             for p in crops]  # fmt: skip
    score = plate_accuracy(pairs)
    assert score.n == 120 and score.exact >= 0.95 and score.chars >= 0.98, score


@pytest.mark.integration
def test_double_row_yellow_plate_and_no_plates_where_there_are_none(
    reader: PlateReader, data_dir: Path
) -> None:
    image = cv2.imread(str(data_dir / "lpr" / "plate_types" / "double_yellow.jpg"))
    (plate,) = reader.read(image)
    assert plate.double_row and plate.color == "yellow" and plate.valid
    assert plate.kind == "large_vehicle_double_row" and plate.text.startswith("京E")
    for path in sorted((data_dir / "images" / "coco_val2017").glob("*.jpg")):
        assert reader.read(cv2.imread(str(path))) == [], path.name
