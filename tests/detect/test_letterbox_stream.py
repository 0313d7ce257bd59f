from pathlib import Path

import numpy as np
import pytest

from shigu.detect import letterbox, load_detector
from shigu.detect.stream import detect_stream, throughput_plan
from shigu.sources import open_source


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("shape", [(360, 480), (1080, 1920), (500, 300)])
def test_letterbox_round_trip(center: bool, shape: tuple[int, int]) -> None:
    image = np.zeros((*shape, 3), np.uint8)
    boxed, meta = letterbox(image, (416, 416), center=center)
    assert boxed.shape == (416, 416, 3)
    boxes = np.array([[10, 20, 100, 200]], np.float32)
    net = boxes.copy()
    net[:, 0::2] = boxes[:, 0::2] * meta.scale_x + meta.pad_x
    net[:, 1::2] = boxes[:, 1::2] * meta.scale_y + meta.pad_y
    assert np.allclose(meta.boxes_to_image(net), boxes, atol=1e-3)


def test_stream_with_workers_equals_sequential(pets_video: Path) -> None:
    det = load_detector("yolox-nano", conf=0.3, threads=1)
    seq = [
        (f.index, d)
        for f, d in detect_stream(open_source(pets_video, stride=20), det, workers=1, prefetch=0)
    ]
    workers, _ = throughput_plan(cores=2)
    par = [
        (f.index, d)
        for f, d in detect_stream(
            open_source(pets_video, stride=20), det, workers=max(workers, 2), batch_size=2
        )
    ]
    assert [i for i, _ in seq] == [i for i, _ in par] == list(range(0, 795, 20))
    assert all(a.equals(b) for (_, a), (_, b) in zip(seq, par, strict=True))
