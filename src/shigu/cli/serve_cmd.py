"""``shigu serve CONFIG``: the pipeline plus the web dashboard and REST API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from shigu.cli._common import console, console_err
from shigu.core.errors import InputError

HELP = """Run the pipeline and serve the dashboard and REST API.

Binds to 127.0.0.1 unless --host says otherwise. Every page and route needs a signed-in user
or an API token (except /healthz); create the first admin with
`shigu users add NAME --admin --config CONFIG` before you start. The OpenAPI document is at
/api/openapi.json (signed in).

Example: shigu serve examples/security/pets_perimeter.yaml --port 8080
"""


def serve(
    config: Path = typer.Argument(..., help="Pipeline YAML config."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0: all)."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="TCP port."),
    no_engine: bool = typer.Option(
        False, "--no-engine", help="Serve the store only (events of earlier runs)."
    ),
    cors: list[str] = typer.Option(
        [], "--cors", help="Allow this origin (CORS is off by default)."
    ),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Mark cookies Secure (behind an HTTPS proxy)."
    ),
    trusted_proxy: list[str] = typer.Option(
        [],
        "--trusted-proxy",
        help="Address of a reverse proxy whose X-Forwarded-For is believed (default: none; "
        "the peer's own address counts, so a forged header cannot dodge the sign-in limit).",
    ),
    source_host: list[str] = typer.Option(
        [],
        "--source-host",
        help="Let the API add sources on this loopback or link-local host (refused by "
        "default, so an admin account cannot probe the server's own services).",
    ),
    volumes: Path | None = typer.Option(
        None,
        "--volumes",
        help="A folder of medical volumes (NIfTI files, DICOM series folders) to show in the "
        "dashboard's viewer at /viewer (read-only, signed-in users).",
    ),
    arena_dir: Path | None = typer.Option(
        None,
        "--arena",
        help="An arena folder (`shigu arena init`) to serve at /arena/ beside the dashboard, "
        "its uploads scored in the background (its own people and sign-in).",
    ),
) -> None:
    import uvicorn

    from shigu.pipeline import load_config
    from shigu.server.app import build_context, create_app

    cfg = load_config(config)
    ctx = build_context(
        cfg, run_engine=not no_engine, secure_cookies=secure_cookies, config_path=config
    )
    if not ctx.accounts.users():
        raise InputError(
            "no users yet: nobody could sign in",
            f"create an admin first: shigu users add NAME --admin --config {config}",
        )
    ctx.source_hosts = set(source_host)
    if volumes is not None:
        from shigu.server.volumes import VolumeLibrary

        ctx.volumes = VolumeLibrary(volumes)
    app: Any = create_app(ctx, cors_origins=cors or None)
    scoring = None
    if arena_dir is not None:
        app, scoring = _with_arena(app, arena_dir)
    ctx.host.start()
    if host not in ("127.0.0.1", "localhost", "::1"):
        console_err.print(f"[yellow]listening on {host}: reachable from other machines[/]")
    console.print(f"Shigu on http://{host}:{port}/  (Ctrl-C stops and flushes)", highlight=False)
    try:
        uvicorn.run(
            app, host=host, port=port, log_level="warning",
            proxy_headers=bool(trusted_proxy),
            forwarded_allow_ips=",".join(trusted_proxy) if trusted_proxy else None,
        )  # fmt: skip
    finally:
        if scoring is not None:
            scoring.stop()
        ctx.host.stop()
        ctx.store.close()


def _with_arena(app: Any, folder: Path) -> tuple[Any, Any]:
    """The dashboard with an arena mounted at /arena/ (each keeps its own guard and limits)."""
    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route

    from shigu.arena.store import load_arena
    from shigu.arena.web import ScoringLoop, create_arena_app

    arena = load_arena(folder)

    async def to_arena(_: Any) -> RedirectResponse:
        return RedirectResponse("/arena/")

    top = Starlette(
        routes=[
            Route("/arena", to_arena),
            Mount("/arena", app=create_arena_app(arena)),
            Mount("", app=app),
        ]
    )
    return top, ScoringLoop(arena).start()


users_app = typer.Typer(help="Users of the dashboard and API.", no_args_is_help=True)


def _warn_if_password_in_argv() -> None:
    import sys

    if any(a == "--password" or a.startswith("--password=") for a in sys.argv[1:]):
        console_err.print(
            "[yellow]warning: a password on the command line is visible to other users' "
            "process lists and stays in shell history; leave --password out to be asked, or set "
            "SHIGU_PASSWORD[/]"
        )


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="User name."),
    config: Path = typer.Option(..., "--config", help="The pipeline config (its store URL)."),
    role: str = typer.Option("viewer", "--role", help="viewer, operator or admin."),
    admin: bool = typer.Option(False, "--admin", help="Same as --role admin."),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="SHIGU_PASSWORD",
        help="At least 8 characters. Asked for when not given, or read from $SHIGU_PASSWORD; "
        "on the command line it shows in process lists and shell history.",
    ),
) -> None:
    """Create a user (the first one with --admin)."""
    _warn_if_password_in_argv()
    from shigu.pipeline import load_config
    from shigu.server.auth import Accounts
    from shigu.store import EventStore

    store = EventStore(load_config(config).store.url)
    try:
        user = Accounts(store.engine).add_user(name, password, "admin" if admin else role)
    finally:
        store.close()
    console.print(f"user {user.name} ({user.role}) created")


@users_app.command("list")
def users_list(config: Path = typer.Option(..., "--config", help="The pipeline config.")) -> None:
    """List users and their roles."""
    from shigu.pipeline import load_config
    from shigu.server.auth import Accounts
    from shigu.store import EventStore

    store = EventStore(load_config(config).store.url)
    try:
        for user in Accounts(store.engine).users():
            console.print(f"{user.name}\t{user.role}")
    finally:
        store.close()


@users_app.command("passwd")
def users_passwd(
    name: str = typer.Argument(..., help="User name."),
    config: Path = typer.Option(..., "--config", help="The pipeline config (its store URL)."),
    password: str = typer.Option(
        ...,
        "--password",
        prompt="New password",
        hide_input=True,
        confirmation_prompt=True,
        envvar="SHIGU_PASSWORD",
        help="At least 8 characters. Asked for when not given, or read from $SHIGU_PASSWORD; "
        "on the command line it shows in process lists and shell history.",
    ),
) -> None:
    """Set a user's password; their browser sessions end."""
    _warn_if_password_in_argv()
    with _accounts(config) as accounts:
        accounts.set_password(name, password)
    console.print(f"password of {name} changed; their sessions were ended")


@users_app.command("delete")
def users_delete(
    name: str = typer.Argument(..., help="User name."),
    config: Path = typer.Option(..., "--config", help="The pipeline config (its store URL)."),
) -> None:
    """Delete a user: their sessions end and their API tokens are revoked."""
    with _accounts(config) as accounts:
        if not accounts.delete_user(name):
            raise InputError(f"no user {name!r}", "see `shigu users list --config CONFIG`")
    console.print(f"user {name} deleted; sessions ended, tokens revoked")


@contextmanager
def _accounts(config: Path) -> Iterator[Any]:
    from shigu.pipeline import load_config
    from shigu.server.auth import Accounts
    from shigu.store import EventStore

    store = EventStore(load_config(config).store.url)
    try:
        yield Accounts(store.engine)
    finally:
        store.close()


def register(root: typer.Typer) -> None:
    root.command("serve", help=HELP, no_args_is_help=True)(serve)
    root.add_typer(users_app, name="users")
