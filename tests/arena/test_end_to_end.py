"""A whole challenge: two tracks (tracking on MOT17, anomaly detection on an MVTec-layout
set), three teams with good, bad and malformed submissions, a heat and a final, four judges
with one conflict, and award tiers. Scoring runs in the real sandbox with the real
evaluators (TrackEval, the industrial metrics)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from shigu.arena.awards import announcement_html, write_certificates
from shigu.arena.store import SYSTEM, Arena, ArenaError
from tests.arena.conftest import PASSWORD, ArenaData, Clock

pytestmark = pytest.mark.integration

JUDGE_RAW = {  # what each judge thinks of each finalist (talent, technical, industry, landing)
    "judge1": {"alpha": (8, 9, 7, 8), "beta": (6, 6, 7, 6), "gamma": (5, 4, 5, 5)},
    "judge2": {"alpha": (5, 6, 4, 5), "beta": (3, 3, 4, 3), "gamma": (2, 1, 2, 2)},  # severe
    "judge3": {"alpha": (9, 9, 8, 9), "beta": (7, 8, 7, 7), "gamma": (6, 5, 6, 6)},
    "judge4": {"alpha": (9, 9, 9, 9), "beta": (6, 7, 6, 6), "gamma": (4, 4, 5, 4)},
}
CRITERIA = ("talent", "technical", "industrialisation", "landing")


def _people(arena: Arena) -> None:
    arena.add_person("org", PASSWORD, "organiser", by=SYSTEM)
    for j in JUDGE_RAW:
        arena.add_person(j, PASSWORD, "judge", by=SYSTEM)
    for team in ("alpha", "beta", "gamma"):
        arena.add_person(f"{team}-lead", PASSWORD, "participant")
        arena.add_person(f"{team}-dev", PASSWORD, "participant")
        lead = arena.actor(f"{team}-lead")
        arena.create_team(team, team.title(), lead)
        arena.add_member(team, f"{team}-dev", lead)


def _bad_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _expected_totals(arena: Arena, benchmark: dict[str, float]) -> dict[str, float]:
    """The panel's totals computed independently, with NumPy, from the raw scores."""
    assigned = arena.assignments(SYSTEM)
    teams = sorted(assigned)
    per_team: dict[str, list[np.ndarray]] = {t: [] for t in teams}
    for judge in JUDGE_RAW:
        mine = [t for t in teams if judge in assigned[t]]
        raw = np.array([JUDGE_RAW[judge][t] for t in mine], float)  # teams x criteria
        std = raw.std(axis=0)
        z = np.where(std > 0, (raw - raw.mean(axis=0)) / np.where(std > 0, std, 1), 0.0)
        for t, row in zip(mine, z, strict=True):
            per_team[t].append(row)
    b = np.array([benchmark[t] for t in teams])
    bz = (b - b.mean()) / b.std()
    totals = {}
    for i, t in enumerate(teams):
        crit = np.mean(per_team[t], axis=0)
        crit[1] = 0.5 * crit[1] + 0.5 * bz[i]  # technical: half panel, half benchmark
        totals[t] = float(crit.mean())  # equal weights
    return totals


