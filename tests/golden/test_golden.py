"""detect, track (video and MOT), run and batch reproduce the golden outputs of ba82f30."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.golden.cases import produce

pytestmark = pytest.mark.integration
GOLDEN = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def produced(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden_out")
    produce(data_dir, out, tmp_path_factory.mktemp("golden_tmp"))
    return out


# ONNX Runtime picks kernels by CPU (AVX2, AVX-512...), which moves the last printed digit
# of a box or score now and then; everything else (counts, ids, classes, order) is exact.
TOLERANCE = 0.02


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or not isinstance(want, int | float):
        if isinstance(want, dict):
            return (
                isinstance(got, dict)
                and got.keys() == want.keys()
                and all(_same(got[k], want[k]) for k in want)
            )
        if isinstance(want, list):
            return (
                isinstance(got, list)
                and len(got) == len(want)
                and all(_same(g, w) for g, w in zip(got, want, strict=True))
            )
        if isinstance(want, str) and isinstance(got, str) and want.startswith("{"):
            return _same(json.loads(got), json.loads(want))  # a JSONL line
        return bool(got == want)
    if isinstance(want, int) and isinstance(got, int):
        return got == want
    return isinstance(got, int | float) and abs(got - want) <= TOLERANCE


def _fields(line: str) -> list[Any]:
    out: list[Any] = []
    for field in line.split(","):
        try:
            out.append(int(field))
        except ValueError:
            try:
                out.append(float(field))
            except ValueError:
                out.append(field)
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.iterdir()))
def test_output_matches_golden(produced: Path, name: str) -> None:
    want, got = (GOLDEN / name).read_text(), (produced / name).read_text()
    if name.endswith(".json"):
        assert _same(json.loads(got), json.loads(want))
    elif name.endswith(".jsonl"):
        assert _same(got.splitlines(), want.splitlines())
    else:  # MOTChallenge rows
        rows_got = [_fields(x) for x in got.splitlines()]
        rows_want = [_fields(x) for x in want.splitlines()]
        assert _same(rows_got, rows_want)


def test_the_comparison_is_strict_where_it_must_be() -> None:
    assert _same({"a": [1, 2.004]}, {"a": [1, 2.0]})
    assert not _same({"a": [1, 2.1]}, {"a": [1, 2.0]})
    assert not _same([1, 2], [1, 2, 3]) and not _same({"id": 3}, {"id": 4})
    assert not _same('{"class_name":"car"}', '{"class_name":"person"}')
    assert _same(_fields("15,6,406.82,27.04"), _fields("15,6,406.82,27.05"))
    assert not _same(_fields("15,7,406.82,27.04"), _fields("15,6,406.82,27.04"))
