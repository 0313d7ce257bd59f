"""Camera passwords stay out of what viewers, logs and error lines show (admins editing a
source still see them)."""

from __future__ import annotations

from pathlib import Path

import yaml

from shigu.core.redact import redact_uri
from tests.cli import run_cli


def test_redact_uri_cases() -> None:
    assert redact_uri("rtsp://admin:pa:ss@10.0.0.5:554/s") == "rtsp://admin:***@10.0.0.5:554/s"
    assert redact_uri("cannot open rtsp://u:p@h/x and http://a:b@c/") == \
        "cannot open rtsp://u:***@h/x and http://a:***@c/"  # fmt: skip
    assert redact_uri("rtsp://cam/stream?user=a&password=xyz&c=1") == \
        "rtsp://cam/stream?user=a&password=***&c=1"  # fmt: skip
    assert redact_uri("rtsp://cam.local/stream") == "rtsp://cam.local/stream"
    assert redact_uri("/videos/a@b.mp4") == "/videos/a@b.mp4"
    assert redact_uri(None) is None


def test_run_never_prints_the_password(tmp_path: Path) -> None:
    store = {"url": f"sqlite:///{tmp_path}/e.db", "media_dir": str(tmp_path / "m")}
    cfg = {"sources": [{"id": "cam", "uri": "rtsp://admin:s3cretPW@127.0.0.1:1/stream"}],
           "store": store}  # fmt: skip
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(cfg))
    proc = run_cli("--verbose", "run", config, "--max-frames", "5", "--no-progress")
    assert proc.returncode != 0
    assert "s3cretPW" not in proc.stdout + proc.stderr
    assert "rtsp://admin:***@127.0.0.1:1/stream" in proc.stderr


def test_viewers_see_redacted_uris_and_admins_the_real_one(api) -> None:  # type: ignore[no-untyped-def]
    admin = api.client("admin")
    uri = "rtsp://ops:hunter2@192.0.2.10:1/live"
    created = admin.post("/api/sources", json={"id": "yard", "uri": uri})
    assert created.status_code == 201 and created.json()["uri"] == uri
    for role in ("viewer", "operator"):
        seen = api.client(role).get("/api/sources").json()
        (yard,) = [s for s in seen if s["id"] == "yard"]
        assert yard["uri"] == "rtsp://ops:***@192.0.2.10:1/live"
        assert "hunter2" not in str(seen)
        assert "hunter2" not in api.client(role).get("/api/sources/yard").text
    assert admin.get("/api/sources/yard").json()["uri"] == uri
