"""``NullStore``: the event store of a job that keeps no events (detect, track, pose)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shigu.core.events import Event, EventEnd


class NullStore:
    """Takes what the engine stores and keeps nothing; no database is opened or created."""

    url = "none"

    def start_run(self, config: dict[str, Any]) -> str:
        return ""

    def add(self, ev: Event, run_id: str | None = None, upsert: bool = False) -> None:
        return None

    def close_event(self, end: EventEnd) -> None:
        return None

    def set_media(self, event_id: str, **paths: str | None) -> None:
        return None

    def forget_media(self, paths: Sequence[str]) -> None:
        return None

    def add_occupancy(self, minutes: Sequence[Any], run_id: str | None = None) -> None:
        return None

    def finish_run(self, run_id: str, summary: dict[str, Any]) -> None:
        return None

    def close(self) -> None:
        return None
