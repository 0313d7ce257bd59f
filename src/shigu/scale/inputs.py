"""Inputs of a batch job: a folder, a glob, or a list file, on any filesystem fsspec reads."""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

from shigu.core.errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".ts", ".flv", ".mpg")
LIST_EXTENSIONS = (".txt", ".lst", ".list")


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _strip_file(url: str) -> str:
    return url[len("file://") :] if url.startswith("file://") else url


def _scan_local(root: Path) -> list[str]:
    """Videos and MOTChallenge sequences (folders with seqinfo.ini) under ``root``."""
    if (root / "seqinfo.ini").is_file():
        return [str(root)]
    found: list[str] = []
    for path in sorted(root.rglob("*")):
        is_video = path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS
        if is_video or (path.is_dir() and (path / "seqinfo.ini").is_file()):
            found.append(str(path))
    return found


def list_inputs(spec: str) -> list[str]:
    """Every input named by ``spec``: a video, a sequence folder, a folder to scan, a glob,
    or a list file with one path or URL per line (``#`` comments allowed)."""
    import fsspec

    if _is_local(spec):
        path = Path(_strip_file(spec))
        if path.is_file() and path.suffix.lower() in LIST_EXTENSIONS:
            lines = path.read_text(encoding="utf-8").splitlines()
            items = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
            if not items:
                raise InputError(f"list file {path} names no inputs", "one path per line")
            return items
        if path.is_file():
            return [str(path)]
        if path.is_dir():
            found = _scan_local(path)
            if not found:
                raise InputError(
                    f"no videos or MOTChallenge sequences under {path}",
                    f"expected files ending in {', '.join(VIDEO_EXTENSIONS[:4])}, ... "
                    "or folders with seqinfo.ini",
                )
            return found
        if any(ch in spec for ch in "*?["):
            import glob

            matches = sorted(glob.glob(spec, recursive=True))
            if not matches:
                raise InputError(f"no files match {spec}")
            return matches
        raise InputError(f"input not found: {spec}", "check the path, glob or list file")
    fs, _, paths = fsspec.get_fs_token_paths(spec)
    matches = [p for p in paths if fs.isfile(p)]
    if not matches:
        raise InputError(f"no files at {spec}", "check the URL and your credentials")
    protocol = spec.split("://", 1)[0]
    return [f"{protocol}://{p}" if "://" not in p else p for p in matches]


def unit_key(uri: str) -> str:
    """A stable, file-name-safe name for one input's outputs: its stem plus a short hash."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(uri.rstrip("/")).name)[:60] or "input"
    digest = hashlib.sha1(uri.encode("utf-8")).hexdigest()[:8]
    return f"{stem}-{digest}"


def localise(uri: str, cache: Path) -> str:
    """A local path for ``uri``: itself when local, else a copy fetched through fsspec."""
    if _is_local(uri):
        return _strip_file(uri)
    import fsspec

    cache.mkdir(parents=True, exist_ok=True)
    target = cache / unit_key(uri)
    if not target.exists():
        with (
            tempfile.NamedTemporaryFile(dir=cache, delete=False) as tmp,
            fsspec.open(uri, "rb") as src,
        ):
            while chunk := src.read(1 << 20):
                tmp.write(chunk)
        Path(tmp.name).replace(target)
    return str(target)


def list_image_units(spec: str, chunk: int = 64) -> list[str]:
    """Image inputs (a folder, searched recursively; a glob; a list file; one image) in
    natural order, grouped into units of ``chunk`` paths joined by newlines."""
    from shigu.sources.images import IMAGE_EXTENSIONS, natural_key

    def is_image(p: str) -> bool:
        return Path(p).suffix.lower() in IMAGE_EXTENSIONS

    if _is_local(spec):
        path = Path(_strip_file(spec))
        if path.is_dir():
            images = [str(p) for p in path.rglob("*") if p.is_file() and is_image(str(p))]
        elif path.is_file() and path.suffix.lower() in LIST_EXTENSIONS:
            images = list_inputs(spec)
        elif path.is_file():
            images = [str(path)]
        else:
            images = [p for p in list_inputs(spec) if is_image(p)]  # a glob, or not found
    else:
        images = [p for p in list_inputs(spec) if is_image(p)]
    images = sorted(set(images), key=natural_key)
    if not images:
        raise InputError(f"no images in {spec}", "give a folder, glob or list of image files")
    return ["\n".join(images[i : i + chunk]) for i in range(0, len(images), chunk)]


def is_image_unit(uri: str) -> bool:
    """Whether an input is a chunk of still images (paths joined by newlines, or one image)."""
    from shigu.sources.images import IMAGE_EXTENSIONS

    return "\n" in uri or Path(uri.split("?", 1)[0]).suffix.lower() in IMAGE_EXTENSIONS


def list_detect_inputs(spec: str, chunk: int = 64) -> list[str]:
    """``batch detect``'s inputs: videos and sequences as :func:`list_inputs` finds them,
    else still images (a folder of them, a glob, a list) in chunks of ``chunk``."""
    try:
        inputs = list_inputs(spec)
    except InputError:
        inputs = []
    if inputs and not all(is_image_unit(u) for u in inputs):
        return inputs
    try:
        return list_image_units(spec, chunk)
    except InputError:
        if inputs:
            raise
        return list_inputs(spec)  # the videos' error: the message a user expects
