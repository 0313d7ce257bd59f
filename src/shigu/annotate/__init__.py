"""Drawing detections, tracks, zones and lines on frames (OpenCV)."""

from shigu.annotate.draw import BoxAnnotator, TraceAnnotator, color_for, draw_polygon
from shigu.annotate.scene import draw_scene

__all__ = ["BoxAnnotator", "TraceAnnotator", "color_for", "draw_polygon", "draw_scene"]
