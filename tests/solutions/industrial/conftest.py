"""Fixtures for the industrial tests: the hazelnut toy set and a model trained on it once."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def hazelnut(data_dir: Path) -> Path:
    root = data_dir / "anomaly" / "hazelnut_toy"
    if not root.is_dir():
        pytest.skip(f"hazelnut_toy not found under {data_dir / 'anomaly'}")
    return root


@pytest.fixture(scope="session")
def hazelnut_model(hazelnut: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PatchCore trained through the CLI on train/good only."""
    from typer.testing import CliRunner

    from shigu.cli import app

    out = tmp_path_factory.mktemp("models") / "hazelnut.shigu"
    result = CliRunner().invoke(app, ["inspect", "train", str(hazelnut), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out
