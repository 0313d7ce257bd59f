"""``open_source``: one entry that turns any URI into the right ``Source``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shigu.core.errors import SourceError
from shigu.sources.base import Source
from shigu.sources.images import IMAGE_EXTENSIONS, ImageFolderSource, is_glob
from shigu.sources.mot import MOTSequenceSource
from shigu.sources.video import NETWORK_SCHEMES, VideoSource


def open_source(uri: str | Path, source_id: str | None = None, **options: Any) -> Source:
    """Open a video file, stream URL, webcam, image folder/glob or MOTChallenge sequence.

    Accepted forms:
        ``video.mp4`` (any container/codec FFmpeg reads), ``rtsp://host/path``, ``rtmp://...``,
        ``http(s)://...``, ``webcam:0`` or ``/dev/video0`` (V4L2), ``images:DIR`` or a folder
        of images, a glob such as ``frames/*.jpg``, ``mot:DIR`` or a folder with
        ``seqinfo.ini``, ``thermal:DIR|GLOB|FILE.seq`` (radiometric images, frames carry
        ``celsius``).

    Keyword options go to the source (``stride``, ``target_fps``, ``open_timeout_s``, ...).
    ``source_id`` defaults to ``"0"`` (a MOTChallenge sequence's own name for sequences).
    """
    mot_id = source_id
    source_id = source_id or "0"
    text = str(uri)
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in NETWORK_SCHEMES:
        return VideoSource(text, source_id, **options)
    if text.startswith("webcam:"):
        device = text.split(":", 1)[1] or "0"
        device_path = f"/dev/video{device}" if device.isdigit() else device
        return VideoSource(device_path, source_id, format="v4l2", **options)
    if text.startswith("v4l2://"):
        return VideoSource(text[len("v4l2://") :], source_id, format="v4l2", **options)
    if text.startswith("/dev/video"):
        return VideoSource(text, source_id, format="v4l2", **options)
    if text.startswith("images:"):
        return ImageFolderSource(text[len("images:") :], source_id, **_image_opts(options))
    if text.startswith("thermal:") or text.lower().endswith(".seq"):
        from shigu.solutions.thermal.source import ThermalSource

        spec = text[len("thermal:") :] if text.startswith("thermal:") else text
        return ThermalSource(spec, source_id, **_image_opts(options))
    if text.startswith("mot:"):
        return MOTSequenceSource(text[len("mot:") :], mot_id, **_image_opts(options, fps=False))
    if scheme == "file":
        text = text[len("file://") :]
    if is_glob(text):
        return ImageFolderSource(text, source_id, **_image_opts(options))
    path = Path(text)
    if path.is_dir():
        if (path / "seqinfo.ini").is_file():
            return MOTSequenceSource(path, mot_id, **_image_opts(options, fps=False))
        return ImageFolderSource(path, source_id, **_image_opts(options))
    if not path.exists():
        raise SourceError(f"file not found: {text}", "check the path (or the URL's scheme)")
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return ImageFolderSource(path, source_id, **_image_opts(options))
    return VideoSource(text, source_id, **options)


def _image_opts(options: dict[str, Any], fps: bool = True) -> dict[str, Any]:
    allowed = {"stride", "target_fps"} | ({"fps"} if fps else set())
    return {k: v for k, v in options.items() if k in allowed}
