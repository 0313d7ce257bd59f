"""The EfficientNet-Lite0 ImageNet weights load into our network and survive ONNX export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shigu.sources.images import read_image

torch = pytest.importorskip("torch", reason="the shigu[train] extra (torch) is not installed")

from shigu.solutions.industrial import efficientnet_lite  # noqa: E402

BEARS = {294, 295, 296, 297}  # ImageNet: brown, American black, ice, sloth bear


def _input(path: Path, size: int = 224) -> object:
    import cv2

    image = read_image(path)
    assert image is not None
    rgb = cv2.resize(image, (size, size))[:, :, ::-1].astype(np.float32)
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    return (x - efficientnet_lite.MEAN) / efficientnet_lite.STD


@pytest.mark.parametrize("network", ["lite0", "lite2"])
def test_bear_is_classified_as_a_bear(data_dir: Path, network: str) -> None:
    net = efficientnet_lite.load(network=network)  # strict: every key and shape must match
    with torch.no_grad():
        probs = net(_input(data_dir / "images" / "coco_val2017" / "000000000285.jpg")).softmax(1)[0]
    top = int(probs.argmax())
    assert top in BEARS, f"top class {top} is not a bear"
    assert float(probs[top]) > 0.5


def test_strict_load_rejects_a_wrong_state_dict(tmp_path: Path) -> None:
    from shigu.core.errors import ModelError

    state = torch.load(efficientnet_lite.weights_path(), weights_only=True)
    state.pop("_fc.bias")
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    with pytest.raises(ModelError, match="do not match"):
        efficientnet_lite.load(bad)


def test_onnx_export_matches_torch(tmp_path: Path, data_dir: Path) -> None:
    import onnxruntime as ort

    path = efficientnet_lite.export_onnx(tmp_path / "lite0.onnx", size=(256, 256))
    image = read_image(data_dir / "images" / "coco_val2017" / "000000000285.jpg")
    assert image is not None
    import cv2

    rgb = cv2.resize(image, (256, 256))[:, :, ::-1].astype(np.float32)
    x = np.ascontiguousarray(rgb.transpose(2, 0, 1))[None]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    s8, s16 = session.run(["s8", "s16"], {"images": np.concatenate([x, x])})
    assert s8.shape == (2, 40, 32, 32) and s16.shape == (2, 112, 16, 16)
    extractor = efficientnet_lite.FeatureExtractor(efficientnet_lite.load(), ("s8", "s16"))
    with torch.no_grad():
        ref8, ref16 = extractor(torch.from_numpy(x))
    np.testing.assert_allclose(s8[:1], ref8.numpy(), atol=1e-3, rtol=1e-3)
    np.testing.assert_allclose(s16[:1], ref16.numpy(), atol=1e-3, rtol=1e-3)


def test_any_size_export_matches_torch_on_other_shapes(tmp_path: Path) -> None:
    """The export for --resize scale has symbolic height and width; its fixed "same" pads
    are right for every side that is a multiple of 32 (the traced pads of one size are not)."""
    import onnxruntime as ort

    path = efficientnet_lite.export_onnx(tmp_path / "any.onnx", size=None)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    extractor = efficientnet_lite.FeatureExtractor(efficientnet_lite.load(), ("s8", "s16"))
    rng = np.random.default_rng(0)
    for h, w in ((256, 256), (256, 640), (96, 480), (320, 224)):
        x = rng.uniform(0, 255, (1, 3, h, w)).astype(np.float32)
        s8, s16 = session.run(["s8", "s16"], {"images": x})
        assert s8.shape == (1, 40, h // 8, w // 8) and s16.shape == (1, 112, h // 16, w // 16)
        with torch.no_grad():
            ref8, ref16 = extractor(torch.from_numpy(x))
        np.testing.assert_allclose(s8, ref8.numpy(), atol=1e-3, rtol=1e-3)
        np.testing.assert_allclose(s16, ref16.numpy(), atol=1e-3, rtol=1e-3)


def test_stage_ends_follow_the_stage_table() -> None:
    assert efficientnet_lite.stage_ends(efficientnet_lite.STAGES) == efficientnet_lite.STAGE_ENDS
    lite2 = efficientnet_lite.stage_ends(efficientnet_lite.STAGES_LITE2)
    assert lite2 == {"s2": 0, "s4": 3, "s8": 6, "s16": 14, "s32": 20}
