"""De-identification by the DICOM PS3.15 Annex E Basic Application Level Confidentiality
Profile, with its retain options.

The attribute table (which tag is removed, emptied, replaced or has its UIDs replaced) is the
standard's Table E.1-1 as shipped by the dicom-anonymizer package (the 2026c edition); the
actions, options, consistency and audit are ours:

- X removed, Z emptied, D replaced by a dummy (PN ``ANONYMOUS``, dates ``19000101``...); the
  combined actions take the form that keeps files valid (Z/D, X/D, X/Z/D -> D; X/Z -> Z);
  every private tag is removed; nested sequences are cleaned the same way;
- UIDs (U) are replaced by ``2.25.<hash>`` keyed by ``key``: one original UID always maps to
  one new UID, in every file and every reference, so series stay series and references
  (SEG, RTSTRUCT, SR) stay valid; patient names and IDs become a keyed pseudonym;
- ``retain-dates`` shifts every date by a per-patient number of days (from the key and the
  patient ID) instead of removing it, so intervals survive; times are kept;
- ``retain-device``, ``retain-institution``, ``retain-patient-chars``, ``retain-uids`` keep
  the attributes the standard's options name;
- pixel data is never touched, except ``mask_burned_in`` on ultrasound, whose regions of
  image data are declared in the file (everything outside them is blacked out);
- ``BurnedInAnnotation`` YES (or a modality that usually carries it: US, SC, ES, XC, OT with
  no such attribute) is flagged in the audit;
- a file already de-identified by Shigu is recognised (PatientIdentityRemoved and our method
  string) and keeps its UIDs, pseudonyms and dates: running twice changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from shigu.core.errors import InputError

OPTIONS = (
    "retain-dates",
    "retain-device",
    "retain-institution",
    "retain-patient-chars",
    "retain-uids",
)
METHOD = "shigu PS3.15 E.1 basic profile"

# DICOM CID 7050 codes of the profile and its options, written into the file
_CODES = {
    "basic": ("113100", "Basic Application Confidentiality Profile"),
    "retain-dates": ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    "retain-device": ("113109", "Retain Device Identity Option"),
    "retain-institution": ("113112", "Retain Institution Identity Option"),
    "retain-patient-chars": ("113108", "Retain Patient Characteristics Option"),
    "retain-uids": ("113110", "Retain UIDs Option"),
}
# attributes each option keeps (PS3.15 Table E.1-1, "K" in that option's column)
_KEEP = {
    "retain-device": {
        0x00181000,
        0x00081010,
        0x00181002,
        0x0018700A,
        0x00181008,
        0x00181004,
        0x00181007,
        0x3010002D,
        0x00500020,
        0x00181005,
        0x0018100A,
    },
    "retain-institution": {0x00080080, 0x00080081, 0x00081040, 0x00080082, 0x00081041},
    "retain-patient-chars": {
        0x00101010,
        0x00100040,
        0x00101020,
        0x00101030,
        0x00102160,
        0x001021A0,
        0x001021C0,
        0x00102203,
    },
}
_DATE_VRS = ("DA", "DT")
_BURNED_IN_MODALITIES = ("US", "SC", "ES", "XC", "OT", "GM", "SM")
_PATIENT_NAME, _PATIENT_ID = 0x00100010, 0x00100020


def _table() -> dict[int, str]:
    """Tag -> action from the standard's table (dicom-anonymizer's 2026c edition)."""
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    categories = dicom_anonymization_database_selector("dicomfields_2026c")
    action_of = {
        "D_TAGS": "D",
        "Z_TAGS": "Z",
        "X_TAGS": "X",
        "U_TAGS": "U",
        "Z_D_TAGS": "D",
        "X_Z_TAGS": "Z",
        "X_D_TAGS": "D",
        "X_Z_D_TAGS": "D",
        "X_Z_U_STAR_TAGS": "U*",
    }
    table: dict[int, str] = {}
    for category, action in action_of.items():
        for entry in categories[category]:
            if len(entry) == 2:
                table[(entry[0] << 16) | entry[1]] = action
    return table


def _masked_rules() -> list[tuple[int, int, str]]:
    """Tag patterns (value, mask, action): curves 50xx and overlay data/comments 60xx."""
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    rules = []
    for entry in dicom_anonymization_database_selector("dicomfields_2026c")["X_TAGS"]:
        if len(entry) == 4:
            group, element, group_mask, element_mask = entry
            rules.append(((group << 16) | element, (group_mask << 16) | element_mask, "X"))
    return rules


@dataclass
class Change:
    """One line of the audit: what was done to which attribute of which file."""

    file: str
    tag: str
    keyword: str
    action: str  # removed, emptied, replaced, uid-replaced, date-shifted, private-removed, ...
    detail: str = ""


@dataclass
class Deidentifier:
    """Applies the profile to datasets; one instance per run keeps UIDs and pseudonyms
    consistent across files."""

    key: bytes
    options: tuple[str, ...] = ()
    mask_burned_in: bool = False
    table: dict[int, str] = field(default_factory=_table)
    patterns: list[tuple[int, int, str]] = field(default_factory=_masked_rules)

    def __post_init__(self) -> None:
        unknown = set(self.options) - set(OPTIONS)
        if unknown:
            raise InputError(
                f"unknown profile option(s): {', '.join(sorted(unknown))}",
                f"choose from basic, {', '.join(OPTIONS)}",
            )
        self.keep: set[int] = set().union(*(_KEEP.get(o, set()) for o in self.options))

    # -- keyed mappings -------------------------------------------------------------------
    def _digest(self, kind: str, value: str) -> bytes:
        return hmac.new(self.key, f"{kind}\0{value}".encode(), hashlib.sha256).digest()

    def new_uid(self, uid: str) -> str:
        """The replacement of ``uid`` (a 2.25 UID, at most 64 characters)."""
        return "2.25." + str(int.from_bytes(self._digest("uid", uid)[:16], "big"))

    def pseudonym(self, patient_id: str) -> str:
        return "ANON-" + self._digest("patient", patient_id).hex()[:12].upper()

    def date_shift_days(self, patient_id: str) -> int:
        """A per-patient shift back in time of 1 to 10 years (whole days)."""
        return -(365 + int.from_bytes(self._digest("shift", patient_id)[:4], "big") % 3286)

    # -- one dataset ----------------------------------------------------------------------
    def apply(self, ds: Any, file: str) -> list[Change]:
        """De-identify ``ds`` in place; the audit of what changed."""
        changes: list[Change] = []
        already = str(ds.get("PatientIdentityRemoved", "")) == "YES" and str(
            ds.get("DeidentificationMethod", "")
        ).startswith("shigu")
        patient_id = str(ds.get("PatientID", ""))
        shift = self.date_shift_days(patient_id) if "retain-dates" in self.options else 0
        flag = self._burned_in(ds)
        if flag:
            changes.append(Change(file, "(0028,0301)", "BurnedInAnnotation", "flagged", flag))
            if self.mask_burned_in:
                changes.extend(self._mask(ds, file))
        for tag_text, keyword in _private_tags(ds):
            changes.append(Change(file, tag_text, keyword, "private-removed"))
        ds.remove_private_tags()
        self._clean(ds, file, changes, already, patient_id, shift)
        if not already:
            self._mark(ds, shift)
        if "SOPInstanceUID" in ds and hasattr(ds, "file_meta"):
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        return changes

    def _clean(
        self, ds: Any, file: str, changes: list[Change], already: bool, patient_id: str, shift: int
    ) -> None:
        for element in list(ds):
            tag = int(element.tag)
            action = self.table.get(tag) or next(
                (a for value, mask, a in self.patterns if tag & mask == value), None
            )
            if element.VR == "SQ":
                if action == "X" and tag not in self.keep:
                    del ds[element.tag]
                    changes.append(Change(file, _tag(tag), element.keyword, "removed"))
                    continue
                for item in element.value:
                    self._clean(item, file, changes, already, patient_id, shift)
                continue
            if action is None or tag in self.keep:
                continue
            if action in ("U", "U*"):
                if "retain-uids" in self.options or already or not element.value:
                    continue
                element.value = _map_uids(element.value, self.new_uid)
                changes.append(Change(file, _tag(tag), element.keyword, "uid-replaced"))
            elif element.VR == "TM" and shift:
                continue  # modified dates keep their times
            elif element.VR in _DATE_VRS and shift and tag != 0x00100030 and element.value:
                if already:
                    continue
                element.value = _shift_date(str(element.value), shift, element.VR)
                changes.append(
                    Change(file, _tag(tag), element.keyword, "date-shifted", f"{shift} days")
                )
            elif action == "X":
                del ds[element.tag]
                changes.append(Change(file, _tag(tag), element.keyword, "removed"))
            elif action == "Z":
                if element.value not in ("", None, b""):
                    element.value = ""
                    changes.append(Change(file, _tag(tag), element.keyword, "emptied"))
            elif action == "D":
                value = self._dummy(element, tag, patient_id, already)
                if element.value != value:
                    element.value = value
                    changes.append(Change(file, _tag(tag), element.keyword, "replaced"))

    def _dummy(self, element: Any, tag: int, patient_id: str, already: bool) -> Any:
        if tag in (_PATIENT_NAME, _PATIENT_ID):
            return element.value if already else self.pseudonym(patient_id)
        return _DUMMIES.get(element.VR, "ANONYMIZED")

    def _mark(self, ds: Any, shift: int) -> None:
        from pydicom.dataset import Dataset

        ds.PatientIdentityRemoved = "YES"
        names = ["basic", *self.options]
        ds.DeidentificationMethod = f"{METHOD} ({', '.join(names)})"[:64]
        codes = []
        for name in names:
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator = _CODES[name][0], "DCM"
            item.CodeMeaning = _CODES[name][1]
            codes.append(item)
        ds.DeidentificationMethodCodeSequence = codes
        ds.LongitudinalTemporalInformationModified = "MODIFIED" if shift else "REMOVED"

    @staticmethod
    def _burned_in(ds: Any) -> str:
        value = str(ds.get("BurnedInAnnotation", "")).upper()
        if value == "YES":
            return "BurnedInAnnotation is YES"
        if not value and str(ds.get("Modality", "")) in _BURNED_IN_MODALITIES:
            return f"possible: {ds.get('Modality')} images often carry burned-in text"
        return ""

    @staticmethod
    def _mask(ds: Any, file: str) -> list[Change]:
        """Black out everything outside an ultrasound image's declared data regions."""
        regions = ds.get("SequenceOfUltrasoundRegions")
        if str(ds.get("Modality", "")) != "US" or not regions:
            raise InputError(
                f"{file}: burned-in text can be masked only on ultrasound with declared regions",
                "mask other images by hand, or drop --mask-burned-in",
            )
        pixels = ds.pixel_array.copy()
        colour = int(ds.get("SamplesPerPixel", 1)) > 1
        rows, cols = int(ds.Rows), int(ds.Columns)
        keep = np.zeros((rows, cols), dtype=bool)
        for region in regions:
            x0, y0 = int(region.RegionLocationMinX0), int(region.RegionLocationMinY0)
            x1, y1 = int(region.RegionLocationMaxX1), int(region.RegionLocationMaxY1)
            keep[y0 : y1 + 1, x0 : x1 + 1] = True
        if colour:
            pixels[..., ~keep, :] = 0
        else:
            pixels[..., ~keep] = 0
        ds.PixelData = pixels.tobytes()
        from pydicom.uid import ExplicitVRLittleEndian

        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        if "PhotometricInterpretation" in ds and str(ds.PhotometricInterpretation).startswith(
            "YBR"
        ):
            ds.PhotometricInterpretation = "RGB"
        ds.BurnedInAnnotation = "NO"
        return [
            Change(file, "(7FE0,0010)", "PixelData", "masked", "outside the ultrasound regions")
        ]


