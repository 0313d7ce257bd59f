"""Medical imaging: DICOM series and NIfTI volumes, conversion, segmentation metrics."""

from shigu.solutions.medical.dicom import list_series, load_series, scan
from shigu.solutions.medical.nifti import read_nifti, write_nifti
from shigu.solutions.medical.volume import Volume

__all__ = ["Volume", "list_series", "load_series", "read_nifti", "scan", "write_nifti"]


def _quiet_pydicom() -> None:
    """Read what scanners write: pydicom's value checks on reading only warn about files we
    cannot fix (an invalid UID in another tool's file meta), so they are off."""
    import pydicom.config

    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE


_quiet_pydicom()
