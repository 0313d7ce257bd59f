"""Unpack an uploaded archive without letting it write outside its folder or fill the disk.

Checked before anything is written: absolute paths and ``..`` (zip slip), symbolic links and
special files, member count, declared total size and compression ratio (zip bombs). While
writing, each member is cut off at its declared size, so a header that lies about the size
cannot get more bytes onto the disk than the limit allows.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from shigu.core.errors import InputError

MAX_MEMBERS = 20000
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_RATIO = 200.0  # uncompressed/compressed for members above 1 MiB
_CHUNK = 1 << 20


def _member_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        raise InputError(f"archive member {name!r} has an absolute path", "zip relative paths")
    if any(part == ".." for part in path.parts):
        raise InputError(
            f"archive member {name!r} points outside the archive", "zip relative paths only"
        )
    return path


def check_zip(path: Path, max_total: int = MAX_TOTAL_BYTES) -> list[zipfile.ZipInfo]:
    """The archive's file members, or an InputError naming the first unsafe one."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path.name} is not a readable zip archive: {exc}") from None
    with archive:
        infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"archive holds {len(infos)} members; at most {MAX_MEMBERS} allowed")
    total = 0
    files = []
    for info in infos:
        _member_path(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise InputError(f"archive member {info.filename!r} is a symbolic link", "zip files")
        kind = stat.S_IFMT(mode)  # 0 when the archiver recorded no file type
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise InputError(f"archive member {info.filename!r} is not a regular file")
        if info.is_dir():
            continue
        total += info.file_size
        if total > max_total:
            raise InputError(
                f"archive unpacks to more than {max_total / 1024**2:.0f} MiB", "upload less"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _CHUNK and ratio > MAX_RATIO:
            raise InputError(
                f"archive member {info.filename!r} is compressed {ratio:.0f}:1 "
                "(a decompression bomb?)",
                f"members above 1 MiB may be compressed at most {MAX_RATIO:.0f}:1",
            )
        files.append(info)
    return files


def safe_extract(path: Path, dest: Path, max_total: int = MAX_TOTAL_BYTES) -> list[Path]:
    """Unpack ``path`` into ``dest`` after :func:`check_zip`; returns the files written."""
    members = check_zip(path, max_total)
    dest = dest.resolve()
    written: list[Path] = []
    with zipfile.ZipFile(path) as archive:
        for info in members:
            target = (dest / _member_path(info.filename)).resolve()
            if not target.is_relative_to(dest):
                raise InputError(f"archive member {info.filename!r} points outside the archive")
            target.parent.mkdir(parents=True, exist_ok=True)
            left = info.file_size
            try:
                with archive.open(info) as src, target.open("xb") as out:
                    while chunk := src.read(min(_CHUNK, left + 1)):
                        if len(chunk) > left:
                            raise InputError(
                                f"archive member {info.filename!r} is larger than its header says"
                            )
                        out.write(chunk)
                        left -= len(chunk)
            except FileExistsError:
                raise InputError(f"archive holds {info.filename!r} twice") from None
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
                raise InputError(f"archive member {info.filename!r} is damaged: {exc}") from None
            except NotImplementedError as exc:
                raise InputError(
                    f"archive member {info.filename!r}: {exc}", "use deflate"
                ) from None
            written.append(target)
    return written
