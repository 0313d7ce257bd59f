"""A Shigu app with a seeded event store and one user per role (engine not running)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shigu.core.events import Event
from shigu.pipeline import parse_config

PASSWORD = "correct-horse-1"
ROLES = ("viewer", "operator", "admin")


@dataclass
class Api:
    app: object
    ctx: object
    tokens: dict[str, str]
    media: Path
    event_ids: list[str]

    def client(self, role: str | None = None) -> TestClient:
        client = TestClient(self.app)  # type: ignore[arg-type]
        if role is not None:
            client.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return client


def make_config(tmp: Path, video: Path | None = None) -> dict[str, object]:
    return {
        "sources": [{"id": "gate", "uri": str(video or tmp / "none.mp4")}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "zones": [
            {
                "id": "lawn",
                "source": "gate",
                "polygon": [[200, 150], [330, 150], [330, 300], [200, 300]],
                "rules": [{"type": "intrusion", "min_seconds": 1.0}],
            }
        ],
        "lines": [{"id": "path", "source": "gate", "points": [[330, 80], [330, 340]]}],
        "store": {"url": f"sqlite:///{tmp / 'shigu.db'}", "media_dir": str(tmp / "media")},
    }


def seed(ctx: object, media: Path, n: int = 250) -> list[str]:
    store = ctx.store  # type: ignore[attr-defined]
    (media / "gate").mkdir(parents=True, exist_ok=True)
    (media / "gate" / "snap.jpg").write_bytes(b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9")
    base = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    ids = []
    for i in range(n):
        ev = Event(
            type="line_crossing" if i % 2 else "intrusion",
            source="gate" if i % 3 else "road",
            start=float(i),
            line="path" if i % 2 else None,
            zone=None if i % 2 else "lawn",
            track_id=i,
            class_name="person",
            confidence=0.9,
            frame_index=i,
            attributes={"direction": "in" if i % 4 == 1 else "out"} if i % 2 else {},
            snapshot="gate/snap.jpg" if i == 0 else None,
            wall_time=base + timedelta(seconds=30 * i),
        )
        store.add(ev)
        ids.append(ev.id)
    return ids


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    from shigu.server.app import build_context, create_app

    cfg = parse_config(make_config(tmp_path))
    ctx = build_context(cfg, run_engine=False)
    tokens = {}
    for role in ROLES:
        ctx.accounts.add_user(role, PASSWORD, role)
        tokens[role] = ctx.accounts.create_token(role, f"{role} token")[1]
    ids = seed(ctx, tmp_path / "media")
    yield Api(create_app(ctx), ctx, tokens, tmp_path / "media", ids)
    ctx.store.close()
