"""Weak passwords, CSRF with odd Authorization headers, CORS wildcards, huge polygons."""

from __future__ import annotations

import pytest

from shigu.core.errors import ConfigError, InputError
from shigu.pipeline import parse_config
from shigu.server.auth import check_password_strength
from tests.server.conftest import PASSWORD


@pytest.mark.parametrize(
    ("password", "name"),
    [
        ("password", "ana"),
        ("Password1", "ana"),
        ("12345678", "bo"),
        ("short", "bo"),
        ("alicealice", "alicealice"),
    ],
)
def test_weak_passwords_are_refused(password: str, name: str) -> None:
    with pytest.raises(InputError):
        check_password_strength(password, name)


def test_a_long_passphrase_is_accepted() -> None:
    check_password_strength("correct horse battery", "alice")


def test_csrf_header_needed_with_any_non_bearer_authorization(api) -> None:
    browser = api.client()
    r = browser.post("/api/auth/login", json={"username": "operator", "password": PASSWORD})
    assert r.status_code == 200
    zone = {"id": "z1", "source": "gate", "polygon": [[0, 0], [50, 0], [50, 50]], "rules": []}
    forged = browser.post("/api/zones", json=zone, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert forged.status_code == 403 and "X-Requested-With" in forged.json()["detail"]


def test_cors_wildcard_never_allows_credentials(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from shigu.server.app import build_context, create_app
    from tests.server.conftest import make_config

    ctx = build_context(parse_config(make_config(tmp_path)), run_engine=False)
    client = TestClient(create_app(ctx, cors_origins=["*"]))
    r = client.options(
        "/api/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert r.headers.get("access-control-allow-credentials") != "true"
    ctx.store.close()


def test_polygons_are_bounded() -> None:
    ring = [[i % 100, (i * 7) % 100] for i in range(1000)]
    with pytest.raises(ConfigError, match="polygon"):
        parse_config(
            {
                "sources": [{"id": "a", "uri": "x"}],
                "zones": [{"id": "z", "source": "a", "polygon": ring}],
            }
        )


def test_parallel_guesses_cannot_race_the_limiter(api) -> None:
    """40 guesses at once: the limit (5 per window) holds for the real password checks, and
    at most two Argon2 hashes run at a time (memory stays flat under a flood)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    accounts = api.ctx.accounts
    real = accounts.check_password
    checks: list[int] = []
    running, peak = [0], [0]
    lock = threading.Lock()

    def slow_check(name: str, password: str):  # the real check, made slow enough to race
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            checks.append(1)
        time.sleep(0.05)
        try:
            return real(name, password)
        finally:
            with lock:
                running[0] -= 1

    accounts.check_password = slow_check
    try:
        client = api.client()

        def guess(i: int) -> int:
            body = {"username": "viewer", "password": f"wrong-guess-{i}"}
            return client.post("/api/auth/login", json=body).status_code

        with ThreadPoolExecutor(40) as pool:
            codes = list(pool.map(guess, range(40)))
    finally:
        accounts.check_password = real
    assert len(checks) <= 5, len(checks)
    assert peak[0] <= 2
    assert codes.count(401) == len(checks) and codes.count(429) + codes.count(503) == 40 - len(
        checks
    )
    right = api.client().post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    assert right.status_code == 429 and "Retry-After" in right.headers  # the address is limited
    api.ctx.limiter.succeeded("ip:testclient", "user:admin")
    right = api.client().post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    assert right.status_code == 200  # the right password still works once the window is over


def test_a_stranger_cannot_lock_a_user_out_from_their_own_address() -> None:
    from shigu.server.auth import LoginLimiter

    limiter = LoginLimiter(attempts=5, window=60, user_attempts=30)
    for _ in range(5):  # the attacker fails five times at the admin account
        assert limiter.reserve("ip:198.51.100.7", "user:admin") == 0
    assert limiter.reserve("ip:198.51.100.7", "user:admin") > 0  # the attacker: locked
    assert limiter.reserve("ip:10.0.0.2", "user:admin") == 0  # the admin elsewhere: not
    for i in range(30):  # but many addresses together hit the slower global limit
        limiter.reserve(f"ip:192.0.2.{i}", "user:admin")
    assert limiter.reserve("ip:10.0.0.3", "user:admin") > 0


def test_tokens_expire_and_old_sessions_are_purged(api) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select, update
    from sqlalchemy.orm import Session

    from shigu.store.models import SessionRow, TokenRow

    admin = api.client("admin")
    made = admin.post("/api/tokens", json={"name": "short-lived", "expires_days": 1})
    assert made.status_code == 201
    token_id, token = made.json()["id"], made.json()["token"]
    listed = {t["id"]: t for t in admin.get("/api/tokens").json()}
    expires = datetime.fromisoformat(listed[token_id]["expires"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) < timedelta(hours=25)
    robot = api.client()
    robot.headers["Authorization"] = f"Bearer {token}"
    assert robot.get("/api/me").status_code == 200
    accounts = api.ctx.accounts  # type: ignore[attr-defined]
    with Session(accounts.engine) as s, s.begin():  # a day later
        s.execute(update(TokenRow).where(TokenRow.id == token_id)
                  .values(expires=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    accounts._forget()
    assert robot.get("/api/me").status_code == 401
    assert admin.post("/api/tokens", json={"name": "x", "expires_days": 0}).status_code == 422
    # a stale session row goes at the next sign-in
    with Session(accounts.engine) as s, s.begin():
        s.add(SessionRow(token_hash="0" * 64, user="viewer",
                         expires=datetime.now(UTC) - timedelta(hours=1)))  # fmt: skip
    browser = api.client()
    assert (
        browser.post(
            "/api/auth/login", json={"username": "viewer", "password": PASSWORD}
        ).status_code
        == 200
    )
    with Session(accounts.engine) as s:
        assert s.scalar(select(SessionRow).where(SessionRow.token_hash == "0" * 64)) is None
