"""Medical imaging: DICOM series and NIfTI volumes, conversion, segmentation metrics."""

from shigu.solutions.medical.dicom import list_series, load_series, scan
from shigu.solutions.medical.nifti import read_nifti, write_nifti
from shigu.solutions.medical.volume import Volume

__all__ = ["Volume", "list_series", "load_series", "read_nifti", "scan", "write_nifti"]