_DUMMIES: dict[str, Any] = {
    "PN": "ANONYMOUS",
    "LO": "ANONYMIZED",
    "SH": "ANONYMIZED",
    "LT": "ANONYMIZED",
    "ST": "ANONYMIZED",
    "UT": "ANONYMIZED",
    "CS": "ANONYMIZED",
    "AE": "ANONYMIZED",
    "DA": "19000101",
    "DT": "19000101000000",
    "TM": "000000",
    "AS": "000Y",
    "IS": "0",
    "DS": "0",
    "UI": "2.25.0",
    "UC": "ANONYMIZED",
    "UR": "",
}


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _private_tags(ds: Any) -> Iterator[tuple[str, str]]:
    for element in ds:
        if element.tag.is_private:
            yield _tag(int(element.tag)), "private"
        elif element.VR == "SQ":
            for item in element.value:
                yield from _private_tags(item)


def _map_uids(value: Any, new_uid: Any) -> Any:
    if isinstance(value, str):
        return new_uid(value)
    return [new_uid(str(v)) for v in value]


def _shift_date(value: str, days: int, vr: str) -> str:
    text = value.strip()
    try:
        day = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError):
        return str(_DUMMIES[vr])  # not a date we can shift: replace it
    return (day + timedelta(days=days)).strftime("%Y%m%d") + (text[8:] if vr == "DT" else "")


