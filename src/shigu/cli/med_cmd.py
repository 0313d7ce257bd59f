"""``shigu med``: medical imaging (DICOM series, NIfTI volumes, segmentation metrics)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.markup import escape

from shigu.cli._common import check_output_path, console, console_err, narrow_table
from shigu.core.errors import InputError

app = typer.Typer(
    help="Medical imaging: describe and convert DICOM series and NIfTI volumes (geometry as "
    "dcm2niix writes it), and score segmentations (Dice, IoU, HD95, surface distance).",
    no_args_is_help=True,
)

INFO_HELP = """Describe a DICOM folder or file, or a NIfTI volume.

For a folder: every series in it (UID, number, modality, description, files), then for the
chosen series (the only one, or --series) the volume as `shigu med convert` builds it: size,
spacing in mm, orientation (axis codes of i, j, k), the affine, value range, and any geometry
that was corrected (gantry tilt, uneven spacing). Files that are not DICOM are counted.

Examples:
  shigu med info scans/ct_head/
  shigu med info volume.nii.gz --json info.json
"""

CONVERT_HELP = """Convert one DICOM series to NIfTI, with a BIDS JSON sidecar.

The voxel layout and affine are those of dcm2niix (the reference converter): i along each row,
j from the bottom row up, k along the slice normal; values through the modality LUT (CT in
Hounsfield units, int16 when whole). Slices are sorted by position along their normal, not by
file name or instance number. Gantry tilt and uneven slice spacing are resampled onto a regular
grid (linear, as dcm2niix's _Tilt_Eq output) and said so; a missing slice is refused unless
--allow-gaps. The sidecar (volume.json beside volume.nii.gz) holds the BIDS fields dcm2niix
fills. Nothing is written unless the whole series reads.

Examples:
  shigu med convert dicom/ct_head --out ct_head.nii.gz
  shigu med convert study/ --series 3 --out t1.nii
"""


def _load(path: Path, series: str | None, allow_gaps: bool = False) -> Any:
    from shigu.solutions.medical import load_series, read_nifti
    from shigu.solutions.medical.nifti import is_nifti, is_picture, read_picture

    if path.is_file() and is_nifti(path):
        return read_nifti(path)
    if path.is_file() and is_picture(path):
        return read_picture(path)
    if not path.exists():
        raise InputError(f"{path} does not exist", "give a DICOM folder or file, or a NIfTI file")
    return load_series(path, series, allow_gaps=allow_gaps)


def _describe_volume(volume: Any) -> dict[str, Any]:
    data = volume.data
    return {
        "shape": list(data.shape),
        "dtype": str(data.dtype),
        "spacing_mm": [round(s, 6) for s in volume.spacing],
        "orientation": volume.orientation,
        "affine": np.round(volume.affine, 6).tolist(),
        "value_min": float(data.min()),
        "value_max": float(data.max()),
        "notes": list(volume.notes),
        **{
            k: v
            for k, v in volume.meta.items()
            if k
            in (
                "Modality",
                "SeriesDescription",
                "SeriesNumber",
                "Manufacturer",
                "BodyPart",
                "Source",
            )
        },
    }


def _describe_dicom_object(path: Path) -> dict[str, Any] | None:
    """Segmentations and reports are not images: say what they are (None for other files)."""
    from shigu.solutions.medical.labels import _modality, read_labels

    modality = _modality(path)
    if modality in ("SEG", "RTSTRUCT"):
        labels = read_labels(path)
        kind = "DICOM SEG" if modality == "SEG" else "RTSTRUCT"
        names = ", ".join(f"{k} {labels.names.get(k, '')}".strip() for k in sorted(labels.masks))
        console.print(
            f"{kind}: {len(labels.masks)} segment(s) ({escape(names)}) on a "
            f"{' x '.join(map(str, labels.shape))} grid, spacing "
            f"{' x '.join(f'{v:.4g}' for v in labels.spacing)} mm; score it with "
            "`shigu med metrics`, show it with `shigu med view --overlay`",
            highlight=False,
        )
        ids = sorted(labels.masks)
        return {
            "kind": kind,
            "shape": list(labels.shape),
            "spacing_mm": list(labels.spacing),
            "segments": {str(k): labels.names.get(k, "") for k in ids},
            "voxels": {str(k): int(labels.masks[k].sum()) for k in ids},
        }
    if modality == "SR":
        console.print("a DICOM structured report (SR): measurements and text, no image to show")
        return {"kind": "SR"}
    return None


@app.command("info", help=INFO_HELP, no_args_is_help=True)
def info_cmd(
    path: Path = typer.Argument(..., help="A DICOM folder or file, or a .nii/.nii.gz file."),
    series: str | None = typer.Option(None, "--series", help="Series UID or number to describe."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the description as JSON."),
) -> None:
    from shigu.solutions.medical import list_series, scan
    from shigu.solutions.medical.nifti import is_nifti, is_picture

    check_output_path(json_path, (".json",), "--json")
    report: dict[str, Any] = {"path": str(path)}
    if path.is_file() and not (is_nifti(path) or is_picture(path)):
        described = _describe_dicom_object(path)
        if described is not None:
            if json_path:
                json_path.write_text(json.dumps({**report, **described}, indent=2))
            return
    if path.exists() and not (path.is_file() and (is_nifti(path) or is_picture(path))):
        headers, skipped = scan(path)
        found = list_series(headers)
        report["series"] = [
            {
                "uid": s.uid,
                "number": s.number,
                "modality": s.modality,
                "description": s.description,
                "files": len(s.files),
                "size": [s.columns, s.rows],
            }
            for s in found
        ]
        report["non_dicom_files"] = len(skipped)
        rows = [
            [
                str(s.number or ""),
                s.modality,
                escape(s.description),
                str(len(s.files)),
                f"{s.columns}x{s.rows}",
                s.uid,
            ]
            for s in found
        ]
        console.print(
            narrow_table(
                f"Series in {escape(str(path))}",
                ["#", "modality", "description", "files", "size", "UID"],
                rows,
            )
        )
        if skipped:
            console.print(f"{len(skipped)} file(s) are not DICOM images and were skipped")
        if len(found) > 1 and series is None:
            if json_path:
                json_path.write_text(json.dumps(report, indent=2))
            console.print("Several series: pass --series UID or number to describe one volume.")
            return
    volume = _load(path, series, allow_gaps=True)
    report["volume"] = _describe_volume(volume)
    v = report["volume"]
    console.print(
        f"{v.get('Modality', 'volume')}: {' x '.join(map(str, v['shape']))} voxels "
        f"({v['dtype']}), spacing {' x '.join(f'{s:.4g}' for s in v['spacing_mm'])} mm, "
        f"orientation {v['orientation']}, values {v['value_min']:g} to {v['value_max']:g}",
        highlight=False,
    )
    for note in volume.notes:
        console.print(f"note: {escape(note)}", highlight=False)
    if json_path:
        json_path.write_text(json.dumps(report, indent=2))


@app.command("convert", help=CONVERT_HELP, no_args_is_help=True)
def convert_cmd(
    dicom: Path = typer.Argument(..., help="A folder holding the DICOM series (or one file)."),
    out: Path = typer.Option(..., "--out", "-o", help="The NIfTI to write (.nii or .nii.gz)."),
    series: str | None = typer.Option(
        None, "--series", help="Series UID or number, when the folder holds several."
    ),
    allow_gaps: bool = typer.Option(
        False, "--allow-gaps", help="Interpolate across missing slices instead of refusing."
    ),
    sidecar: bool = typer.Option(True, "--sidecar/--no-sidecar", help="Write the JSON sidecar."),
) -> None:
    from shigu import __version__
    from shigu.solutions.medical.nifti import (
        NIFTI_SUFFIXES,
        is_nifti,
        sidecar_path,
        write_nifti,
        write_sidecar,
    )

    if not is_nifti(out):
        raise InputError(f"--out {out} should end in {' or '.join(NIFTI_SUFFIXES)}")
    check_output_path(out, (), "--out")
    if dicom.is_file() and is_nifti(dicom):
        raise InputError(f"{dicom} is already NIfTI", "give the DICOM folder it came from")
    volume = _load(dicom, series, allow_gaps)
    write_nifti(volume, out)
    if sidecar:
        write_sidecar(volume.meta, sidecar_path(out), __version__)
    for note in volume.notes:
        console_err.print(f"note: {escape(note)}", highlight=False)
    console.print(
        f"wrote {escape(str(out))}: {' x '.join(map(str, volume.data.shape))} voxels, "
        f"spacing {' x '.join(f'{s:.4g}' for s in volume.spacing)} mm, {volume.orientation}",
        highlight=False,
    )


METRICS_HELP = """Score a segmentation against its ground truth, per label, in mm and ml.

PRED and GT are label NIfTI files, DICOM SEG files or RTSTRUCTs (contours are rasterised on the
image series they reference: in the same folder, or --image). Both must lie on one grid (axis
order and direction may differ: they are matched). Labels are matched by id (the NIfTI value,
the SEG segment number, the ROI number); --labels picks some.

Per label: Dice, IoU, HD95 and average symmetric surface distance (mm, voxel spacing honoured),
volumes (ml) and their difference, as MONAI defines them (checked against MONAI to 1e-4).
Empty masks: both empty scores Dice 1 and distance 0; one empty scores Dice 0 and the distances
are undefined (printed as -, null in JSON).

Examples:
  shigu med metrics --pred pred.nii.gz --gt truth.nii.gz
  shigu med metrics --pred seg.dcm --gt rtstruct.dcm --image ct/ --labels 1,3 --json scores.json
"""


def _labels_option(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError as exc:
        raise InputError(
            f"--labels {text!r} is not a list of label numbers", "give e.g. --labels 1,2,5"
        ) from exc
    if not values or min(values) < 1:
        raise InputError(f"--labels {text!r} should list labels 1 and up", "0 is background")
    return values


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@app.command("metrics", help=METRICS_HELP, no_args_is_help=True)
def metrics_cmd(
    pred: Path = typer.Option(..., "--pred", help="The segmentation to score."),
    gt: Path = typer.Option(..., "--gt", help="The ground truth."),
    labels: str | None = typer.Option(None, "--labels", help="Labels to score, e.g. 1,2,5."),
    image: Path | None = typer.Option(
        None, "--image", help="The DICOM series an RTSTRUCT was drawn on."
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Write the scores as JSON."),
) -> None:
    from shigu.solutions.medical.labels import on_grid, read_labels
    from shigu.solutions.medical.metrics import score_masks, summary

    check_output_path(json_path, (".json",), "--json")
    wanted = _labels_option(labels)
    truth = read_labels(gt, image)
    guess = on_grid(read_labels(pred, image), truth.affine, truth.shape)
    ids = wanted or sorted(set(truth.masks) | set(guess.masks))
    if not ids:
        raise InputError("both segmentations are empty", "check that the right files were given")
    empty = np.zeros(truth.shape, dtype=bool)
    scores = [
        score_masks(guess.masks.get(i, empty), truth.masks.get(i, empty), truth.spacing, i)
        for i in ids
    ]
    names = {**guess.names, **truth.names}
    rows = [
        [
            str(s.label),
            escape(names.get(s.label, "")),
            _fmt(s.dice),
            _fmt(s.iou),
            _fmt(s.hd95_mm, 2),
            _fmt(s.asd_mm, 2),
            f"{s.pred_ml:.2f}",
            f"{s.gt_ml:.2f}",
            f"{s.volume_diff_ml:+.2f}",
        ]
        for s in scores
    ]
    console.print(
        narrow_table(
            "Segmentation scores",
            ["label", "name", "Dice", "IoU", "HD95 mm", "ASD mm", "pred ml", "gt ml", "diff ml"],
            rows,
        )
    )
    means = summary(scores)
    console.print(
        f"mean over {len(scores)} label(s): Dice {_fmt(means['mean_dice'])}, IoU "
        f"{_fmt(means['mean_iou'])}, HD95 {_fmt(means['mean_hd95_mm'], 2)} mm, ASD "
        f"{_fmt(means['mean_asd_mm'], 2)} mm",
        highlight=False,
    )
    if json_path:
        from shigu.io.atomic import atomic_write

        body = {
            "pred": str(pred),
            "gt": str(gt),
            "spacing_mm": list(truth.spacing),
            "labels": [{**s.as_dict(), "name": names.get(s.label, "")} for s in scores],
            "summary": means,
        }
        atomic_write(json_path, json.dumps(body, indent=2).encode())


MASKS_HELP = """Body, lung and bone masks of a CT from Hounsfield thresholds (no model needed).

CT is a DICOM series folder or a NIfTI volume in HU. Writes body.nii.gz, lungs.nii.gz,
bone.nii.gz and labels.nii.gz (1 body, 2 lungs, 3 bone) into --out, prints each volume in ml
(and --json writes them). With --seg (DICOM input only) also masks.dcm, a DICOM SEG referencing
the series. The thresholds are textbook values (body > -500 HU, lungs < -400 HU with a median
above -920 HU, bone >= 200 HU), explained in docs/medical.md.

Examples:
  shigu med masks ct_chest/ --out masks/ --seg
  shigu med masks ct.nii.gz --out masks/ --json volumes.json
"""


@app.command("masks", help=MASKS_HELP, no_args_is_help=True)
def masks_cmd(
    ct: Path = typer.Argument(..., help="A CT: DICOM series folder or NIfTI volume (HU)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the masks."),
    series: str | None = typer.Option(None, "--series", help="Series UID or number."),
    seg: bool = typer.Option(False, "--seg", help="Also write a DICOM SEG (DICOM input only)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the volumes as JSON."),
) -> None:
    from shigu import __version__
    from shigu.cli._common import check_writable_folder
    from shigu.io.atomic import atomic_write
    from shigu.solutions.medical import write_nifti
    from shigu.solutions.medical.baseline import MASK_NAMES, ct_masks
    from shigu.solutions.medical.volume import Volume

    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file", "give a folder for the masks")
    check_writable_folder(out)
    check_output_path(json_path, (".json",), "--json")
    volume = _load(ct, series)
    modality = str(volume.meta.get("Modality", "CT"))
    if modality not in ("CT", ""):
        raise InputError(
            f"{ct} is {modality}, not CT", "Hounsfield thresholds only mean something on CT"
        )
    if seg and not volume.source_files:
        raise InputError(
            "--seg needs a DICOM series that was not resampled",
            "drop --seg to write NIfTI masks only",
        )
    masks = ct_masks(volume)
    out.mkdir(parents=True, exist_ok=True)
    for name in MASK_NAMES:
        mask = getattr(masks, name).astype(np.uint8)
        write_nifti(Volume(mask, volume.affine), out / f"{name}.nii.gz")
    write_nifti(Volume(masks.label_map(), volume.affine), out / "labels.nii.gz")
    if seg:
        from shigu.solutions.medical.seg_writer import write_dicom_seg

        write_dicom_seg(
            volume, {n: getattr(masks, n) for n in MASK_NAMES}, out / "masks.dcm", __version__
        )
    volumes = masks.volumes_ml()
    console.print(", ".join(f"{n} {v:,.1f} ml" for n, v in volumes.items()), highlight=False)
    console.print(f"wrote {escape(str(out))}/", highlight=False)
    if json_path:
        atomic_write(json_path, json.dumps({"volumes_ml": volumes}, indent=2).encode())


DEID_HELP = """De-identify DICOM files by the PS3.15 Annex E Basic Profile and its options.

Every DICOM file under IN is written to OUT as <series UID>/<instance UID>.dcm with the
identifying attributes of the standard's table removed, emptied or replaced, every private tag
removed, and UIDs replaced consistently (the same original UID always becomes the same new UID,
so series stay series and SEG/RTSTRUCT/SR references stay valid). Patient IDs become a keyed
pseudonym. Pixel data is untouched. OUT/deid_audit.csv lists every change (file, tag, action;
never the original values). Running it again on its own output changes nothing.

--profile is basic, optionally with options, comma separated:
  retain-dates          shift dates by a per-patient offset instead of removing them
  retain-device         keep device serial numbers and station names
  retain-institution    keep institution names and addresses
  retain-patient-chars  keep age, sex, size, weight
  retain-uids           keep the original UIDs

--key (or $SHIGU_DEID_KEY) makes pseudonyms, UIDs and date shifts repeatable across runs, so
later scans of a patient link to earlier ones; without it each run uses a fresh random key.
Burned-in annotation (BurnedInAnnotation YES, or US/SC/ES/XC/OT images) is flagged in the
audit and the summary; --mask-burned-in blacks out ultrasound outside its declared regions.

Examples:
  shigu med deid study/ --out study_deid/
  shigu med deid study/ --out shared/ --profile basic,retain-dates --key "$PROJECT_KEY"
"""


def _profile(text: str) -> tuple[str, ...]:
    from shigu.solutions.medical.deid import OPTIONS

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n != "basic" and n not in OPTIONS]
    if not names or unknown:
        raise InputError(
            f"--profile {text!r} is not a profile",
            f"give basic, optionally with {', '.join(OPTIONS)} (comma separated)",
        )
    return tuple(n for n in names if n != "basic")


@app.command("deid", help=DEID_HELP, no_args_is_help=True)
def deid_cmd(
    source: Path = typer.Argument(..., help="A DICOM file or a folder of them."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the de-identified files."),
    profile: str = typer.Option("basic", "--profile", help="basic[,option,...]; see above."),
    key: str | None = typer.Option(
        None, "--key", envvar="SHIGU_DEID_KEY", help="Secret that makes the mapping repeatable."
    ),
    mask_burned_in: bool = typer.Option(
        False, "--mask-burned-in", help="Black out ultrasound outside its regions."
    ),
) -> None:
    import os
    from collections import Counter

    from shigu.cli._common import check_writable_folder
    from shigu.solutions.medical.deid import Deidentifier, deidentify_tree

    options = _profile(profile)
    if not source.exists():
        raise InputError(f"{source} does not exist", "give a DICOM file or folder")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file", "give a folder")
    if source.is_dir() and out.resolve().is_relative_to(source.resolve()):
        raise InputError(f"--out {out} is inside {source}", "write the copies elsewhere")
    check_writable_folder(out)
    secret = key.encode() if key else os.urandom(32)
    report = deidentify_tree(source, out, Deidentifier(secret, options, mask_burned_in))
    counts = Counter(c.action for c in report.changes)
    flagged = sorted({c.file for c in report.changes if c.action == "flagged"})
    console.print(
        f"wrote {len(report.written)} file(s) to {escape(str(out))}: "
        + ", ".join(f"{n} {a}" for a, n in sorted(counts.items())),
        highlight=False,
    )
    if report.skipped:
        console.print(f"skipped {len(report.skipped)} file(s) that are not DICOM")
    if flagged:
        console_err.print(
            f"warning: {len(flagged)} file(s) may carry burned-in text (see "
            f"deid_audit.csv), e.g. {escape(flagged[0])}",
            highlight=False,
        )


VIEW_HELP = """Picture the three middle planes of a volume (axial, coronal, sagittal) as a PNG.

Radiological convention: the patient's right on the image's left, anterior (axial) or the head
(coronal, sagittal) at the top; pixels in square millimetres. --window is a preset (brain,
subdural, stroke, soft-tissue, mediastinum, liver, lung, bone), file (the DICOM's own), auto
or CENTRE,WIDTH; --overlay blends a label NIfTI, DICOM SEG or RTSTRUCT on the same grid.
`shigu serve --volumes DIR` shows the same pictures in the dashboard, with window/level by
dragging.

Examples:
  shigu med view ct_head/ --out head.png --window brain
  shigu med view ct.nii.gz --out ct.png --window lung --overlay masks/labels.nii.gz
"""


@app.command("view", help=VIEW_HELP, no_args_is_help=True)
def view_cmd(
    volume_path: Path = typer.Argument(..., help="A DICOM series folder or a NIfTI volume."),
    out: Path = typer.Option(..., "--out", "-o", help="The PNG to write."),
    window: str = typer.Option("auto", "--window", "-w", help="Preset, file, auto or C,W."),
    overlay: Path | None = typer.Option(None, "--overlay", help="Labels to blend in."),
    series: str | None = typer.Option(None, "--series", help="Series UID or number."),
) -> None:
    import cv2

    from shigu.io.atomic import atomic_write
    from shigu.solutions.medical.labels import on_grid, read_labels
    from shigu.solutions.medical.render import montage, parse_window

    check_output_path(out, (".png",), "--out")
    volume = _load(volume_path, series)
    centre_width = parse_window(window, volume)
    labels = None
    if overlay is not None:
        masks = read_labels(overlay, volume_path if volume_path.is_dir() else None)
        labels = on_grid(masks, volume.affine, volume.data.shape).label_map()
    picture = montage(volume, centre_width, labels)
    ok, png = cv2.imencode(".png", picture)
    if not ok:
        raise InputError(f"could not encode {out}")
    atomic_write(out, png.tobytes())
    console.print(
        f"wrote {escape(str(out))} ({picture.shape[1]}x{picture.shape[0]}, window "
        f"{centre_width[0]:g}/{centre_width[1]:g})",
        highlight=False,
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="med")
