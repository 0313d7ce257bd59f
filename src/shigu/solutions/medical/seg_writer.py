"""Masks on a DICOM series' grid written as a DICOM SEG (highdicom) that references it."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError
from shigu.io.atomic import atomic_write
from shigu.solutions.medical.volume import Volume

# SNOMED CT codes for the segmented property of each baseline mask (DICOM CID 7150 / 7151)
_PROPERTIES = {
    "body": (("91723000", "Anatomical Structure"), ("38266002", "Entire body")),
    "lungs": (("91723000", "Anatomical Structure"), ("39607008", "Lung")),
    "bone": (("85756007", "Tissue"), ("3138006", "Bone tissue")),
}


def write_dicom_seg(
    volume: Volume, masks: dict[str, np.ndarray], path: Path, software_version: str
) -> None:
    """Write ``masks`` (name -> mask on ``volume``'s grid) as one binary DICOM SEG."""
    import highdicom as hd
    import pydicom
    from pydicom.sr.coding import Code
    from pydicom.uid import generate_uid

    if not volume.source_files:
        raise InputError(
            "a DICOM SEG needs the DICOM slices one to one, and this volume was resampled or "
            "read from NIfTI",
            "write NIfTI masks instead (drop --seg)",
        )
    sources = [pydicom.dcmread(p) for p in volume.source_files]
    # volume layout: i = column, j = row from the bottom, k = slice in source order
    frames = np.stack(
        [np.stack([m[:, ::-1, k].T for k in range(m.shape[2])]) for m in masks.values()], axis=-1
    ).astype(np.uint8)
    algorithm = hd.AlgorithmIdentificationSequence(
        name="shigu CT thresholds",
        version=software_version,
        family=Code("123109", "DCM", "Manual Processing"),
    )
    descriptions = []
    for number, name in enumerate(masks, start=1):
        category, kind = _PROPERTIES.get(name, _PROPERTIES["body"])
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=name,
                segmented_property_category=Code(category[0], "SCT", category[1]),
                segmented_property_type=Code(kind[0], "SCT", kind[1]),
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC,
                algorithm_identification=algorithm,
            )
        )
    with warnings.catch_warnings():  # highdicom's advice on the source's patient name format
        warnings.simplefilter("ignore", UserWarning)
        seg = _segmentation(hd, sources, frames, descriptions, generate_uid, software_version)
    from io import BytesIO

    buffer = BytesIO()
    seg.save_as(buffer)
    atomic_write(path, buffer.getvalue())


def _segmentation(
    hd: Any,
    sources: list[Any],
    frames: np.ndarray,
    descriptions: list[Any],
    generate_uid: Any,
    software_version: str,
) -> Any:
    return hd.seg.Segmentation(
        source_images=sources,
        pixel_array=frames,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=9000 + int(sources[0].get("SeriesNumber", 0) or 0) % 1000,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="Shigu",
        manufacturer_model_name="shigu med masks",
        software_versions=software_version,
        device_serial_number="0",
        omit_empty_frames=False,
    )
