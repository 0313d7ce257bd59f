from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.core import InputError, SourceError
from shigu.sources import (
    ImageFolderSource,
    MOTSequenceSource,
    Prefetcher,
    list_images,
    open_source,
    read_mot_txt,
    read_seqinfo,
)


def _write(folder: Path, names: list[str], gray: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        img = np.full((20, 30) if gray else (20, 30, 3), i * 10, np.uint8)
        cv2.imwrite(str(folder / name), img)


def test_folder_natural_order_and_timestamps(tmp_path: Path) -> None:
    _write(tmp_path, ["img10.png", "img2.png", "img1.png"])
    (tmp_path / "notes.txt").write_text("x")
    src = open_source(tmp_path, fps=10)
    assert isinstance(src, ImageFolderSource)
    frames = list(src)
    assert [f.image[0, 0, 0] for f in frames] == [20, 10, 0]  # img1, img2, img10
    assert [f.timestamp for f in frames] == [0.0, 0.1, 0.2]


def test_glob_and_grayscale_become_bgr(tmp_path: Path) -> None:
    _write(tmp_path / "a", ["x1.png", "x2.png"], gray=True)
    frames = list(open_source(str(tmp_path / "a" / "*.png")))
    assert len(frames) == 2 and frames[0].image.shape == (20, 30, 3)


def test_unreadable_image_is_skipped_and_counted(tmp_path: Path) -> None:
    _write(tmp_path, ["1.png", "3.png"])
    (tmp_path / "2.png").write_bytes(b"not a png")
    src = open_source(tmp_path)
    assert len(list(src)) == 2
    assert src.stats.skipped_files == 1


def test_unicode_paths(tmp_path: Path) -> None:
    _write(tmp_path / "车牌&测试", ["图像1.jpg"])
    assert len(list(open_source(tmp_path / "车牌&测试"))) == 1


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        list_images(tmp_path)
    with pytest.raises(SourceError, match="not found"):
        list_images(tmp_path / "missing")


def test_mot_sequence(data_dir: Path) -> None:
    seq = data_dir / "mot" / "MOT17" / "MOT17-04-FRCNN"
    info = read_seqinfo(seq)
    assert (info.width, info.height, info.length, info.frame_rate) == (1920, 1080, 1050, 30.0)
    src = open_source(seq)
    assert isinstance(src, MOTSequenceSource) and src.source_id == "MOT17-04-FRCNN"
    frames = list(src)
    assert [f.index for f in frames] == list(range(8))
    assert frames[1].timestamp == pytest.approx(1 / 30)
    det = read_mot_txt(seq / "det" / "det.txt")
    assert det.shape[1] >= 7 and det[:, 0].min() == 1


def test_mot_folder_without_seqinfo(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"seqinfo\.ini"):
        read_seqinfo(tmp_path)


def test_prefetcher_keeps_order_and_reraises() -> None:
    def gen():
        yield from range(5)
        raise ValueError("boom")

    got = []
    with pytest.raises(ValueError, match="boom"):
        for x in Prefetcher(gen(), depth=2):
            got.append(x)
    assert got == [0, 1, 2, 3, 4]


def test_prefetcher_close_stops_producer() -> None:
    import itertools

    p = Prefetcher(itertools.count(), depth=3)
    it = iter(p)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    p.close()
    assert not p._thread.is_alive()
