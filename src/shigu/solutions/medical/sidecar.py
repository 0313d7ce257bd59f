"""The JSON sidecar beside a converted volume: the BIDS fields dcm2niix fills, same names,
same units (seconds for times, degrees for angles), so BIDS tools read either."""

from __future__ import annotations

from typing import Any

# (BIDS key, DICOM keyword, kind); kind "s_from_ms" converts milliseconds to seconds
_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("Modality", "Modality", "str"),
    ("MagneticFieldStrength", "MagneticFieldStrength", "float"),
    ("Manufacturer", "Manufacturer", "str"),
    ("ManufacturersModelName", "ManufacturerModelName", "str"),
    ("InstitutionName", "InstitutionName", "str"),
    ("InstitutionalDepartmentName", "InstitutionalDepartmentName", "str"),
    ("InstitutionAddress", "InstitutionAddress", "str"),
    ("DeviceSerialNumber", "DeviceSerialNumber", "str"),
    ("StationName", "StationName", "str"),
    ("BodyPart", "BodyPartExamined", "str"),
    ("PatientPosition", "PatientPosition", "str"),
    ("SoftwareVersions", "SoftwareVersions", "str"),
    ("StudyDescription", "StudyDescription", "str"),
    ("SeriesDescription", "SeriesDescription", "str"),
    ("ProtocolName", "ProtocolName", "str"),
    ("ScanOptions", "ScanOptions", "str"),
    ("ImageType", "ImageType", "list"),
    ("SeriesNumber", "SeriesNumber", "int"),
    ("AcquisitionTime", "AcquisitionTime", "time"),
    ("AcquisitionNumber", "AcquisitionNumber", "int"),
    ("ImageComments", "ImageComments", "str"),
    ("ConvolutionKernel", "ConvolutionKernel", "str"),
    ("ExposureTime", "ExposureTime", "s_from_ms"),
    ("XRayTubeCurrent", "XRayTubeCurrent", "number"),
    ("XRayExposure", "Exposure", "number"),
    ("SliceThickness", "SliceThickness", "number"),
    ("EchoTime", "EchoTime", "s_from_ms"),
    ("RepetitionTime", "RepetitionTime", "s_from_ms"),
    ("InversionTime", "InversionTime", "s_from_ms"),
    ("FlipAngle", "FlipAngle", "number"),
)


# dcm2niix names vendors by a short form (a DICOM Manufacturer starts with these words)
_VENDORS = (
    ("GE", "GE"),
    ("SIEMENS", "Siemens"),
    ("PHILIPS", "Philips"),
    ("TOSHIBA", "Toshiba"),
    ("CANON", "Canon"),
    ("HITACHI", "Hitachi"),
    ("UIH", "UIH"),
    ("UNITED IMAGING", "UIH"),
    ("BRUKER", "Bruker"),
    ("MEDISO", "Mediso"),
)


def vendor(manufacturer: str) -> str:
    """The short vendor name dcm2niix writes (``GE MEDICAL SYSTEMS`` -> ``GE``)."""
    upper = manufacturer.strip().upper()
    for prefix, name in _VENDORS:
        if upper == prefix or upper.startswith(prefix + " "):
            return name
    return manufacturer.strip()


def _time(value: str) -> str:
    """DICOM TM ``HHMMSS.ffffff`` as dcm2niix writes it: ``HH:MM:SS.ffffff``."""
    text = value.strip()
    if len(text) < 6 or not text[:6].isdigit():
        return text
    frac = text[7:] if len(text) > 7 and text[6] == "." else ""
    return f"{text[:2]}:{text[2:4]}:{text[4:6]}.{frac.ljust(6, '0')[:6]}"


def _number(value: Any) -> int | float:
    f = float(value)
    return int(f) if f.is_integer() else f


def sidecar_fields(ds: Any) -> dict[str, Any]:
    """The BIDS sidecar fields present in one DICOM dataset."""
    out: dict[str, Any] = {}
    for key, keyword, kind in _FIELDS:
        value = ds.get(keyword)
        if value is None or value == "":
            continue
        try:
            if kind == "str":
                out[key] = str(value)
            elif kind == "list":
                out[key] = [str(value)] if isinstance(value, str) else [str(v) for v in value]
            elif kind == "int":
                out[key] = int(value)
            elif kind == "float":
                out[key] = float(value)
            elif kind == "number":
                out[key] = _number(value)
            elif kind == "time":
                out[key] = _time(str(value))
            elif kind == "s_from_ms":
                out[key] = round(float(value) / 1000.0, 6)
        except (TypeError, ValueError):
            continue
    if "Manufacturer" in out:
        out["Manufacturer"] = vendor(out["Manufacturer"])
    if "ImageOrientationPatient" in ds:
        out["ImageOrientationPatientDICOM"] = [_number(v) for v in ds.ImageOrientationPatient]
    return out
