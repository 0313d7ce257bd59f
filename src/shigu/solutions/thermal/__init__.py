"""Radiometric thermal imaging: FLIR R-JPEG/FFF/SEQ reading, temperatures, palettes,
measurements, and the thermal source and ``temperature`` rule of the pipeline."""

from shigu.solutions.thermal.planck import celsius_to_raw, raw_to_celsius, with_scene
from shigu.solutions.thermal.rjpeg import (
    Calibration,
    Radiometric,
    ThermalFormatError,
    read_radiometric,
    read_seq,
)

__all__ = [
    "Calibration",
    "Radiometric",
    "ThermalFormatError",
    "celsius_to_raw",
    "raw_to_celsius",
    "read_radiometric",
    "read_seq",
    "with_scene",
]
