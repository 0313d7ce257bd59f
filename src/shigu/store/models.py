"""SQLAlchemy 2 tables: events and pipeline runs. Schema changes go through Alembic."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float, nullable=True)
    wall_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    zone: Mapped[str | None] = mapped_column(String(128), nullable=True)
    line: Mapped[str | None] = mapped_column(String(128), nullable=True)
    track_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    class_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    frame_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    box: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    plate: Mapped[str | None] = mapped_column(String(16), nullable=True)  # attributes' plate
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snapshot: Mapped[str | None] = mapped_column(Text, nullable=True)
    snapshot_crop: Mapped[str | None] = mapped_column(Text, nullable=True)
    clip: Mapped[str | None] = mapped_column(Text, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_events_wall_time", "wall_time"),
        Index("ix_events_source_type", "source", "type"),
        Index("ix_events_source_wall_id", "source", "wall_time", "id"),
        Index("ix_events_plate", "plate"),
    )


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class UserRow(Base):
    """A person who signs in to the dashboard or API; ``role``: viewer, operator or admin."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AckRow(Base):
    """One acknowledgement of an event: every one is kept (who and when), none overwritten."""

    __tablename__ = "event_acks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), index=True)
    user: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TokenRow(Base):
    """An API token for machines; only its SHA-256 is stored, revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    user: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # tokens made before expiry existed have none (they last until revoked)
    expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SessionRow(Base):
    """A signed-in browser session (cookie value stored as SHA-256)."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(64))
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OccupancyRow(Base):
    """One minute of one zone's head count (the ``occupancy`` rule's time series)."""

    __tablename__ = "occupancy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(128))
    zone: Mapped[str] = mapped_column(String(128))
    minute: Mapped[float] = mapped_column(Float)  # media seconds at the minute's start
    wall_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mean: Mapped[float] = mapped_column(Float)
    max: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index("ix_occupancy_source_zone_wall", "source", "zone", "wall_time"),)


class FaceRow(Base):
    """One enrolled face embedding of a known person (deleted with the person on request)."""

    __tablename__ = "faces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    embedding: Mapped[list[float]] = mapped_column(JSON)  # 128 floats, unit length
    origin: Mapped[str] = mapped_column(String(256))  # the picture it came from (its name)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
