"""Finding stages by name: the built-in ones and those other packages add.

A package adds a stage by declaring an entry point in the ``shigu.stages`` group, e.g. in
its ``pyproject.toml``::

    [project.entry-points."shigu.stages"]
    redact = "my_package.stages:RedactStage"

and a config uses it with ``pipeline.stages: [{use: redact, options: {...}}]``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from shigu.core.errors import ConfigError
from shigu.core.plugins import plugins
from shigu.stages.base import Stage

ENTRY_POINT_GROUP = "shigu.stages"


BUILT_IN = {
    "plates": ("shigu.solutions.vehicles.stage", "PlateStage"),
    "enhance": ("shigu.solutions.lowlight.stage", "EnhanceStage"),
    "privacy": ("shigu.solutions.living.privacy", "PrivacyStage"),
    "faces": ("shigu.solutions.living.face_stage", "FaceStage"),
}


def available_stages() -> dict[str, type[Stage]]:
    """Stage classes by name: Shigu's own (``plates``) and the installed plugins'."""
    import importlib

    found = {name: getattr(importlib.import_module(module), cls)
             for name, (module, cls) in BUILT_IN.items()}  # fmt: skip
    found.update(plugins(ENTRY_POINT_GROUP, Stage))
    for name, cls in found.items():
        if cls.kind not in ("pre", "secondary", "post"):
            raise ConfigError(f"stage plugin {name!r} has unknown kind {cls.kind!r}")
    return found


def stage_class(name: str) -> type[Stage]:
    """The stage called ``name``; an unknown name lists the installed ones."""
    stages = available_stages()
    if name not in stages:
        have = ", ".join(sorted(stages)) or "none installed"
        raise ConfigError(
            f"unknown stage {name!r}",
            f"stages available: {have}; a plugin adds one through the "
            f"{ENTRY_POINT_GROUP!r} entry-point group",
        )
    return stages[name]


def stage_options(name: str, options: dict[str, Any]) -> BaseModel:
    """``options`` validated against the stage's own ``Options`` model (ConfigError)."""
    cls = stage_class(name)
    try:
        return cls.Options.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"options{'.' + where if where else ''}: {first['msg']} (stage {name!r})"
        ) from None
