"""The scoring sandbox contains a scorer that hangs, spins, eats memory, calls out or writes
to the ground truth; such a submission is marked failed and does not use up a slot."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shigu.arena.store import Arena
from tests.arena.conftest import PASSWORD, Clock

pytestmark = pytest.mark.integration

SCORERS = {
    "hang": {"time_limit_s": 3},
    "spin": {"time_limit_s": 3},
    "hog": {"memory_mb": 400},
    "phone_home": {},
    "raw_connect": {},
    "tamper": {},
    "peek": {},
}


@pytest.fixture
def evil_arena(tmp_path: Path, write_challenge: Callable[..., Path], clock: Clock) -> Any:
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "answers.txt").write_text("the answers")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    (gt / "port.txt").write_text(str(listener.getsockname()[1]))
    tracks = [
        {"id": name, "task": "custom", "metric": "score", "scorer": f"tests.arena.scorers:{name}",
         **limits}
        for name, limits in SCORERS.items()
    ]  # fmt: skip
    phase = {
        "id": "open",
        "start": "2026-10-01T00:00:00Z",
        "end": "2026-12-01T00:00:00Z",
        "limits": {"per_day": 1, "total": 1},
        "tracks": {name: {"ground_truth": str(gt)} for name in SCORERS},
    }
    path = write_challenge(tracks=tracks, phases=[phase], awards=[])
    arena = Arena.init(tmp_path / "arena", path, clock=clock)
    arena.add_person("eve", PASSWORD, "participant")
    arena.create_team("eve-team", "Eve", arena.actor("eve"))
    upload = tmp_path / "result.txt"
    upload.write_text("0.5")
    yield arena, upload, gt, listener
    listener.close()


def test_misbehaving_scorers_are_contained_and_their_slots_returned(evil_arena: Any) -> None:
    arena, upload, gt, listener = evil_arena
    eve = arena.actor("eve")
    ids = {name: arena.submit(eve, name, "open", upload) for name in SCORERS}
    connections: list[bytes] = []

    def accept() -> None:
        for _ in range(40):
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            connections.append(conn.recv(100))
            conn.close()

    watcher = threading.Thread(target=accept)
    watcher.start()
    statuses = arena.score_pending(workers=2)
    watcher.join()
    views = {name: arena.submission(eve, sid) for name, sid in ids.items()}
    assert {n: v["status"] for n, v in views.items()} == {
        "hang": "failed", "spin": "failed", "hog": "failed", "phone_home": "failed",
        "raw_connect": "failed", "tamper": "failed", "peek": "scored",
    }, {n: v["message"] for n, v in views.items()}  # fmt: skip
    assert "time limit of 3 s" in views["hang"]["message"]
    assert "limit" in views["spin"]["message"]
    assert "memory" in views["hog"]["message"]
    assert "socket" in views["phone_home"]["message"]
    assert "connect failed" in views["raw_connect"]["message"]  # the namespace has no route
    assert "cannot write" in views["tamper"]["message"]
    assert connections == []  # nothing reached the listener
    assert (gt / "answers.txt").read_text() == "the answers"
    assert views["peek"]["public"] == {"score": float(len("the answers"))}
    assert set(statuses.values()) == {"failed", "scored"}
    # a failed submission gives its slot back (the limit is one in total); a scored one not
    for name in SCORERS:
        if name == "peek":
            with pytest.raises(Exception, match="has used"):
                arena.submit(eve, name, "open", upload)
        else:
            arena.submit(eve, name, "open", upload)
