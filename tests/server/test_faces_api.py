"""Known faces through the API end to end: enrol, match in a pipeline run, delete, no match."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from shigu.core.events import Event
from shigu.pipeline import Pipeline, parse_config
from tests.helpers import face_pictures

pytestmark = pytest.mark.slow


def _people(data_dir: Path, store_url: str, media: Path) -> list[tuple[str, str | None]]:
    """(event type, person) of the faces stage on subject 1's held-out clip 15."""
    cfg = parse_config({
        "sources": [{"id": "room", "uri": str(data_dir / "fall" / "gmdcsa24" / "Subject_1"
                                              / "Fall" / "15.mp4")}],
        "pipeline": {"detector": {"classes": ["person"]},
                     "stages": [{"use": "faces", "options": {}}]},
        "store": {"url": store_url, "media_dir": str(media)},
        "media": {"snapshots": False},
    })  # fmt: skip
    got: list[Event] = []
    Pipeline(cfg, on_item=lambda e: got.append(e) if isinstance(e, Event) else None).run()
    return [(e.type, e.attributes.get("person")) for e in got if e.type.endswith("_person")]


def test_enrol_match_and_delete_through_the_api(
    api: object, data_dir: Path, tmp_path: Path
) -> None:
    pictures = face_pictures(data_dir, tmp_path / "pics")
    body = {"pictures": [base64.b64encode(p.read_bytes()).decode() for p in pictures[:8]]}
    admin, viewer = api.client("admin"), api.client("viewer")  # type: ignore[attr-defined]
    assert viewer.post("/api/faces/subject-1", json=body).status_code == 403
    bear = (data_dir / "images" / "coco_val2017" / "000000000285.jpg").read_bytes()
    bad = admin.post(
        "/api/faces/subject-1",
        json={"pictures": [*body["pictures"][:2], base64.b64encode(bear).decode()]},
    )
    assert bad.status_code == 400 and "no face found in picture 3" in bad.text
    assert admin.get("/api/faces").json() == []  # nothing stored from the refused request
    assert admin.post("/api/faces/subject-1", json={"pictures": ["not base64!"]}).status_code == 400

    made = admin.post("/api/faces/subject-1", json=body)
    assert made.status_code == 201, made.text
    assert made.json() == {"name": "subject-1", "added": 8, "embeddings": 8}
    listed = admin.get("/api/faces").json()
    assert [(p["name"], p["embeddings"]) for p in listed] == [("subject-1", 8)]
    assert viewer.get("/api/faces").status_code == 403

    store_url = api.ctx.store.url  # type: ignore[attr-defined]
    people = _people(data_dir, store_url, tmp_path / "media")
    assert ("known_person", "subject-1") in people, people

    assert admin.delete("/api/faces/subject-1").status_code == 204
    assert admin.get("/api/faces").json() == []
    assert admin.delete("/api/faces/subject-1").status_code == 404
    after = _people(data_dir, store_url, tmp_path / "media")
    assert after and all(kind == "unknown_person" for kind, _ in after), after
