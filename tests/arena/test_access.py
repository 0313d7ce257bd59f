"""Who may see and do what: other teams' submissions (the Codabench bug where anyone could
download others' submissions by id), private scores before the end, judge scores, the
ground truth; private challenges; team limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shigu.arena.store import SYSTEM, Arena, ArenaError, NotFound
from shigu.core.errors import InputError
from tests.arena.conftest import PASSWORD, Clock

TRACK = {
    "id": "quick",
    "task": "custom",
    "metric": "score",
    "scorer": "tests.arena.scorers:constant",
}


def phase(**extra: Any) -> dict[str, Any]:
    return {
        "id": "open", "start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z",
        "tracks": {"quick": {"ground_truth": ".", "public": ["a", "b"]}}, **extra,
    }  # fmt: skip


@pytest.fixture
def quick(tmp_path: Path, write_challenge: Callable[..., Path], clock: Clock) -> Arena:
    arena = Arena.init(
        tmp_path / "arena",
        write_challenge(tracks=[TRACK], phases=[phase()], awards=[]),
        clock=clock,
    )
    for team in ("red", "blue"):
        arena.add_person(team, PASSWORD, "participant")  # registering themselves
        arena.create_team(team, team, arena.actor(team))
    arena.add_person("judy", PASSWORD, "judge", by=SYSTEM)
    return arena


def upload(tmp_path: Path, value: float) -> Path:
    path = tmp_path / f"r{value}.txt"
    path.write_text(str(value))
    return path


def test_a_team_cannot_reach_another_teams_submissions(quick: Arena, tmp_path: Path) -> None:
    red, blue = quick.actor("red"), quick.actor("blue")
    sid = quick.submit(red, "quick", "open", upload(tmp_path, 0.7))
    quick.score_pending(1)
    for attempt in (
        lambda: quick.submission(blue, sid),
        lambda: quick.submission_file(blue, sid),
        lambda: quick.submissions(blue, team="red"),
        lambda: quick.select(blue, sid),
        lambda: quick.delete(blue, sid),
        lambda: quick.submission(quick.actor("judy"), sid),
    ):
        with pytest.raises(NotFound):
            attempt()
    # the same answer for an id that does not exist: existence does not leak
    with pytest.raises(NotFound, match="no such submission"):
        quick.submission(blue, "0" * 32)
    assert quick.submission_file(red, sid).read_text() == "0.7"
    assert [s["id"] for s in quick.submissions(blue)] == []


def test_private_scores_wait_for_the_end(quick: Arena, tmp_path: Path, clock: Clock) -> None:
    red = quick.actor("red")
    clock.set("2026-10-05T00:00:00")
    sid = quick.submit(red, "quick", "open", upload(tmp_path, 0.7))
    quick.score_pending(1)
    view = quick.submission(red, sid)
    assert view["public"] and view["private"] is None
    assert "ground_truth" not in str(view) and "answers" not in str(view)
    with pytest.raises(ArenaError):
        quick.leaderboard(red, "quick", "open", "private")
    with pytest.raises(ArenaError, match="only organisers"):
        quick.reveal("open", red)
    quick.reveal("open", SYSTEM)
    assert quick.submission(red, sid)["private"] is not None
    assert quick.leaderboard(red, "quick", "open", "private")[0].entrant == "red"


def test_judge_scores_and_the_audit_are_not_for_participants(quick: Arena) -> None:
    red = quick.actor("red")
    for attempt in (
        lambda: quick.judge_scores(red),
        lambda: quick.assignments(red),
        lambda: quick.final_sheet(red),
        lambda: quick.final_sheet(quick.actor("judy")),
        lambda: quick.audit(red),
        lambda: quick.judge_score(red, "blue", {}),
        lambda: quick.set_finalists({"red": "quick"}, red),
        lambda: quick.assign_judges(red),
        lambda: quick.add_person("mallory", PASSWORD, "organiser", by=red),
    ):
        with pytest.raises(ArenaError):
            attempt()


def test_teams_and_people_follow_the_rules(quick: Arena) -> None:
    red = quick.actor("red")
    with pytest.raises(ArenaError, match="already registered"):
        quick.add_person("red", PASSWORD, "participant")
    with pytest.raises(InputError, match="common"):
        quick.add_person("weak", "password", "participant")
    with pytest.raises(InputError, match="not allowed"):
        quick.add_person("../x", PASSWORD, "participant")
    with pytest.raises(ArenaError, match="already in a team"):
        quick.add_member("red", "blue", red)
    with pytest.raises(ArenaError, match="captain"):
        quick.add_member("blue", "red", red)
    for i in range(2):
        quick.add_person(f"m{i}", PASSWORD, "participant")
        quick.add_member("red", f"m{i}", red)
    quick.add_person("m9", PASSWORD, "participant")
    with pytest.raises(ArenaError, match="full"):
        quick.add_member("red", "m9", red)
    with pytest.raises(ArenaError, match="only members of a team"):
        quick.submit(quick.actor("m9"), "quick", "open", Path("x"))
    assert quick.authenticate("red", PASSWORD) == red
    assert quick.authenticate("red", "wrong password") is None
    assert quick.authenticate("nobody", PASSWORD) is None


def test_a_private_challenge_takes_invited_people_only(
    tmp_path: Path, write_challenge: Callable[..., Path], clock: Clock
) -> None:
    path = write_challenge(tracks=[TRACK], phases=[phase()], awards=[], private=True)
    arena = Arena.init(tmp_path / "private", path, clock=clock)
    with pytest.raises(ArenaError, match="invitation only"):
        arena.add_person("stranger", PASSWORD, "participant")
    arena.add_person("vip", PASSWORD, "participant", by=SYSTEM)  # organisers add anyone
    arena.invite("guest", SYSTEM)
    arena.add_person("guest", PASSWORD, "participant")
    assert "guest" in arena.people("participant")


def test_the_ladder_ignores_small_public_gains(
    tmp_path: Path, write_challenge: Callable[..., Path], clock: Clock
) -> None:
    laddered = {**TRACK, "ladder_step": 0.05}
    path = write_challenge(
        tracks=[laddered], phases=[phase(limits={"per_day": 50, "total": 50})], awards=[]
    )
    arena = Arena.init(tmp_path / "ladder", path, clock=clock)
    arena.add_person("probe", PASSWORD, "participant")
    arena.create_team("probe", "probe", arena.actor("probe"))
    # public = value + 0.1; shown: the first score, then only a gain beyond 0.05 moves it
    expected = {0.50: 0.60, 0.52: 0.60, 0.54: 0.60, 0.56: 0.65, 0.58: 0.65, 0.62: 0.70}
    for value, shown in expected.items():
        arena.submit(arena.actor("probe"), "quick", "open", upload(tmp_path, value))
        arena.score_pending(1)
        clock.now = clock.now.replace(minute=clock.now.minute + 1)
        board = arena.leaderboard(SYSTEM, "quick", "open")
        assert board[0].score == pytest.approx(shown), value


def test_only_stale_running_submissions_are_taken_back(
    quick: Arena, tmp_path: Path, clock: Clock
) -> None:
    """A submission another pool is scoring stays its own; one whose pool died (running past
    the track's time limit and a minute) goes back in the queue and gets scored."""
    sid = quick.submit(quick.actor("red"), "quick", "open", upload(tmp_path, 0.3))
    assert quick._claim() is not None  # a pool took it...
    assert quick.recover() == 0  # ...and is still within its time
    assert quick.submission(SYSTEM, sid)["status"] == "running"
    clock.now += timedelta(seconds=600 + 61)  # the track's 600 s limit and a minute passed
    assert quick.recover() == 1
    assert quick.score_pending(1) == {sid: "scored"}
