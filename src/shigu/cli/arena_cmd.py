"""``shigu arena ...``: run a challenge: people and teams, submissions scored in a sandbox,
leaderboards, the expert panel and the awards.

The CLI works on the arena folder directly, as its organiser; ``--as PERSON`` acts for a
participant or judge (their limits and permissions apply).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from shigu.cli._common import check_output_path, console, narrow_table

app = typer.Typer(
    help="The challenge arena: tracks scored by Shigu's evaluators, public and private "
    "leaderboards, an expert panel with severity-normalised scores, award tiers.\n\n"
    "Start: `shigu arena init DIR --challenge challenge.yaml`, add people and teams, "
    "`shigu arena submit`, `shigu arena score`, `shigu arena leaderboard`.",
    no_args_is_help=True,
)
ARENA = typer.Option(..., "--challenge", "-c", help="The arena folder (made by `arena init`).")
PASSWORD = typer.Option(
    ...,
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="SHIGU_PASSWORD",
    help="At least 8 characters; asked for when not given, or read from $SHIGU_PASSWORD.",
)


def _open(folder: Path) -> Any:
    from shigu.arena.store import load_arena

    return load_arena(folder)


def _as(arena: Any, person: str | None) -> Any:
    from shigu.arena.store import SYSTEM

    return SYSTEM if person is None else arena.actor(person)


@app.command("check")
def check(challenge: Path = typer.Argument(..., help="A challenge YAML file.")) -> None:
    """Validate a challenge file and print its tracks, phases and split sizes."""
    from shigu.arena import tasks
    from shigu.arena.challenge import load_challenge

    ch = load_challenge(challenge)
    rows = []
    for phase in ch.phases:
        for track_id, tp in phase.tracks.items():
            track = ch.track(track_id)
            items = tasks.list_items(
                track.task, Path(tp.ground_truth), track.scorer, challenge.resolve().parent
            )
            pub, priv = tasks.split_items(
                items, f"{ch.id}/{phase.id}/{track_id}", tp.public, tp.public_fraction
            )
            rows.append(
                [phase.id, phase.kind, track_id, track.task, track.metric, str(len(pub)),
                 str(len(priv))]
            )  # fmt: skip
    console.print(
        narrow_table(
            f"{ch.id}: valid",
            ["phase", "kind", "track", "task", "metric", "public", "private"],
            rows,
        )
    )


@app.command("init")
def init(
    folder: Path = typer.Argument(..., help="New folder for the arena."),
    challenge: Path = typer.Option(..., "--challenge", help="The challenge YAML file."),
    store: str | None = typer.Option(
        None, "--store", help="Database URL (default: SQLite in the folder; postgresql+psycopg://)"
    ),
) -> None:
    """Create an arena: its store, the public/private split, the baselines queued."""
    from shigu.arena.store import Arena

    arena = Arena.init(folder, challenge, store)
    console.print(
        f"arena {arena.challenge.id} created in {folder} ({len(arena.challenge.phases)} phases, "
        f"{len(arena.challenge.tracks)} tracks); add people with `shigu arena person`",
        highlight=False,
    )


@app.command("person")
def person(
    name: str = typer.Argument(..., help="Person's name (their sign-in)."),
    arena_dir: Path = ARENA,
    role: str = typer.Option("participant", "--role", help="participant, judge or organiser."),
    password: str = PASSWORD,
) -> None:
    """Register a person (one account per person)."""
    arena = _open(arena_dir)
    arena.add_person(name, password, role, by=_as(arena, None))
    console.print(f"{name} registered as {role}", highlight=False)


@app.command("invite")
def invite(name: str = typer.Argument(...), arena_dir: Path = ARENA) -> None:
    """Invite a person to a private challenge (they may then register)."""
    _open(arena_dir).invite(name, _as(None, None))
    console.print(f"{name} invited", highlight=False)


@app.command("team")
def team(
    team_id: str = typer.Argument(..., help="Team id (letters, digits, . _ -)."),
    arena_dir: Path = ARENA,
    captain: str = typer.Option(..., "--captain", help="The registered participant who leads."),
    name: str = typer.Option("", "--name", help="Display name."),
    member: list[str] = typer.Option([], "--member", help="Add a member (repeatable)."),
) -> None:
    """Create a team with its captain and members."""
    arena = _open(arena_dir)
    arena.create_team(team_id, name or team_id, arena.actor(captain))
    for m in member:
        arena.add_member(team_id, m, arena.actor(captain))
    console.print(f"team {team_id} created ({1 + len(member)} members)", highlight=False)


@app.command("submit")
def submit(
    file: Path = typer.Argument(..., help="Result file: a zip, a CSV or a JSON, by task."),
    arena_dir: Path = ARENA,
    phase: str = typer.Option(..., "--phase", help="Phase id."),
    track: str | None = typer.Option(None, "--track", help="Track id (needed if several)."),
    team_id: str | None = typer.Option(None, "--team", help="Team (submits as its captain)."),
    person_name: str | None = typer.Option(None, "--as", help="Submit as this team member."),
    wait: bool = typer.Option(False, "--wait", help="Score it now and print the result."),
) -> None:
    """Queue a submission; with --wait, score it at once."""
    from shigu.core.errors import InputError

    arena = _open(arena_dir)
    ph = arena.challenge.phase(phase)
    if track is None:
        if len(ph.tracks) != 1:
            raise InputError(f"phase {phase!r} has several tracks", "pass --track")
        track = next(iter(ph.tracks))
    if person_name is None:
        if team_id is None:
            raise InputError("say who submits", "pass --team TEAM or --as PERSON")
        person_name = arena.captain(team_id)
    sid = arena.submit(arena.actor(person_name), track, phase, file)
    if not wait:
        console.print(f"submission {sid} queued; score with `shigu arena score`", highlight=False)
        return
    arena.score_pending(workers=1)
    view = arena.submission(arena.actor(person_name), sid)
    _print_submission(view)
    if view["status"] != "scored":
        raise typer.Exit(1)


def _print_submission(view: dict[str, Any]) -> None:
    metrics = ", ".join(f"{k} {v:.4g}" for k, v in (view["public"] or {}).items())
    console.print(
        f"{view['id']}  {view['status']}  {view['message']}"
        + (f"  public: {metrics}" if metrics else ""),
        highlight=False,
        markup=False,
    )
    for line in view["report"][:20]:
        console.print(f"  - {line}", highlight=False, markup=False)


@app.command("score")
def score(
    arena_dir: Path = ARENA,
    workers: int = typer.Option(2, "--workers", min=1, max=64, help="Sandboxed scorers at once."),
) -> None:
    """Score every queued submission (each in its own sandboxed process)."""
    arena = _open(arena_dir)
    done = arena.score_pending(workers=workers)
    counts: dict[str, int] = {}
    for status in done.values():
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing queued"
    console.print(f"scored: {summary}", highlight=False)


@app.command("status")
def status(
    arena_dir: Path = ARENA,
    team_id: str | None = typer.Option(None, "--team", help="Only this team's."),
    deleted: bool = typer.Option(False, "--deleted", help="Include withdrawn submissions."),
) -> None:
    """List submissions with their status and public scores."""
    arena = _open(arena_dir)
    rows = [
        [v["id"][:12], v["team"] or f"baseline:{v['baseline']}", v["track"], v["phase"],
         v["status"] + (" (withdrawn)" if v["deleted"] else ""),
         ", ".join(f"{k} {x:.4g}" for k, x in (v["public"] or {}).items())[:60], v["message"][:60]]
        for v in arena.submissions(_as(arena, None), team_id, deleted)
    ]  # fmt: skip
    console.print(
        narrow_table(
            "submissions", ["id", "entrant", "track", "phase", "status", "public", "message"], rows
        )
    )


@app.command("leaderboard")
def board(
    arena_dir: Path = ARENA,
    track: str = typer.Option(..., "--track"),
    phase: str = typer.Option(..., "--phase"),
    private: bool = typer.Option(False, "--private", help="The private split (after the end)."),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
    out: Path | None = typer.Option(None, "--out", help="Write CSV/JSON here."),
    person_name: str | None = typer.Option(None, "--as", help="See it as this person would."),
) -> None:
    """A track's leaderboard for a phase (baselines marked)."""
    from shigu.arena import leaderboard
    from shigu.core.errors import InputError

    if fmt not in ("table", "csv", "json"):
        raise InputError(f"unknown format {fmt!r}", "use table, csv or json")
    arena = _open(arena_dir)
    split = "private" if private else "public"
    rows = arena.leaderboard(_as(arena, person_name), track, phase, split)
    if fmt == "table":
        table = [
            ["" if r.rank is None else str(r.rank),
             r.entrant + (" (baseline)" if r.baseline else ""),
             f"{r.score:.4f}", str(r.entries), r.submitted[:19]]
            for r in rows
        ]  # fmt: skip
        metric = arena.challenge.track(track).metric
        title = f"{track} / {phase} ({split}, {metric})"
        console.print(narrow_table(title, ["rank", "entrant", metric, "entries", "at"], table))
        return
    meta = {"track": track, "phase": phase, "split": split}
    text = leaderboard.to_csv(rows) if fmt == "csv" else leaderboard.to_json(rows, meta)
    if out is None:
        console.print(text, highlight=False, markup=False, end="")
        return
    check_output_path(out, (f".{fmt}",), "leaderboard")
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}", highlight=False)


