"""Which source URIs the API accepts: cameras and media, not a way to probe the server.

An admin account (or whoever took it) adding sources must not be able to make the server read
its own files or call services on its own loopback or the cloud metadata address. So the API
(not the config file, which is the operator's own) accepts:

- network streams by scheme: rtsp, rtsps, rtmp, rtmps, http, https, srt, udp; their host may
  not be loopback (localhost, 127.0.0.0/8, ::1, 0.0.0.0) or link-local (169.254.0.0/16, where
  cloud metadata lives; fe80::/10) unless `shigu serve --source-host HOST` allows it;
- webcams (an index such as 0, or /dev/videoN);
- files by their media suffix (videos, images, FLIR .seq, MOTChallenge folders are refused),
  plain paths or ``thermal:`` paths; no other FFmpeg protocol (``file:``, ``concat:``,
  ``subfile:``, ``data:``...), no NUL bytes.

Hosts are checked as written, not resolved: a DNS name pointing at loopback passes (resolving
here would let DNS answers change between the check and the open).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from pathlib import PurePath
from urllib.parse import urlsplit

from shigu.core.errors import InputError

NETWORK_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "srt", "udp"})
MEDIA_SUFFIXES = frozenset({
    ".mp4", ".mkv", ".mov", ".avi", ".ts", ".m2ts", ".flv", ".webm", ".mpg", ".mpeg", ".m4v",
    ".h264", ".h265", ".hevc", ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".seq",
})  # fmt: skip
_WEBCAM = re.compile(r"^(\d{1,3}|/dev/video\d{1,3})$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def _local(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified


def check_source_uri(uri: str, allowed_hosts: Iterable[str] = ()) -> None:
    """Raise `InputError` (a 400) unless the API may open ``uri``."""
    text = uri.strip()
    if "\x00" in text:
        raise InputError("a source URI may not hold a NUL byte")
    if _WEBCAM.match(text):
        return
    scheme = _SCHEME.match(text)
    if scheme and len(scheme.group(1)) > 1:  # one letter: a Windows drive, a path
        name = scheme.group(1).lower()
        if name == "thermal":
            path = text[len("thermal:") :]
        elif name in NETWORK_SCHEMES:
            host = urlsplit(text).hostname or ""
            if not host:
                raise InputError(f"{name} source without a host", "give e.g. rtsp://HOST/stream")
            if _local(host) and host not in set(allowed_hosts):
                raise InputError(
                    f"source host {host} is this machine or link-local: refused through the API",
                    "start the server with --source-host HOST to allow it",
                )
            return
        else:
            raise InputError(
                f"source scheme {name}: is not allowed through the API",
                f"use one of {', '.join(sorted(NETWORK_SCHEMES))}, a webcam index or a media file",
            )
    else:
        path = text
    if PurePath(path).suffix.lower() not in MEDIA_SUFFIXES:
        raise InputError(
            f"source file {path!r} is not a video or image by its name",
            "through the API, files must end in a media suffix (.mp4, .mkv, .jpg, .seq, ...)",
        )
