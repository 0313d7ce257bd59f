"""Fall detection through the pipeline: GMDCSA24 falls and daily living, and scenes without falls.

Each clip runs through `shigu.pipeline` as `shigu run` would (yolox-nano, ByteTrack, MoveNet
as a secondary model, one zone over the whole picture with the `fall` rule at its defaults).
Per fall clip: detected or not and the delay of the decision (media time) after the labelled
fall end (target: every fall within 3 s); per daily-living clip and on PETS2009 and the MOT17
sequences (people walking and standing): the number of fall alarms (target: none).

`--cv` also picks `lying_ratio` leave-one-clip-out over the GMDCSA24 clips (the value chosen on
the other clips, scored on the held-out one) and prints the per-clip table of that.

Usage: python benchmarks/falls.py [--cv] [--no-scenes] [--max-frames N]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path
from typing import Any

from _common import DATA, machine
from shigu.core.events import Event
from shigu.pipeline import Pipeline, parse_config
from shigu.sources import open_source

FALLS = DATA / "fall" / "gmdcsa24"
PETS_VIDEO = DATA / "video" / "pets2009_s2l1_vtest_480x360.avi"
# sequences with public detections and every frame's boxes (the shared MOT17 folders hold
# only a few of their images, so these run on their detections, without pictures or pose)
PUBLIC = [
    *sorted((DATA / "mot" / "MOT17").glob("MOT17-*")),
    *(DATA / "mot" / "MOT15" / n for n in ("PETS09-S2L1", "TUD-Campus", "ETH-Sunnyday")),
]
RATIOS = (0.5, 0.55, 0.6, 0.65)


def labels() -> list[dict[str, str]]:
    with open(FALLS / "labels_derived.csv") as fh:
        return list(csv.DictReader(fh))


def run_clip(uri: str, tmp: Path, rule: dict[str, Any], max_frames: int | None) -> list[Event]:
    """Fall events of one clip through the whole pipeline."""
    src = open_source(uri)
    w, h = src.info.width, src.info.height
    src.close()
    cfg = parse_config({
        "sources": [{"id": "room", "uri": uri}],
        "pipeline": {"detector": {"classes": ["person"]},
                     "secondary": [{"model": "movenet-lightning"}]},
        "zones": [{"id": "floor", "source": "room",
                   "polygon": [[0, 0], [w, 0], [w, h], [0, h]],
                   "rules": [{"type": "fall", **rule}]}],
        "store": {"url": f"sqlite:///{tmp}/falls.db", "media_dir": str(tmp / "media")},
        "media": {"snapshots": False},
    })  # fmt: skip
    events: list[Event] = []

    def keep(item: object) -> None:
        if isinstance(item, Event) and item.type == "fall":
            events.append(item)

    Pipeline(cfg, max_frames=max_frames, on_item=keep).run()
    return events


def decided_at(ev: Event, fps: float) -> float:
    """Media time the event was decided: its frame's time."""
    return (ev.frame_index or 0) / fps


def clip_rows(rule: dict[str, Any], tmp: Path) -> list[dict[str, Any]]:
    rows = []
    for lab in labels():
        events = run_clip(str(DATA / "fall" / lab["clip"]), tmp, rule, None)
        fps = float(lab["fps"])
        row: dict[str, Any] = {"clip": lab["clip"], "kind": lab["kind"], "alarms": len(events)}
        if lab["kind"] == "Fall":
            end = float(lab["fall_end_s"])
            first = events[0] if events else None
            row["detected"] = first is not None
            row["delay"] = decided_at(first, fps) - end if first is not None else None
            row["start"] = first.start if first is not None else None
            row["ok"] = first is not None and row["delay"] <= 3.0
        else:
            row["ok"] = not events
        rows.append(row)
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(f"{'clip':<38}{'kind':<6}{'alarms':>7}{'detected':>10}{'start s':>9}{'delay s':>9}  ok")
    for r in rows:
        det = "" if r["kind"] != "Fall" else ("yes" if r["detected"] else "NO")
        start = f"{r['start']:.2f}" if r.get("start") is not None else ""
        delay = f"{r['delay']:+.2f}" if r.get("delay") is not None else ""
        print(f"{r['clip']:<38}{r['kind']:<6}{r['alarms']:>7}{det:>10}{start:>9}{delay:>9}  "
              f"{'yes' if r['ok'] else 'NO'}")  # fmt: skip