@app.command("select")
def select_cmd(
    submission: str = typer.Argument(..., help="Submission id."),
    arena_dir: Path = ARENA,
    person_name: str = typer.Option(..., "--as", help="A member of the submitting team."),
    unselect: bool = typer.Option(False, "--unselect"),
) -> None:
    """Choose (or drop) a submission for the private leaderboard."""
    arena = _open(arena_dir)
    arena.select(arena.actor(person_name), submission, not unselect)
    console.print(f"{submission} {'unselected' if unselect else 'selected'}", highlight=False)


@app.command("withdraw")
def withdraw(
    submission: str = typer.Argument(..., help="Submission id."),
    arena_dir: Path = ARENA,
    person_name: str | None = typer.Option(None, "--as", help="A member of the team."),
) -> None:
    """Withdraw a submission (kept for disputes, hidden from boards)."""
    arena = _open(arena_dir)
    arena.delete(_as(arena, person_name), submission)
    console.print(f"{submission} withdrawn", highlight=False)


@app.command("reveal")
def reveal(arena_dir: Path = ARENA, phase: str = typer.Option(..., "--phase")) -> None:
    """Show the private leaderboard of a phase before its end date."""
    arena = _open(arena_dir)
    arena.reveal(phase, _as(arena, None))
    console.print(f"private leaderboard of {phase} revealed", highlight=False)


