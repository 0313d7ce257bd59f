"""Entry-point plugins: what other packages add to Shigu without forking it.

Groups: ``shigu.stages`` (pipeline stages), ``shigu.rules`` (zone rules), ``shigu.decoders``
(detector output decoders, by format name).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from shigu.core.errors import ConfigError


@cache
def plugins(group: str, base: type) -> dict[str, Any]:
    """Classes by entry-point name in ``group``; each must subclass ``base``."""
    found: dict[str, Any] = {}
    for ep in entry_points(group=group):
        try:
            cls = ep.load()
        except Exception as exc:
            raise ConfigError(
                f"plugin {ep.name!r} ({ep.value}) in {group} failed to import: {exc}",
                "fix or uninstall the package that provides it",
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise ConfigError(
                f"plugin {ep.name!r} ({ep.value}) in {group} is not a "
                f"{base.__module__}.{base.__name__} subclass",
            )
        found[ep.name] = cls
    return found
