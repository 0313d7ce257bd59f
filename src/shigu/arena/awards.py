"""Award tiers from the final ranking, certificates as PDF and an announcement page.

Tie rule: finalists whose total and benchmark z-score are equal (to 1e-9) are ex aequo and
share the better tier; that tier grows by the tied teams and the next tiers shrink by as many,
so the number of awards stays what the challenge file says.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from shigu.arena.challenge import AwardTier
from shigu.arena.panel import SheetRow


@dataclass(frozen=True)
class Award:
    tier: str
    team: str
    rank: int
    total: float


def _tied(a: SheetRow, b: SheetRow) -> bool:
    return abs(a.total - b.total) <= 1e-9 and abs(a.benchmark_z - b.benchmark_z) <= 1e-9


def assign_awards(sheet: list[SheetRow], tiers: list[AwardTier]) -> list[Award]:
    awards: list[Award] = []
    i = 0
    surplus = 0  # awards given beyond a tier's count to ex aequo teams, taken from later tiers
    for tier in tiers:
        if tier.count <= surplus:
            surplus -= tier.count
            continue
        take = tier.count - surplus
        end = min(i + take, len(sheet))
        while 0 < end < len(sheet) and _tied(sheet[end - 1], sheet[end]):
            end += 1  # ex aequo: the tied team joins this tier
        surplus = max(0, (end - i) - take)
        awards.extend(Award(tier.name, r.team, r.rank, r.total) for r in sheet[i:end])
        i = end
    return awards


def write_certificates(
    awards: list[Award], path: Path, challenge_title: str, team_names: dict[str, str]
) -> Path:
    """One A4 landscape page per award (matplotlib's PDF backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.patches import Rectangle

    with PdfPages(path, metadata={"Title": f"{challenge_title}: certificates"}) as pdf:
        for award in awards:
            fig = plt.figure(figsize=(11.69, 8.27))
            fig.patch.set_facecolor("white")
            ax = fig.add_axes((0, 0, 1, 1))
            ax.axis("off")
            ax.add_patch(Rectangle((0.04, 0.05), 0.92, 0.9, fill=False, lw=3, color="#8a6d1d"))
            ax.text(0.5, 0.78, "Certificate of Award", ha="center", fontsize=34)
            ax.text(0.5, 0.66, challenge_title, ha="center", fontsize=18)
            ax.text(0.5, 0.52, team_names.get(award.team, award.team), ha="center", fontsize=28)
            ax.text(0.5, 0.40, award.tier, ha="center", fontsize=24, color="#8a6d1d")
            ax.text(0.5, 0.30, f"final rank {award.rank}", ha="center", fontsize=14)
            pdf.savefig(fig)
            plt.close(fig)
    return path


def announcement_html(awards: list[Award], challenge_title: str, team_names: dict[str, str]) -> str:
    """A self-contained page listing the awards by tier (every name escaped)."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(challenge_title)}: awards</title></head><body>",
        f"<h1>{html.escape(challenge_title)}: awards</h1>",
    ]
    tiers: dict[str, list[Award]] = {}
    for a in awards:
        tiers.setdefault(a.tier, []).append(a)
    for tier, group in tiers.items():
        parts.append(f"<h2>{html.escape(tier)}</h2><ol>")
        for a in group:
            name = html.escape(team_names.get(a.team, a.team))
            parts.append(f"<li data-team='{html.escape(a.team)}'>{name} (rank {a.rank})</li>")
        parts.append("</ol>")
    parts.append("</body></html>")
    return "\n".join(parts)
