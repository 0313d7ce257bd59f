"""Drawing detections, tracks, zones and lines on frames (OpenCV)."""

from shigu.annotate.draw import BoxAnnotator, TraceAnnotator, color_for, draw_polygon

__all__ = ["BoxAnnotator", "TraceAnnotator", "color_for", "draw_polygon"]
