"""The re-shaped LYT-Net: identical at its own size, close to the original at 192x144."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.runtime.session import OnnxModel
from shigu.solutions.lowlight.enhance import resized_lyt


@pytest.fixture(scope="module")
def lyt320(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = models_dir / "lyt_net_lolv2_real_320x240.onnx"
    if not src.is_file():
        pytest.skip("LYT-Net not in the model mirror")
    copy = tmp_path_factory.mktemp("lyt") / src.name
    copy.write_bytes(src.read_bytes())
    return copy


def _run(model: OnnxModel, rgb: np.ndarray) -> np.ndarray:
    return model.run((rgb.astype(np.float32) / 127.5 - 1)[None])[0][0]


def test_own_size_is_the_model_itself(lyt320: Path) -> None:
    assert resized_lyt(lyt320, 320, 240) == lyt320


def test_smaller_input_gives_the_same_picture(lyt320: Path, data_dir: Path) -> None:
    low = cv2.imread(str(data_dir / "lowlight" / "LOL_train_subset" / "low" / "91.png"))
    rgb = cv2.cvtColor(low, cv2.COLOR_BGR2RGB)
    small_path = resized_lyt(lyt320, 192, 144)
    assert small_path.name.endswith(".192x144.onnx") and small_path.is_file()
    assert resized_lyt(lyt320, 192, 144) == small_path  # made once
    big = _run(OnnxModel(lyt320), cv2.resize(rgb, (320, 240), interpolation=cv2.INTER_AREA))
    small = _run(OnnxModel(small_path), cv2.resize(rgb, (192, 144), interpolation=cv2.INTER_AREA))
    assert small.shape == (144, 192, 3)
    big_down = cv2.resize(big, (192, 144), interpolation=cv2.INTER_AREA)
    mse = float(np.mean(((small - big_down) * 127.5) ** 2))
    assert 10 * np.log10(255**2 / mse) > 25  # the same enhancement, at another size
    with pytest.raises(Exception, match="multiples of 16"):
        resized_lyt(lyt320, 200, 150)


def test_edge_aware_upsampling_puts_the_detail_back(data_dir: Path) -> None:
    """lyt-fast's guided-filter upsampling against plain bicubic, on LOL pairs: sharper
    structure (SSIM) without losing PSNR; same size and type out."""
    from shigu.solutions.lowlight.enhance import LytEnhancer, edge_aware_upsample
    from shigu.solutions.lowlight.quality import psnr_ssim

    lol = data_dir / "lowlight" / "LOL_train_subset"
    enhancer = LytEnhancer("lyt-fast")
    gains = []
    for name in ("2.png", "254.png", "634.png", "743.png"):
        low = cv2.imread(str(lol / "low" / name))
        gt = np.ascontiguousarray(cv2.imread(str(lol / "high" / name))[..., ::-1])
        enhancer.refine = False
        plain = enhancer(low)
        refined = edge_aware_upsample(low, plain)
        assert refined.shape == low.shape and refined.dtype == np.uint8
        p0, s0 = psnr_ssim(np.ascontiguousarray(plain[..., ::-1]), gt)
        p1, s1 = psnr_ssim(np.ascontiguousarray(refined[..., ::-1]), gt)
        assert p1 > p0 - 0.3, name
        gains.append(s1 - s0)
    assert min(gains) > 0 and float(np.mean(gains)) > 0.02, gains