@app.command("finalists")
def finalists(
    teams: list[str] = typer.Argument(None, help="TEAM=TRACK pairs (or use --top)."),
    arena_dir: Path = ARENA,
    top: int | None = typer.Option(
        None,
        "--top",
        help="The best N of each track's private board (public when a heat "
        "has no private items) in each --phase.",
    ),
    phase: list[str] = typer.Option(
        [], "--phase", help="With --top: a heat to take finalists from (repeatable: regions)."
    ),
) -> None:
    """Choose the finalists the panel judges (named, or the best of each heat)."""
    from shigu.core.errors import InputError

    arena = _open(arena_dir)
    chosen: dict[str, str] = {}
    for pair in teams or []:
        team_id, sep, track = pair.partition("=")
        if not sep:
            raise InputError(f"{pair!r} is not TEAM=TRACK")
        chosen[team_id] = track
    if top is not None:
        if not phase:
            raise InputError("--top needs --phase (the heats the finalists come from)")
        for heat in phase:
            for track in arena.challenge.phase(heat).tracks:
                split = "private" if arena.splits[heat][track]["private"] else "public"
                for row in arena.leaderboard(_as(arena, None), track, heat, split):
                    if row.rank is not None and row.rank <= top:
                        chosen.setdefault(row.entrant, track)
    if not chosen:
        raise InputError("no finalists given", "pass TEAM=TRACK pairs or --top N --phase P")
    arena.set_finalists(chosen, _as(arena, None))
    console.print(f"{len(chosen)} finalists: {', '.join(sorted(chosen))}", highlight=False)


@app.command("conflict")
def conflict(
    arena_dir: Path = ARENA,
    judge: str = typer.Option(..., "--judge"),
    team_id: str = typer.Option(..., "--team"),
    reason: str = typer.Option("", "--reason"),
) -> None:
    """Declare a judge's conflict of interest with a team (never assigned to it)."""
    arena = _open(arena_dir)
    arena.declare_conflict(judge, team_id, reason, _as(arena, None))
    console.print(f"{judge} will not judge {team_id}", highlight=False)


@app.command("assign")
def assign(arena_dir: Path = ARENA) -> None:
    """Assign judges to finalists (balanced, no conflicts)."""
    arena = _open(arena_dir)
    plan = arena.assign_judges(_as(arena, None))
    rows = [[team_id, ", ".join(judges)] for team_id, judges in plan.items()]
    console.print(narrow_table("assignments", ["finalist", "judges"], rows))


