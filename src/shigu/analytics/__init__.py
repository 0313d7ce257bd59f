"""Analytics: rules that turn tracks into events (zones, lines, dwell, speed, heatmaps)."""

from shigu.analytics.heatmap import Heatmap
from shigu.analytics.rules import (
    CrowdingRule,
    DwellRule,
    FrameContext,
    LineCounter,
    SpeedingRule,
    StoppedRule,
    WrongWayRule,
)
from shigu.analytics.scene import LineSpec, SceneAnalytics, ZoneSpec
from shigu.analytics.tracks import TrackBook, TrackMemory

__all__ = [
    "CrowdingRule",
    "DwellRule",
    "FrameContext",
    "Heatmap",
    "LineCounter",
    "LineSpec",
    "SceneAnalytics",
    "SpeedingRule",
    "StoppedRule",
    "TrackBook",
    "TrackMemory",
    "WrongWayRule",
    "ZoneSpec",
]
