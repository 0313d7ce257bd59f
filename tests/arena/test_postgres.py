"""The arena on a real PostgreSQL server (by URL), as on SQLite: registration, a scored
submission, the board, the audit, reopened from disk."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shigu.arena.store import SYSTEM, Arena
from tests.arena.conftest import PASSWORD, Clock
from tests.arena.test_access import TRACK, phase, upload

pytestmark = pytest.mark.integration


def _fresh_database(server_url: str) -> str:
    name = f"arena_{uuid.uuid4().hex[:8]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def test_an_arena_on_postgresql(
    tmp_path: Path, postgres_url: str, write_challenge: Callable[..., Path], clock: Clock
) -> None:
    url = _fresh_database(postgres_url)
    path = write_challenge(tracks=[TRACK], phases=[phase()], awards=[])
    arena = Arena.init(tmp_path / "arena", path, url=url, clock=clock)
    arena.add_person("red", PASSWORD, "participant")
    arena.create_team("red", "Red \u0142\u00f3d\u017a", arena.actor("red"))
    sid = arena.submit(arena.actor("red"), "quick", "open", upload(tmp_path, 0.4))
    assert arena.score_pending(2) == {sid: "scored"}
    arena.close()
    again = Arena.open(tmp_path / "arena", clock=clock)
    assert again.url == url
    board = again.leaderboard(SYSTEM, "quick", "open", "private")
    assert [r.entrant for r in board] == ["red"] and board[0].score == pytest.approx(0.4)
    assert again.teams() == {"red": "Red \u0142\u00f3d\u017a"}
    assert {e["action"] for e in again.audit(SYSTEM)} >= {"init", "submit", "score"}
    again.close()