def test_a_challenge_from_registration_to_awards(
    tmp_path: Path, arena_data: ArenaData, write_challenge: Callable[..., Path], clock: Clock
) -> None:
    files = arena_data.files
    arena = Arena.init(tmp_path / "arena", write_challenge(), clock=clock)
    _people(arena)
    alpha, beta, gamma = (arena.actor(f"{t}-lead") for t in ("alpha", "beta", "gamma"))
    gamma_dev = arena.actor("gamma-dev")

    with pytest.raises(ArenaError, match="opens at"):
        arena.submit(alpha, "tracking", "heat", files["heat_good"])

    # ---- the heat: good, worse, bad and malformed submissions
    clock.set("2026-11-02T09:00:00")
    a1 = arena.submit(alpha, "tracking", "heat", files["heat_good"])
    a2 = arena.submit(arena.actor("alpha-dev"), "tracking", "heat", files["heat_good2"])
    arena.submit(alpha, "inspection", "heat", files["anomaly_good"])
    b1 = arena.submit(beta, "tracking", "heat", files["heat_drop"])
    arena.submit(beta, "inspection", "heat", files["anomaly_noise"])
    g_bad = [
        arena.submit(gamma, "tracking", "heat", _bad_zip(tmp_path / "hello.zip", {"x.txt": b"hi"})),
        arena.submit(gamma, "tracking", "heat", files["heat_partial"]),
        arena.submit(
            gamma_dev,
            "tracking",
            "heat",
            _bad_zip(tmp_path / "slip.zip", {"../../evil.txt": b"1,1,1,1,1,1"}),
        ),
    ]
    statuses = arena.score_pending(workers=2)
    # once found invalid, gamma's three submissions no longer use up its three a day
    g1 = arena.submit(gamma, "tracking", "heat", files["heat_shuffle"])
    statuses |= arena.score_pending(workers=2)
    assert all(statuses[s] == "invalid" for s in g_bad), statuses
    assert {statuses[s] for s in (a1, a2, b1, g1)} == {"scored"}, statuses
    reports = [arena.submission(gamma, s)["report"] for s in g_bad]
    assert "x.txt is not a sequence of this phase" in reports[0]
    assert any("MOT17-09-FRCNN.txt is missing" in r for r in reports[1])
    assert "points outside the archive" in reports[2][0]
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()

    # the daily limit counts what was accepted; the total limit too
    arena.submit(alpha, "tracking", "heat", files["heat_good"])
    with pytest.raises(ArenaError, match="today"):
        arena.submit(alpha, "tracking", "heat", files["heat_good"])
    clock.set("2026-11-03T09:00:00")
    arena.submit(alpha, "tracking", "heat", files["heat_drop"])
    with pytest.raises(ArenaError, match="all 4"):
        arena.submit(alpha, "tracking", "heat", files["heat_good"])
    arena.score_pending(workers=2)

    public = arena.leaderboard(beta, "tracking", "heat", "public")
    teams = [r.entrant for r in public if not r.baseline]
    assert teams == ["alpha", "beta", "gamma"], public
    base = next(r for r in public if r.baseline)
    assert base.entrant == "baseline:drop60" and base.rank is None
    assert [r.rank for r in public if not r.baseline] == [1, 2, 3]
    inspection = arena.leaderboard(beta, "inspection", "heat", "public")
    assert [r.entrant for r in inspection] == ["alpha", "beta"]
    assert inspection[0].score > 0.95 > inspection[1].score

    # private scores stay hidden from participants until the end; organisers see them
    with pytest.raises(ArenaError, match="revealed when the phase ends"):
        arena.leaderboard(beta, "tracking", "heat", "private")
    assert arena.submission(alpha, a1)["private"] is None
    assert arena.submission(SYSTEM, a1)["private"]["HOTA"] > 80
    arena.select(alpha, a2)
    with pytest.raises(ArenaError, match="already selected 1"):
        arena.select(alpha, a1)
    clock.set("2026-11-10T00:00:01")
    private = arena.leaderboard(beta, "tracking", "heat", "private")
    assert [r.entrant for r in private if not r.baseline] == ["alpha", "beta", "gamma"]
    assert next(r for r in private if r.entrant == "alpha").submission == a2  # the selected one
    assert arena.submission(alpha, a1)["private"]["HOTA"] > 80

    # ---- the final: finalists, their submissions, the panel
    arena.set_finalists({"alpha": "tracking", "beta": "tracking", "gamma": "tracking"}, SYSTEM)
    clock.set("2026-11-21T10:00:00")
    with pytest.raises(ArenaError, match="not part of phase"):
        arena.submit(alpha, "inspection", "final", files["anomaly_good"])
    for actor, name in ((alpha, "final_good"), (beta, "final_drop"), (gamma, "final_shuffle")):
        arena.submit(actor, "tracking", "final", files[name])
    assert set(arena.score_pending(workers=2).values()) == {"scored"}
    clock.set("2026-11-25T12:00:00")
    final_board = arena.leaderboard(alpha, "tracking", "final", "private")
    benchmark = {r.entrant: r.score for r in final_board}
    assert list(benchmark) == ["alpha", "beta", "gamma"]

    arena.declare_conflict("judge4", "alpha", "former colleague", arena.actor("judge4"))
    plan = arena.assign_judges(SYSTEM)
    assert "judge4" not in plan["alpha"]
    assert all(len(js) == 3 for js in plan.values())
    loads = [sum(j in js for js in plan.values()) for j in JUDGE_RAW]
    assert max(loads) - min(loads) <= 1  # nine places over four judges, balanced
    with pytest.raises(ArenaError, match="not assigned"):
        arena.judge_score(
            arena.actor("judge4"), "alpha", dict(zip(CRITERIA, (1, 1, 1, 1), strict=False))
        )
    for judge, teams_scores in JUDGE_RAW.items():
        for team, values in teams_scores.items():
            if judge in plan[team]:
                arena.judge_score(
                    arena.actor(judge),
                    team,
                    dict(zip(CRITERIA, values, strict=False)),
                    f"{judge} on {team}",
                )
    with pytest.raises(ArenaError, match="panel and the organisers"):
        arena.judge_scores(beta)
    assert {s["judge"] for s in arena.judge_scores(arena.actor("judge1"))} == {"judge1"}

    sheet = arena.final_sheet(SYSTEM)
    expected = _expected_totals(arena, benchmark)
    assert [r.team for r in sheet] == sorted(expected, key=lambda t: -expected[t])
    for row in sheet:
        assert row.total == pytest.approx(expected[row.team], abs=1e-9)
    assert [r.team for r in sheet] == ["alpha", "beta", "gamma"]

    awards = arena.awards(SYSTEM)
    assert [(a.tier, a.team) for a in awards] == [
        ("First prize", "alpha"),
        ("Second prize", "beta"),
        ("Honourable mention", "gamma"),
    ]
    pdf = write_certificates(awards, tmp_path / "certificates.pdf", "Cup", arena.teams())
    assert (
        pdf.read_bytes().startswith(b"%PDF")
        and pdf.read_bytes().count(b"/Type /Page\n") + (pdf.read_bytes().count(b"/Type /Page "))
        >= 3
    )
    page = announcement_html(awards, arena.challenge.title, arena.teams())
    assert "&lt;test&gt;" in page and "<test>" not in page

    # reproducible: reopened from disk, the same sheet and awards
    again = Arena.open(tmp_path / "arena", clock=clock)
    assert [(r.team, r.total) for r in again.final_sheet(SYSTEM)] == [
        (r.team, r.total) for r in sheet
    ]
    assert again.awards(SYSTEM) == awards

    # a withdrawn submission leaves the boards but not the organisers' view or the audit
    arena.delete(gamma, g1)
    assert g1 not in {s["id"] for s in arena.submissions(gamma)}
    assert g1 in {s["id"] for s in arena.submissions(SYSTEM, include_deleted=True)}
    actions = {(e["action"], e["actor"]) for e in arena.audit(SYSTEM, 10000)}
    wanted = [("delete", "gamma-lead"), ("select", "alpha-lead"), ("judge_score", "judge1"),
              ("conflict", "judge4"), ("score", "system"), ("submit", "beta-lead")]  # fmt: skip
    assert all(entry in actions for entry in wanted), actions
