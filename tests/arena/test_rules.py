"""The arena's pure rules: leaderboard ties and selections, panel assignment and severity
normalisation, award tiers with ex aequo teams, challenge validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shigu.arena import leaderboard, panel
from shigu.arena.awards import assign_awards
from shigu.arena.challenge import AwardTier, Panel, parse_challenge
from shigu.arena.tasks import Item, split_items
from shigu.core.errors import ConfigError, InputError

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def scored(entrant: str, minutes: int, public: float, private: float | None = None,
           selected: bool = False, baseline: bool = False) -> leaderboard.Scored:  # fmt: skip
    return leaderboard.Scored(
        f"{entrant}{minutes}", entrant, T0 + timedelta(minutes=minutes), public,
        public if private is None else private, selected, baseline,
    )  # fmt: skip


def test_ties_go_to_the_earlier_submission_and_baselines_take_no_rank() -> None:
    subs = [scored("late", 9, 0.8), scored("early", 3, 0.8), scored("base", 1, 0.9, baseline=True),
            scored("low", 0, 0.2)]  # fmt: skip
    rows = leaderboard.build(subs, "public", higher=True)
    assert [(r.entrant, r.rank) for r in rows] == [
        ("base", None), ("early", 1), ("late", 2), ("low", 3)
    ]  # fmt: skip
    lower = leaderboard.build(subs, "public", higher=False)
    assert lower[0].entrant == "low"
    assert "rank,entrant,score" in leaderboard.to_csv(rows)


def test_private_boards_use_selections_or_the_best_public_ones() -> None:
    subs = [
        scored("a", 1, 0.9, 0.5),
        scored("a", 2, 0.7, 0.8, selected=True),
        scored("b", 1, 0.6, 0.6),
        scored("b", 2, 0.95, 0.4),
        scored("b", 3, 0.5, 0.99),
    ]
    rows = leaderboard.build(subs, "private", higher=True, selections=2)
    got = {r.entrant: (r.score, r.submission) for r in rows}
    assert got["a"] == (0.8, "a2")  # the selected one, though its public score was lower
    assert got["b"] == (0.6, "b1")  # no selection: its two best public (b2, b1), not b3


def test_assignment_avoids_conflicts_and_balances_load() -> None:
    judges = ["j1", "j2", "j3", "j4", "j5"]
    finalists = [f"t{i}" for i in range(7)]
    conflicts = {("j1", "t0"), ("j2", "t0"), ("j3", "t3")}
    plan = panel.assign(judges, finalists, conflicts, per_finalist=3)
    assert all(len(set(js)) == 3 for js in plan.values())
    assert not any((j, t) in conflicts for t, js in plan.items() for j in js)
    loads = [sum(j in js for js in plan.values()) for j in judges]
    assert max(loads) - min(loads) <= 1
    assert plan == panel.assign(judges, list(reversed(finalists)), conflicts, 3)  # stable
    with pytest.raises(InputError, match="without a conflict"):
        panel.assign(["j1", "j2"], ["t0"], {("j1", "t0")}, per_finalist=2)


@pytest.mark.parametrize("method", ["zscore", "robust"])
def test_a_severe_judge_does_not_change_the_ranking(method: str) -> None:
    cfg = Panel(normalise=method, judges_per_finalist=2)
    crit = [c.id for c in cfg.criteria]
    raw = {"j1": {"a": 9, "b": 6, "c": 4}, "j2": {"a": 8, "b": 7, "c": 3}}
    scores = {(j, t): dict.fromkeys(crit, float(v)) for j, ts in raw.items() for t, v in ts.items()}
    finalists = dict.fromkeys("abc", "trk")
    base = panel.rank(cfg, scores, finalists, {}, {"trk": True})
    severe = {k: {c: v - 3 if k[0] == "j2" else v for c, v in s.items()} for k, s in scores.items()}
    again = panel.rank(cfg, severe, finalists, {}, {"trk": True})
    assert [(r.team, round(r.total, 9)) for r in base] == [
        (r.team, round(r.total, 9)) for r in again
    ]
    assert [r.team for r in base] == ["a", "b", "c"]


def test_the_benchmark_feeds_its_criterion_with_its_weight() -> None:
    cfg = Panel(judges_per_finalist=1, benchmark_weight=1.0)
    crit = [c.id for c in cfg.criteria]
    scores = {("j", t): dict.fromkeys(crit, 5.0) for t in "ab"}  # the panel cannot tell a, b
    rows = panel.rank(cfg, scores, {"a": "t", "b": "t"}, {"a": 10.0, "b": 20.0}, {"t": False})
    assert [r.team for r in rows] == ["a", "b"]  # lower is better on this track
    assert rows[0].criteria["technical"] == pytest.approx(1.0)


def _sheet(totals: list[float]) -> list[panel.SheetRow]:
    return [panel.SheetRow(i + 1, f"t{i}", "x", v) for i, v in enumerate(totals)]


def test_award_tiers_with_ex_aequo_teams() -> None:
    tiers = [AwardTier(name="first", count=1), AwardTier(name="second", count=2),
             AwardTier(name="third", count=5), AwardTier(name="mention", count=6)]  # fmt: skip
    plain = assign_awards(_sheet([20 - i for i in range(16)]), tiers)
    assert [sum(a.tier == t.name for a in plain) for t in tiers] == [1, 2, 5, 6]
    assert len(plain) == 14
    tied = assign_awards(_sheet([10, 10, 8, 7, 6, 5, 4, 3, 2, 1]), tiers)
    assert [a.tier for a in tied[:3]] == ["first", "first", "second"]  # shared first prize
    assert sum(a.tier == "second" for a in tied) == 1  # the next tier gives one up
    assert len(tied) == 10  # fewer finalists than awards: everyone gets one


def test_split_is_stable_stratified_and_never_one_sided() -> None:
    items = [Item(f"good/{i}", "good") for i in range(6)] + [
        Item(f"bad/{i}", "defect") for i in range(9)
    ]
    pub, priv = split_items(items, "c/p/t", None, 0.5)
    assert (pub, priv) == split_items(items, "c/p/t", None, 0.5)
    assert sorted(pub + priv) == sorted(i.id for i in items)
    for stratum in ("good/", "bad/"):
        assert any(x.startswith(stratum) for x in pub) and any(x.startswith(stratum) for x in priv)
    assert split_items(items[:2], "k", None, 0.01)[0]  # rounding never empties a side
    with pytest.raises(InputError, match="unknown item"):
        split_items(items, "k", ["nope"], 0.5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tracks": [{"id": "t", "task": "mot", "metric": "mAP"}]}, "is not one of"),
        ({"tracks": [{"id": "t", "task": "custom", "metric": "s"}]}, "scorer"),
        ({"tracks": [{"id": "t", "task": "golf", "metric": "s"}]}, "task"),
        (
            {
                "phases": [
                    {
                        "id": "p",
                        "start": "2026-02-01",
                        "end": "2026-01-01",
                        "tracks": {"t": {"ground_truth": "."}},
                    }
                ]
            },
            "ends before",
        ),
        (
            {
                "phases": [
                    {
                        "id": "p",
                        "start": "2026-01-01",
                        "end": "2026-02-01",
                        "tracks": {"zz": {"ground_truth": "."}},
                    }
                ]
            },
            "unknown track",
        ),
        ({"colour": "red"}, "unknown key"),
    ],
)
def test_challenge_files_are_validated(change: dict[str, object], message: str) -> None:
    data: dict[str, object] = {
        "id": "c",
        "tracks": [{"id": "t", "task": "mot", "metric": "HOTA"}],
        "phases": [{"id": "p", "start": "2026-01-01", "end": "2026-02-01",
                    "tracks": {"t": {"ground_truth": "."}}}],
    }  # fmt: skip
    data.update(change)
    with pytest.raises(ConfigError, match=message):
        parse_challenge(data, "c.yaml", Path("."))
