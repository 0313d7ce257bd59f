"""An arena on disk: its challenge, its database and its uploads, and every rule about who may
do and see what.

``DIR/arena.yaml`` names the store (SQLite in ``DIR/arena.db`` by default, PostgreSQL by
URL); ``DIR/challenge.yaml`` is the validated challenge with absolute ground-truth paths;
``DIR/splits.json`` the public/private item split (server-side only); uploads live under
``DIR/submissions/<id>/``. Every method that changes something writes an audit entry.
Access rules are enforced here, not in the web layer, so the CLI and the API share them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from shigu.arena import leaderboard, panel, tasks
from shigu.arena.awards import Award, assign_awards
from shigu.arena.challenge import Challenge, Phase, Track, load_challenge, parse_challenge
from shigu.arena.models import (
    Announcement,
    ArenaBase,
    Assignment,
    AuditEntry,
    Conflict,
    Finalist,
    Invitation,
    JudgeScore,
    Member,
    Person,
    Reveal,
    Submission,
    Team,
    Token,
)
from shigu.arena.sandbox import run_scoring
from shigu.core.errors import ConfigError, InputError, ShiguError
from shigu.store.events import make_engine

ROLES = ("organiser", "judge", "participant")
COUNTED = ("queued", "running", "scored")  # invalid and failed submissions do not count
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ArenaError(ShiguError):
    """An arena rule said no (permission, limit, phase closed)."""

    exit_code = 5


class NotFound(ArenaError):
    """Also what a person gets for something that exists but is not theirs to see."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: str  # organiser | judge | participant | public

    @property
    def organiser(self) -> bool:
        return self.role == "organiser"


