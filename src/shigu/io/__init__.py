"""Output formats others read: H.264 MP4, JSONL detections, MOTChallenge text."""

from shigu.io.jsonl import JsonlWriter, frame_record, read_jsonl
from shigu.io.video_writer import VideoWriter

__all__ = ["JsonlWriter", "VideoWriter", "frame_record", "read_jsonl"]
