"""Organisers' own scorers for `task: custom` tracks in the tests: an honest one, and ones
that misbehave in every way the sandbox must contain."""

from __future__ import annotations

import socket
import time
from pathlib import Path


def items(gt: Path) -> list[str]:
    return ["a", "b", "c", "d"]


def validate(gt: Path, sub: Path, items: list[str]) -> list[str]:
    files = [p for p in sub.rglob("*.txt")]
    if len(files) != 1:
        return ["upload one .txt file"]
    try:
        float(files[0].read_text().strip())
    except ValueError:
        return [f"{files[0].name} must hold one number"]
    return []


def constant(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    """The number in the upload, on either split (public or private differ by 0.5 x len)."""
    value = float(next(sub.rglob("*.txt")).read_text().strip())
    return {"score": value + (0.1 if "a" in items else 0.0)}


def hang(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    while True:
        time.sleep(0.05)


def spin(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    n = 0
    while True:
        n += 1


def hog(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    blocks = []
    while True:
        blocks.append(bytearray(64 * 1024 * 1024))


def phone_home(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    port = int((gt / "port.txt").read_text())
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"stolen")
    return {"score": 1.0}


def tamper(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    (gt / "answers.txt").write_text("everything is 1.0")
    return {"score": 1.0}


def peek(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    """Reading the ground truth is what scorers do; it must work."""
    return {"score": float(len((gt / "answers.txt").read_text()))}


def raw_connect(gt: Path, sub: Path, items: list[str]) -> dict[str, float]:
    """Past Python's socket module (no audit event): libc's socket and connect through ctypes.
    Only the network namespace stops this one."""
    import ctypes
    import struct

    port = int((gt / "port.txt").read_text())
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(2, 1, 0)  # AF_INET, SOCK_STREAM
    address = struct.pack("!HH4s8x", 2, port, bytes([127, 0, 0, 1]))
    address = struct.pack("=H", 2) + address[2:]  # sin_family in host order
    if libc.connect(fd, ctypes.c_char_p(address), len(address)) != 0:
        raise OSError(ctypes.get_errno(), "connect failed")
    libc.send(fd, b"stolen", 6, 0)
    return {"score": 1.0}
