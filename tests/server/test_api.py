"""Every route over HTTP (httpx via Starlette's TestClient): results, roles, bad inputs."""

from __future__ import annotations

import json
from typing import Any

from shigu.core.events import EVENT_FIELDS
from tests.server.conftest import PASSWORD, Api

ROLE_ORDER = [None, "viewer", "operator", "admin"]


def routes(api: Api) -> list[tuple[str, str, Any, str]]:
    """(method, path, JSON body, least role) for every HTTP route but the public ones."""
    ev = api.event_ids[0]
    return [
        ("GET", "/api/me", None, "viewer"),
        ("POST", "/api/auth/logout", None, "viewer"),
        ("GET", "/api/users", None, "admin"),
        ("POST", "/api/users", {"name": "newbie", "password": "long-enough-1"}, "admin"),
        ("DELETE", "/api/users/nobody", None, "admin"),
        ("GET", "/api/tokens", None, "admin"),
        ("POST", "/api/tokens", {"name": "ci"}, "admin"),
        ("DELETE", "/api/tokens/0000000000000000", None, "admin"),
        ("GET", "/api/sources", None, "viewer"),
        ("GET", "/api/sources/gate", None, "viewer"),
        ("POST", "/api/sources", {"id": "cam2", "uri": "rtsp://127.0.0.1:1/x"}, "admin"),
        ("PUT", "/api/sources/gate", {"id": "gate", "uri": "/tmp/other.mp4"}, "admin"),
        ("DELETE", "/api/sources/nosuch", None, "admin"),
        ("GET", "/api/sources/gate/frame.jpg", None, "viewer"),
        ("GET", "/api/sources/gate/mjpeg?max_frames=1", None, "viewer"),
        ("GET", "/api/zones", None, "viewer"),
        (
            "POST",
            "/api/zones",
            {
                "id": "z2",
                "source": "gate",
                "polygon": [[0, 0], [50, 0], [50, 50]],
                "rules": [{"type": "intrusion"}],
            },
            "operator",
        ),
        (
            "PUT",
            "/api/zones/lawn",
            {"id": "lawn", "source": "gate", "polygon": [[0, 0], [60, 0], [60, 60]], "rules": []},
            "operator",
        ),
        ("DELETE", "/api/zones/nosuch", None, "operator"),
        ("GET", "/api/lines", None, "viewer"),
        (
            "POST",
            "/api/lines",
            {"id": "l2", "source": "gate", "points": [[0, 0], [50, 50]]},
            "operator",
        ),
        (
            "PUT",
            "/api/lines/path",
            {"id": "path", "source": "gate", "points": [[1, 1], [40, 40]]},
            "operator",
        ),
        ("DELETE", "/api/lines/nosuch", None, "operator"),
        ("GET", "/api/events", None, "viewer"),
        ("GET", "/api/events/export", None, "viewer"),
        ("GET", f"/api/events/{ev}", None, "viewer"),
        ("GET", f"/api/events/{ev}/snapshot", None, "viewer"),
        ("GET", f"/api/events/{ev}/clip", None, "viewer"),
        ("GET", "/api/media/gate/snap.jpg", None, "viewer"),
        ("POST", f"/api/events/{ev}/ack", None, "operator"),
        ("GET", f"/api/events/{ev}/acks", None, "viewer"),
        ("GET", "/api/stats/counts?since=2026-11-01T00:00:00Z", None, "viewer"),
        ("GET", "/api/occupancy", None, "viewer"),
        ("GET", "/api/faces", None, "admin"),
        ("POST", "/api/faces/nobody", {"pictures": ["eA=="]}, "admin"),
        ("DELETE", "/api/faces/nobody", None, "admin"),
        ("GET", "/metrics", None, "viewer"),
        ("GET", "/api/openapi.json", None, "viewer"),
        ("GET", "/api/volumes", None, "viewer"),
        ("GET", "/api/volumes/info?name=x", None, "viewer"),
        ("GET", "/api/volumes/slice?name=x", None, "viewer"),
    ]


def test_every_route_is_in_the_matrix(api: Api) -> None:
    from fastapi.routing import APIRoute

    listed = [(m, p.split("?")[0]) for m, p, _, _ in routes(api)]
    public = {"/healthz", "/api/auth/login", "/", "/login", "/viewer"}  # pages redirect
    for route in api.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or route.path in public:
            continue
        for method in route.methods - {"HEAD"}:
            assert any(m == method and route.path_regex.match(p) for m, p in listed), (
                method,
                route.path,
            )


