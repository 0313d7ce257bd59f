from pathlib import Path

import numpy as np
import pytest

from shigu.core import SourceError, SourceTruncatedError
from shigu.sources import VideoSource, open_source
from tests.helpers import truncate, write_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("v") / "clip.mp4", n=50, fps=25)


def test_reads_every_frame_with_pts_timestamps(clip: Path) -> None:
    src = open_source(clip)
    assert isinstance(src, VideoSource)
    assert (src.info.width, src.info.height, src.info.fps) == (160, 120, 25.0)
    assert src.info.frame_count == 50 and not src.info.live
    frames = list(src)
    assert [f.index for f in frames] == list(range(50))
    assert np.allclose([f.timestamp for f in frames], np.arange(50) / 25, atol=1e-6)
    assert frames[0].image.shape == (120, 160, 3) and frames[0].image.dtype == np.uint8


def test_stride_and_target_fps(clip: Path) -> None:
    assert [f.index for f in open_source(clip, stride=5)] == list(range(0, 50, 5))
    kept = list(open_source(clip, target_fps=5))
    assert len(kept) == 10
    assert np.allclose(np.diff([f.timestamp for f in kept]), 0.2, atol=1e-6)


def test_avi_without_real_pts_gets_monotonic_timestamps(pets_video: Path) -> None:
    frames = [f.timestamp for f in open_source(pets_video)]
    assert len(frames) == 795
    assert np.allclose(frames, np.arange(795) / 10, atol=1e-6)


def test_missing_file() -> None:
    with pytest.raises(SourceError, match="file not found"):
        open_source("/no/such/video.mp4")


def test_not_a_video(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 100)
    with pytest.raises(SourceError, match="cannot open"):
        open_source(bad)


def test_truncated_mp4_decodes_readable_part_then_says_where(clip: Path, tmp_path: Path) -> None:
    cut = truncate(clip, 0.5, tmp_path / "cut.mp4")
    src = open_source(cut)
    got = []
    with pytest.raises(SourceTruncatedError) as info:
        for frame in src:
            got.append(frame.index)
    assert 5 < len(got) < 50
    assert info.value.frames_read == len(got)
    assert "truncated" in info.value.message and "stopped at" in info.value.message


def test_truncated_mp4_without_index_cannot_open(tmp_path: Path) -> None:
    full = write_video(tmp_path / "late_index.mp4", n=30, faststart=False)
    cut = truncate(full, 0.6, tmp_path / "cut.mp4")
    with pytest.raises(SourceError, match="cannot open"):
        open_source(cut)


def test_unreachable_stream_times_out_quickly(port: int) -> None:
    import time

    started = time.monotonic()
    with pytest.raises(SourceError, match="cannot connect"):
        open_source(f"rtsp://127.0.0.1:{port}/nothing", open_timeout_s=2)
    assert time.monotonic() - started < 10


def test_blackhole_address_times_out() -> None:
    """A host that never answers (TEST-NET-1) must fail at the timeout, not hang."""
    import time

    started = time.monotonic()
    with pytest.raises(SourceError):
        open_source("rtsp://192.0.2.1:554/stream", open_timeout_s=2, read_timeout_s=2)
    assert time.monotonic() - started < 15


def test_webcam_that_does_not_exist() -> None:
    with pytest.raises(SourceError, match="cannot open"):
        open_source("webcam:57")


def test_folder_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        open_source(tmp_path)
