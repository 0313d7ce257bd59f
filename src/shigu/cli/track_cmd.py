"""``shigu track``: detect + track a video, or track MOTChallenge public detections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from shigu.cli._common import (
    check_output_path,
    console,
    default_outputs,
    device_option,
    max_frames_option,
    overlap_option,
    progress_bar,
    progress_option,
    require_images,
    save_option,
    slice_config,
    slice_full_option,
    slice_merge_option,
    slice_option,
    split_out,
    stride_option,
)
from shigu.cli.detect import SOURCE_HELP, print_report
from shigu.core.errors import InputError
from shigu.detect.factory import load_detector
from shigu.detect.stream import throughput_plan
from shigu.sources.open import open_source
from shigu.track.factory import DEFAULT, PRESETS, create_tracker, detector_defaults
from shigu.track.offline import (
    find_mot_sequences,
    load_mot_detections,
    run_tracker,
    write_mot_results,
)

HELP = """Track objects: detect + track a video or stream, or track MOTChallenge detections.

Video mode writes an annotated MP4 with trails (--out), a JSONL with tracker_id per detection
(--jsonl) and MOTChallenge rows (--mot-txt). MOT mode (--mot DIR) reads each sequence's
det/det.txt and seqinfo.ini under DIR and writes OUTDIR/<sequence>.txt, ready for
`shigu eval mot` or TrackEval.

Examples:

  shigu track video.mp4 --out tracked.mp4 --jsonl tracks.jsonl

  shigu track rtsp://camera/stream --classes person --cmc --jsonl live.jsonl
  shigu track DJI_0001.MP4 --srt DJI_0001.SRT --slice auto --geojson tracks.geojson

  shigu track --mot MOT17/train --out results/ --tracker bytetrack

  shigu eval mot --gt MOT17/train --results results/
