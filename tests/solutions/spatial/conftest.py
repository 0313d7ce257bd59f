"""Fixtures for the 3D tests: the shared registration pairs, read once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from shigu.solutions.spatial import Cloud, read_cloud


@dataclass
class Pair:
    name: str
    source: Cloud
    target: Cloud
    gt: np.ndarray  # maps source into target
    source_path: Path
    target_path: Path


@pytest.fixture(scope="session")
def registration_dir(data_dir: Path) -> Path:
    root = data_dir / "registration"
    if not root.is_dir():
        pytest.skip(f"registration data not found under {data_dir}")
    return root


@pytest.fixture(scope="session")
def bunny_pair(registration_dir: Path) -> Pair:
    d = registration_dir / "stanford_bunny"
    return Pair(
        "bunny 045->000",
        read_cloud(d / "bun045.ply"),
        read_cloud(d / "bun000.ply"),
        np.loadtxt(d / "T_bun045_to_bun000.txt"),
        d / "bun045.ply",
        d / "bun000.ply",
    )


@pytest.fixture(scope="session")
def match3d_pair(registration_dir: Path) -> Pair:
    d = registration_dir / "geotransformer_demo"
    return Pair(
        "3DMatch demo",
        read_cloud(d / "src.npy"),
        read_cloud(d / "ref.npy"),
        np.load(d / "gt.npy"),
        d / "src.npy",
        d / "ref.npy",
    )


@pytest.fixture(scope="session", params=["bunny", "3dmatch"])
def pair(request: pytest.FixtureRequest) -> Pair:
    return request.getfixturevalue("bunny_pair" if request.param == "bunny" else "match3d_pair")
