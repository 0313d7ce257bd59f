"""A cut-off AVI is reported like a cut-off MP4: its readable frames, then the error."""

from pathlib import Path

import pytest

from shigu.core.errors import SourceTruncatedError
from shigu.sources import open_source
from tests.cli import run_cli
from tests.helpers import truncate


def test_truncated_avi_reports_where_it_stopped(pets_video: Path, tmp_path: Path) -> None:
    cut = truncate(pets_video, 0.5, tmp_path / "half.avi")
    frames = 0
    with pytest.raises(SourceTruncatedError, match="bytes its header declares") as err:
        for _ in open_source(str(cut)):
            frames += 1
    assert 300 < frames < 600 and err.value.frames_read == frames
    complete = sum(1 for _ in open_source(str(pets_video)))
    assert complete == 795  # the whole file raises nothing


@pytest.mark.integration
def test_detect_on_truncated_avi_exits_non_zero(pets_video: Path, tmp_path: Path) -> None:
    cut = truncate(pets_video, 0.3, tmp_path / "cut.avi")
    proc = run_cli("detect", cut, "--no-progress", "--jsonl", tmp_path / "d.jsonl")
    assert proc.returncode == 3 and "truncated" in proc.stderr
    assert len((tmp_path / "d.jsonl").read_text().splitlines()) > 100  # readable part kept
