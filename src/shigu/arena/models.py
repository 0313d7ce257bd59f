"""SQLAlchemy tables of an arena: people, teams, submissions, the panel's scores, the audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class ArenaBase(DeclarativeBase):
    pass


class Person(ArenaBase):
    __tablename__ = "arena_people"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # organiser | judge | participant
    password_hash: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Invitation(ArenaBase):
    __tablename__ = "arena_invitations"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    invited_by: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Team(ArenaBase):
    __tablename__ = "arena_teams"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    captain: Mapped[str] = mapped_column(ForeignKey("arena_people.name"))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Member(ArenaBase):
    __tablename__ = "arena_members"

    person: Mapped[str] = mapped_column(ForeignKey("arena_people.name"), primary_key=True)
    team: Mapped[str] = mapped_column(ForeignKey("arena_teams.id"))


class Submission(ArenaBase):
    __tablename__ = "arena_submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: a baseline
    baseline: Mapped[str | None] = mapped_column(String(64), nullable=True)
    person: Mapped[str] = mapped_column(String(64))
    track: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # queued running scored invalid failed
    message: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[list[str]] = mapped_column(JSON, default=list)
    public: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    private: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    public_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    private_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Finalist(ArenaBase):
    __tablename__ = "arena_finalists"

    team: Mapped[str] = mapped_column(ForeignKey("arena_teams.id"), primary_key=True)
    track: Mapped[str] = mapped_column(String(64))


class Conflict(ArenaBase):
    __tablename__ = "arena_conflicts"

    judge: Mapped[str] = mapped_column(ForeignKey("arena_people.name"), primary_key=True)
    team: Mapped[str] = mapped_column(ForeignKey("arena_teams.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class Assignment(ArenaBase):
    __tablename__ = "arena_assignments"

    judge: Mapped[str] = mapped_column(ForeignKey("arena_people.name"), primary_key=True)
    team: Mapped[str] = mapped_column(ForeignKey("arena_teams.id"), primary_key=True)


class JudgeScore(ArenaBase):
    __tablename__ = "arena_judge_scores"

    judge: Mapped[str] = mapped_column(ForeignKey("arena_people.name"), primary_key=True)
    team: Mapped[str] = mapped_column(ForeignKey("arena_teams.id"), primary_key=True)
    scores: Mapped[dict[str, float]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reveal(ArenaBase):
    __tablename__ = "arena_reveals"

    phase: Mapped[str] = mapped_column(String(64), primary_key=True)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(ArenaBase):
    __tablename__ = "arena_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Token(ArenaBase):
    """A sign-in: only the SHA-256 of the token is kept."""

    __tablename__ = "arena_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(ForeignKey("arena_people.name"))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Announcement(ArenaBase):
    """Things organisers have made public (``awards``)."""

    __tablename__ = "arena_announcements"

    what: Mapped[str] = mapped_column(String(32), primary_key=True)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
