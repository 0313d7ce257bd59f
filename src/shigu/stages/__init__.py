"""Pipeline stages: the contract (``Stage``, ``FrameItem``), secondary models, plugins."""

from shigu.stages.base import FrameItem, NoOptions, Stage, StageContext, StageKind
from shigu.stages.registry import ENTRY_POINT_GROUP, available_stages, stage_class, stage_options

__all__ = [
    "ENTRY_POINT_GROUP",
    "FrameItem",
    "NoOptions",
    "Stage",
    "StageContext",
    "StageKind",
    "available_stages",
    "stage_class",
    "stage_options",
]
