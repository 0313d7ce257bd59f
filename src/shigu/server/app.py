"""The HTTP service: REST API, live MJPEG and WebSocket, Prometheus metrics, the dashboard.

Secure by default: every route but ``/healthz`` and the sign-in page with its static files
needs a session cookie (browsers) or a bearer token (machines); roles gate writes; cookie
requests that change something must also carry ``X-Requested-With`` (no cross-site forms);
CORS is off unless origins are given; media paths are resolved inside the media folder only.
"""

import asyncio
import csv
import io
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from starlette.websockets import WebSocketDisconnect

from shigu.core.errors import ConfigError, InputError, SourceError
from shigu.core.events import EVENT_FIELDS, csv_row
from shigu.core.redact import redact_uri
from shigu.server.auth import Accounts, LoginLimiter, User
from shigu.server.host import EngineHost
from shigu.server.live import LiveHub
from shigu.server.schemas import (
    CountBucket,
    EventOut,
    EventPage,
    FacesIn,
    FacesOut,
    LoginIn,
    Me,
    OccupancyOut,
    ShapeIn,
    SourceIn,
    TokenIn,
    TokenOut,
    UserIn,
)
from shigu.server.source_policy import check_source_uri
from shigu.store import EventFilter, EventStore
from shigu.store.paging import (
    acknowledge,
    acknowledged_by,
    acknowledgements,
    event_json,
    page,
    page_json,
)

log = logging.getLogger(__name__)
COOKIE = "shigu_session"
# the dashboard loads only its own scripts, styles and media (no inline script), and may not
# be framed by another site
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
MAX_BODY = 1 << 20


def _too_big() -> JSONResponse:
    return JSONResponse(
        {"detail": f"request body over {MAX_BODY} bytes; send less"}, status_code=413
    )


def _nul() -> JSONResponse:
    """NUL characters are refused everywhere (PostgreSQL cannot store them in text)."""
    return JSONResponse(
        {"detail": "the request holds a NUL character (\\u0000); remove it"}, status_code=422
    )  # 1 MiB: zones, lines and users are small


_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
]


class GuardMiddleware:
    """Every HTTP request: a body of at most ``MAX_BODY`` bytes (counted as it arrives, so a
    chunked body cannot slip past), no NUL character in the body, path or query, and the
    security headers on every response.

    Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, which runs each request in an
    extra task and re-wraps the response stream: under load that wrapping was a tenth of the
    API's time on the event loop (py-spy, ``benchmarks/api.py --pipeline``)."""

    def __init__(self, app: Any, max_body: int = MAX_BODY, uploads: bool = False) -> None:
        self.app = app
        self.max_body = max_body
        self.uploads = uploads  # multipart file uploads streamed (the arena), not buffered

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._check_head(scope, self.max_body)
        if refusal is None and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            if self.uploads and self._is_upload(scope):  # files hold NULs: stream, counted
                receive = self._counted(receive, self.max_body)
            else:
                body, refusal = await self._read_body(receive, self.max_body)
                if refusal is None:
                    receive = self._replay(body, receive)
        if refusal is not None:
            await refusal(scope, receive, self._with_headers(send))
            return
        await self.app(scope, receive, self._with_headers(send))

    @staticmethod
    def _is_upload(scope: Any) -> bool:
        return any(
            name == b"content-type" and value.lower().startswith(b"multipart/form-data")
            for name, value in scope["headers"]
        )

    @staticmethod
    def _counted(receive: Any, limit: int) -> Any:
        """``receive`` that ends the body once ``limit`` bytes have arrived (the form parser
        then fails on the cut body: 400), for chunked uploads without a Content-Length."""
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        return counted

    @staticmethod
    def _check_head(scope: Any, limit: int = MAX_BODY) -> Response | None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        return _too_big()
                except ValueError:
                    return JSONResponse({"detail": "bad Content-Length header"}, status_code=400)
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or "\x00" in unquote(query.decode("latin-1")):
            return _nul()
        return None

    @staticmethod
    async def _read_body(receive: Any, limit: int = MAX_BODY) -> tuple[bytes, Response | None]:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", _too_big()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if b"\x00" in body or b"\\u0000" in body:
            return body, _nul()
        return body, None

    @staticmethod
    def _replay(body: bytes, receive: Any) -> Any:
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # a disconnect, for handlers that wait for one

        return replay

    @staticmethod
    def _with_headers(send: Any) -> Any:
        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in _SECURITY_HEADERS if h[0] not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return wrapped


