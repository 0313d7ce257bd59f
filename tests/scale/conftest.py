"""A real local Ray cluster (head + worker node on loopback) for the scale-out tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port


def _cluster() -> Iterator[object]:
    from tests.servers.ray_cluster import RayCluster

    # Short root: Ray's Unix sockets live under it and socket paths are limited to 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="shigu-ray-"))
    cluster = RayCluster(root, free_port()).start()
    yield cluster
    cluster.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[object]:
    """One cluster shared by the tests that leave it as they found it (start-up costs ~12 s)."""
    yield from _cluster()


@pytest.fixture
def own_ray_cluster() -> Iterator[object]:
    """A cluster for a test that breaks it (kills a node)."""
    yield from _cluster()
