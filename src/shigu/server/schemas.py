"""Request and response bodies of the HTTP API (pydantic, so they appear in OpenAPI)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # no NaN or Infinity


class EventOut(BaseModel):
    """An event: the fields of ``shigu.core.events.EVENT_FIELDS``."""

    event_schema: int = Field(alias="schema", serialization_alias="schema")
    id: str
    type: str
    source: str
    start: float
    end: float | None
    wall_time: str
    zone: str | None
    line: str | None
    track_id: int | None
    class_name: str | None
    confidence: float | None
    frame_index: int | None
    box: list[float] | None
    attributes: dict[str, Any]
    snapshot: str | None
    snapshot_crop: str | None
    clip: str | None
    has_snapshot: bool
    has_clip: bool
    acknowledged_by: str | None


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Me(BaseModel):
    name: str
    role: str


class UserIn(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Literal["viewer", "operator", "admin"] = "viewer"


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=128)
    user: str | None = Field(None, description="whose rights the token carries (default: you)")
    expires_days: int = Field(90, ge=1, le=3650, description="days until the token expires")


class TokenOut(BaseModel):
    id: str
    token: str = Field(description="shown once; only its hash is stored")


class SourceIn(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=128)
    uri: str = Field(min_length=1, max_length=2048)
    fps: float | None = Field(None, gt=0, le=1000)
    realtime: bool = False
    loop: bool = False
    offline_ok: bool = Field(
        False,
        description="save a camera that cannot be opened now and keep retrying it "
        "(otherwise such a source is refused with its error)",
    )


class ShapeIn(Strict):
    """A zone (``polygon`` and ``rules``) or a line (``points``); checked like the config."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=128)
    source: str = Field(max_length=128)
    polygon: list[tuple[float, float]] | None = Field(None, max_length=256)  # the config's
    rules: list[dict[str, Any]] | None = Field(None, max_length=50)
    points: list[tuple[float, float]] | None = Field(None, max_length=2)
    classes: list[str] | None = Field(None, max_length=100)


class CountBucket(BaseModel):
    start: str
    key: str
    type: str
    count: int


class OccupancyOut(BaseModel):
    """One minute of one room's head count."""

    source: str
    zone: str
    minute: float = Field(description="media seconds at the minute's start")
    wall_time: str
    mean: float
    max: int
    frames: int


class FacesIn(BaseModel):
    """Pictures of one person's face to enrol, base64-encoded JPEG or PNG."""

    model_config = ConfigDict(extra="forbid")

    pictures: list[str] = Field(min_length=1, max_length=20, description="base64 JPEG/PNG")


class FacesOut(BaseModel):
    name: str
    added: int
    embeddings: int
