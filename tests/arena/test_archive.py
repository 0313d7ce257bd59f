"""Uploaded archives: traversal, absolute paths, links, special files and bombs are refused
before anything is written; a good archive unpacks."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from shigu.arena.archive import safe_extract
from shigu.core.errors import InputError


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return path


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("../evil.txt", b"x")], "points outside"),
        ([("a/../../evil.txt", b"x")], "points outside"),
        ([("..\\evil.txt", b"x")], "points outside"),
        ([("/etc/evil.txt", b"x")], "absolute path"),
        ([("C:/evil.txt", b"x")], "absolute path"),
        ([_link("seq.txt", "/etc/passwd")], "symbolic link"),
        ([("ok.txt", b"1"), ("ok.txt", b"2")], "twice"),
    ],
)
def test_unsafe_members_are_refused_before_writing(
    tmp_path: Path, members: list[tuple[str, bytes]], message: str
) -> None:
    upload = _zip(tmp_path / "up.zip", members)
    dest = tmp_path / "out"
    with pytest.raises(InputError, match=message):
        safe_extract(upload, dest)
    assert not (tmp_path / "evil.txt").exists()
    assert not list(dest.rglob("evil.txt")) if dest.exists() else True


def test_a_decompression_bomb_is_refused_from_its_headers(tmp_path: Path) -> None:
    upload = _zip(tmp_path / "bomb.zip", [("zeros.txt", bytes(64 * 1024 * 1024))])
    assert upload.stat().st_size < 1024 * 1024  # 64 MiB of zeros in well under 1 MiB
    with pytest.raises(InputError, match="decompression bomb"):
        safe_extract(upload, tmp_path / "out")
    assert not (tmp_path / "out" / "zeros.txt").exists()


def test_the_total_size_is_bounded(tmp_path: Path) -> None:
    upload = _zip(tmp_path / "big.zip", [(f"f{i}.txt", bytes(range(256)) * 400) for i in range(5)])
    with pytest.raises(InputError, match="unpacks to more than"):
        safe_extract(upload, tmp_path / "out", max_total=300_000)


def test_a_header_that_understates_the_size_is_cut_off(tmp_path: Path) -> None:
    upload = _zip(tmp_path / "liar.zip", [("data.txt", b"0123456789" * 1000)])
    raw = bytearray(upload.read_bytes())
    with zipfile.ZipFile(upload) as zf:
        info = zf.getinfo("data.txt")
    # the central directory says 100 bytes: the extractor must not write more than that
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24 : central + 28] = (100).to_bytes(4, "little")
    local = info.header_offset
    raw[local + 22 : local + 26] = (100).to_bytes(4, "little")
    upload.write_bytes(bytes(raw))
    with pytest.raises(InputError):
        safe_extract(upload, tmp_path / "out")
    written = tmp_path / "out" / "data.txt"
    assert not written.exists() or written.stat().st_size <= 100


def test_a_good_archive_unpacks(tmp_path: Path) -> None:
    upload = _zip(tmp_path / "ok.zip", [("res/A.txt", b"1,1,1,1,1,1"), ("res/B.txt", b"")])
    files = safe_extract(upload, tmp_path / "out")
    assert sorted(p.name for p in files) == ["A.txt", "B.txt"]
    assert (tmp_path / "out" / "res" / "A.txt").read_text() == "1,1,1,1,1,1"
