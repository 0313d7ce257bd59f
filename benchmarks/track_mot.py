"""Shigu's trackers vs Roboflow `trackers` on MOT17 public detections, and PETS end to end.

Part 1, in one process on identical inputs: ByteTrack/OC-SORT/SORT/BoT-SORT from the reference
package (its defaults) and Shigu's presets, on the public FRCNN detections of every sequence
in ../shared/data/mot/MOT17 (full sequences). HOTA, MOTA, IDF1 and ID switches by TrackEval;
tracker-update throughput (only `update` calls timed) in --repeats rounds, each running every
tracker back to back; ratios are taken within a round and their median is reported.

Part 2, end to end on the PETS2009 S2L1 video with YOLOX-nano detections (threshold 0.1, the
same boxes for every tracker), scored against MOT15 ground truth scaled by 0.625.

`--cv`: leave-one-sequence-out over every shared sequence with public detections (MOT17-02/04/
05/09 FRCNN, MOT15 PETS09-S2L1, TUD-Campus, ETH-Sunnyday ACF with scores mapped to 0..1): for
each held-out sequence the Shigu setting (preset, thresholds, lost buffer) with the best mean
HOTA on the other six is scored on it, next to the four reference trackers at their defaults
on identical inputs; per sequence and the mean over sequences, by TrackEval.

Usage: python benchmarks/track_mot.py [--repeats 5] [--skip-pets] [--reid] [--cv]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _common import DATA, machine
from shigu.detect import load_detector
from shigu.detect.stream import detect_stream, throughput_plan
from shigu.eval.mot import evaluate_mot
from shigu.eval.reference_trackers import ReferenceTracker
from shigu.sources import SeqInfo, open_source
from shigu.track import create_tracker
from shigu.track.factory import detector_defaults
from shigu.track.offline import (
    SequenceDetections,
    load_mot_detections,
    run_tracker,
    write_mot_results,
)

MOT17 = DATA / "mot" / "MOT17"
PETS_VIDEO = DATA / "video" / "pets2009_s2l1_vtest_480x360.avi"
PETS_GT = DATA / "mot" / "MOT15"


def score(
    make, seqs: list[SequenceDetections], gt: Path, repeats: int, gt_scale: float = 1.0, frames=None
) -> dict[str, float]:
    fps_runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(repeats):
            n, spent = 0, 0.0
            for seq in seqs:
                tracker = make(seq.info)
                if frames is None:
                    run = run_tracker(tracker, seq)
                    tracked, seconds = run.tracked, run.update_seconds
                else:
                    import time

                    tracker.reset()
                    tracked, seconds = [], 0.0
                    for image, dets in zip(frames, seq.frames, strict=True):
                        started = time.perf_counter()
                        tracked.append(tracker.update(dets, image))
                        seconds += time.perf_counter() - started
                n += len(tracked)
                spent += seconds
                if rep == 0:
                    write_mot_results(Path(tmp) / f"{seq.info.name}.txt", tracked)
            fps_runs.append(n / spent)
        metrics = evaluate_mot(
            gt, tmp, sequences=[s.info.name for s in seqs], gt_scale=gt_scale
        ).combined
    return {**metrics, "fps": statistics.median(fps_runs)}


def update_fps(make, seqs: list[SequenceDetections]) -> float:
    """Frames per second of ``update`` calls alone over every sequence."""
    n, spent = 0, 0.0
    for seq in seqs:
        run = run_tracker(make(seq.info), seq)
        n += len(run.tracked)
        spent += run.update_seconds
    return n / spent


def interleaved_fps(makers: dict, seqs: list[SequenceDetections], rounds: int) -> dict:
    """Each round runs every tracker once, back to back, in an order rotated per round, so a
    slow spell of the machine hits all of them and ratios are taken within a round."""
    names = list(makers)
    out: dict[str, list[float]] = {name: [] for name in names}
    for k in range(rounds):
        shift = k % len(names)
        for name in names[shift:] + names[:shift]:
            out[name].append(update_fps(makers[name], seqs))
    return out


def table(title: str, rows: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(
        f"{'tracker':<26}{'HOTA':>7}{'DetA':>7}{'AssA':>7}{'MOTA':>7}{'IDF1':>7}{'IDSW':>6}"
        f"{'update fps':>12}"
    )
    for name, m in rows.items():
        print(
            f"{name:<26}{m['HOTA']:7.1f}{m['DetA']:7.1f}{m['AssA']:7.1f}{m['MOTA']:7.1f}"
            f"{m['IDF1']:7.1f}{m['IDSW']:6.0f}{m['fps']:12,.0f}"
        )


MOT15 = DATA / "mot" / "MOT15"
CV_MOT15 = ("PETS09-S2L1", "TUD-Campus", "ETH-Sunnyday")


def cv_candidates() -> dict[str, tuple[str, dict[str, float]]]:
    """The Shigu settings the cross-validation chooses among: preset, new-track and high
    thresholds, lost buffer in seconds (frames at 30 fps)."""
    out: dict[str, tuple[str, dict[str, float]]] = {}
    for preset in ("bytetrack", "ocsort"):
        for new in (0.3, 0.4, 0.5, 0.6, 0.7):
            for seconds in (1, 2, 3):
                high = min(0.5, new)
                name = f"{preset} new {new} high {high} buffer {seconds} s"
                out[name] = (preset, {"new_track_thresh": new, "high_thresh": high,
                                      "lost_buffer": 30 * seconds})  # fmt: skip
    return out


def per_sequence_hota(
    make, seqs: list[SequenceDetections], gt: dict[str, Path]
) -> dict[str, float]:
    """HOTA of each sequence (TrackEval), tracked by ``make(info)``."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seq in seqs:
            tracker = make(seq.info)
            write_mot_results(Path(tmp) / f"{seq.info.name}.txt", run_tracker(tracker, seq).tracked)
        for root in sorted(set(gt.values())):
            names = [s.info.name for s in seqs if gt[s.info.name] == root]
            result = evaluate_mot(root, tmp, sequences=names)
            out.update({n: result.metrics[n]["HOTA"] for n in names})
    return out


