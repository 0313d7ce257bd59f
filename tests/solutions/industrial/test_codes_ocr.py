"""Codes (zxing-cpp) and OCR (PP-OCRv4 via RapidOCR) on rendered images and real plates."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno
import zxingcpp
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from shigu.cli import app
from shigu.core.errors import InputError
from shigu.solutions.industrial.codes import read_codes
from shigu.solutions.industrial.ocr import read_text
from shigu.sources.images import read_image

runner = CliRunner()
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def _qr(text: str, scale: int = 6) -> np.ndarray:
    buf = io.BytesIO()
    segno.make_qr(text, error="m").save(buf, kind="png", scale=scale, border=4)
    return cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)


def _zxing(text: str, fmt: object, scale: int = 4) -> np.ndarray:
    image = np.asarray(zxingcpp.create_barcode(text, fmt).to_image(scale=scale))
    return np.pad(image, 30, constant_values=255)


def test_label_with_three_kinds_of_code() -> None:
    label = np.full((560, 900), 255, np.uint8)
    qr = _qr("SHIGU/LOT-7781", 5)
    dm = _zxing("P/N 4411-A", zxingcpp.BarcodeFormat.DataMatrix, 6)
    bar = _zxing("SN20261122", zxingcpp.BarcodeFormat.Code128, 3)
    label[20 : 20 + qr.shape[0], 20 : 20 + qr.shape[1]] = qr
    label[20 : 20 + dm.shape[0], 400 : 400 + dm.shape[1]] = dm
    label[340 : 340 + bar.shape[0], 20 : 20 + bar.shape[1]] = bar
    codes = read_codes(cv2.cvtColor(label, cv2.COLOR_GRAY2BGR))
    found = {(c.format, c.text) for c in codes}
    assert ("QRCode", "SHIGU/LOT-7781") in found
    assert ("DataMatrix", "P/N 4411-A") in found
    assert ("Code128", "SN20261122") in found
    qr_code = next(c for c in codes if c.format == "QRCode")
    xs = [x for x, _ in qr_code.corners]
    assert 20 <= min(xs) <= 20 + qr.shape[0] and max(xs) <= 20 + qr.shape[1]


def test_rotated_and_filtered_codes() -> None:
    qr = _qr("ROTATED-42")
    rotated = cv2.rotate(qr, cv2.ROTATE_90_CLOCKWISE)
    assert [c.text for c in read_codes(rotated)] == ["ROTATED-42"]
    ean = _zxing("5901234123457", zxingcpp.BarcodeFormat.EAN13, 3)
    assert read_codes(ean, ["EAN13"])[0].text == "5901234123457"
    assert read_codes(ean, ["QRCode"]) == []
    assert read_codes(np.full((200, 200), 255, np.uint8)) == []
    with pytest.raises(InputError, match="unknown code format"):
        read_codes(ean, ["NotAFormat"])


def test_read_codes_cli_json(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), _qr("CLI-1"))
    cv2.imwrite(str(tmp_path / "b.png"), np.full((100, 100), 255, np.uint8))
    out = tmp_path / "codes.json"
    result = runner.invoke(app, ["inspect", "read-codes", str(tmp_path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [c["text"] for c in data[0]["codes"]] == ["CLI-1"] and data[1]["codes"] == []


def _render(text: str, font_path: str, size: int = 48) -> np.ndarray:
    if not os.path.exists(font_path):
        pytest.skip(f"font {font_path} missing: run scripts/install-system-deps.sh")
    font = ImageFont.truetype(font_path, size)
    image = Image.new("RGB", (60 + size * len(text), 40 + size * 2), "white")
    ImageDraw.Draw(image).text((30, 30), text, fill="black", font=font)
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


def test_ocr_reads_rendered_latin_and_chinese_labels() -> None:
    latin = read_text(_render("SN 2026-0042", LATIN_FONT))
    assert [t.text.replace(" ", "") for t in latin] == ["SN2026-0042"]
    chinese = read_text(_render("合格 批号A7781", CJK_FONT))
    joined = "".join(t.text for t in chinese).replace(" ", "")
    assert joined == "合格批号A7781"
    assert all(t.confidence > 0.8 for t in chinese)


PROVINCES = "皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新警学O"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZO"
ADS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789O"


def _plate(path: Path) -> tuple[str, tuple[int, int, int, int]]:
    """Plate text and box from a CCPD file name (province, letter, 5 characters)."""
    fields = path.stem.split("-")
    idx = [int(v) for v in fields[4].split("_")]
    text = PROVINCES[idx[0]] + LETTERS[idx[1]] + "".join(ADS[i] for i in idx[2:])
    (x1, y1), (x2, y2) = (tuple(int(v) for v in p.split("&")) for p in fields[2].split("_"))
    return text, (x1, y1, x2, y2)


@pytest.mark.integration
def test_ocr_reads_real_ccpd_plates(data_dir: Path) -> None:
    files = sorted((data_dir / "lpr" / "ccpd").glob("*.jpg"))
    assert len(files) >= 10
    whole, cropped = 0, 0
    for path in files:
        truth, (x1, y1, x2, y2) = _plate(path)
        image = read_image(path)
        texts = [t.text.replace("·", "").replace(" ", "") for t in read_text(image)]
        whole += truth in texts
        pad = 10
        crop = image[max(0, y1 - pad) : y2 + pad, max(0, x1 - pad) : x2 + pad]
        lines = read_text(crop, detect=False)  # a located plate: recognition only
        crop_texts = [t.text.replace("·", "").replace(" ", "") for t in lines]
        cropped += truth in crop_texts
    # Whole street images: the plate must be found and read exactly in 8 of 10 or more.
    assert whole >= 0.8 * len(files), f"{whole}/{len(files)} plates read in full images"
    assert cropped >= 0.9 * len(files), f"{cropped}/{len(files)} plates read from crops"


def test_ocr_cli(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "label.png"), _render("LOT 7781", LATIN_FONT))
    out = tmp_path / "text.json"
    result = runner.invoke(app, ["inspect", "ocr", str(tmp_path / "label.png"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    lines = json.loads(out.read_text())[0]["lines"]
    assert lines[0]["text"].replace(" ", "") == "LOT7781"


def test_an_unreadable_image_is_reported_and_the_rest_are_read(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), _qr("STILL-READ"))
    (tmp_path / "b.png").write_bytes(b"not an image")
    out = tmp_path / "codes.json"
    result = runner.invoke(app, ["inspect", "read-codes", str(tmp_path), "--json", str(out)])
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    assert data[0]["codes"][0]["text"] == "STILL-READ"
    assert data[1] == {"path": str(tmp_path / "b.png"), "error": "unreadable image"}
