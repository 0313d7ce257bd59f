"""detect, track (video and MOT), run and batch reproduce the golden outputs of ba82f30."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.golden.cases import produce

pytestmark = pytest.mark.integration
GOLDEN = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def produced(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden_out")
    produce(data_dir, out, tmp_path_factory.mktemp("golden_tmp"))
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.iterdir()))
def test_output_matches_golden(produced: Path, name: str) -> None:
    want, got = (GOLDEN / name).read_text(), (produced / name).read_text()
    if name.endswith(".json"):
        assert json.loads(got) == json.loads(want)
    else:
        assert got.splitlines() == want.splitlines()
