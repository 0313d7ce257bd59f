"""Core types every layer speaks: ``Frame``, ``Detections``, errors, labels and geometry."""

from shigu.core.detections import Detections
from shigu.core.errors import (
    ChecksumError,
    ConfigError,
    InputError,
    ModelError,
    ShiguError,
    SourceError,
    SourceTruncatedError,
    StoreError,
)
from shigu.core.frame import Frame
from shigu.core.labels import COCO80, label_set, resolve_classes

__all__ = [
    "COCO80",
    "ChecksumError",
    "ConfigError",
    "Detections",
    "Frame",
    "InputError",
    "ModelError",
    "ShiguError",
    "SourceError",
    "SourceTruncatedError",
    "StoreError",
    "label_set",
    "resolve_classes",
]