"""


def track(
    source: str | None = typer.Argument(None, help=SOURCE_HELP),
    mot: Path | None = typer.Option(
        None, "--mot", help="Folder of MOTChallenge sequences (track their public detections)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Video mode: annotated MP4. MOT mode: output folder."
    ),
    jsonl: Path | None = typer.Option(None, "--jsonl", help="JSONL of tracked detections."),
    mot_txt: Path | None = typer.Option(
        None, "--mot-txt", help="MOTChallenge result file for a video."
    ),
    tracker: str = typer.Option(DEFAULT, "--tracker", "-t", help=f"One of: {', '.join(PRESETS)}."),
    model: str = typer.Option("yolox-nano", "--model", "-m", help="Detector (video mode)."),
    format: str | None = typer.Option(None, "--format", help="Decoder for a local .onnx."),
    classes: str | None = typer.Option(None, "--classes", "-c", help="e.g. person,car."),
    conf: float = typer.Option(
        0.1, "--conf", help="Detector threshold; keep it low: the tracker uses low-score boxes too."
    ),
    lost_buffer: int | None = typer.Option(
        None, "--lost-buffer", help="Frames (at 30 fps) a lost track is kept."
    ),
    track_thresh: float | None = typer.Option(
        None,
        "--track-thresh",
        min=0.0,
        max=1.0,
        help="Score for the first association (ByteTrack's high threshold; preset: 0.5, "
        "with --mot public detections 0.3).",
    ),
    new_track_thresh: float | None = typer.Option(
        None,
        "--new-track-thresh",
        min=0.0,
        max=1.0,
        help="Score an unmatched box needs to start a track (preset: 0.6, with --mot public "
        "detections 0.3). Lower it when objects the detector scores lower never get an id.",
    ),
    match_iou: float | None = typer.Option(
        None, "--match-iou", min=0.0, max=1.0, help="Minimum IoU to match a track (preset: 0.3)."
    ),
    tracker_config: Path | None = typer.Option(
        None,
        "--tracker-config",
        help="YAML of tracker settings (any of `shigu.track.TrackerConfig`'s fields), "
        "as Ultralytics' tracker YAML; options above win.",
    ),
    cmc: bool | None = typer.Option(
        None,
        "--cmc/--no-cmc",
        help="Compensate camera motion (moving cameras); on by default with flight "
        "telemetry (drones).",
    ),
    srt: Path | None = typer.Option(
        None,
        "--srt",
        help="DJI flight telemetry (.SRT beside the video) to place tracks on the map "
        "(--geojson / --kml). Without it, MISB ST 0601 KLV in the video (MPEG-TS) is used.",
    ),
    hfov: float | None = typer.Option(
        None,
        "--hfov",
        min=1.0,
        max=179.0,
        help="The camera's horizontal field of view in degrees (default: the KLV's, "
        "else 82 as most DJI wide cameras).",
    ),
    dem: Path | None = typer.Option(
        None,
        "--dem",
        help="Terrain heights (GeoTIFF or ESRI .asc in latitude/longitude) for ground "
        "points on hilly ground; default flat ground.",
    ),
    ground_alt: float | None = typer.Option(
        None,
        "--ground-alt",
        help="With KLV: the ground's height above sea level in metres (default: the KLV's "
        "frame-centre elevation).",
    ),
    geojson: Path | None = typer.Option(
        None, "--geojson", help="Tracks on the map as GeoJSON LineStrings (lon, lat)."
    ),
    kml: Path | None = typer.Option(None, "--kml", help="Tracks on the map as KML."),
    reid: str | None = typer.Option(
        None, "--reid", help="ReID model for re-identification (e.g. person-reid-0288); slower."
    ),
    stride: int = stride_option(),
    device: str = device_option(),
    max_frames: int | None = max_frames_option(),
    progress: bool = progress_option(),
    save: bool = save_option("track", "the annotated video, JSONL and MOT rows"),
    slice: str | None = slice_option(),
    overlap: float = overlap_option(),
    slice_merge: str = slice_merge_option(),
    slice_full: bool = slice_full_option(),
) -> None:
    slicing = slice_config(slice, overlap, slice_merge, slice_full)
    overrides = _tracker_overrides(
        tracker_config,
        lost_buffer=lost_buffer,
        high_thresh=track_thresh,
        new_track_thresh=new_track_thresh,
        match_iou=match_iou,
    )
    if tracker not in PRESETS and tracker != "default":
        create_tracker(tracker)  # raises the clear error
    if (source is None) == (mot is None):
        raise InputError(
            "give either a SOURCE to detect and track, or --mot DIR", "see `shigu track --help`"
        )
    if mot is not None:
        if out is None:
            raise InputError("--mot needs --out OUTDIR for the result files")
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out} exists and is not a folder")
        _track_mot(mot, out, tracker, overrides, progress)
        return
    assert source is not None
    mapping = geojson is not None or kml is not None
    if not mapping and (srt is not None or dem is not None or ground_alt is not None):
        raise InputError(
            "--srt, --dem and --ground-alt place tracks on the map: give --geojson or --kml"
        )
    check_output_path(geojson, (".geojson", ".json"), "--geojson")
    check_output_path(kml, (".kml",), "--kml")
    out, out_dir = split_out(out)
    check_output_path(out, (".mp4", ".mkv", ".mov"), "--out")
    check_output_path(jsonl, (".jsonl", ".json", ".ndjson"), "--jsonl")
    check_output_path(mot_txt, (".txt",), "--mot-txt")
    flight, terrain = None, None
    if mapping:
        from shigu.solutions.aerial.mapping import load_flight

        flight = load_flight(source, srt, ground_alt, dem is not None)
        if dem is not None:
            from shigu.solutions.aerial.dem import read_dem

            terrain = read_dem(dem)
    workers, threads = throughput_plan(device)
    detector = load_detector(
        model, format=format, device=device, conf=conf, classes=classes, threads=threads
    )
    mapper = None
    if flight is not None:
        from shigu.solutions.aerial.mapping import TrackMapper

        mapper = TrackMapper(flight, hfov, detector.labels, terrain)
    src = open_source(source, stride=stride)
    if save and out is None and out_dir is None and jsonl is None and mot_txt is None:
        chosen = default_outputs("track", source, src, with_mot=True)
        out, out_dir, jsonl = chosen.get("out"), chosen.get("out_dir"), chosen["jsonl"]
        mot_txt = chosen["mot_txt"]
        console.print(f"saving to {jsonl.parent}/ (--no-save to skip)", highlight=False)
    require_images(src, out_dir)
    trk = create_tracker(
        tracker, src.output_fps or 30.0, cmc=cmc if cmc is not None else mapping,
        reid=reid, **overrides,
    )  # fmt: skip
    from shigu.cli._video_job import run_video_job  # the pipeline only when tracking

    report = run_video_job(
        src,
        detector,
        workers=workers,
        tracker=trk,
        out=out,
        jsonl=jsonl,
        mot_txt=mot_txt,
        max_frames=max_frames,
        show_progress=progress,
        description="track",
        out_dir=out_dir,
        slicing=slicing,
        on_frame=mapper,
    )
    if mapper is not None:
        report.outputs.update(mapper.write(geojson, kml))
    print_report(report, "track")
    if report.interrupted:
        console.print("interrupted: the outputs above hold the frames done so far")
        raise typer.Exit(130)
    if report.truncated is not None:
        raise report.truncated


def _tracker_overrides(path: Path | None, **options: Any) -> dict[str, Any]:
    """Tracker settings from ``--tracker-config`` then the command-line options."""
    overrides: dict[str, Any] = {}
    if path is not None:
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"cannot read --tracker-config {path} ({exc})", "") from None
        if not isinstance(data, dict):
            raise InputError(
                f"--tracker-config {path} is not a mapping of settings",
                "write e.g. `new_track_thresh: 0.4` one per line",
            )
        overrides.update(data)
    overrides.update({k: v for k, v in options.items() if v is not None})
    return overrides


def _track_mot(root: Path, out: Path, name: str, overrides: dict[str, Any], progress: bool) -> None:
    seqs = find_mot_sequences(root)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title=f"tracker {name}: MOTChallenge results in {out}", title_justify="left")
    for col in ("sequence", "frames", "tracks", "rows", "update fps"):
        table.add_column(col, justify="right" if col != "sequence" else "left")
    frames = 0
    seconds = 0.0
    with progress_bar("track", len(seqs), progress) as bar:
        for seq_dir in seqs:
            seq = load_mot_detections(seq_dir)
            settings = {**detector_defaults("public", name), **overrides}
            run = run_tracker(create_tracker(name, seq.info.frame_rate, **settings), seq)
            rows = write_mot_results(out / f"{seq.info.name}.txt", run.tracked)
            ids = {
                int(i)
                for d in run.tracked
                if d.tracker_id is not None
                for i in d.tracker_id.tolist()
            }
            table.add_row(
                seq.info.name, str(len(run.tracked)), str(len(ids)), str(rows), f"{run.fps:,.0f}"
            )
            frames += len(run.tracked)
            seconds += run.update_seconds
            bar.advance(1)
    console.print(table)
    console.print(
        f"{len(seqs)} sequences, {frames} frames, tracker update "
        f"{frames / seconds if seconds else 0:,.0f} fps",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("track", help=HELP)(track)