def cross_validate(tmp: Path) -> None:
    """Leave one clip out: choose lying_ratio on the other clips (most clips right, ties to
    the middle of the tied values), score the held-out clip with it."""
    table = {ratio: clip_rows({"lying_ratio": ratio}, tmp) for ratio in RATIOS}
    clips = [r["clip"] for r in table[RATIOS[0]]]
    print(
        "\nclips right per lying_ratio: "
        + ", ".join(
            f"{ratio}: {sum(r['ok'] for r in rows)}/{len(rows)}" for ratio, rows in table.items()
        )
    )
    print("leave-one-clip-out choice of lying_ratio")
    held: list[dict[str, Any]] = []
    for i, clip in enumerate(clips):
        right = {ratio: sum(r["ok"] for j, r in enumerate(rows) if j != i)
                 for ratio, rows in table.items()}  # fmt: skip
        best = max(right.values())
        tied = [ratio for ratio in RATIOS if right[ratio] == best]
        chosen = tied[len(tied) // 2]
        row = dict(table[chosen][i])
        row["clip"] = f"{clip} (r={chosen})"
        held.append(row)
    print_rows(held)
    print(f"held-out clips right: {sum(r['ok'] for r in held)} of {len(held)}")


def public_detections_falls(seq: Path) -> tuple[int, int]:
    """Fall events on a sequence's public detections (ByteTrack, the fall rule at its
    defaults over the whole picture, no pose): (frames, alarms)."""
    from shigu.analytics import SceneAnalytics, ZoneSpec
    from shigu.track import create_tracker
    from shigu.track.offline import load_mot_detections

    dets = load_mot_detections(seq)
    info = dets.info
    w, h = info.width, info.height
    scene = SceneAnalytics(info.name, ["person"],
                           [ZoneSpec("all", [(0, 0), (w, 0), (w, h), (0, h)], [{"type": "fall"}])],
                           frame_size=(w, h))  # fmt: skip
    tracker = create_tracker("bytetrack", info.frame_rate)
    alarms = 0
    for i, frame in enumerate(dets.frames):
        out = scene.update(i / info.frame_rate, i, tracker.update(frame))
        alarms += sum(isinstance(e, Event) for e in out)
    return len(dets.frames), alarms


def scenes(max_frames: int | None, tmp: Path) -> None:
    print("\nscenes without falls (people walking and standing)")
    events = run_clip(str(PETS_VIDEO), tmp, {}, max_frames)
    print(f"  {'PETS2009 S2L1 video, full pipeline with MoveNet':<52} fall alarms: {len(events)}")
    for seq in PUBLIC:
        frames, alarms = public_detections_falls(seq)
        print(f"  {seq.name + f' public detections, {frames} frames':<52} fall alarms: {alarms}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cv", action="store_true", help="leave-one-clip-out choice of lying_ratio")
    ap.add_argument("--no-scenes", action="store_true", help="skip PETS and MOT17")
    ap.add_argument("--max-frames", type=int, default=None, help="frames per scene at most")
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        rows = clip_rows({}, Path(tmp))
        print("defaults (lying_ratio 0.6, descent 1.0 s, min_lying 2 s)")
        print_rows(rows)
        if args.cv:
            cross_validate(Path(tmp))
        if not args.no_scenes:
            scenes(args.max_frames, Path(tmp))


if __name__ == "__main__":
    main()