STATIC = resources.files("shigu.server") / "static"


HASH_SLOTS = 2  # password checks at once (Argon2: 64 MiB each)


class ServerContext:
    """What the routes need, built once per app."""

    def __init__(
        self,
        host: EngineHost,
        store: EventStore,
        media_root: Path,
        accounts: Accounts,
        secure_cookies: bool = False,
    ) -> None:
        self.host = host
        self.store = store
        self.media_root = media_root.resolve()
        self.accounts = accounts
        self.limiter = LoginLimiter()
        self.hash_slots = threading.BoundedSemaphore(HASH_SLOTS)
        self.secure_cookies = secure_cookies
        self.volumes: Any = None  # a VolumeLibrary when `shigu serve --volumes DIR`
        self.source_hosts: set[str] = set()  # loopback hosts the API may still open


def create_app(ctx: ServerContext, cors_origins: list[str] | None = None) -> FastAPI:
    app = FastAPI(
        title="Shigu",
        version="0.1.0",
        description="Shigu's REST API: sources, zones, lines, events, stats, live video. "
        "Authenticate with `Authorization: Bearer <token>` (create tokens as an admin) or "
        "the dashboard's session cookie.",
        openapi_url=None,  # served below, behind auth
        docs_url=None,
        redoc_url=None,
    )
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            # a wildcard origin never gets credentials: any site could act as the user
            allow_credentials="*" not in cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )

    app.add_middleware(GuardMiddleware)

    @app.exception_handler(ConfigError)
    async def config_error(_: Request, exc: ConfigError) -> JSONResponse:
        return JSONResponse({"detail": exc.one_line()}, status_code=422)

    @app.exception_handler(SourceError)
    async def source_error(_: Request, exc: SourceError) -> JSONResponse:
        return JSONResponse({"detail": redact_uri(exc.one_line()) or ""}, status_code=422)

    @app.exception_handler(InputError)
    async def input_error(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": exc.one_line()}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors()[:10]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(problems)}, status_code=422)

    # ------------------------------------------------------------------ auth
    def user_from(request: Request) -> User | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return ctx.accounts.user_for_token(header[7:].strip())
        cookie = request.cookies.get(COOKIE)
        return ctx.accounts.user_for_session(cookie) if cookie else None

    RECHECK_S = 1.0  # open streams re-check their credential this often (revocation)

    def still_allowed(check: Callable[[], User | None]) -> Callable[[], bool]:
        """A cheap test, at most once per RECHECK_S, that a stream's credential still holds
        (its token not revoked, its session not ended, its user not deleted)."""
        last = [time.monotonic(), True]

        def ok() -> bool:
            now = time.monotonic()
            if now - float(last[0]) >= RECHECK_S:
                last[0], last[1] = now, check() is not None
            return bool(last[1])

        return ok

    def require(role: str) -> Callable[[Request], User]:
        def dependency(request: Request) -> User:
            user = user_from(request)
            if user is None:
                raise HTTPException(
                    401,
                    "sign in, or send Authorization: Bearer <token>",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if not user.can(role):
                raise HTTPException(403, f"needs the {role} role; you are {user.role}")
            # only a Bearer token exempts from the header: any other Authorization scheme
            # still means the cookie authenticated this request
            uses_cookie = not request.headers.get("authorization", "").lower().startswith("bearer ")
            if (
                uses_cookie
                and request.method not in ("GET", "HEAD", "OPTIONS")
                and (request.headers.get("x-requested-with") != "shigu")
            ):
                raise HTTPException(
                    403, "cookie requests that change data need the header X-Requested-With: shigu"
                )
            return user

        return dependency

    Viewer = Annotated[User, Depends(require("viewer"))]
    Operator = Annotated[User, Depends(require("operator"))]
    Admin = Annotated[User, Depends(require("admin"))]

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, Any]:
        """Liveness: no authentication, no details beyond whether the engine runs."""
        host = ctx.host
        running = host.thread is not None and host.thread.is_alive()
        down = host.pipeline.sources_down() if running and host.pipeline is not None else 0
        out: dict[str, Any] = {
            "status": "ok" if host.error is None and not down else "degraded",
            "engine": "running" if running else ("error" if host.error else "stopped"),
        }
        if down:
            out["sources_down"] = down  # a count only: details need a sign-in
        return out

    @app.post("/api/auth/login", response_model=Me, tags=["auth"])
    def login(body: LoginIn, request: Request, response: Response) -> Me:
        client = request.client.host if request.client else "?"
        keys = (f"ip:{client}", f"user:{body.username}")
        wait = ctx.limiter.reserve(*keys)  # counted now; cleared if the password is right
        if wait > 0:
            raise HTTPException(
                429,
                f"too many failed sign-ins; try again in {wait:.0f} s",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        # Each Argon2 check takes 64 MiB: a few at a time, so a flood keeps memory flat.
        if not ctx.hash_slots.acquire(timeout=2.0):
            raise HTTPException(
                503, "too many sign-ins at once; try again", headers={"Retry-After": "1"}
            )
        try:
            user = ctx.accounts.check_password(body.username, body.password)
        finally:
            ctx.hash_slots.release()
        if user is None:
            raise HTTPException(401, "wrong user name or password")
        ctx.limiter.succeeded(*keys)
        response.set_cookie(
            COOKIE,
            ctx.accounts.create_session(user.name),
            httponly=True,
            samesite="strict",
            secure=ctx.secure_cookies,
            max_age=12 * 3600,
        )
        return Me(name=user.name, role=user.role)

    @app.post("/api/auth/logout", status_code=204, tags=["auth"])
    def logout(request: Request, _: Viewer) -> Response:
        cookie = request.cookies.get(COOKIE)
        if cookie:
            ctx.accounts.end_session(cookie)
        response = Response(status_code=204)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/api/me", response_model=Me, tags=["auth"])
    def me(user: Viewer) -> Me:
        return Me(name=user.name, role=user.role)

    # ------------------------------------------------------------------ users, tokens
    @app.get("/api/users", response_model=list[Me], tags=["admin"])
    def list_users(_: Admin) -> list[Me]:
        return [Me(name=u.name, role=u.role) for u in ctx.accounts.users()]

    @app.post("/api/users", response_model=Me, status_code=201, tags=["admin"])
    def add_user(body: UserIn, _: Admin) -> Me:
        try:
            user = ctx.accounts.add_user(body.name, body.password, body.role)
        except InputError as exc:
            raise HTTPException(409 if "exists" in exc.message else 400, exc.one_line()) from None
        return Me(name=user.name, role=user.role)

    @app.delete("/api/users/{name}", status_code=204, tags=["admin"])
    def delete_user(name: str, user: Admin) -> Response:
        if name == user.name:
            raise HTTPException(400, "you cannot delete yourself; ask another admin")
        if not ctx.accounts.delete_user(name):
            raise HTTPException(404, f"no user {name!r}")
        return Response(status_code=204)

    @app.get("/api/tokens", tags=["admin"])
    def list_tokens(_: Admin) -> list[dict[str, Any]]:
        return ctx.accounts.tokens()

    @app.post("/api/tokens", response_model=TokenOut, status_code=201, tags=["admin"])
    def create_token(body: TokenIn, user: Admin) -> TokenOut:
        owner = body.user or user.name
        if ctx.accounts.get_user(owner) is None:
            raise HTTPException(404, f"no user {owner!r}")
        token_id, token = ctx.accounts.create_token(owner, body.name, body.expires_days)
        return TokenOut(id=token_id, token=token)

    @app.delete("/api/tokens/{token_id}", status_code=204, tags=["admin"])
    def revoke_token(token_id: str, _: Admin) -> Response:
        if not ctx.accounts.revoke_token(token_id):
            raise HTTPException(404, f"no token {token_id!r}")
        return Response(status_code=204)

    # ------------------------------------------------------------------ sources
    def _source_config(body: SourceIn) -> dict[str, Any]:
        return body.model_dump(exclude_none=True, exclude={"offline_ok"})

    def _source(sid: str, reveal: bool = False) -> dict[str, Any]:
        for s in ctx.host.sources(reveal):
            if s["id"] == sid:
                return s
        raise HTTPException(404, f"no source {sid!r}")

    def _running(sid: str) -> None:
        source = _source(sid)
        stopped = ctx.host.pipeline is None or not source.get("connected")
        if stopped and ctx.host.hub.latest(sid) is None:
            raise HTTPException(404, f"source {sid!r} is not running: no live video")

    @app.get("/api/sources", tags=["sources"])
    def list_sources(user: Viewer) -> list[dict[str, Any]]:
        return ctx.host.sources(reveal=user.can("admin"))  # passwords for admins only

    @app.get("/api/sources/{source_id}", tags=["sources"])
    def get_source(source_id: str, user: Viewer) -> dict[str, Any]:
        return _source(source_id, reveal=user.can("admin"))

    @app.post("/api/sources", status_code=201, tags=["sources"])
    def add_source(body: SourceIn, _: Admin) -> dict[str, Any]:
        check_source_uri(body.uri, ctx.source_hosts)
        ctx.host.put_source(_source_config(body), create=True, offline_ok=body.offline_ok)
        return _source(body.id, reveal=True)

    @app.put("/api/sources/{source_id}", tags=["sources"])
    def update_source(source_id: str, body: SourceIn, _: Admin) -> dict[str, Any]:
        if body.id != source_id:
            raise HTTPException(400, "the id in the body must match the URL")
        check_source_uri(body.uri, ctx.source_hosts)
        try:
            ctx.host.put_source(_source_config(body), create=False, offline_ok=body.offline_ok)
        except KeyError:
            raise HTTPException(404, f"no source {source_id!r}") from None
        return _source(source_id, reveal=True)

    @app.delete("/api/sources/{source_id}", status_code=204, tags=["sources"])
    def delete_source(source_id: str, _: Admin) -> Response:
        try:
            ctx.host.delete_source(source_id)
        except KeyError:
            raise HTTPException(404, f"no source {source_id!r}") from None
        return Response(status_code=204)

    @app.get(
        "/api/sources/{source_id}/frame.jpg",
        tags=["live"],
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    def latest_frame(source_id: str, _: Viewer) -> Response:
        _running(source_id)
        ctx.host.hub.watch(source_id)
        item = ctx.host.hub.latest(source_id) or ctx.host.hub.wait_frame(source_id, 0, 5.0)
        if item is None:
            raise HTTPException(404, f"no frame from {source_id!r} yet; is it running?")
        return Response(item[1], media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @app.get(
        "/api/sources/{source_id}/mjpeg",
        tags=["live"],
        responses={200: {"content": {"multipart/x-mixed-replace": {}}}},
    )
    async def mjpeg(
        request: Request, source_id: str, _: Viewer, max_frames: int = Query(0, ge=0, le=100000)
    ) -> StreamingResponse:
        _running(source_id)
        hub = ctx.host.hub
        allowed = still_allowed(lambda: user_from(request))

        async def frames() -> AsyncIterator[bytes]:
            seq, sent = 0, 0
            while True:
                if not await asyncio.to_thread(allowed):
                    return  # revoked: the stream ends within a second
                hub.watch(source_id)
                item = await asyncio.to_thread(hub.wait_frame, source_id, seq, RECHECK_S / 2)
                if item is None:
                    continue
                seq = item[0]
                yield (
                    b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                    + str(len(item[1])).encode()
                    + b"\r\n\r\n"
                    + item[1]
                    + b"\r\n"
                )
                sent += 1
                if max_frames and sent >= max_frames:
                    return

        return StreamingResponse(frames(), media_type="multipart/x-mixed-replace; boundary=frame")

    # ------------------------------------------------------------------ zones and lines
    def _shapes(kind: str) -> None:
        singular = kind[:-1]

        @app.get(f"/api/{kind}", tags=["zones and lines"], name=f"list_{kind}")
        def list_shapes(_: Viewer, source: str | None = None) -> list[dict[str, Any]]:
            items = ctx.host.data()[kind]
            return [s for s in items if source is None or s["source"] == source]

        @app.post(f"/api/{kind}", status_code=201, tags=["zones and lines"], name=f"add_{singular}")
        def add_shape(body: ShapeIn, _: Operator) -> dict[str, Any]:
            return ctx.host.put_shape(kind, _shape_dict(kind, body), create=True)

        @app.put(f"/api/{kind}/{{shape_id}}", tags=["zones and lines"], name=f"update_{singular}")
        def update_shape(shape_id: str, body: ShapeIn, _: Operator) -> dict[str, Any]:
            if body.id != shape_id:
                raise HTTPException(400, "the id in the body must match the URL")
            try:
                return ctx.host.put_shape(kind, _shape_dict(kind, body), create=False)
            except KeyError:
                raise HTTPException(404, f"no {singular} {shape_id!r}") from None

        @app.delete(
            f"/api/{kind}/{{shape_id}}",
            status_code=204,
            tags=["zones and lines"],
            name=f"delete_{singular}",
        )
        def delete_shape(shape_id: str, _: Operator) -> Response:
            try:
                ctx.host.delete_shape(kind, shape_id)
            except KeyError:
                raise HTTPException(404, f"no {singular} {shape_id!r}") from None
            return Response(status_code=204)

    _shapes("zones")
    _shapes("lines")

    # ------------------------------------------------------------------ events
    def _filter(
        since: datetime | None,
        until: datetime | None,
        source: str | None,
        type: str | None,
        zone: str | None,
        line: str | None,
        class_name: str | None,
        plate: str | None = None,
    ) -> EventFilter:
        def aware(t: datetime | None) -> datetime | None:
            return t if t is None or t.tzinfo else t.replace(tzinfo=UTC)

        s, u = aware(since), aware(until)
        if s is not None and u is not None and s > u:
            raise HTTPException(400, "since is after until")
        return EventFilter(
            since=s, until=u, source=source, type=type, zone=zone, line=line,
            class_name=class_name, plate=plate,
        )  # fmt: skip

    async def event_filter(
        since: datetime | None = None,
        until: datetime | None = None,
        source: str | None = Query(None, max_length=128),
        type: str | None = Query(None, max_length=64),
        zone: str | None = Query(None, max_length=128),
        line: str | None = Query(None, max_length=128),
        class_name: str | None = Query(None, max_length=64),
        plate: str | None = Query(
            None, max_length=17, description="plate: exact, PREFIX* or ~PLATE (one edit away)"
        ),
    ) -> EventFilter:
        """The filter query parameters every event route takes (async: no thread hand-over)."""
        return _filter(since, until, source, type, zone, line, class_name, plate)

    Filter = Annotated[EventFilter, Depends(event_filter)]

    @app.get("/api/events", response_model=EventPage, tags=["events"])
    async def list_events(
        _: Viewer,
        f: Filter,
        limit: int = Query(100, ge=1, le=1000),
        cursor: str | None = Query(None, max_length=512),
        order: Literal["newest", "oldest"] = "newest",
    ) -> EventPage:
        items, nxt = page_json(ctx.store, f, limit, cursor, newest_first=order == "newest")
        # Run on the event loop, not the thread pool: an indexed page takes ~1.5 ms, less than
        # the hand-over to a worker thread would. Serialised directly: the rows are already
        # in EventOut's shape (the response model documents it); validating 100 models per
        # page would cost more than the query.
        body = '{"items":' + items + ',"next_cursor":' + json.dumps(nxt) + "}"
        return Response(body, media_type="application/json")  # type: ignore[return-value]

    @app.get(
        "/api/events/export",
        tags=["events"],
        responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
    )
    def export_events(
        _: Viewer, f: Filter, format: Literal["csv", "jsonl"] = "csv"
    ) -> StreamingResponse:

        def rows() -> Iterator[str]:
            cursor: str | None = None
            header = True
            while True:
                items, cursor = page(ctx.store, f, 1000, cursor, newest_first=False)
                for ev, ack in items:
                    data = event_json(ev, ack)
                    if format == "jsonl":
                        yield json.dumps(data) + "\n"
                        continue
                    buf = io.StringIO()
                    writer = csv.DictWriter(buf, fieldnames=list(EVENT_FIELDS))
                    if header:
                        writer.writeheader()
                        header = False
                    writer.writerow(csv_row(data))
                    yield buf.getvalue()
                if cursor is None:
                    return

        media = "text/csv" if format == "csv" else "application/x-ndjson"
        return StreamingResponse(
            rows(),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="events.{format}"'},
        )

    def _event(event_id: str) -> Any:
        if len(event_id) > 64:
            raise HTTPException(400, "event ids are at most 64 characters")
        ev = ctx.store.get(event_id)
        if ev is None:
            raise HTTPException(404, f"no event {event_id!r}")
        return ev

    @app.get("/api/events/{event_id}", response_model=EventOut, tags=["events"])
    def get_event(event_id: str, _: Viewer) -> EventOut:
        ev = _event(event_id)
        return EventOut(**event_json(ev, acknowledged_by(ctx.store, ev.id)))

    def _media(rel: str | None, what: str) -> FileResponse:
        if not rel:
            raise HTTPException(404, f"this event has no {what}")
        path = (ctx.media_root / rel).resolve()
        if not path.is_relative_to(ctx.media_root) or not path.is_file():
            raise HTTPException(404, f"{what} file is missing")
        return FileResponse(path)

    @app.get(
        "/api/events/{event_id}/snapshot",
        tags=["events"],
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    def event_snapshot(event_id: str, _: Viewer, crop: bool = False) -> FileResponse:
        ev = _event(event_id)
        return _media(ev.snapshot_crop if crop else ev.snapshot, "snapshot")

    @app.get(
        "/api/events/{event_id}/clip",
        tags=["events"],
        responses={200: {"content": {"video/mp4": {}}}},
    )
    def event_clip(event_id: str, _: Viewer) -> FileResponse:
        return _media(_event(event_id).clip, "clip")

    @app.get(
        "/api/media/{path:path}",
        tags=["events"],
        responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}}}},
    )
    def media_file(path: str, _: Viewer) -> FileResponse:
        """A snapshot or clip by its stored relative path (no way out of the media folder)."""
        if len(path) > 1024 or "\x00" in path:
            raise HTTPException(400, "bad media path")
        target = (ctx.media_root / path).resolve()
        if not target.is_relative_to(ctx.media_root):
            raise HTTPException(400, "media paths must stay inside the media folder")
        if not target.is_file():
            raise HTTPException(404, "no such media file")
        return FileResponse(target)

    @app.post("/api/events/{event_id}/ack", response_model=EventOut, tags=["events"])
    def ack_event(event_id: str, user: Operator) -> EventOut:
        ev = _event(event_id)
        acknowledge(ctx.store, ev.id, user.name)
        return EventOut(**event_json(ev, acknowledged_by(ctx.store, ev.id)))

    @app.get("/api/events/{event_id}/acks", tags=["events"])
    def event_acks(event_id: str, _: Viewer) -> list[dict[str, str]]:
        """Every acknowledgement of the event (who and when), oldest first."""
        ev = _event(event_id)
        return acknowledgements(ctx.store, ev.id)

    # ------------------------------------------------------------------ stats
    @app.get("/api/stats/counts", response_model=list[CountBucket], tags=["stats"])
    def counts(
        _: Viewer,
        interval: int = Query(60, ge=1, le=86400, description="bucket length in seconds"),
        since: datetime | None = None,
        until: datetime | None = None,
        source: str | None = Query(None, max_length=128),
        type: str | None = Query(None, max_length=64),
    ) -> list[CountBucket]:
        """Events per interval and per line or zone (line crossings split by direction)."""
        now = datetime.now(UTC)
        f = _filter(since or now - timedelta(hours=24), until, source, type, None, None, None)
        buckets = ctx.store.count_buckets(f, interval)
        return [
            CountBucket(start=s, key=k, type=t, count=n) for (s, k, t), n in sorted(buckets.items())
        ]

    @app.get("/api/occupancy", response_model=list[OccupancyOut], tags=["stats"])
    def occupancy(
        _: Viewer,
        since: datetime | None = None,
        source: str | None = Query(None, max_length=128),
        zone: str | None = Query(None, max_length=128),
    ) -> list[OccupancyOut]:
        """Per-minute head counts (mean and max) of the occupancy zones, oldest first;
        default: the last 24 hours."""
        start = since or datetime.now(UTC) - timedelta(hours=24)
        rows = ctx.store.occupancy(source, zone, start)
        return [OccupancyOut(**r) for r in rows]

    # ------------------------------------------------------------------ known faces
    face_models: list[Any] = []  # YuNet and MobileFaceNet, loaded at the first enrolment
    face_lock = threading.Lock()

    def _embed_pictures(pictures: list[str]) -> list[list[float]]:
        import base64
        import binascii

        import cv2
        import numpy as np

        from shigu.solutions.living.faces import FaceEmbedder, embedding_of_picture

        with face_lock:
            if not face_models:
                from shigu.detect import load_detector

                face_models.extend([load_detector("yunet-face", conf=0.8), FaceEmbedder()])
            out = []
            for k, text in enumerate(pictures, 1):
                try:
                    data = base64.b64decode(text, validate=True)
                except (binascii.Error, ValueError):
                    raise InputError(f"picture {k} is not base64") from None
                try:
                    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                except cv2.error:  # empty or broken buffers
                    image = None
                if image is None:
                    raise InputError(f"picture {k} is not a JPEG or PNG image")
                emb = embedding_of_picture(image, face_models[0], face_models[1], f"picture {k}")
                out.append(emb.tolist())
            return out

    @app.post("/api/faces/{name}", response_model=FacesOut, status_code=201, tags=["faces"])
    async def enrol_face(name: str, body: FacesIn, _: Admin) -> FacesOut:
        """Enrol ``name`` from pictures of their face (every picture must show one; nothing
        is stored otherwise). Opt-in: the ``faces`` stage matches tracks against them."""
        if not 0 < len(name) <= 128:
            raise HTTPException(422, "the name must be 1 to 128 characters")
        embeddings = await asyncio.to_thread(_embed_pictures, body.pictures)
        total = ctx.store.add_faces(name, embeddings, "api")
        return FacesOut(name=name, added=len(embeddings), embeddings=total)

    @app.get("/api/faces", tags=["faces"])
    def list_faces(_: Admin) -> list[dict[str, Any]]:
        """Who is enrolled, with how many embeddings (no embeddings are returned)."""
        return list(ctx.store.faces())

    @app.delete("/api/faces/{name}", status_code=204, tags=["faces"])
    def delete_faces(name: str, _: Admin) -> Response:
        """Delete every face embedding of ``name`` (a person's request to be forgotten)."""
        if not ctx.store.delete_faces(name):
            raise HTTPException(404, f"nobody called {name!r} is enrolled")
        return Response(status_code=204)

    # ------------------------------------------------------------------ live events
    allowed_origins = set(cors_origins or []) - {"*"}

    def _origin_ok(websocket: WebSocket) -> bool:
        """Browsers send Origin: a page of another site may not ride on the user's cookie
        (cross-site WebSocket hijacking). Clients that send none (scripts) pass."""
        origin = websocket.headers.get("origin")
        if not origin:
            return True
        host = websocket.headers.get("host", "")
        own = {f"http://{host}", f"https://{host}"}
        return origin in own or origin in allowed_origins

    @app.websocket("/api/ws/events")
    async def ws_events(websocket: WebSocket) -> None:
        if not _origin_ok(websocket):
            await websocket.close(code=4403, reason="origin not allowed")
            return
        if "token" in websocket.query_params:
            # a token in a URL ends up in proxy and server logs and browser history
            await websocket.close(code=4400, reason="send the token in the Authorization header")
            return
        auth = websocket.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        cookie = websocket.cookies.get(COOKIE)
        user = (
            ctx.accounts.user_for_token(token)
            if token
            else ctx.accounts.user_for_session(cookie)
            if cookie
            else None
        )
        if user is None:
            await websocket.close(code=4401, reason="sign in first")
            return
        await websocket.accept()
        queue = ctx.host.hub.subscribe()
        allowed = still_allowed(
            lambda: ctx.accounts.user_for_token(token) if token
            else ctx.accounts.user_for_session(cookie) if cookie else None
        )  # fmt: skip
        gone = asyncio.Event()

        async def watch_client() -> None:
            # the client sends nothing, so only reading tells us it left: without this a closed
            # tab kept its handler and subscription while no events came (and blocked shutdown)
            try:
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
            except (WebSocketDisconnect, RuntimeError):
                pass
            finally:
                gone.set()

        watcher = asyncio.create_task(watch_client())
        try:
            while not gone.is_set():
                if not await asyncio.to_thread(allowed):
                    await websocket.close(code=4401, reason="signed out or token revoked")
                    return
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=RECHECK_S / 2)
                except TimeoutError:
                    continue
                await websocket.send_json(message)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            watcher.cancel()
            ctx.host.hub.unsubscribe(queue)

    # ------------------------------------------------------------------ service
    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"])
    def metrics(_: Viewer) -> PlainTextResponse:
        from prometheus_client import generate_latest

        pipeline = ctx.host.pipeline
        body = generate_latest(pipeline.metrics.registry) if pipeline is not None else b""
        return PlainTextResponse(body.decode(), media_type="text/plain; version=0.0.4")

    @app.get("/api/openapi.json", tags=["service"], include_in_schema=False)
    def openapi(_: Viewer) -> JSONResponse:
        return JSONResponse(app.openapi())

    # ------------------------------------------------------------------ medical volumes
    def _library() -> Any:
        if ctx.volumes is None:
            raise HTTPException(404, "no volumes: start the server with --volumes DIR")
        return ctx.volumes

    @app.get("/api/volumes", tags=["volumes"])
    def list_volumes(_: Viewer) -> list[dict[str, Any]]:
        return list(_library().listing())

    @app.get("/api/volumes/info", tags=["volumes"])
    def volume_info(name: str, _: Viewer) -> dict[str, Any]:
        try:
            return dict(_library().load(name).info)
        except KeyError as exc:
            raise HTTPException(404, f"no volume named {name!r}") from exc

    @app.get("/api/volumes/slice", tags=["volumes"], response_class=Response)
    def volume_slice(
        name: str,
        _: Viewer,
        plane: str = "axial",
        index: Annotated[int | None, Query(ge=0, le=100_000)] = None,
        center: Annotated[float | None, Query(ge=-1e6, le=1e6, allow_inf_nan=False)] = None,
        width: Annotated[float | None, Query(ge=1, le=1e6, allow_inf_nan=False)] = None,
        overlay: str | None = None,
    ) -> Response:
        library = _library()
        window = None if center is None or width is None else (center, width)
        try:
            png = library.slice_png(name, plane, index, window, overlay or None)
        except KeyError as exc:
            raise HTTPException(404, f"no volume named {exc.args[0]!r}") from exc
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/viewer", include_in_schema=False)
    def viewer_page(request: Request) -> Response:
        if user_from(request) is None:
            return RedirectResponse("/login", status_code=303)
        return HTMLResponse((STATIC / "viewer.html").read_text(encoding="utf-8"))

    # ------------------------------------------------------------------ dashboard
    @app.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        if user_from(request) is None:
            return RedirectResponse("/login", status_code=303)
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    @app.get("/login", include_in_schema=False)
    def login_page() -> HTMLResponse:
        return HTMLResponse((STATIC / "login.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


def _shape_dict(kind: str, body: ShapeIn) -> dict[str, Any]:
    """A zone or line as the config file writes it; the wrong fields are a 422."""
    if kind == "zones":
        if body.points is not None:
            raise HTTPException(422, "a zone has a polygon, not points")
        if body.polygon is None:
            raise HTTPException(422, "polygon: a zone needs at least 3 points")
        return {
            "id": body.id,
            "source": body.source,
            "polygon": [list(p) for p in body.polygon],
            "rules": body.rules or [],
        }
    if body.polygon is not None or body.rules is not None:
        raise HTTPException(422, "a line has 2 points and classes, not a polygon or rules")
    if body.points is None or len(body.points) != 2:
        raise HTTPException(422, "points: a line needs exactly 2 points")
    shape: dict[str, Any] = {
        "id": body.id,
        "source": body.source,
        "points": [list(p) for p in body.points],
    }
    if body.classes is not None:
        shape["classes"] = body.classes
    return shape


def build_context(
    config: Any,
    run_engine: bool = True,
    secure_cookies: bool = False,
    config_path: Path | None = None,
) -> ServerContext:
    """Store, accounts and (optionally running) engine for a validated pipeline config;
    with ``config_path``, changes made live are saved to that file."""
    store = EventStore(config.store.url)
    host = EngineHost(config, LiveHub(), run_engine=run_engine, config_path=config_path)
    if host.pipeline is not None:
        host.pipeline.store.close()
        host.pipeline.store = store  # one store (and connection pool) for engine and API
        host.pipeline._own_store = False
    return ServerContext(
        host, store, Path(config.store.media_dir), Accounts(store.engine), secure_cookies
    )
