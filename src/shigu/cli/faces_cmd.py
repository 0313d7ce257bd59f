"""``shigu faces enrol|list|delete``: the known-faces gallery in the store (opt-in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from shigu.cli._common import console
from shigu.core.errors import InputError

app = typer.Typer(
    help="Known faces (opt-in): enrol a person from pictures, list who is enrolled, delete a "
    "person's face data on request. The `faces` pipeline stage matches tracks against them.",
    no_args_is_help=True,
)

DB_OPTION = typer.Option(
    None, "--db", envvar="SHIGU_DB", help="Store URL; default: --config's store, else ./shigu.db"
)
CONFIG_OPTION = typer.Option(None, "--config", help="Use the store this pipeline config uses.")


def _store(db: str | None, config: Path | None, create: bool) -> Any:
    from shigu.store import EventStore

    if db:
        return EventStore(db)
    if config is not None:
        from shigu.pipeline import load_config

        return EventStore(load_config(config).store.url)
    if not create and not Path("shigu.db").exists():
        raise InputError("no store here (./shigu.db)", "give --db URL or --config FILE")
    return EventStore("sqlite:///shigu.db")


@app.command("enrol")
def enrol(
    name: str = typer.Argument(..., help="The person's name (as events will show it)."),
    pictures: list[Path] = typer.Argument(..., help="Pictures of the person's face (JPEG/PNG)."),
    db: str | None = DB_OPTION,
    config: Path | None = CONFIG_OPTION,
) -> None:
    """Enrol NAME from PICTURES: the largest face of each is embedded and stored.

    Every picture must show a face at least 24 px wide; several pictures (angles, light)
    make matching surer. Example: shigu faces enrol alice alice1.jpg alice2.jpg --config site.yaml
    """
    from shigu.solutions.living.faces import enrolment_embeddings

    name = name.strip()
    if not name or len(name) > 128:
        raise InputError("the name must be 1 to 128 characters")
    missing = [str(p) for p in pictures if not p.is_file()]
    if missing:
        raise InputError(f"picture not found: {missing[0]}", "check the path")
    found = enrolment_embeddings(list(pictures))  # fails before anything is stored
    store = _store(db, config, create=True)
    try:
        origin = ", ".join(n for n, _ in found)
        total = store.add_faces(name, [e.tolist() for _, e in found], origin)
    finally:
        store.close()
    console.print(f"enrolled {name}: {len(found)} face(s) added, {total} stored", highlight=False)


@app.command("list")
def list_faces(db: str | None = DB_OPTION, config: Path | None = CONFIG_OPTION) -> None:
    """Who is enrolled, with how many face embeddings each."""
    store = _store(db, config, create=False)
    try:
        people = store.faces()
    finally:
        store.close()
    for p in people:
        console.print(
            f"{p['name']:<32} {p['embeddings']:>5} embeddings, since {p['enrolled']}",
            highlight=False,
            markup=False,
        )
    console.print(f"{len(people)} people enrolled", highlight=False)


@app.command("delete")
def delete(
    name: str = typer.Argument(..., help="The person whose face data is deleted."),
    db: str | None = DB_OPTION,
    config: Path | None = CONFIG_OPTION,
) -> None:
    """Delete every face embedding of NAME (a person's request to be forgotten)."""
    store = _store(db, config, create=False)
    try:
        n = store.delete_faces(name)
    finally:
        store.close()
    if not n:
        raise InputError(f"nobody called {name!r} is enrolled", "see `shigu faces list`")
    console.print(f"deleted {n} face embedding(s) of {name}", highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="faces")