def test_authorisation_matrix(api: Api) -> None:
    """Each route as anonymous, viewer, operator and admin: 401, 403 or allowed."""
    for method, path, body, least in routes(api):
        for role in ROLE_ORDER:
            client = api.client(role)
            r = client.request(method, path, json=body)
            if role is None:
                assert r.status_code == 401, (method, path, role, r.text)
            elif ROLE_ORDER.index(role) < ROLE_ORDER.index(least):
                assert r.status_code == 403, (method, path, role, r.text)
                assert "needs the" in r.json()["detail"]
            else:
                # allowed: the route's own answer (404 for a missing thing is still allowed)
                assert r.status_code not in (401, 403) and r.status_code < 500, (
                    method,
                    path,
                    role,
                    r.text,
                )


def test_public_routes(api: Api) -> None:
    anon = api.client()
    assert anon.get("/healthz").json() == {"status": "ok", "engine": "stopped"}
    assert anon.get("/", follow_redirects=False).status_code == 303
    assert anon.get("/viewer", follow_redirects=False).status_code == 303
    assert "Sign in" in anon.get("/login").text
    assert anon.get("/static/app.js").status_code == 200
    page = anon.get("/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]  # no inline script
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text
    assert anon.get("/openapi.json").status_code == 404  # only behind auth, at /api/openapi.json
    assert anon.get("/docs").status_code == 404


def test_login_cookie_session_and_logout(api: Api) -> None:
    c = api.client()
    r = c.post("/api/auth/login", json={"username": "operator", "password": PASSWORD})
    assert r.status_code == 200 and r.json() == {"name": "operator", "role": "operator"}
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert c.get("/api/me").json()["name"] == "operator"
    assert c.get("/", follow_redirects=False).status_code == 200
    ev = api.event_ids[1]
    # Cookie writes need the X-Requested-With header (no cross-site form posts).
    assert c.post(f"/api/events/{ev}/ack").status_code == 403
    assert (
        c.post(f"/api/events/{ev}/ack", headers={"X-Requested-With": "shigu"}).json()[
            "acknowledged_by"
        ]
        == "operator"
    )
    assert c.post("/api/auth/logout", headers={"X-Requested-With": "shigu"}).status_code == 204
    assert c.get("/api/me").status_code == 401


def test_login_is_rate_limited(api: Api) -> None:
    c = api.client()
    for _ in range(5):
        assert (
            c.post(
                "/api/auth/login", json={"username": "admin", "password": "wrong-guess"}
            ).status_code
            == 401
        )
    r = c.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_tokens_are_hashed_and_revocable(api: Api) -> None:
    admin = api.client("admin")
    made = admin.post("/api/tokens", json={"name": "robot", "user": "viewer"}).json()
    robot = api.client()
    robot.headers["Authorization"] = f"Bearer {made['token']}"
    assert robot.get("/api/me").json() == {"name": "viewer", "role": "viewer"}
    from sqlalchemy import text

    with api.ctx.store.engine.connect() as conn:  # type: ignore[attr-defined]
        stored = [r[0] for r in conn.execute(text("select token_hash from api_tokens"))]
        passwords = [r[0] for r in conn.execute(text("select password_hash from users"))]
    assert made["token"] not in stored and all(len(h) == 64 for h in stored)
    assert all(p.startswith("$argon2") for p in passwords)
    assert admin.delete(f"/api/tokens/{made['id']}").status_code == 204
    assert robot.get("/api/me").status_code == 401


def test_users_admin(api: Api) -> None:
    admin = api.client("admin")
    assert (
        admin.post(
            "/api/users", json={"name": "eve", "password": "long-enough-9", "role": "operator"}
        ).status_code
        == 201
    )
    assert (
        admin.post("/api/users", json={"name": "eve", "password": "long-enough-9"}).status_code
        == 409
    )
    assert admin.post("/api/users", json={"name": "x", "password": "short"}).status_code == 422
    assert {u["name"] for u in admin.get("/api/users").json()} >= {"admin", "eve"}
    assert admin.delete("/api/users/admin").status_code == 400  # not yourself
    assert admin.delete("/api/users/eve").status_code == 204


def test_event_paging_filters_and_one_event(api: Api) -> None:
    v = api.client("viewer")
    seen: list[str] = []
    cursor = None
    while True:
        q = {"source": "gate", "limit": 40, **({"cursor": cursor} if cursor else {})}
        page = v.get("/api/events", params=q).json()
        seen += [e["id"] for e in page["items"]]
        assert all(e["source"] == "gate" for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    gate_ids = [i for k, i in enumerate(api.event_ids) if k % 3]
    assert len(seen) == len(set(seen)) == len(gate_ids)
    assert seen == list(reversed(gate_ids))  # newest first
    oldest = v.get("/api/events", params={"order": "oldest", "limit": 3}).json()["items"]
    assert [e["id"] for e in oldest] == api.event_ids[:3]
    window = v.get(
        "/api/events",
        params={"since": "2026-11-01T08:10:00Z", "until": "2026-11-01T08:20:00Z", "limit": 1000},
    ).json()["items"]
    assert len(window) == 20
    by_type = v.get(
        "/api/events", params={"type": "intrusion", "zone": "lawn", "limit": 1000}
    ).json()["items"]
    assert len(by_type) == 125 and all(e["type"] == "intrusion" for e in by_type)
    one = v.get(f"/api/events/{api.event_ids[0]}").json()
    assert one["id"] == api.event_ids[0] and one["has_snapshot"]
    snap = v.get(f"/api/events/{api.event_ids[0]}/snapshot")
    assert snap.status_code == 200 and snap.content.startswith(b"\xff\xd8")
    assert v.get(f"/api/events/{api.event_ids[1]}/snapshot").status_code == 404
    assert v.get(f"/api/events/{api.event_ids[1]}/clip").status_code == 404
    assert v.get("/api/events/ffffffffffffffffffffffffffffffff").status_code == 404


def test_export_csv_and_jsonl(api: Api) -> None:
    v = api.client("viewer")
    csv_text = v.get("/api/events/export", params={"format": "csv", "source": "road"}).text
    lines = csv_text.strip().splitlines()
    assert lines[0] == ",".join(EVENT_FIELDS) and len(lines) == 1 + len(api.event_ids[::3])
    jl = v.get("/api/events/export", params={"format": "jsonl", "type": "line_crossing"}).text
    rows = [json.loads(x) for x in jl.strip().splitlines()]
    assert len(rows) == 125 and all(r["type"] == "line_crossing" for r in rows)


def test_stats_counts(api: Api) -> None:
    v = api.client("viewer")
    data = v.get(
        "/api/stats/counts",
        params={"interval": 3600, "since": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"},
    ).json()
    assert sum(b["count"] for b in data) == 250
    keys = {b["key"] for b in data}
    assert {"path:in", "path:out", "lawn"} <= keys


def test_zones_and_lines_crud_validated_like_the_config(api: Api) -> None:
    op = api.client("operator")
    zone = {
        "id": "dock",
        "source": "gate",
        "polygon": [[10, 10], [100, 10], [100, 90], [10, 90]],
        "rules": [{"type": "loitering", "min_seconds": 5}],
    }
    assert op.post("/api/zones", json=zone).status_code == 201
    assert op.post("/api/zones", json=zone).status_code == 422  # exists
    assert any(z["id"] == "dock" for z in op.get("/api/zones").json())
    bowtie = {**zone, "id": "bow", "polygon": [[0, 0], [100, 100], [100, 0], [0, 100]]}
    r = op.post("/api/zones", json=bowtie)
    assert r.status_code == 422 and "intersect" in r.json()["detail"]
    unknown_rule = {**zone, "id": "odd", "rules": [{"type": "teleport"}]}
    assert op.post("/api/zones", json=unknown_rule).status_code == 422
    assert op.put("/api/zones/dock", json={**zone, "rules": []}).json()["rules"] == []
    assert op.put("/api/zones/dock", json={**zone, "id": "other"}).status_code == 400
    assert op.delete("/api/zones/dock").status_code == 204
    assert op.delete("/api/zones/dock").status_code == 404
    line = {
        "id": "gate2",
        "source": "gate",
        "points": [[0, 100], [200, 100]],
        "classes": ["person"],
    }
    assert op.post("/api/lines", json=line).status_code == 201
    assert op.post("/api/lines", json={**line, "id": "nosrc", "source": "ghost"}).status_code == 422
    assert op.delete("/api/lines/gate2").status_code == 204


def test_bad_inputs_are_4xx_and_store_nothing(api: Api) -> None:
    op = api.client("operator")
    before = op.get("/api/zones").json()
    r = op.post(
        "/api/zones", content=b'{"id": "broken", ', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and "detail" in r.json()
    two = {"id": "tiny", "source": "gate", "polygon": [[0, 0], [10, 10]], "rules": []}
    r = op.post("/api/zones", json=two)
    assert r.status_code == 422 and "polygon" in r.json()["detail"]
    line3 = {"id": "l3", "source": "gate", "points": [[0, 0], [1, 1], [2, 2]]}
    assert op.post("/api/lines", json=line3).status_code == 422
    huge = b'{"id": "big", "source": "gate", "polygon": [' + b"[1, 1]," * 300_000 + b"[1, 1]]}"
    r = op.post("/api/zones", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "body" in r.json()["detail"]
    assert op.get("/api/zones").json() == before
    for bad in ({"limit": 0}, {"limit": 5000}, {"limit": "x"}, {"order": "sideways"}):
        r = op.get("/api/events", params=bad)
        assert r.status_code == 422, bad
    assert op.get("/api/events", params={"cursor": "not-a-cursor"}).status_code == 400
    assert (
        op.get(
            "/api/events", params={"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}
        ).status_code
        == 400
    )
    for path in (
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "gate/../../shigu.db",
        "/etc/passwd",
    ):
        r = op.get(f"/api/media/{path}")
        assert r.status_code in (400, 404), path
        assert b"root:" not in r.content and not r.content.startswith(b"SQLite")
    assert op.get("/api/sources/ghost").status_code == 404


def test_events_found_by_plate(api: Api) -> None:
    from shigu.core.events import Event

    for i, plate in enumerate(("皖AYL375", "皖AYL376", "京B12345")):
        api.ctx.store.add(Event(type="plate_read", source="gate", start=float(i), track_id=900 + i,
                                class_name="car", attributes={"plate": plate}))  # fmt: skip
    v = api.client("viewer")

    def plates(pattern: str) -> list[str]:
        items = v.get("/api/events", params={"plate": pattern, "limit": 100}).json()["items"]
        return sorted(e["attributes"]["plate"] for e in items)

    assert plates("皖AYL375") == ["皖AYL375"]
    assert plates("皖A*") == ["皖AYL375", "皖AYL376"]
    assert plates("~皖AYL375") == ["皖AYL375", "皖AYL376"]
    assert plates("~京B1234") == ["京B12345"]
    assert plates("沪*") == []
    assert v.get("/api/events", params={"plate": "x" * 40}).status_code == 422


def test_acknowledgements_are_kept_not_overwritten(api: Api) -> None:
    ev = api.event_ids[5]
    first = api.client("operator").post(f"/api/events/{ev}/ack")
    assert first.status_code == 200 and first.json()["acknowledged_by"] == "operator"
    second = api.client("admin").post(f"/api/events/{ev}/ack")
    assert second.json()["acknowledged_by"] == "operator"  # the first acknowledgement stands
    audit = api.client("viewer").get(f"/api/events/{ev}/acks").json()
    assert [a["user"] for a in audit] == ["operator", "admin"]
    assert audit[0]["at"] <= audit[1]["at"]
    assert api.client("viewer").get("/api/events/nosuch/acks").status_code == 404


def test_occupancy_api(api: object) -> None:
    from datetime import UTC, datetime

    from shigu.solutions.living.occupancy import OccupancyMinute

    ctx = api.ctx  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    ctx.store.add_occupancy([OccupancyMinute("gate", "hall", 0.0, now, 1.5, 3, 600),
                             OccupancyMinute("gate", "desk", 0.0, now, 0.2, 1, 600)])  # fmt: skip
    assert api.client().get("/api/occupancy").status_code == 401  # type: ignore[attr-defined]
    rows = api.client("viewer").get("/api/occupancy", params={"zone": "hall"}).json()  # type: ignore[attr-defined]
    assert rows == [{"source": "gate", "zone": "hall", "minute": 0.0, "mean": 1.5, "max": 3,
                     "frames": 600, "wall_time": rows[0]["wall_time"]}]  # fmt: skip
