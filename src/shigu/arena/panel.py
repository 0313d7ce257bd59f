"""The expert panel: assigning judges to finalists and turning their scores into a ranking.

Assignment is deterministic: finalists with the fewest eligible judges are served first, and
each takes the eligible judges (no declared conflict) with the lightest load so far, ties by
name. Judges differ in severity, so each judge's scores are normalised before they are
combined: per judge and criterion, ``z = (x - mean) / std`` over everything that judge scored
(``robust``: median and 1.4826 x MAD, falling back to the standard deviation when the MAD is
0; a judge who gave every finalist the same score contributes 0). A finalist's criterion value
is the mean over its judges. The automatic benchmark score, z-scored among the finalists of the
same track (sign by the metric's ordering), can feed one criterion with a configured weight.
The total is the weighted sum (weights normalised to 1). Ties: the higher benchmark z-score,
then the team id. Everything is recomputed from the stored scores, so a ranking reproduces.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from shigu.arena.challenge import Panel
from shigu.core.errors import InputError


def assign(
    judges: list[str], finalists: list[str], conflicts: set[tuple[str, str]], per_finalist: int
) -> dict[str, list[str]]:
    """finalist -> its judges."""
    load = dict.fromkeys(sorted(judges), 0)
    eligible = {f: [j for j in load if (j, f) not in conflicts] for f in finalists}
    out: dict[str, list[str]] = {}
    for f in sorted(finalists, key=lambda f: (len(eligible[f]), f)):
        if len(eligible[f]) < per_finalist:
            raise InputError(
                f"finalist {f!r} has {len(eligible[f])} judges without a conflict, "
                f"{per_finalist} needed",
                "add judges or lower panel.judges_per_finalist",
            )
        chosen = sorted(eligible[f], key=lambda j: (load[j], j))[:per_finalist]
        for j in chosen:
            load[j] += 1
        out[f] = sorted(chosen)
    return out


def _centre_spread(values: list[float], method: str) -> tuple[float, float]:
    if method == "none":
        return 0.0, 1.0
    if method == "robust":
        centre = statistics.median(values)
        mad = statistics.median(abs(v - centre) for v in values) * 1.4826
        if mad > 0:
            return centre, mad
    else:
        centre = statistics.fmean(values)
    spread = statistics.pstdev(values) if len(values) > 1 else 0.0
    return centre, spread


def normalise(
    scores: dict[tuple[str, str], dict[str, float]], criteria: list[str], method: str
) -> dict[tuple[str, str], dict[str, float]]:
    """(judge, team) -> criterion -> normalised value."""
    out: dict[tuple[str, str], dict[str, float]] = {k: {} for k in scores}
    for judge in {j for j, _ in scores}:
        mine = [k for k in scores if k[0] == judge]
        for c in criteria:
            values = [scores[k][c] for k in mine]
            centre, spread = _centre_spread(values, method)
            for k in mine:
                out[k][c] = (scores[k][c] - centre) / spread if spread > 0 else 0.0
    return out


@dataclass
class SheetRow:
    rank: int
    team: str
    track: str
    total: float
    criteria: dict[str, float] = field(default_factory=dict)  # normalised, mean over judges
    raw: dict[str, float] = field(default_factory=dict)  # raw mean over judges
    judges: list[str] = field(default_factory=list)
    benchmark: float | None = None
    benchmark_z: float = 0.0


def rank(
    panel: Panel,
    scores: dict[tuple[str, str], dict[str, float]],
    finalists: dict[str, str],
    benchmark: dict[str, float | None],
    higher: dict[str, bool],
) -> list[SheetRow]:
    """The final ranking with its full score sheet.

    Args:
        scores: (judge, team) -> raw criterion scores.
        finalists: team -> track.
        benchmark: team -> its automatic score in the final (None: none).
        higher: track -> whether a higher benchmark score is better.
    """
    criteria = [c.id for c in panel.criteria]
    missing = [t for t in finalists if not any(k[1] == t for k in scores)]
    if missing:
        raise InputError(f"no judge has scored {missing[0]!r} yet", "wait for the panel")
    norm = normalise(scores, criteria, panel.normalise)
    bench_z: dict[str, float] = {}
    for track in set(finalists.values()):
        teams = [t for t, tr in finalists.items() if tr == track and benchmark.get(t) is not None]
        values = [float(benchmark[t]) for t in teams]  # type: ignore[arg-type]
        centre = statistics.fmean(values) if values else 0.0
        spread = statistics.pstdev(values) if len(values) > 1 else 0.0
        sign = 1.0 if higher.get(track, True) else -1.0
        for t, v in zip(teams, values, strict=True):
            bench_z[t] = sign * (v - centre) / spread if spread > 0 else 0.0
    weights = {c.id: c.weight for c in panel.criteria}
    total_w = sum(weights.values())
    rows: list[SheetRow] = []
    for team, track in finalists.items():
        keys = sorted(k for k in scores if k[1] == team)
        crit = {c: statistics.fmean(norm[k][c] for k in keys) for c in criteria}
        raw = {c: statistics.fmean(scores[k][c] for k in keys) for c in criteria}
        bz = bench_z.get(team, 0.0)
        if panel.benchmark_weight > 0 and panel.benchmark_criterion:
            c = panel.benchmark_criterion
            crit[c] = (1 - panel.benchmark_weight) * crit[c] + panel.benchmark_weight * bz
        total = sum(weights[c] * crit[c] for c in criteria) / total_w
        rows.append(
            SheetRow(
                0, team, track, total, crit, raw, [k[0] for k in keys], benchmark.get(team), bz
            )
        )
    rows.sort(key=lambda r: (-round(r.total, 12), -round(r.benchmark_z, 12), r.team))
    for i, r in enumerate(rows, 1):
        r.rank = i
    return rows
