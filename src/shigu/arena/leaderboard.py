"""Leaderboards from scored submissions: public and private, ties broken by the earlier
submission, the team's selected submissions, baselines shown beside the teams, and the
Ladder mechanism as an option against overfitting the public split.

The Ladder (Blum and Hardt, "The Ladder: A Reliable Leaderboard for Machine Learning
Competitions", ICML 2015): a team's public score only changes when a new submission beats
the shown one by more than the step, and the shown value is rounded to the step, so probing
the public split with many small variations tells a team next to nothing.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Scored:
    """What a leaderboard needs of one scored submission."""

    id: str
    entrant: str  # team id, or "baseline:<name>"
    created: datetime
    public: float
    private: float | None
    selected: bool = False
    baseline: bool = False


@dataclass
class Row:
    rank: int | None  # None for baselines
    entrant: str
    score: float
    submission: str
    submitted: str
    entries: int
    baseline: bool


def _better(a: float, b: float, higher: bool) -> bool:
    return a > b if higher else a < b


def ladder_scores(subs: list[Scored], step: float, higher: bool) -> dict[str, tuple[float, Scored]]:
    """Each entrant's shown public score under the Ladder, with the submission that set it."""
    shown: dict[str, tuple[float, Scored]] = {}
    for s in sorted(subs, key=lambda x: (x.created, x.id)):
        current = shown.get(s.entrant)
        rounded = round(s.public / step) * step
        if current is None or _better(s.public, current[0] + (step if higher else -step), higher):
            shown[s.entrant] = (rounded, s)
    return shown


def _best(subs: list[Scored], key: str, higher: bool) -> Scored:
    def order(s: Scored) -> tuple[float, datetime, str]:
        value = getattr(s, key)
        return (-value if higher else value, s.created, s.id)

    return min(subs, key=order)


def build(
    subs: list[Scored],
    split: str,
    higher: bool,
    selections: int = 2,
    ladder_step: float | None = None,
) -> list[Row]:
    """Rank entrants on ``split`` (``public`` or ``private``).

    Public: each entrant's best public score (or its Ladder score). Private: the best private
    score among the entrant's selected submissions; an entrant who selected none is judged on
    its best ``selections`` by public score (as Kaggle does). Ties: the earlier submission
    first, then the entrant id, so a ranking never depends on the order rows were read.
    """
    by_entrant: dict[str, list[Scored]] = {}
    for s in subs:
        by_entrant.setdefault(s.entrant, []).append(s)
    picked: list[tuple[float, Scored, int]] = []
    if split == "public" and ladder_step:
        for entrant, (value, s) in ladder_scores(subs, ladder_step, higher).items():
            picked.append((value, s, len(by_entrant[entrant])))
    else:
        for group in by_entrant.values():
            if split == "public":
                best = _best(group, "public", higher)
                picked.append((best.public, best, len(group)))
                continue
            candidates = [s for s in group if s.selected and s.private is not None]
            if not candidates:
                ranked = sorted(
                    group, key=lambda s: (-s.public if higher else s.public, s.created, s.id)
                )
                candidates = [s for s in ranked[:selections] if s.private is not None]
            if candidates:
                best = _best(candidates, "private", higher)
                picked.append((float(best.private), best, len(group)))  # type: ignore[arg-type]
    picked.sort(key=lambda p: (-p[0] if higher else p[0], p[1].created, p[1].entrant))
    rows: list[Row] = []
    rank = 0
    for value, s, count in picked:
        if not s.baseline:
            rank += 1
        rows.append(
            Row(
                rank=None if s.baseline else rank,
                entrant=s.entrant,
                score=value,
                submission=s.id,
                submitted=s.created.isoformat(),
                entries=count,
                baseline=s.baseline,
            )
        )
    return rows


def to_json(rows: list[Row], meta: dict[str, Any]) -> str:
    return json.dumps({**meta, "rows": [asdict(r) for r in rows]}, indent=2)


def to_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rank", "entrant", "score", "submission", "submitted", "entries", "baseline"])
    for r in rows:
        writer.writerow(
            [
                "" if r.rank is None else r.rank,
                r.entrant,
                f"{r.score:.6f}",
                r.submission,
                r.submitted,
                r.entries,
                int(r.baseline),
            ]
        )
    return out.getvalue()
