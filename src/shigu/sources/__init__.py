"""Foundation: where frames come from (files, streams, webcams, image folders, MOT sequences)."""

from shigu.sources.base import Source, SourceInfo, SourceStats
from shigu.sources.images import ImageFolderSource, list_images, read_image
from shigu.sources.mot import MOTSequenceSource, SeqInfo, read_mot_txt, read_seqinfo
from shigu.sources.open import open_source
from shigu.sources.prefetch import Prefetcher
from shigu.sources.video import VideoSource

__all__ = [
    "ImageFolderSource",
    "MOTSequenceSource",
    "Prefetcher",
    "SeqInfo",
    "Source",
    "SourceInfo",
    "SourceStats",
    "VideoSource",
    "list_images",
    "open_source",
    "read_image",
    "read_mot_txt",
    "read_seqinfo",
]
