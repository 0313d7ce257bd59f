"""Very large TIFFs read a window at a time: windows equal the decoded image, the overview
matches an area resize, and sliced detection through the pipeline never decodes the whole
picture yet finds what the in-memory path finds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile")

from shigu.sources import large_image  # noqa: E402
from shigu.sources.images import ImageFolderSource, read_image  # noqa: E402
from shigu.sources.large_image import LargeImageFrame, TiffWindows, open_lazy  # noqa: E402


def _rgb(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3)).astype(np.uint8)
    return np.ascontiguousarray(cv2.resize(base, (w, h), interpolation=cv2.INTER_LINEAR))


@pytest.mark.parametrize(
    ("layout", "samples", "dtype"),
    [("tiled", 3, np.uint8), ("striped", 3, np.uint8), ("tiled", 1, np.uint8),
     ("tiled", 4, np.uint8), ("striped", 3, np.uint16)],
)  # fmt: skip
def test_windows_equal_the_whole_image(
    tmp_path: Path, layout: str, samples: int, dtype: Any
) -> None:
    rgb = _rgb(700, 900)
    data = {1: rgb[..., 0], 3: rgb, 4: np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])}
    pixels = data[samples].astype(dtype) * (257 if dtype == np.uint16 else 1)
    path = tmp_path / "x.tif"
    extra = {"tile": (128, 256)} if layout == "tiled" else {"rowsperstrip": 50}
    photometric = "minisblack" if samples == 1 else "rgb"
    tifffile.imwrite(path, pixels, photometric=photometric, compression="zlib",
                     extrasamples=[2] if samples == 4 else None, **extra)  # fmt: skip
    reader = TiffWindows(path)
    whole = read_image(path)
    assert whole is not None and reader.shape == (700, 900, 3)
    if dtype == np.uint16:  # read_image stretches by the image's maximum, windows by >> 8
        assert np.abs(reader.read().astype(int) - whole).max() <= 1
        whole = reader.read()
    np.testing.assert_array_equal(reader.read(), whole)
    for y0, y1, x0, x1 in (
        (0, 1, 0, 1),
        (127, 129, 255, 257),
        (300, 700, 10, 899),
        (650, 700, 0, 900),
    ):
        np.testing.assert_array_equal(reader[y0:y1, x0:x1], whole[y0:y1, x0:x1])
    ov = reader.overview(300)
    assert ov.shape == (234, 300, 3)  # 3 x 3 pixels each (the last row from 1 x 3)
    ref = cv2.resize(whole[:699], (300, 233), interpolation=cv2.INTER_AREA)  # whole blocks
    assert np.abs(ov[:233].astype(int) - ref.astype(int)).max() <= 1
    reader.close()


def test_only_large_decodable_tiffs_are_lazy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = tmp_path / "small.tif"
    tifffile.imwrite(small, _rgb(100, 100), photometric="rgb", tile=(64, 64))
    assert open_lazy(small) is None  # below LAZY_PIXELS: decoded whole as before
    monkeypatch.setattr(large_image, "LAZY_PIXELS", 1000)
    assert open_lazy(small) is not None
    png = tmp_path / "x.png"
    cv2.imwrite(str(png), _rgb(100, 100))
    assert open_lazy(png) is None
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00garbage")
    assert open_lazy(broken) is None


def test_sliced_pipeline_reads_windows_and_finds_what_the_whole_image_path_finds(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shigu.detect import load_detector
    from shigu.detect.slicing import SliceConfig, detect_tiles, plan_slices
    from shigu.pipeline.job import job_pipeline

    image = cv2.imread(str(data_dir / "aerial" / "dota" / "images" / "P1888.png"))
    big = np.ascontiguousarray(np.tile(image, (2, 2, 1)))  # 1424 x 1114
    path = tmp_path / "mosaic.tif"
    tifffile.imwrite(path, big[..., ::-1], photometric="rgb", tile=(256, 256), compression="zlib")
    monkeypatch.setattr(large_image, "LAZY_PIXELS", 1_000_000)

    def never(self: TiffWindows) -> np.ndarray:
        raise AssertionError("the whole image was decoded")

    monkeypatch.setattr(TiffWindows, "read", never)
    detector = load_detector("yolox-nano", conf=0.05)
    cfg = SliceConfig(size=320, overlap=0.2)
    seen: list[Any] = []

    class Keep:
        def write(self, frame: Any, dets: Any, path: Any) -> None:
            seen.append((type(frame), dets))

        def close(self) -> dict[str, str]:
            return {}

    source = ImageFolderSource(tmp_path)
    assert (source.info.width, source.info.height) == (1424, 1114)
    job_pipeline(source, detector, [Keep()], slicing=cfg).run()
    source.close()
    ((kind, lazy_found),) = seen
    assert kind is LargeImageFrame and len(lazy_found) > 50
    # the same slices on the decoded array: identical but for the whole-image pass, which the
    # lazy path runs on an overview
    no_full = cfg.model_copy(update={"full": False})
    tiles = plan_slices(1424, 1114, no_full, detector.prep.size)
    reader = TiffWindows(path)
    a = detect_tiles(detector, reader, tiles, no_full)
    b = detect_tiles(detector, big, tiles, no_full)
    np.testing.assert_allclose(np.sort(a.xyxy, axis=0), np.sort(b.xyxy, axis=0), atol=1e-3)
    assert abs(len(lazy_found) - len(b)) <= 0.1 * len(b)