def cross_validate() -> None:
    seqs = [load_mot_detections(p) for p in sorted(MOT17.iterdir()) if p.is_dir()]
    seqs += [load_mot_detections(MOT15 / n) for n in CV_MOT15]
    gt = {s.info.name: (MOT17 if s.info.name.startswith("MOT17") else MOT15) for s in seqs}
    names = [s.info.name for s in seqs]
    print(f"leave-one-sequence-out over {len(seqs)} sequences, "
          f"{sum(len(s.frames) for s in seqs)} frames")  # fmt: skip
    refs = {ref: per_sequence_hota(lambda i, r=ref: ReferenceTracker(r, i.frame_rate), seqs, gt)
            for ref in ("bytetrack", "ocsort", "sort", "botsort")}  # fmt: skip
    grid = {name: per_sequence_hota(lambda i, p=p, kw=kw: create_tracker(p, i.frame_rate, **kw),
                                    seqs, gt)
            for name, (p, kw) in cv_candidates().items()}  # fmt: skip
    default = per_sequence_hota(lambda i: create_tracker("bytetrack", i.frame_rate), seqs, gt)
    held: dict[str, tuple[str, float]] = {}
    for seq in names:
        others = [n for n in names if n != seq]
        chosen = max(grid, key=lambda g: statistics.mean(grid[g][n] for n in others))
        held[seq] = (chosen, grid[chosen][seq])
    header = "".join(f"{'t.' + r:>12}" for r in refs)
    print(f"\n{'sequence':<16}{'CV choice':>9}{'default':>9}{header}  chosen on the others")
    for seq in names:
        chosen, hota = held[seq]
        print(f"{seq:<16}{hota:9.1f}{default[seq]:9.1f}"
              + "".join(f"{refs[r][seq]:12.1f}" for r in refs) + f"  {chosen}")  # fmt: skip
    mean_cv = statistics.mean(h for _, h in held.values())
    mean_default = statistics.mean(default.values())
    means = {r: statistics.mean(v.values()) for r, v in refs.items()}
    best = max(means, key=means.__getitem__)
    print(f"{'mean':<16}{mean_cv:9.1f}{mean_default:9.1f}"
          + "".join(f"{means[r]:12.1f}" for r in refs))  # fmt: skip
    print(
        f"\nheld-out mean HOTA: CV choice {mean_cv - means[best]:+.1f}, shipped default "
        f"{mean_default - means[best]:+.1f} vs the best reference ({best}; target >= +1.0)"
    )
    wins = {g: statistics.mean(v.values()) for g, v in grid.items()}
    top = sorted(wins, key=wins.__getitem__, reverse=True)[:5]
    print(
        "best settings on all seven (in-sample, for reading only): "
        + "; ".join(f"{g} {wins[g]:.1f}" for g in top)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-pets", action="store_true")
    parser.add_argument("--reid", action="store_true", help="also Shigu ByteTrack + ReID on PETS")
    parser.add_argument("--cv", action="store_true", help="leave-one-sequence-out (see above)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if args.cv:
        cross_validate()
        return

    seqs = [load_mot_detections(p) for p in sorted(MOT17.iterdir()) if p.is_dir()]
    print(
        f"MOT17: {len(seqs)} sequences, {sum(len(s.frames) for s in seqs)} frames, public "
        "FRCNN detections"
    )
    public = detector_defaults("public", "bytetrack")
    makers = {f"trackers {ref}": (lambda i, r=ref: ReferenceTracker(r, i.frame_rate))
              for ref in ("bytetrack", "ocsort", "sort", "botsort")}  # fmt: skip
    for preset in ("bytetrack", "ocsort", "sort"):
        makers[f"shigu {preset}"] = lambda i, p=preset: create_tracker(p, i.frame_rate)
    makers["shigu bytetrack, --mot default"] = lambda i: create_tracker(
        "bytetrack", i.frame_rate, **public
    )
    rows = {name: score(make, seqs, MOT17, 1) for name, make in makers.items()}
    runs = interleaved_fps(makers, seqs, args.repeats)
    for name, fps in runs.items():
        rows[name]["fps"] = statistics.median(fps)
    table(f"MOT17 public detections (update fps: median of {args.repeats} rounds)", rows)
    refs = [k for k in rows if k.startswith("trackers")]
    best_hota = max(rows[k]["HOTA"] for k in refs)
    for name in ("shigu bytetrack", "shigu bytetrack, --mot default"):
        ratios = [ours / max(runs[r][k] for r in refs) for k, ours in enumerate(runs[name])]
        print(f"\n{name} vs best reference HOTA: {rows[name]['HOTA'] - best_hota:+.1f} points "
              f"(target >= +1.0); update fps vs the fastest reference of the same round: "
              f"median {statistics.median(ratios):.2f}x, rounds "
              + ", ".join(f"{x:.2f}" for x in ratios) + " (target >= 3x)")  # fmt: skip

    if args.skip_pets:
        return
    workers, threads = throughput_plan()
    detector = load_detector("yolox-nano", conf=0.1, classes="person", threads=threads)
    frames, dets = [], []
    for frame, d in detect_stream(open_source(PETS_VIDEO), detector, workers=workers):
        frames.append(frame.image)
        dets.append(d)
    pets = [SequenceDetections(SeqInfo("PETS09-S2L1", 10.0, len(dets), 480, 360), dets)]
    prow: dict[str, dict[str, float]] = {}
    prow["trackers bytetrack"] = score(
        lambda i: ReferenceTracker("bytetrack", 10.0), pets, PETS_GT, 1, 0.625
    )
    prow["trackers botsort"] = score(
        lambda i: ReferenceTracker("botsort", 10.0), pets, PETS_GT, 1, 0.625
    )
    prow["shigu bytetrack"] = score(
        lambda i: create_tracker("bytetrack", 10.0), pets, PETS_GT, 1, 0.625
    )
    if args.reid:
        prow["shigu bytetrack + reid"] = score(
            lambda i: create_tracker("bytetrack", 10.0, reid="person-reid-0288"),
            pets,
            PETS_GT,
            1,
            0.625,
            frames=frames,
        )
    table("PETS2009 S2L1 end to end, YOLOX-nano detections (HOTA target >= 50)", prow)


if __name__ == "__main__":
    main()