@dataclass
class DeidReport:
    """What a run wrote and changed."""

    written: list[tuple[str, str]]  # (input file, output file)
    skipped: list[str]  # not DICOM
    changes: list[Change]


def deidentify_tree(source: Any, out: Any, deid: Deidentifier) -> DeidReport:
    """De-identify every DICOM file under ``source`` into ``out`` as
    ``<new series UID>/<new SOP instance UID>.dcm``, with ``deid_audit.csv``. Every input is
    checked before anything is written, so a damaged file stops the run with nothing written;
    then files are done one at a time (memory stays at one file)."""
    import csv
    import io
    from pathlib import Path

    import pydicom
    from pydicom.errors import InvalidDicomError

    from shigu.io.atomic import atomic_write

    source, out = Path(source), Path(out)
    files = (
        [source]
        if source.is_file()
        else sorted(
            p
            for p in source.rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.name != "deid_audit.csv"
        )
    )
    if not files:
        raise InputError(f"no files in {source}", "give a DICOM file or folder")
    valid, skipped = [], []
    seen: dict[str, Path] = {}
    for path in files:  # first pass: every input readable, or nothing is written
        try:
            ds = pydicom.dcmread(path)
            _check_pixels(ds)
            uid = str(ds.get("SOPInstanceUID", ""))
            if uid and uid in seen:
                raise InputError(
                    f"{path} and {seen[uid]} are the same instance (one SOP Instance UID)",
                    "remove the duplicate file; nothing was written",
                )
            seen[uid] = path
        except InvalidDicomError:
            skipped.append(str(path))
            continue
        except InputError:
            raise
        except Exception as exc:  # pydicom raises many types on damaged files
            raise InputError(
                f"{path} is a damaged DICOM file ({type(exc).__name__}: {exc})",
                "remove or replace it; nothing was written",
            ) from exc
        valid.append(path)
    if not valid:
        raise InputError(f"no DICOM files in {source}", "give a DICOM file or folder")
    changes: list[Change] = []
    written: list[tuple[str, str]] = []
    for path in valid:  # second pass, one file in memory at a time
        ds = pydicom.dcmread(path)
        rel = str(path.relative_to(source)) if source.is_dir() else path.name
        file_changes = deid.apply(ds, rel)
        series = str(ds.get("SeriesInstanceUID", "no-series"))
        target = out / series / f"{ds.get('SOPInstanceUID', path.stem)}.dcm"
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        atomic_write(target, buffer.getvalue())
        changes.extend(file_changes)
        written.append((str(path), str(target)))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["file", "tag", "keyword", "action", "detail"])
    writer.writerows([c.file, c.tag, c.keyword, c.action, c.detail] for c in changes)
    atomic_write(out / "deid_audit.csv", text.getvalue().encode())
    return DeidReport(written, skipped, changes)


def _check_pixels(ds: Any) -> None:
    """Raise when the pixel data is shorter than the image needs (a truncated file)."""
    if "PixelData" not in ds:
        return
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        _ = ds.pixel_array  # decoding a truncated stream fails
        return
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    bits = int(ds.BitsAllocated)
    needed = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * frames
    needed = (needed + 7) // 8 if bits == 1 else needed * bits // 8
    if len(ds.PixelData) < needed:
        raise ValueError(f"pixel data holds {len(ds.PixelData)} bytes of {needed}")