SYSTEM = Actor("system", "organiser")  # the CLI on the server itself, and the scoring pool


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_name(name: str, what: str) -> str:
    if not _NAME.match(name or ""):
        raise InputError(
            f"{what} {name!r} is not allowed",
            "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return name


class Arena:
    """One challenge's arena. Open with :meth:`open`; create with :meth:`init`."""

    def __init__(
        self, root: Path, challenge: Challenge, url: str, clock: Callable[[], datetime] = _now
    ) -> None:
        self.root = root
        self.challenge = challenge
        self.url = url
        self.clock = clock
        self.engine: Engine = make_engine(url)
        ArenaBase.metadata.create_all(self.engine)
        splits = json.loads((root / "splits.json").read_text(encoding="utf-8"))
        self.splits: dict[str, dict[str, dict[str, list[str]]]] = splits

    # ------------------------------------------------------------------ set-up
    @classmethod
    def init(
        cls,
        root: str | Path,
        challenge_file: str | Path,
        url: str | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> Arena:
        """Create the arena folder, its store and the split; queue the baselines."""
        folder = Path(root)
        if (folder / "arena.yaml").exists():
            raise InputError(f"{folder} already holds an arena", "open it, or pick a new folder")
        challenge = load_challenge(challenge_file)
        splits: dict[str, dict[str, dict[str, list[str]]]] = {}
        for phase in challenge.phases:
            for track_id, tp in phase.tracks.items():
                track = challenge.track(track_id)
                items = tasks.list_items(
                    track.task,
                    Path(tp.ground_truth),
                    track.scorer,
                    Path(challenge_file).resolve().parent,
                )
                public, private = tasks.split_items(
                    items, f"{challenge.id}/{phase.id}/{track_id}", tp.public, tp.public_fraction
                )
                splits.setdefault(phase.id, {})[track_id] = {"public": public, "private": private}
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # uploads and the split are nobody else's business
        (folder / "submissions").mkdir(exist_ok=True)
        store_url = url or f"sqlite:///{(folder / 'arena.db').resolve()}"
        (folder / "challenge.yaml").write_text(
            yaml.safe_dump(challenge.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
        )
        (folder / "splits.json").write_text(json.dumps(splits, indent=1), encoding="utf-8")
        settings = {"store": store_url, "challenge_dir": str(Path(challenge_file).resolve().parent)}
        (folder / "arena.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
        arena = cls(folder, challenge, store_url, clock)
        arena._audit(SYSTEM, "init", challenge.id, {"challenge": str(challenge_file)})
        for phase in challenge.phases:
            for track_id, tp in phase.tracks.items():
                for name, path in tp.baselines.items():
                    arena._store_submission(
                        None, name, SYSTEM.name, track_id, phase.id, Path(path), Path(path).name
                    )
        return arena

    @classmethod
    def open(cls, root: str | Path, clock: Callable[[], datetime] = _now) -> Arena:
        folder = Path(root)
        settings = folder / "arena.yaml"
        if not settings.is_file():
            raise InputError(
                f"{folder} is not an arena", "create one: shigu arena init DIR --challenge FILE"
            )
        url = str(yaml.safe_load(settings.read_text(encoding="utf-8"))["store"])
        data = yaml.safe_load((folder / "challenge.yaml").read_text(encoding="utf-8"))
        return cls(folder, parse_challenge(data, str(folder / "challenge.yaml")), url, clock)

    @functools.cached_property
    def challenge_dir(self) -> Path:
        """The folder the challenge file came from: organisers' custom scorers live there
        (read once from ``arena.yaml``, not for every scoring job)."""
        settings = yaml.safe_load((self.root / "arena.yaml").read_text(encoding="utf-8"))
        return Path(settings.get("challenge_dir", self.root))

    def captain(self, team_id: str) -> str:
        with self._session() as s:
            row = s.get(Team, team_id)
            if row is None:
                raise NotFound(f"no team {team_id!r}", "see `shigu arena status`")
            return str(row.captain)

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session

    def _audit(self, actor: Actor, action: str, target: str = "", detail: Any = None) -> None:
        with self._session() as s:
            s.add(
                AuditEntry(
                    at=self.clock(), actor=actor.name, action=action, target=target,
                    detail=detail or {},
                )
            )  # fmt: skip

    def public_challenge(self) -> dict[str, Any]:
        """The challenge as anyone may see it: no ground-truth or baseline paths, no split."""
        c = self.challenge
        return {
            "id": c.id,
            "title": c.title,
            "private": c.private,
            "max_team_size": c.max_team_size,
            "tracks": [
                t.model_dump(include={"id", "title", "task", "metric", "higher_is_better",
                                      "ladder_step", "max_upload_mb"})
                for t in c.tracks
            ],
            "phases": [
                {**p.model_dump(mode="json", include={"id", "title", "kind", "region", "start",
                                                      "end", "limits", "final_selections"}),
                 "tracks": list(p.tracks), "revealed": self.revealed(p.id)}
                for p in c.phases
            ],
            "criteria": [cr.model_dump() for cr in c.panel.criteria],
            "awards": [a.model_dump() for a in c.awards],
        }  # fmt: skip

    # ------------------------------------------------------------------ people and teams
    def add_person(self, name: str, password: str, role: str, by: Actor | None = None) -> None:
        """Register a person. ``by`` None: they register themselves, as a participant (by
        invitation only when the challenge is private); organisers add anyone."""
        from shigu.server.auth import check_password_strength, hash_password

        _check_name(name, "name")
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}", f"use one of: {', '.join(ROLES)}")
        if role != "participant" and (by is None or not by.organiser):
            raise ArenaError("only organisers add judges and organisers")
        check_password_strength(password, name)
        with self._session() as s:
            if s.get(Person, name) is not None:
                raise ArenaError(f"{name!r} is already registered", "sign in instead")
            invited = s.get(Invitation, name) is not None
            if role == "participant" and self.challenge.private and by is None and not invited:
                raise ArenaError(
                    f"challenge {self.challenge.id!r} is by invitation only",
                    "ask an organiser to invite you",
                )
            s.add(Person(name=name, role=role, password_hash=hash_password(password),
                         created=self.clock()))  # fmt: skip
        self._audit(by or Actor(name, role), "add_person", name, {"role": role})

    def authenticate(self, name: str, password: str) -> Actor | None:
        from shigu.server.auth import verify_password

        with self._session() as s:
            person = s.get(Person, name)
            stored = person.password_hash if person is not None else None
            role = person.role if person is not None else ""
        if not verify_password(stored, password):
            return None
        return Actor(name, role)

    def create_token(self, actor: Actor, days: float = 7.0) -> str:
        """A sign-in token for ``actor`` (shown once; only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._session() as s:
            s.add(Token(token_hash=_sha(token), person=actor.name, created=now,
                        expires=now + timedelta(days=days)))  # fmt: skip
        return token

    def actor_for_token(self, token: str) -> Actor | None:
        with self._session() as s:
            row = s.get(Token, _sha(token))
            if row is None or _aware(row.expires) <= self.clock():
                return None
            person = s.get(Person, row.person)
            return Actor(person.name, person.role) if person is not None else None

    def end_token(self, token: str) -> None:
        with self._session() as s:
            row = s.get(Token, _sha(token))
            if row is not None:
                s.delete(row)

    def announce_awards(self, by: Actor) -> None:
        if not by.organiser:
            raise ArenaError("only organisers announce the awards")
        self.awards(by)  # the ranking must be complete first
        with self._session() as s:
            if s.get(Announcement, "awards") is None:
                s.add(Announcement(what="awards", by=by.name, at=self.clock()))
        self._audit(by, "announce_awards")

    def awards_announced(self) -> bool:
        with self._session() as s:
            return s.get(Announcement, "awards") is not None

    def public_awards(self) -> list[Award]:
        """The awards once announced (for everyone), else an ArenaError."""
        if not self.awards_announced():
            raise ArenaError("the awards have not been announced yet")
        return self.awards(SYSTEM)

    def actor(self, name: str) -> Actor:
        with self._session() as s:
            person = s.get(Person, name)
            if person is None:
                raise NotFound(f"no person {name!r} in this arena")
            return Actor(person.name, person.role)

    def invite(self, name: str, by: Actor) -> None:
        if not by.organiser:
            raise ArenaError("only organisers invite")
        _check_name(name, "name")
        with self._session() as s:
            if s.get(Invitation, name) is None:
                s.add(Invitation(name=name, invited_by=by.name, created=self.clock()))
        self._audit(by, "invite", name)

    def create_team(self, team_id: str, name: str, captain: Actor) -> None:
        _check_name(team_id, "team id")
        if captain.role != "participant":
            raise ArenaError("only participants form teams")
        with self._session() as s:
            if s.get(Team, team_id) is not None:
                raise ArenaError(f"team {team_id!r} exists", "pick another id")
            if s.get(Member, captain.name) is not None:
                raise ArenaError(f"{captain.name!r} is already in a team", "one team per person")
            s.add(Team(id=team_id, name=name[:128] or team_id, captain=captain.name,
                       created=self.clock()))  # fmt: skip
            s.flush()
            s.add(Member(person=captain.name, team=team_id))
        self._audit(captain, "create_team", team_id, {"name": name})

    def add_member(self, team_id: str, person: str, by: Actor) -> None:
        with self._session() as s:
            team = s.get(Team, team_id)
            if team is None:
                raise NotFound(f"no team {team_id!r}")
            if not by.organiser and by.name != team.captain:
                raise ArenaError("only the team's captain or an organiser adds members")
            who = s.get(Person, person)
            if who is None or who.role != "participant":
                raise ArenaError(f"{person!r} is not a registered participant")
            if s.get(Member, person) is not None:
                raise ArenaError(f"{person!r} is already in a team", "one team per person")
            size = s.scalar(select(func.count()).select_from(Member).where(Member.team == team_id))
            if (size or 0) >= self.challenge.max_team_size:
                raise ArenaError(
                    f"team {team_id!r} is full ({self.challenge.max_team_size} members)"
                )
            s.add(Member(person=person, team=team_id))
        self._audit(by, "add_member", team_id, {"person": person})

    def team_of(self, person: str) -> str | None:
        with self._session() as s:
            member = s.get(Member, person)
            return member.team if member is not None else None

    def teams(self) -> dict[str, str]:
        with self._session() as s:
            return {t.id: t.name for t in s.scalars(select(Team).order_by(Team.id))}

    def people(self, role: str | None = None) -> list[str]:
        with self._session() as s:
            q = select(Person.name).order_by(Person.name)
            if role:
                q = q.where(Person.role == role)
            return list(s.scalars(q))

    # ------------------------------------------------------------------ submissions
    def _open_phase(self, phase: Phase) -> None:
        now = self.clock()
        if now < phase.start:
            raise ArenaError(
                f"phase {phase.id!r} opens at {phase.start.isoformat()}", "submit then"
            )
        if now >= phase.end:
            raise ArenaError(f"phase {phase.id!r} closed at {phase.end.isoformat()}")

    def submit(
        self, actor: Actor, track_id: str, phase_id: str, upload: Path, filename: str | None = None
    ) -> str:
        """Queue an upload for scoring; checks the phase, the team and its limits first."""
        track, phase = self.challenge.track(track_id), self.challenge.phase(phase_id)
        if track_id not in phase.tracks:
            raise ArenaError(f"track {track_id!r} is not part of phase {phase_id!r}")
        team = self.team_of(actor.name)
        if actor.role != "participant" or team is None:
            raise ArenaError("only members of a team submit", "create or join a team first")
        self._open_phase(phase)
        if not upload.is_file():
            raise InputError(f"file not found: {upload}")
        if upload.stat().st_size > track.max_upload_mb * 1024**2:
            raise InputError(
                f"{upload.name} is larger than the track's {track.max_upload_mb:g} MiB limit"
            )
        now = self.clock()
        with self._session() as s:
            mine = (
                select(func.count())
                .select_from(Submission)
                .where(
                    Submission.team == team,
                    Submission.track == track_id,
                    Submission.phase == phase_id,
                    Submission.status.in_(COUNTED),
                    Submission.deleted_at.is_(None),
                )
            )
            total = s.scalar(mine) or 0
            day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
            today = s.scalar(mine.where(Submission.created >= day_start)) or 0
        if today >= phase.limits.per_day:
            reset = (day_start + timedelta(days=1)).isoformat()
            raise ArenaError(
                f"team {team!r} has used its {phase.limits.per_day} submissions today on "
                f"{track_id}/{phase_id}",
                f"the count resets at {reset}",
            )
        if total >= phase.limits.total:
            raise ArenaError(
                f"team {team!r} has used all {phase.limits.total} submissions on "
                f"{track_id}/{phase_id}"
            )
        return self._store_submission(
            team, None, actor.name, track_id, phase_id, upload, filename or upload.name
        )

    def _store_submission(
        self,
        team: str | None,
        baseline: str | None,
        person: str,
        track_id: str,
        phase_id: str,
        upload: Path,
        filename: str,
    ) -> str:
        sid = uuid.uuid4().hex
        folder = self.root / "submissions" / sid
        folder.mkdir(parents=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(filename).name)[-120:].lstrip(".") or "upload"
        target = folder / safe
        digest = hashlib.sha256()
        with upload.open("rb") as src, target.open("xb") as out:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        with self._session() as s:
            s.add(
                Submission(
                    id=sid, team=team, baseline=baseline, person=person, track=track_id,
                    phase=phase_id, filename=safe, sha256=digest.hexdigest(),
                    size=target.stat().st_size, created=self.clock(), status="queued",
                    message="", report=[], public={}, private={}, selected=False,
                )
            )  # fmt: skip
        self._audit(
            Actor(person, "participant" if team else "organiser"),
            "submit",
            sid,
            {"team": team, "baseline": baseline, "track": track_id, "phase": phase_id,
             "sha256": digest.hexdigest()},
        )  # fmt: skip
        return sid

    def revealed(self, phase_id: str) -> bool:
        """The private split's scores are shown after the phase ends or an organiser says."""
        phase = self.challenge.phase(phase_id)
        if self.clock() >= phase.end:
            return True
        with self._session() as s:
            return s.get(Reveal, phase_id) is not None

    def reveal(self, phase_id: str, by: Actor) -> None:
        if not by.organiser:
            raise ArenaError("only organisers reveal the private leaderboard")
        self.challenge.phase(phase_id)
        with self._session() as s:
            if s.get(Reveal, phase_id) is None:
                s.add(Reveal(phase=phase_id, by=by.name, at=self.clock()))
        self._audit(by, "reveal", phase_id)

    def _view(
        self, row: Submission, actor: Actor, revealed: dict[str, bool] | None = None
    ) -> dict[str, Any]:
        """``revealed``: phase -> revealed, when the caller already knows (a listing)."""
        shown = revealed[row.phase] if revealed is not None else self.revealed(row.phase)
        show_private = actor.organiser or shown
        return {
            "id": row.id,
            "team": row.team,
            "baseline": row.baseline,
            "person": row.person,
            "track": row.track,
            "phase": row.phase,
            "filename": row.filename,
            "sha256": row.sha256,
            "size": row.size,
            "created": _aware(row.created).isoformat(),
            "status": row.status,
            "message": row.message,
            "report": row.report,
            "public": row.public,
            "private": row.private if show_private else None,
            "selected": row.selected,
            "deleted": row.deleted_at is not None,
        }

    def _visible(self, row: Submission | None, actor: Actor) -> Submission:
        if row is not None and (
            actor.organiser
            or (
                row.deleted_at is None
                and (row.baseline is not None or row.team == self.team_of(actor.name))
            )
        ):
            return row
        raise NotFound("no such submission")  # the same answer whether it exists or not

    def submission(self, actor: Actor, sid: str) -> dict[str, Any]:
        with self._session() as s:
            row = self._visible(s.get(Submission, sid), actor)
            return self._view(row, actor)

    def submission_file(self, actor: Actor, sid: str) -> Path:
        with self._session() as s:
            row = self._visible(s.get(Submission, sid), actor)
            if row.baseline is not None and not actor.organiser:
                raise NotFound("no such submission")
            return self.root / "submissions" / row.id / row.filename

    def submissions(
        self, actor: Actor, team: str | None = None, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        """A participant sees their own team's; organisers see any team's, deleted ones too."""
        own = self.team_of(actor.name)
        if not actor.organiser:
            if own is None or (team is not None and team != own):
                raise NotFound(f"no team {team!r} of yours")
            team, include_deleted = own, False
        with self._session() as s:
            q = select(Submission).order_by(Submission.created, Submission.id)
            if team is not None:
                q = q.where(Submission.team == team)
            if not include_deleted:
                q = q.where(Submission.deleted_at.is_(None))
            revealed = {p.id: self.revealed(p.id) for p in self.challenge.phases}
            return [self._view(r, actor, revealed) for r in s.scalars(q)]

    def select(self, actor: Actor, sid: str, selected: bool = True) -> None:
        """Choose a submission for the private leaderboard (up to the phase's number)."""
        with self._session() as s:
            row = self._visible(s.get(Submission, sid), actor)
            if row.team is None or (not actor.organiser and row.team != self.team_of(actor.name)):
                raise NotFound("no such submission")
            phase = self.challenge.phase(row.phase)
            if selected:
                if row.status != "scored":
                    raise ArenaError(f"submission {sid} is {row.status}; only scored ones count")
                n = s.scalar(
                    select(func.count()).select_from(Submission).where(
                        Submission.team == row.team, Submission.track == row.track,
                        Submission.phase == row.phase, Submission.selected.is_(True),
                        Submission.deleted_at.is_(None), Submission.id != sid,
                    )
                )  # fmt: skip
                if (n or 0) >= phase.final_selections:
                    raise ArenaError(
                        f"team {row.team!r} has already selected {phase.final_selections}",
                        "unselect one first",
                    )
            row.selected = selected
        self._audit(actor, "select" if selected else "unselect", sid)

    def delete(self, actor: Actor, sid: str) -> None:
        """Withdraw a submission: hidden from the team and the boards, kept for disputes."""
        with self._session() as s:
            row = self._visible(s.get(Submission, sid), actor)
            if row.team is None and not actor.organiser:
                raise NotFound("no such submission")
            row.deleted_at, row.deleted_by, row.selected = self.clock(), actor.name, False
        self._audit(actor, "delete", sid)

    # ------------------------------------------------------------------ scoring
    def recover(self) -> int:
        """Put submissions left ``running`` by a pool that died back in the queue: those
        running for longer than their track's time limit and a minute (a live pool has
        killed its scorer by then), so that a second pool on the same arena (the server and
        `shigu arena score`) never takes over the other's work."""
        now = self.clock()
        n = 0
        with self._session() as s:
            for row in s.scalars(select(Submission).where(Submission.status == "running")):
                limit = self.challenge.track(row.track).time_limit_s + 60
                started = _aware(row.started_at) if row.started_at is not None else None
                if started is None or (now - started).total_seconds() > limit:
                    row.status = "queued"
                    n += 1
        return n

    def _claim(self) -> Submission | None:
        with self._session() as s:
            for row in s.scalars(
                select(Submission).where(Submission.status == "queued").order_by(Submission.created)
            ):
                claimed: Any = s.execute(
                    update(Submission)
                    .where(Submission.id == row.id, Submission.status == "queued")
                    .values(status="running", started_at=self.clock())
                )
                if claimed.rowcount:
                    s.expunge(row)
                    return row
        return None

    def _job(self, row: Submission, track: Track) -> dict[str, Any]:
        tp = self.challenge.phase(row.phase).tracks[row.track]
        split = self.splits[row.phase][row.track]
        return {
            "task": track.task,
            "scorer": track.scorer,
            "scorer_path": [str(self.challenge_dir)],
            "ground_truth": tp.ground_truth,
            "upload": str(self.root / "submissions" / row.id / row.filename),
            "max_bytes": int(track.max_upload_mb * 1024**2),
            "public": split["public"],
            "private": split["private"],
        }

    def score_one(self, row: Submission) -> str:
        track = self.challenge.track(row.track)
        work = self.root / "work" / row.id
        try:
            result = run_scoring(self._job(row, track), work, track.time_limit_s, track.memory_mb)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        status = str(result.get("status", "failed"))
        public = result.get("public") or {}
        private = result.get("private") or {}
        metric = track.metric
        if status == "scored" and metric not in public:
            status, result["message"] = "failed", f"the scorer did not report {metric}"
        with self._session() as s:
            stored = s.get(Submission, row.id)
            if stored is None:
                return status
            stored.status = status
            stored.message = str(result.get("message", ""))[:500]
            stored.report = [str(r)[:300] for r in (result.get("report") or [])][:100]
            stored.public, stored.private = public, private
            stored.public_score = public.get(metric) if status == "scored" else None
            stored.private_score = private.get(metric) if status == "scored" else None
            stored.scored_at = self.clock()
        self._audit(
            SYSTEM,
            "score",
            row.id,
            {"status": status, "message": result.get("message"),
             "network_isolated": result.get("network_isolated"),
             "seconds": result.get("seconds")},
        )  # fmt: skip
        return status

    def score_pending(self, workers: int = 2, limit: int | None = None) -> dict[str, str]:
        """Score queued submissions with ``workers`` sandboxed processes at a time."""
        self.recover()
        done: dict[str, str] = {}
        claimed: list[Submission] = []
        while limit is None or len(claimed) < limit:
            row = self._claim()
            if row is None:
                break
            claimed.append(row)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for row, status in zip(claimed, pool.map(self.score_one, claimed), strict=True):
                done[row.id] = status
        return done

    # ------------------------------------------------------------------ leaderboards
    def leaderboard(
        self, actor: Actor, track_id: str, phase_id: str, split: str = "public"
    ) -> list[leaderboard.Row]:
        track, phase = self.challenge.track(track_id), self.challenge.phase(phase_id)
        if split not in ("public", "private"):
            raise InputError(f"unknown split {split!r}", "use public or private")
        if split == "private" and not (actor.organiser or self.revealed(phase_id)):
            raise ArenaError(
                f"the private leaderboard of {phase_id!r} is revealed when the phase ends "
                f"({phase.end.isoformat()})"
            )
        with self._session() as s:
            rows = s.scalars(
                select(Submission).where(
                    Submission.track == track_id,
                    Submission.phase == phase_id,
                    Submission.status == "scored",
                    Submission.deleted_at.is_(None),
                )
            ).all()
            scored = [
                leaderboard.Scored(
                    id=r.id,
                    entrant=r.team if r.team is not None else f"baseline:{r.baseline}",
                    created=_aware(r.created),
                    public=float(r.public_score),
                    private=r.private_score,
                    selected=r.selected,
                    baseline=r.team is None,
                )
                for r in rows
                if r.public_score is not None
            ]
        return leaderboard.build(
            scored,
            split,
            bool(track.higher_is_better),
            phase.final_selections,
            track.ladder_step if split == "public" else None,
        )

    # ------------------------------------------------------------------ the panel
    def set_finalists(self, teams: dict[str, str], by: Actor) -> None:
        """team -> track of the final."""
        if not by.organiser:
            raise ArenaError("only organisers choose finalists")
        known = self.teams()
        for team, track in teams.items():
            if team not in known:
                raise NotFound(f"no team {team!r}")
            self.challenge.track(track)
        with self._session() as s:
            for f in s.scalars(select(Finalist)):
                s.delete(f)
            s.flush()
            s.add_all(Finalist(team=t, track=tr) for t, tr in teams.items())
        self._audit(by, "finalists", "", {"teams": teams})

    def finalists(self) -> dict[str, str]:
        with self._session() as s:
            return {f.team: f.track for f in s.scalars(select(Finalist).order_by(Finalist.team))}

    def declare_conflict(self, judge: str, team: str, reason: str, by: Actor) -> None:
        if not by.organiser and by.name != judge:
            raise ArenaError("judges declare their own conflicts; organisers any")
        if self.actor(judge).role != "judge":
            raise ArenaError(f"{judge!r} is not a judge")
        with self._session() as s:
            if s.get(Team, team) is None:
                raise NotFound(f"no team {team!r}")
            if s.get(Conflict, (judge, team)) is None:
                s.add(Conflict(judge=judge, team=team, reason=reason[:500]))
            assigned = s.get(Assignment, (judge, team))
            if assigned is not None:
                s.delete(assigned)
        self._audit(by, "conflict", team, {"judge": judge, "reason": reason})

    def assign_judges(self, by: Actor) -> dict[str, list[str]]:
        if not by.organiser:
            raise ArenaError("only organisers assign judges")
        finalists = list(self.finalists())
        if not finalists:
            raise ArenaError("no finalists yet", "choose them first: shigu arena finalists")
        with self._session() as s:
            conflicts = {(c.judge, c.team) for c in s.scalars(select(Conflict))}
        plan = panel.assign(
            self.people("judge"), finalists, conflicts, self.challenge.panel.judges_per_finalist
        )
        with self._session() as s:
            for a in s.scalars(select(Assignment)):
                s.delete(a)
            s.flush()
            s.add_all(Assignment(judge=j, team=t) for t, js in plan.items() for j in js)
        self._audit(by, "assign", "", {"plan": plan})
        return plan

    def assignments(self, actor: Actor) -> dict[str, list[str]]:
        """team -> judges (a judge sees only their own finalists)."""
        with self._session() as s:
            rows = [
                (a.team, a.judge)
                for a in s.scalars(select(Assignment).order_by(Assignment.team, Assignment.judge))
            ]
        if not actor.organiser and actor.role != "judge":
            raise ArenaError("only judges and organisers see the panel's assignments")
        out: dict[str, list[str]] = {}
        for team, judge in rows:
            if actor.organiser or judge == actor.name:
                out.setdefault(team, []).append(judge)
        return out

    def judge_score(
        self, judge: Actor, team: str, scores: dict[str, float], comment: str = ""
    ) -> None:
        cfg = self.challenge.panel
        if judge.role != "judge":
            raise ArenaError("only judges score finalists")
        wanted = {c.id for c in cfg.criteria}
        if set(scores) != wanted:
            raise InputError(
                f"scores must cover exactly the criteria {', '.join(sorted(wanted))}",
                f"got {', '.join(sorted(scores)) or 'none'}",
            )
        lo, hi = cfg.scale
        for c, v in scores.items():
            if not isinstance(v, int | float) or not lo <= float(v) <= hi:
                raise InputError(f"score for {c} must be a number from {lo:g} to {hi:g}")
        with self._session() as s:
            if s.get(Assignment, (judge.name, team)) is None:
                raise ArenaError(f"{team!r} is not assigned to judge {judge.name!r}")
            row = s.get(JudgeScore, (judge.name, team))
            before = dict(row.scores) if row is not None else None
            if row is None:
                row = JudgeScore(judge=judge.name, team=team)
                s.add(row)
            row.scores = {c: float(v) for c, v in scores.items()}
            row.comment = comment[:4000]
            row.updated = self.clock()
        self._audit(judge, "judge_score", team, {"scores": scores, "before": before})

    def judge_scores(self, actor: Actor) -> list[dict[str, Any]]:
        if not actor.organiser and actor.role != "judge":
            raise ArenaError("judge scores are for the panel and the organisers")
        with self._session() as s:
            rows = s.scalars(select(JudgeScore).order_by(JudgeScore.team, JudgeScore.judge))
            return [
                {"judge": r.judge, "team": r.team, "scores": r.scores, "comment": r.comment,
                 "updated": _aware(r.updated).isoformat()}
                for r in rows
                if actor.organiser or r.judge == actor.name
            ]  # fmt: skip

    def final_sheet(self, actor: Actor) -> list[panel.SheetRow]:
        """The final ranking, recomputed from the stored judge and benchmark scores."""
        if not actor.organiser:
            raise ArenaError("the score sheet is the organisers' until the awards are announced")
        final = self.challenge.final
        finalists = self.finalists()
        with self._session() as s:
            scores = {(r.judge, r.team): dict(r.scores) for r in s.scalars(select(JudgeScore))}
        scores = {k: v for k, v in scores.items() if k[1] in finalists}
        benchmark: dict[str, float | None] = {}
        for team, track in finalists.items():
            benchmark[team] = None
            if final is not None and track in final.tracks:
                board = self.leaderboard(SYSTEM, track, final.id, "private")
                benchmark[team] = next((r.score for r in board if r.entrant == team), None)
        higher = {t.id: bool(t.higher_is_better) for t in self.challenge.tracks}
        return panel.rank(self.challenge.panel, scores, finalists, benchmark, higher)

    def awards(self, actor: Actor) -> list[Award]:
        return assign_awards(self.final_sheet(actor), self.challenge.awards)

    # ------------------------------------------------------------------ audit
    def audit(self, actor: Actor, limit: int = 1000) -> list[dict[str, Any]]:
        if not actor.organiser:
            raise ArenaError("the audit log is for organisers")
        with self._session() as s:
            rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
            return [
                {"at": _aware(r.at).isoformat(), "actor": r.actor, "action": r.action,
                 "target": r.target, "detail": r.detail}
                for r in rows
            ]  # fmt: skip


def load_arena(root: str | Path) -> Arena:
    try:
        return Arena.open(root)
    except (OSError, yaml.YAMLError, KeyError) as exc:
        raise ConfigError(f"arena {root} cannot be opened: {exc}") from None