@app.command("judge")
def judge(
    arena_dir: Path = ARENA,
    person_name: str = typer.Option(..., "--as", help="The judge."),
    team_id: str = typer.Option(..., "--team"),
    score_pairs: list[str] = typer.Option(..., "--score", help="CRITERION=VALUE (repeatable)."),
    comment: str = typer.Option("", "--comment"),
) -> None:
    """Record a judge's scores for a finalist on every criterion."""
    from shigu.core.errors import InputError

    arena = _open(arena_dir)
    scores: dict[str, float] = {}
    for pair in score_pairs:
        key, sep, value = pair.partition("=")
        try:
            scores[key] = float(value)
        except ValueError:
            raise InputError(f"--score {pair!r} is not CRITERION=NUMBER") from None
        if not sep:
            raise InputError(f"--score {pair!r} is not CRITERION=NUMBER")
    arena.judge_score(arena.actor(person_name), team_id, scores, comment)
    console.print(f"{person_name} scored {team_id}", highlight=False)


@app.command("rank")
def rank(
    arena_dir: Path = ARENA,
    out: Path | None = typer.Option(None, "--out", help="Write the score sheet (.csv or .json)."),
) -> None:
    """The final ranking and its score sheet, recomputed from the stored scores."""
    from dataclasses import asdict

    arena = _open(arena_dir)
    sheet = arena.final_sheet(_as(arena, None))
    criteria = [c.id for c in arena.challenge.panel.criteria]
    rows = [
        [str(r.rank), r.team, f"{r.total:+.3f}", *[f"{r.criteria[c]:+.2f}" for c in criteria],
         "" if r.benchmark is None else f"{r.benchmark:.4g}"]
        for r in sheet
    ]  # fmt: skip
    console.print(
        narrow_table("final ranking", ["rank", "team", "total", *criteria, "benchmark"], rows)
    )
    if out is not None:
        check_output_path(out, (".csv", ".json"), "score sheet")
        if out.suffix == ".json":
            out.write_text(json.dumps([asdict(r) for r in sheet], indent=2), encoding="utf-8")
        else:
            import csv

            with out.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["rank", "team", "track", "total", *criteria, "benchmark", "judges"])
                for r in sheet:
                    bench = "" if r.benchmark is None else r.benchmark
                    crit = [f"{r.criteria[c]:.6f}" for c in criteria]
                    w.writerow([r.rank, r.team, r.track, f"{r.total:.6f}", *crit, bench,
                                " ".join(r.judges)])  # fmt: skip
        console.print(f"wrote {out}", highlight=False)


@app.command("awards")
def awards(
    arena_dir: Path = ARENA,
    out: Path = typer.Option(..., "--out", help="Folder for awards.json, .html and the PDF."),
) -> None:
    """Award tiers from the final ranking; certificates (PDF) and an announcement page."""
    from dataclasses import asdict

    from shigu.arena.awards import announcement_html, write_certificates

    arena = _open(arena_dir)
    given = arena.awards(_as(arena, None))
    out.mkdir(parents=True, exist_ok=True)
    names = arena.teams()
    title = arena.challenge.title or arena.challenge.id
    (out / "awards.json").write_text(json.dumps([asdict(a) for a in given], indent=2))
    (out / "awards.html").write_text(announcement_html(given, title, names), encoding="utf-8")
    write_certificates(given, out / "certificates.pdf", title, names)
    rows = [[a.tier, a.team, str(a.rank)] for a in given]
    console.print(narrow_table("awards", ["tier", "team", "rank"], rows))
    console.print(f"wrote {out}/awards.json, awards.html, certificates.pdf", highlight=False)


@app.command("audit")
def audit(
    arena_dir: Path = ARENA, limit: int = typer.Option(50, "--limit", min=1, max=100000)
) -> None:
    """Who did what and when, newest first."""
    arena = _open(arena_dir)
    rows = [
        [e["at"][:19], e["actor"], e["action"], e["target"][:16], json.dumps(e["detail"])[:60]]
        for e in arena.audit(_as(arena, None), limit)
    ]
    console.print(narrow_table("audit", ["at", "actor", "action", "target", "detail"], rows))


@app.command("serve")
def serve(
    arena_dir: Path = ARENA,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8100, "--port", min=1, max=65535),
    workers: int = typer.Option(2, "--workers", min=1, max=64, help="Sandboxed scorers."),
) -> None:
    """Serve the arena's pages and API, scoring uploads in the background."""
    import uvicorn

    from shigu.arena.web import ScoringLoop, create_arena_app

    arena = _open(arena_dir)
    app = create_arena_app(arena)
    loop = ScoringLoop(arena, workers).start()
    console.print(f"arena on http://{host}:{port}/  (Ctrl-C stops)", highlight=False)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        loop.stop()
        arena.close()


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="arena")
