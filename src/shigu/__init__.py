"""Shigu (视谷): an open visual-intelligence platform.

From a camera, a video or a folder of images to tracked objects, events, measurements
and reports. See ``shigu --help`` and the README.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shigu")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
