"""The arena's HTTP API: every route tried by every role (public, two participants of
different teams, a judge, an organiser), uploads, the background scorer, sign-in limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shigu.arena.store import SYSTEM, Arena
from shigu.arena.web import ScoringLoop, create_arena_app
from tests.arena.conftest import PASSWORD, Clock
from tests.arena.test_access import TRACK, phase

ROLES = ("public", "red", "blue", "judy", "olga")


@pytest.fixture
def web(tmp_path: Path, write_challenge: Callable[..., Path], clock: Clock) -> Iterator[Any]:
    clock.set("2026-10-05T00:00:00")
    arena = Arena.init(
        tmp_path / "arena",
        write_challenge(
            tracks=[{**TRACK, "max_upload_mb": 0.01}],
            phases=[phase(limits={"per_day": 20, "total": 20})],
        ),
        clock=clock,
    )
    for team in ("red", "blue"):
        arena.add_person(team, PASSWORD, "participant")
        arena.create_team(team, team, arena.actor(team))
    arena.add_person("judy", PASSWORD, "judge", by=SYSTEM)
    arena.add_person("olga", PASSWORD, "organiser", by=SYSTEM)
    client = TestClient(create_arena_app(arena))
    tokens = {}
    for name in ROLES[1:]:
        r = client.post("/api/login", json={"name": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        tokens[name] = r.json()["token"]
    upload = tmp_path / "r.txt"
    upload.write_text("0.7")
    sid = arena.submit(arena.actor("red"), "quick", "open", upload)
    arena.score_pending(1)

    def as_(role: str) -> dict[str, str]:
        return {} if role == "public" else {"Authorization": f"Bearer {tokens[role]}"}

    yield client, arena, as_, sid, clock


def _matrix(sid: str) -> list[tuple[str, str, Any, dict[str, int]]]:
    """(method, path, json body, role -> status); roles not named expect the `*` entry."""
    return [
        ("GET", "/api/challenge", None, {"*": 200}),
        ("GET", "/api/me", None, {"*": 200}),
        ("GET", "/api/teams", None, {"*": 200}),
        ("GET", "/api/leaderboard/quick/open", None, {"*": 200}),
        ("GET", "/api/leaderboard/quick/open?format=csv", None, {"*": 200}),
        ("GET", "/api/leaderboard/quick/open?split=private", None, {"*": 403, "olga": 200}),
        (
            "GET",
            "/api/submissions",
            None,
            {"public": 401, "red": 200, "blue": 200, "judy": 404, "olga": 200},
        ),
        (
            "GET",
            f"/api/submissions/{sid}",
            None,
            {"public": 401, "red": 200, "olga": 200, "*": 404},
        ),
        (
            "GET",
            f"/api/submissions/{sid}/file",
            None,
            {"public": 401, "red": 200, "olga": 200, "*": 404},
        ),
        (
            "POST",
            f"/api/submissions/{sid}/select",
            {"selected": True},
            {"public": 401, "red": 200, "olga": 200, "*": 404},
        ),
        ("GET", "/api/judge-scores", None, {"public": 401, "judy": 200, "olga": 200, "*": 403}),
        ("GET", "/api/assignments", None, {"public": 401, "judy": 200, "olga": 200, "*": 403}),
        ("GET", "/api/finalists", None, {"public": 401, "judy": 200, "olga": 200, "*": 403}),
        (
            "PUT",
            "/api/finalists",
            {"teams": {"red": "quick"}},
            {"public": 401, "olga": 200, "*": 403},
        ),
        (
            "PUT",
            "/api/judge-scores/red",
            {"scores": {"talent": 1}},
            {"public": 401, "judy": 400, "*": 403},
        ),  # judy: criteria missing
        (
            "POST",
            "/api/conflicts",
            {"judge": "judy", "team": "blue"},
            {"public": 401, "judy": 201, "olga": 201, "*": 403},
        ),
        # organisers pass the check, then hear that no judge has scored yet
        ("GET", "/api/final-sheet", None, {"public": 401, "olga": 400, "*": 403}),
        ("GET", "/api/audit", None, {"public": 401, "olga": 200, "*": 403}),
        ("POST", "/api/awards/announce", None, {"public": 401, "olga": 400, "*": 403}),
        ("GET", "/api/awards", None, {"olga": 400, "*": 403}),
        ("GET", "/awards.html", None, {"*": 403}),
        ("GET", "/certificates.pdf", None, {"*": 403}),
        ("POST", "/api/teams", {"id": "new-team"}, {"public": 401, "*": 403}),
        ("POST", "/api/teams/red/members", {"person": "judy"}, {"public": 401, "*": 403}),
        ("POST", "/api/phases/open/reveal", None, {"public": 401, "olga": 204, "*": 403}),
        (
            "DELETE",
            f"/api/submissions/{sid}",
            None,
            {"public": 401, "blue": 404, "judy": 404, "red": 204, "olga": 204},
        ),
    ]


def test_every_route_by_every_role(web: Any) -> None:
    client, _, as_, sid, _ = web
    failures = []
    for method, path, body, expect in _matrix(sid):
        for role in ROLES:
            if method in ("DELETE", "POST") and "reveal" in path and role == "olga":
                continue  # changes what later rows see; checked below
            want = expect.get(role, expect.get("*"))
            if method == "DELETE" and role in ("red", "olga"):
                continue  # would withdraw the submission the other rows need
            got = client.request(method, path, json=body, headers=as_(role)).status_code
            if got != want:
                failures.append(f"{method} {path} as {role}: {got}, expected {want}")
    assert not failures, "\n".join(failures)
    assert client.post("/api/phases/open/reveal", headers=as_("olga")).status_code == 204
    assert client.get("/api/leaderboard/quick/open?split=private").status_code == 200
    assert client.delete(f"/api/submissions/{sid}", headers=as_("red")).status_code == 204
    assert client.get(f"/api/submissions/{sid}", headers=as_("red")).status_code == 404


def test_nothing_served_leaks_the_ground_truth_or_private_scores(web: Any) -> None:
    client, arena, as_, sid, _ = web
    gt = arena.challenge.phases[0].tracks["quick"].ground_truth
    for path in (
        "/api/challenge",
        "/api/leaderboard/quick/open",
        f"/api/submissions/{sid}",
        "/api/submissions",
        "/",
    ):
        text = client.get(path, headers=as_("red")).text
        assert gt not in text and "splits" not in text
    view = client.get(f"/api/submissions/{sid}", headers=as_("red")).json()
    assert view["public"] and view["private"] is None
    assert client.get("/static/../splits.json").status_code == 404
    assert client.get("/static/%2e%2e/splits.json").status_code == 404


def test_uploads_are_scored_in_the_background(web: Any, tmp_path: Path) -> None:
    client, arena, as_, _, _ = web
    loop = ScoringLoop(arena, workers=1, interval=0.1).start()
    try:
        sent = client.post(
            "/api/submissions",
            data={"track": "quick", "phase": "open"},
            files={"file": ("result.txt", b"0.9")},
            headers=as_("blue"),
        )
        assert sent.status_code == 201, sent.text
        sid = sent.json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            view = client.get(f"/api/submissions/{sid}", headers=as_("blue")).json()
            if view["status"] in ("scored", "invalid", "failed"):
                break
            time.sleep(0.2)
        assert view["status"] == "scored", view
        board = client.get("/api/leaderboard/quick/open").json()["rows"]
        assert board[0]["entrant"] == "blue"
        bad = client.post(
            "/api/submissions",
            data={"track": "quick", "phase": "open"},
            files={"file": ("big.txt", b"1" * 20000)},
            headers=as_("blue"),
        )
        assert bad.status_code == 413
        unknown = client.post(
            "/api/submissions",
            data={"track": "nope", "phase": "open"},
            files={"file": ("r.txt", b"1")},
            headers=as_("blue"),
        )
        assert unknown.status_code == 400 and "no track 'nope'" in unknown.json()["detail"]
    finally:
        loop.stop()


def test_sign_in_is_limited_and_tokens_expire(web: Any) -> None:
    client, _, as_, _, clock = web
    for _ in range(5):
        assert (
            client.post("/api/login", json={"name": "red", "password": "nope nope"}).status_code
            == 401
        )
    assert client.post("/api/login", json={"name": "red", "password": PASSWORD}).status_code == 429
    assert client.get("/api/me", headers={"Authorization": "Bearer forged"}).status_code == 401
    clock.now += timedelta(days=8)
    assert client.get("/api/me", headers=as_("blue")).status_code == 401
    registered = client.post("/api/register", json={"name": "newbie", "password": PASSWORD})
    assert registered.status_code == 201 and registered.json()["role"] == "participant"
    weak = client.post("/api/register", json={"name": "weakling", "password": "password"})
    assert weak.status_code == 400
