"""Which event store to read: the one named, a config's, or the last run's; never a new one.

``shigu run`` and ``shigu serve`` remember the store they wrote to in
``$SHIGU_HOME/last_store``, so ``shigu events list`` right after a run reads that run's
events instead of creating an empty ``./shigu.db``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from shigu.core.errors import InputError
from shigu.store.events import _redact, sqlite_path

DEFAULT_URL = "sqlite:///shigu.db"


def _record_file() -> Path:
    from shigu.runtime.zoo import shigu_home

    return shigu_home() / "last_store"


def absolute_url(url: str) -> str:
    """A SQLite URL with an absolute path (a relative one depends on the working folder)."""
    path = sqlite_path(url)
    return f"sqlite:///{path.resolve()}" if path is not None else url


def remember_store(url: str) -> None:
    """Record the store a run writes to (best effort: reading state must never break a run)."""
    with contextlib.suppress(OSError):
        record = _record_file()
        record.parent.mkdir(parents=True, exist_ok=True)
        tmp = record.with_suffix(".tmp")
        tmp.write_text(absolute_url(url) + "\n")
        os.replace(tmp, record)


def last_store() -> str | None:
    try:
        text = _record_file().read_text().strip()
    except OSError:
        return None
    return text or None


def locate_store(db: str | None, config: Path | None) -> tuple[str, str]:
    """(URL, where it came from) of an existing store to read, or a one-line error."""
    if db:
        url, origin = db, "--db"
    elif config is not None:
        from shigu.pipeline.config import load_config

        url, origin = load_config(config).store.url, f"the store of {config}"
    elif last_store():
        url, origin = str(last_store()), "the last run's store"
    else:
        url, origin = DEFAULT_URL, "the default store"
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise InputError(
            f"no event store at {path} ({origin}); nothing to read",
            "run `shigu run CONFIG` first, or pass --db URL or --config CONFIG",
        )
    return url, f"{origin}: {_redact(absolute_url(url))}"
