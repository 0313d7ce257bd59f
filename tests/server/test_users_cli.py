"""`shigu users add|list|passwd|delete` on the command line."""

from pathlib import Path

import pytest
import yaml

from shigu.server.auth import Accounts
from shigu.store import EventStore
from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration


def test_users_lifecycle(tmp_path: Path, pets_video: Path) -> None:
    config = tmp_path / "c.yaml"
    url = f"sqlite:///{tmp_path}/e.db"
    config.write_text(
        yaml.safe_dump({"sources": [{"id": "gate", "uri": str(pets_video)}], "store": {"url": url}})
    )
    add = run_cli(
        "users", "add", "ana", "--admin", "--config", config, "--password", "first-pass-1"
    )
    assert add.returncode == 0, add.stderr
    passwd = run_cli("users", "passwd", "ana", "--config", config, "--password", "second-pass-2")
    assert passwd.returncode == 0, passwd.stderr
    store = EventStore(url)
    accounts = Accounts(store.engine)
    assert accounts.check_password("ana", "second-pass-2") is not None
    assert accounts.check_password("ana", "first-pass-1") is None
    store.close()
    short = run_cli("users", "passwd", "ana", "--config", config, "--password", "short")
    assert_one_line_error(short, "password too short", 2)
    assert run_cli("users", "delete", "ana", "--config", config).returncode == 0
    assert "ana" not in run_cli("users", "list", "--config", config).stdout
    assert_one_line_error(run_cli("users", "delete", "ana", "--config", config), "no user", 2)


def test_password_from_the_environment_and_a_warning_on_argv(tmp_path: Path,
                                                             pets_video: Path) -> None:  # fmt: skip
    config = tmp_path / "c.yaml"
    url = f"sqlite:///{tmp_path}/e.db"
    config.write_text(
        yaml.safe_dump({"sources": [{"id": "gate", "uri": str(pets_video)}], "store": {"url": url}})
    )
    made = run_cli("users", "add", "envy", "--config", config,
                   env={"SHIGU_PASSWORD": "from-the-env-1"})  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "warning" not in made.stderr
    shown = run_cli("users", "add", "loud", "--config", config, "--password", "on-the-argv-1")
    assert shown.returncode == 0, shown.stderr
    assert "visible to other users' process lists" in " ".join(shown.stderr.split())
    store = EventStore(url)
    assert Accounts(store.engine).check_password("envy", "from-the-env-1") is not None
    store.close()
