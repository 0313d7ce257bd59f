"""The arena's HTTP API and pages (``shigu arena serve``).

Every rule lives in :class:`shigu.arena.store.Arena`; this layer only signs people in and maps
its errors to status codes: a rule that says no is 403, something not yours to see is 404
(the same as something that does not exist), a bad input 400. Sign-in returns a bearer
token; the pages keep it in session storage and send it as ``Authorization``, so no cookie
rides along on other sites' requests (no CSRF). Anonymous visitors act as ``public``.
"""

import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from shigu.arena import leaderboard
from shigu.arena.awards import announcement_html, write_certificates
from shigu.arena.store import Actor, Arena, ArenaError, NotFound
from shigu.core.errors import ConfigError, InputError
from shigu.server.app import GuardMiddleware
from shigu.server.auth import LoginLimiter

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
PUBLIC = Actor("public", "public")
_CHUNK = 1 << 20


class Login(BaseModel):
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class TeamIn(BaseModel):
    id: str = Field(max_length=64)
    name: str = Field("", max_length=128)


class MemberIn(BaseModel):
    person: str = Field(max_length=64)


class SelectIn(BaseModel):
    selected: bool = True


class ConflictIn(BaseModel):
    judge: str = Field(max_length=64)
    team: str = Field(max_length=64)
    reason: str = Field("", max_length=500)


class JudgeScoreIn(BaseModel):
    scores: dict[str, float]
    comment: str = Field("", max_length=4000)


class FinalistsIn(BaseModel):
    teams: dict[str, str]


class ScoringLoop:
    """Scores queued submissions in the background while the server runs (a submission is
    on the leaderboard a scoring run after its upload)."""

    def __init__(self, arena: Arena, workers: int = 2, interval: float = 0.5) -> None:
        self.arena = arena
        self.workers = workers
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="arena-scoring", daemon=True)

    def start(self) -> "ScoringLoop":
        self.arena.recover()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.arena.score_pending(self.workers)
            except Exception:  # a broken store must not end the loop silently
                log.exception("scoring pass failed")
                done = {}
            if not done:
                self._stop.wait(self.interval)


