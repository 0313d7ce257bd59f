"""Source URIs through the API: cameras and media files, not the server's own files or
services (SSRF and local file probing by an admin account)."""

from __future__ import annotations

import pytest

from shigu.core.errors import InputError
from shigu.server.source_policy import check_source_uri


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("/etc/passwd", "not a video or image"),
        ("file:///etc/shadow", "scheme file"),
        ("concat:/etc/passwd|/etc/hosts", "scheme concat"),
        ("subfile,,start,0,end,100,,:/etc/passwd", "not a video or image"),
        ("rtsp://127.0.0.1:554/x", "this machine"),
        ("http://localhost:8080/metrics", "this machine"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("rtsp://[::1]/x", "this machine"),
        ("rtsp:///nohost", "without a host"),
        ("gopher://10.0.0.1/x", "scheme gopher"),
        ("clip.mp4\x00.txt", "NUL"),
    ],
)
def test_refused(uri: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        check_source_uri(uri)


@pytest.mark.parametrize(
    "uri",
    ["rtsp://user:pw@192.168.1.20:554/stream1", "https://cam.example/mjpeg", "0", "/dev/video2",
     "/data/site/gate.mp4", "thermal:/data/survey.seq", "srt://10.1.1.5:9000", "C:/clips/a.mkv"],
)  # fmt: skip
def test_accepted(uri: str) -> None:
    check_source_uri(uri)


def test_loopback_when_the_operator_allows_it() -> None:
    check_source_uri("rtsp://127.0.0.1:8554/test", allowed_hosts={"127.0.0.1"})


def test_the_api_refuses_with_400_and_adds_nothing(api) -> None:  # type: ignore[no-untyped-def]
    admin = api.client("admin")
    for uri in ("/etc/passwd", "http://169.254.169.254/latest", "rtsp://127.0.0.1:1/x"):
        r = admin.post("/api/sources", json={"id": "probe", "uri": uri})
        assert r.status_code == 400, (uri, r.text)
    assert "probe" not in {s["id"] for s in admin.get("/api/sources").json()}
    moved = admin.put("/api/sources/gate", json={"id": "gate", "uri": "file:///etc/hosts"})
    assert moved.status_code == 400
