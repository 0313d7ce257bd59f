"""Credentials out of what people see: ``rtsp://user:secret@cam`` becomes
``rtsp://user:***@cam`` in API answers, errors and logs (only an admin editing a source sees
the password; it is in the config file, which is theirs)."""

from __future__ import annotations

import logging
import re

_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")
_QUERY_SECRETS = re.compile(r"(?i)([?&](?:password|passwd|pwd|token|key|secret)=)[^&\s]+")


def redact_uri(text: str | None) -> str | None:
    """``text`` with every URL's password (and password-like query values) replaced by ***."""
    if not text:
        return text
    out = _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _QUERY_SECRETS.sub(r"\1***", out)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts credentials in every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_uri(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True
