"""The model zoo: download on first use, resume, verify, cache; offline mirrors.

Files land in ``$SHIGU_HOME/models`` (default: the user's cache dir). A download goes to a
``.part`` file that a later attempt resumes with an HTTP Range request; the file is checked
against the registry's sha256 and only then moved into place with an atomic rename, so the
cache never holds a partial or unverified model. ``SHIGU_MODEL_MIRROR`` (a folder or a base
URL holding the same file names) replaces the official URLs on machines without internet.
Models without a verified checksum yet are pinned on their first download (trust on first
use) and must match that pin afterwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from platformdirs import user_cache_dir

from shigu.core.errors import ChecksumError, ModelError
from shigu.runtime.registry import MODELS, ModelSpec, get_spec

log = logging.getLogger(__name__)

ProgressFactory = Callable[[str, int], "Progress"]


class Progress:
    """Minimal progress sink: ``advance(n)`` and ``close()``. The CLI plugs in a rich bar."""

    def advance(self, n: int) -> None:  # pragma: no cover - trivial
        pass

    def close(self) -> None:  # pragma: no cover - trivial
        pass


def _rich_progress(description: str, total: int) -> Progress:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(description, total=total or None)
    bar.start()

    class _P(Progress):
        def advance(self, n: int) -> None:
            bar.advance(task, n)

        def close(self) -> None:
            bar.stop()

    return _P()


def shigu_home() -> Path:
    """Where Shigu keeps models and state: ``$SHIGU_HOME`` or the user's cache dir."""
    env = os.environ.get("SHIGU_HOME")
    return Path(env).expanduser() if env else Path(user_cache_dir("shigu"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock so parallel processes (Ray workers) download a model once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class ModelZoo:
    """Finds, downloads and verifies named models.

    Args:
        home: cache root (``$SHIGU_HOME`` or the user cache dir when None).
        mirror: folder or base URL with the model files (``$SHIGU_MODEL_MIRROR`` when None).
        progress: factory for progress bars, or None for none.
        timeout_s: connect/read timeout for downloads.
    """

    def __init__(
        self,
        home: str | Path | None = None,
        mirror: str | None = None,
        progress: ProgressFactory | None = _rich_progress,
        timeout_s: float = 30.0,
    ) -> None:
        self.home = Path(home) if home else shigu_home()
        self.models_dir = self.home / "models"
        env_mirror = os.environ.get("SHIGU_MODEL_MIRROR")
        self.mirror = mirror if mirror is not None else (env_mirror or None)
        self.progress = progress
        self.timeout_s = timeout_s

    # ------------------------------------------------------------------ pins (trust on first use)
    @property
    def _pins_path(self) -> Path:
        return self.home / "pins.json"

    def pins(self) -> dict[str, str]:
        try:
            data = json.loads(self._pins_path.read_text())
            return {str(k): str(v) for k, v in data.items()}
        except (OSError, ValueError):
            return {}

    def _save_pin(self, name: str, sha: str) -> None:
        pins = self.pins()
        pins[name] = sha
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self._pins_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(pins, indent=2, sort_keys=True))
        os.replace(tmp, self._pins_path)

    def expected_sha(self, spec: ModelSpec) -> str | None:
        """The registry checksum, else the pin from a first download, else None."""
        return spec.sha256 or self.pins().get(spec.name)

    # ------------------------------------------------------------------ queries
    def cached_path(self, name: str) -> Path:
        return self.models_dir / get_spec(name).filename

    def is_cached(self, name: str) -> bool:
        return self.cached_path(name).is_file()

    def _verified_stamp(self, path: Path) -> Path:
        return path.with_name(path.name + ".sha256")

    def _check_cached(self, spec: ModelSpec, path: Path) -> bool:
        """True when the cached file matches its checksum (hash skipped if unchanged since)."""
        expected = self.expected_sha(spec)
        stat = path.stat()
        stamp = self._verified_stamp(path)
        key = f"{stat.st_size} {stat.st_mtime_ns}"
        try:
            stamped_key, stamped_sha = stamp.read_text().split("\n")[:2]
            if stamped_key == key and (expected is None or stamped_sha == expected):
                return True
        except (OSError, ValueError):
            pass
        actual = sha256_file(path)
        if expected is not None and actual != expected:
            return False
        stamp.write_text(f"{key}\n{actual}\n")
        return True

    # ------------------------------------------------------------------ fetching
    def path(self, name: str, download: bool = True) -> Path:
        """Local path of a verified copy of model ``name``, downloading it if needed."""
        spec = get_spec(name)
        path = self.models_dir / spec.filename
        if path.is_file() and self._check_cached(spec, path):
            return path
        if not download:
            raise ModelError(
                f"model {name} is not in the cache ({self.models_dir})",
                f"run `shigu models pull {name}`",
            )
        return self.pull(name, force=path.is_file())

    def pull(self, name: str, force: bool = False) -> Path:
        """Download (or copy from the mirror), verify and cache model ``name``."""
        spec = get_spec(name)
        dest = self.models_dir / spec.filename
        with _locked(self.models_dir / f".{spec.filename}.lock"):
            if not force and dest.is_file() and self._check_cached(spec, dest):
                return dest
            if force and dest.is_file():
                dest.unlink()
                self._verified_stamp(dest).unlink(missing_ok=True)
            errors: list[str] = []
            if not self._origins(spec):
                raise ModelError(
                    f"model {name} has no public download; it comes from a mirror",
                    f"set SHIGU_MODEL_MIRROR to a folder or URL holding {spec.filename}",
                )
            for origin in self._origins(spec):
                try:
                    self._fetch(spec, origin, dest)
                    return dest
                except ChecksumError as exc:
                    errors.append(exc.message)
                    last: ModelError = exc
                except ModelError as exc:
                    errors.append(exc.message)
                    last = exc
            if len(errors) == 1:
                raise last
            raise type(last)(
                f"could not get model {name}: " + "; ".join(errors),
                "check your connection, or set SHIGU_MODEL_MIRROR to a folder or "
                "URL holding " + spec.filename,
            )

    def _origins(self, spec: ModelSpec) -> list[str]:
        if self.mirror:
            base = self.mirror.rstrip("/")
            if base.startswith("file://"):
                base = base[len("file://") :]
            return [f"{base}/{spec.filename}"]
        return list(spec.urls)

    def _fetch(self, spec: ModelSpec, origin: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        if origin.startswith(("http://", "https://")):
            self._download(spec, origin, part)
        else:
            src = Path(origin)
            if not src.is_file():
                raise ModelError(
                    f"model file {spec.filename} is not in the mirror {self.mirror}",
                    "put the file there or unset SHIGU_MODEL_MIRROR",
                )
            shutil.copyfile(src, part)
        self._verify_and_commit(spec, origin, part, dest)

    def _verify_and_commit(self, spec: ModelSpec, origin: str, part: Path, dest: Path) -> None:
        actual = sha256_file(part)
        expected = self.expected_sha(spec)
        if expected is not None and actual != expected:
            part.unlink(missing_ok=True)
            raise ChecksumError(
                f"checksum mismatch for {spec.name} from {origin}: expected sha256 "
                f"{expected[:16]}…, got {actual[:16]}…; the file was discarded",
                "the download or mirror copy is corrupt or was replaced; try again or fix "
                "the mirror",
            )
        with open(part, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(part, dest)
        stat = dest.stat()
        self._verified_stamp(dest).write_text(f"{stat.st_size} {stat.st_mtime_ns}\n{actual}\n")
        if expected is None:
            self._save_pin(spec.name, actual)
            log.warning(
                "%s has no verified checksum in Shigu's registry yet: pinned sha256 %s "
                "on this first download (trust on first use); later downloads must "
                "match it",
                spec.name,
                actual,
            )

    def _download(self, spec: ModelSpec, url: str, part: Path) -> None:
        """Stream ``url`` into ``part``, resuming from what an earlier attempt left there."""
        have = part.stat().st_size if part.is_file() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0))
        try:
            with (
                httpx.Client(follow_redirects=True, timeout=timeout) as client,
                client.stream("GET", url, headers=headers) as resp,
            ):
                if resp.status_code == 416 and have:  # already complete
                    return
                if resp.status_code not in (200, 206):
                    raise ModelError(
                        f"download of {spec.name} from {url} failed: HTTP {resp.status_code}"
                    )
                mode = "ab" if resp.status_code == 206 else "wb"
                if mode == "wb":
                    have = 0
                length = int(resp.headers.get("content-length", 0))
                total = have + length if length else spec.size_bytes
                bar = self.progress(f"{spec.name}", total) if self.progress else None
                try:
                    if bar and have:
                        bar.advance(have)
                    with part.open(mode) as fh:
                        for chunk in resp.iter_bytes(1 << 16):
                            fh.write(chunk)
                            if bar:
                                bar.advance(len(chunk))
                finally:
                    if bar:
                        bar.close()
        except httpx.HTTPError as exc:
            raise ModelError(
                f"download of {spec.name} from {url} failed: {type(exc).__name__}: {exc}",
                "check your connection (a re-run resumes the partial download), "
                "or set SHIGU_MODEL_MIRROR",
            ) from exc


def list_models() -> list[ModelSpec]:
    return list(MODELS.values())
