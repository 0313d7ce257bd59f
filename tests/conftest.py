"""Shared fixtures: the shared test data folder, an isolated model cache, helpers."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _data_root() -> Path:
    env = os.environ.get("SHIGU_TEST_DATA")
    return Path(env).resolve() if env else (ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real-data folder (``$SHIGU_TEST_DATA``, default ``../shared/data``)."""
    root = _data_root()
    if not root.is_dir():
        pytest.skip(f"shared test data not found at {root}; set SHIGU_TEST_DATA to its folder")
    return root


@pytest.fixture(scope="session")
def models_dir(data_dir: Path) -> Path:
    return data_dir / "models"


@pytest.fixture(scope="session")
def medical_dir(data_dir: Path) -> Path:
    """The shared medical data: CT series, segmentations, DICOM SEG/SR/RTSTRUCT, radiographs."""
    folder = data_dir / "medical"
    if not folder.is_dir():
        pytest.skip("medical data not in the shared data")
    return folder


@pytest.fixture(scope="session")
def pets_video(data_dir: Path) -> Path:
    return data_dir / "video" / "pets2009_s2l1_vtest_480x360.avi"


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test session gets its own model cache; models come from the shared mirror."""
    old = {k: os.environ.get(k) for k in ("SHIGU_HOME", "SHIGU_MODEL_MIRROR")}
    os.environ["SHIGU_HOME"] = str(tmp_path_factory.mktemp("shigu_home"))
    if not old["SHIGU_MODEL_MIRROR"] and (_data_root() / "models").is_dir():
        os.environ["SHIGU_MODEL_MIRROR"] = str(_data_root() / "models")
    yield
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL server on loopback for the session (Debian's postgresql)."""
    from tests.servers.postgres import PostgresServer, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL not installed; run make system-deps")
    import shutil
    import tempfile

    # not under pytest's root-only tmp folder: the server runs as the postgres user
    root = Path(tempfile.mkdtemp(prefix="shigu-pg-"))
    server = PostgresServer(root, free_port()).start()
    yield server.url
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mqtt_broker(tmp_path: Path) -> Iterator[int]:
    """A Mosquitto broker on loopback; yields its port."""
    from tests.servers.mosquitto import MosquittoBroker, mosquitto_available

    if not mosquitto_available():
        pytest.skip("mosquitto not installed; run make system-deps")
    broker = MosquittoBroker(tmp_path / "mqtt", free_port()).start()
    yield broker.port
    broker.stop()
