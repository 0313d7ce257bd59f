"""One exception hierarchy for the whole package.

Library code raises these; the CLI turns them into a one-line message and an exit code.
Each error carries a ``hint``: what the user can do about it.
"""

from __future__ import annotations


class ShiguError(Exception):
    """Base of every error Shigu raises on purpose (a user mistake or an environment problem)."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and hint as one line, for the CLI."""
        text = self.message.rstrip(".")
        if not self.hint:
            return text
        return f"{text}. {self.hint[:1].upper()}{self.hint[1:]}"


class InputError(ShiguError):
    """A bad argument or input file given by the user."""

    exit_code = 2


class SourceError(ShiguError):
    """A video, stream, camera or image source could not be opened or read."""

    exit_code = 3


class SourceTruncatedError(SourceError):
    """A file ended early: what was readable has been delivered, the rest is missing."""

    def __init__(
        self, message: str, hint: str | None = None, frames_read: int = 0, stopped_at_s: float = 0.0
    ) -> None:
        super().__init__(message, hint)
        self.frames_read = frames_read
        self.stopped_at_s = stopped_at_s


class ModelError(ShiguError):
    """A model could not be found, downloaded, verified, loaded or decoded."""

    exit_code = 4


class ChecksumError(ModelError):
    """A downloaded or mirrored model file does not have the expected sha256."""


class ConfigError(ShiguError):
    """A configuration file is invalid."""

    exit_code = 5


class StoreError(ShiguError):
    """The event store could not be opened, migrated or written."""

    exit_code = 6
