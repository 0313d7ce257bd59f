from pathlib import Path

import pytest

from shigu.core.errors import InputError
from shigu.store import EventStore
from shigu.store.locate import last_store, locate_store, remember_store
from tests.cli import assert_one_line_error, run_cli


def test_reading_never_creates_a_database(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHIGU_HOME", str(tmp_path / "home"))
    with pytest.raises(InputError, match=r"no event store at shigu\.db"):
        locate_store(None, None)
    proc = run_cli("events", "list", cwd=tmp_path, env={"SHIGU_HOME": str(tmp_path / "home")})
    assert_one_line_error(proc, "no event store", 2)
    assert not (tmp_path / "shigu.db").exists()


def test_last_run_config_and_explicit_url(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SHIGU_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    EventStore("sqlite:///runs/a.db")  # a run in another folder wrote here
    remember_store("sqlite:///runs/a.db")
    assert last_store() == f"sqlite:///{(tmp_path / 'runs' / 'a.db').resolve()}"
    url, origin = locate_store(None, None)
    assert url == last_store() and "last run" in origin
    config = tmp_path / "c.yaml"
    config.write_text("sources: [{id: cam, uri: x.mp4}]\nstore: {url: 'sqlite:///runs/b.db'}\n")
    with pytest.raises(InputError, match=r"runs/b\.db"):
        locate_store(None, config)
    assert locate_store("sqlite:///runs/a.db", config)[0] == "sqlite:///runs/a.db"
    proc = run_cli("events", "list", cwd=tmp_path, env={"SHIGU_HOME": str(tmp_path / "home")})
    assert proc.returncode == 0, proc.stderr
    assert "0 events" in proc.stdout and "last run" in proc.stderr
