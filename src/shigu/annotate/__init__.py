"""Drawing detections, tracks, skeletons, zones and lines on frames (OpenCV)."""

from shigu.annotate.draw import BoxAnnotator, TraceAnnotator, color_for, draw_polygon
from shigu.annotate.scene import draw_scene
from shigu.annotate.skeleton import draw_skeletons

__all__ = [
    "BoxAnnotator",
    "TraceAnnotator",
    "color_for",
    "draw_polygon",
    "draw_scene",
    "draw_skeletons",
]