def create_arena_app(arena: Arena, upload_mb: float | None = None) -> FastAPI:
    app = FastAPI(title="Shigu arena", openapi_url="/api/openapi.json", docs_url=None)
    limiter = LoginLimiter()
    max_upload = int((upload_mb or max(t.max_upload_mb for t in arena.challenge.tracks)) * 1024**2)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": exc.one_line()}, status_code=404)

    @app.exception_handler(ArenaError)
    async def refused(_: Request, exc: ArenaError) -> JSONResponse:
        return JSONResponse({"detail": exc.one_line()}, status_code=403)

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": exc.one_line()}, status_code=400)

    @app.exception_handler(ConfigError)
    async def bad_config(_: Request, exc: ConfigError) -> JSONResponse:
        return JSONResponse({"detail": exc.one_line()}, status_code=400)

    def current(authorization: Annotated[str | None, Header()] = None) -> Actor:
        if not authorization:
            if arena.challenge.private:
                raise HTTPException(401, "this challenge is private: sign in")
            return PUBLIC
        scheme, _, token = authorization.partition(" ")
        actor = arena.actor_for_token(token) if scheme.lower() == "bearer" and token else None
        if actor is None:
            raise HTTPException(401, "sign in again (the token is unknown or expired)")
        return actor

    Who = Annotated[Actor, Depends(current)]

    def signed_in(actor: Who) -> Actor:
        if actor.role == "public":
            raise HTTPException(401, "sign in first")
        return actor

    Person = Annotated[Actor, Depends(signed_in)]

    # ------------------------------------------------------------------ accounts
    @app.post("/api/login")
    def login(body: Login, request: Request) -> dict[str, Any]:
        address = request.client.host if request.client else "?"
        keys = (f"ip:{address}", f"user:{body.name}")  # as the event server's sign-in
        wait = limiter.reserve(*keys)  # counted now; cleared if the password is right
        if wait > 0:
            raise HTTPException(429, f"too many failed sign-ins; try again in {wait:.0f} s")
        actor = arena.authenticate(body.name, body.password)
        if actor is None:
            raise HTTPException(401, "wrong name or password")
        limiter.succeeded(*keys)
        return {"token": arena.create_token(actor), "name": actor.name, "role": actor.role}

    @app.post("/api/logout", status_code=204)
    def logout(_: Person, authorization: Annotated[str, Header()]) -> Response:
        arena.end_token(authorization.partition(" ")[2])
        return Response(status_code=204)

    @app.post("/api/register", status_code=201)
    def register(body: Login) -> dict[str, str]:
        arena.add_person(body.name, body.password, "participant")
        return {"name": body.name, "role": "participant"}

    @app.get("/api/me")
    def me(actor: Who) -> dict[str, Any]:
        team = arena.team_of(actor.name) if actor.role == "participant" else None
        return {"name": actor.name, "role": actor.role, "team": team}

    # ------------------------------------------------------------------ challenge and teams
    @app.get("/api/challenge")
    def challenge(_: Who) -> dict[str, Any]:
        return arena.public_challenge()

    @app.get("/api/teams")
    def teams(_: Who) -> list[dict[str, str]]:
        return [{"id": k, "name": v} for k, v in arena.teams().items()]

    @app.post("/api/teams", status_code=201)
    def create_team(body: TeamIn, actor: Person) -> dict[str, str]:
        arena.create_team(body.id, body.name or body.id, actor)
        return {"id": body.id, "name": body.name or body.id}

    @app.post("/api/teams/{team_id}/members", status_code=201)
    def add_member(team_id: str, body: MemberIn, actor: Person) -> dict[str, str]:
        arena.add_member(team_id, body.person, actor)
        return {"team": team_id, "person": body.person}

    # ------------------------------------------------------------------ submissions
    @app.post("/api/submissions", status_code=201)
    async def submit(
        actor: Person,
        track: Annotated[str, Form(max_length=64)],
        phase: Annotated[str, Form(max_length=64)],
        file: Annotated[UploadFile, File()],
    ) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="shigu-upload-") as tmp:
            path = Path(tmp) / Path(file.filename or "upload").name
            size = 0
            with path.open("wb") as out:
                while chunk := await file.read(_CHUNK):
                    size += len(chunk)
                    if size > max_upload:
                        raise HTTPException(413, f"upload over {max_upload // 1024**2} MiB")
                    out.write(chunk)
            sid = arena.submit(actor, track, phase, path, file.filename)
        return arena.submission(actor, sid)

    @app.get("/api/submissions")
    def submissions(
        actor: Person, team: str | None = None, deleted: bool = False
    ) -> list[dict[str, Any]]:
        return arena.submissions(actor, team, deleted)

    @app.get("/api/submissions/{sid}")
    def submission(sid: str, actor: Person) -> dict[str, Any]:
        return arena.submission(actor, sid)

    @app.get("/api/submissions/{sid}/file")
    def submission_file(sid: str, actor: Person) -> FileResponse:
        path = arena.submission_file(actor, sid)
        return FileResponse(path, filename=path.name, media_type="application/octet-stream")

    @app.post("/api/submissions/{sid}/select")
    def select(sid: str, body: SelectIn, actor: Person) -> dict[str, Any]:
        arena.select(actor, sid, body.selected)
        return arena.submission(actor, sid)

    @app.delete("/api/submissions/{sid}", status_code=204)
    def withdraw(sid: str, actor: Person) -> Response:
        arena.delete(actor, sid)
        return Response(status_code=204)

    # ------------------------------------------------------------------ leaderboards
    @app.get("/api/leaderboard/{track}/{phase}", response_model=None)
    def board(
        track: str, phase: str, actor: Who, split: str = "public", format: str = "json"
    ) -> Response | dict[str, Any]:
        rows = arena.leaderboard(actor, track, phase, split)
        if format == "csv":
            return Response(
                leaderboard.to_csv(rows),
                media_type="text/csv",
                headers={
                    "Content-Disposition": f'attachment; filename="{track}-{phase}-{split}.csv"'
                },
            )
        if format != "json":
            raise HTTPException(400, "format must be json or csv")
        metric = arena.challenge.track(track).metric
        return {"track": track, "phase": phase, "split": split, "metric": metric,
                "rows": [r.__dict__ for r in rows]}  # fmt: skip

    @app.post("/api/phases/{phase}/reveal", status_code=204)
    def reveal(phase: str, actor: Person) -> Response:
        arena.reveal(phase, actor)
        return Response(status_code=204)

    # ------------------------------------------------------------------ the panel
    def panel_member(actor: Person) -> Actor:
        if not actor.organiser and actor.role != "judge":
            raise HTTPException(403, "for the panel and the organisers")
        return actor

    Panel = Annotated[Actor, Depends(panel_member)]

    @app.get("/api/finalists")
    def get_finalists(_: Panel) -> dict[str, str]:
        return arena.finalists()

    @app.put("/api/finalists")
    def put_finalists(body: FinalistsIn, actor: Person) -> dict[str, str]:
        arena.set_finalists(body.teams, actor)
        return arena.finalists()

    @app.post("/api/conflicts", status_code=201)
    def conflict(body: ConflictIn, actor: Person) -> dict[str, str]:
        arena.declare_conflict(body.judge, body.team, body.reason, actor)
        return {"judge": body.judge, "team": body.team}

    @app.post("/api/assignments")
    def assign(actor: Person) -> dict[str, list[str]]:
        return arena.assign_judges(actor)

    @app.get("/api/assignments")
    def assignments(actor: Panel) -> dict[str, list[str]]:
        return arena.assignments(actor)

    @app.put("/api/judge-scores/{team}")
    def judge_score(team: str, body: JudgeScoreIn, actor: Person) -> dict[str, str]:
        arena.judge_score(actor, team, body.scores, body.comment)
        return {"judge": actor.name, "team": team}

    @app.get("/api/judge-scores")
    def judge_scores(actor: Person) -> list[dict[str, Any]]:
        return arena.judge_scores(actor)

    @app.get("/api/final-sheet")
    def final_sheet(actor: Person) -> list[dict[str, Any]]:
        return [r.__dict__ for r in arena.final_sheet(actor)]

    # ------------------------------------------------------------------ awards and audit
    @app.post("/api/awards/announce", status_code=204)
    def announce(actor: Person) -> Response:
        arena.announce_awards(actor)
        return Response(status_code=204)

    @app.get("/api/awards")
    def awards(actor: Who) -> list[dict[str, Any]]:
        given = arena.awards(actor) if actor.organiser else arena.public_awards()
        return [a.__dict__ for a in given]

    @app.get("/awards.html", response_class=HTMLResponse)
    def awards_page(_: Who) -> HTMLResponse:
        title = arena.challenge.title or arena.challenge.id
        return HTMLResponse(announcement_html(arena.public_awards(), title, arena.teams()))

    @app.get("/certificates.pdf")
    def certificates(_: Who) -> FileResponse:
        given = arena.public_awards()
        path = arena.root / "certificates.pdf"
        write_certificates(given, path, arena.challenge.title or arena.challenge.id, arena.teams())
        return FileResponse(path, media_type="application/pdf", filename="certificates.pdf")

    @app.get("/api/audit")
    def audit(actor: Person, limit: int = 200) -> list[dict[str, Any]]:
        return arena.audit(actor, min(max(limit, 1), 10000))

    # ------------------------------------------------------------------ pages
    def page(name: str) -> Callable[[], FileResponse]:
        def serve() -> FileResponse:
            return FileResponse(STATIC / name, media_type="text/html")

        return serve

    app.get("/", include_in_schema=False)(page("arena.html"))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="arena-static")
    app.add_middleware(GuardMiddleware, max_body=max_upload + _CHUNK, uploads=True)
    return app
