"""Arena scoring throughput and upload-to-leaderboard latency on a MOT17 tracking track.

The track: the four MOT17 sequences of the shared data with their full ground truth
(02, 04, 05, 09: 3,012 frames, split 2 public / 2 private). Submissions: the ground truth with
jittered boxes, one per team. Measured, on this machine's 2 cores:

1. Throughput: N queued submissions scored by the sandboxed pool (``--workers`` processes),
   submissions per minute; beside it the same scoring with TrackEval called in-process, back
   to back, so the sandbox's own cost (a new Python per submission, imports, unpacking,
   validation) shows as a ratio.
2. Latency: a submission uploaded through the HTTP API (``shigu arena serve``'s app and its
   background scorer) until it shows on the public leaderboard; median over runs.

Usage: python benchmarks/arena.py [--submissions 8] [--workers 2] [--latency-runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from _common import DATA, ROOT, machine

sys.path.insert(0, str(ROOT))
PASSWORD = "correct horse battery"
SEQS = ["MOT17-02-FRCNN", "MOT17-04-FRCNN", "MOT17-05-FRCNN", "MOT17-09-FRCNN"]


def make_arena(tmp: Path, teams: int) -> object:
    from shigu.arena.store import SYSTEM, Arena

    gt = tmp / "gt"
    gt.mkdir()
    for seq in SEQS:
        (gt / seq).symlink_to(DATA / "mot" / "MOT17" / seq)
    challenge = {
        "id": "bench",
        "tracks": [{"id": "tracking", "task": "mot", "metric": "HOTA"}],
        "phases": [{"id": "heat", "start": "2026-01-01T00:00:00Z", "end": "2099-01-01T00:00:00Z",
                    "limits": {"per_day": 1000, "total": 1000},
                    "tracks": {"tracking": {"ground_truth": str(gt)}}}],
    }  # fmt: skip
    (tmp / "c.yaml").write_text(yaml.safe_dump(challenge))
    arena = Arena.init(tmp / "arena", tmp / "c.yaml")
    for i in range(teams):
        arena.add_person(f"p{i}", PASSWORD, "participant", by=SYSTEM)
        arena.create_team(f"t{i}", f"t{i}", arena.actor(f"p{i}"))
    return arena


def in_process(gt: Path, upload: Path, public: list[str], private: list[str]) -> float:
    """The same work without the sandbox: unpack, validate, score both splits."""
    from shigu.arena import tasks

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        sub = tasks.unpack(upload, Path(work) / "s", 200 * 1024**2)
        tasks.validate("mot", gt, sub, public + private)
        tasks.score("mot", gt, sub, public)
        tasks.score("mot", gt, sub, private)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-runs", type=int, default=5)
    args = parser.parse_args()
    from fastapi.testclient import TestClient
    from tests.arena.submissions import mot_zip

    from shigu.arena.web import ScoringLoop, create_arena_app

    print(machine())
    with tempfile.TemporaryDirectory(prefix="shigu-arena-bench-") as tmpdir:
        tmp = Path(tmpdir)
        arena = make_arena(tmp, args.submissions + args.latency_runs)
        uploads = [
            mot_zip(tmp / "gt", SEQS, tmp / f"s{i}.zip", "good", seed=i)
            for i in range(args.submissions + args.latency_runs)
        ]
        split = arena.splits["heat"]["tracking"]  # type: ignore[attr-defined]
        for i in range(args.submissions):
            arena.submit(arena.actor(f"p{i}"), "tracking", "heat", uploads[i])  # type: ignore[attr-defined]
        started = time.perf_counter()
        done = arena.score_pending(args.workers)  # type: ignore[attr-defined]
        pool_s = time.perf_counter() - started
        assert set(done.values()) == {"scored"}, done
        bare = [
            in_process(tmp / "gt", uploads[i], split["public"], split["private"])
            for i in range(min(args.submissions, 4))
        ]
        per_min = len(done) / pool_s * 60
        bare_per_min = 60 / statistics.median(bare)
        print(
            f"throughput: {len(done)} MOT17 submissions (4 sequences, 3,012 frames each) in "
            f"{pool_s:.1f} s with {args.workers} sandboxed workers: {per_min:.1f} per minute"
        )
        print(
            f"  in-process TrackEval, one at a time: median {statistics.median(bare):.2f} s per "
            f"submission ({bare_per_min:.1f} per minute on one core); pool / bare = "
            f"{per_min / bare_per_min:.2f}x"
        )

        client = TestClient(create_arena_app(arena))  # type: ignore[arg-type]
        loop = ScoringLoop(arena, workers=args.workers, interval=0.05).start()  # type: ignore[arg-type]
        latencies = []
        try:
            for k in range(args.latency_runs):
                i = args.submissions + k
                token = client.post("/api/login", json={"name": f"p{i}", "password": PASSWORD})
                headers = {"Authorization": f"Bearer {token.json()['token']}"}
                t0 = time.perf_counter()
                sent = client.post(
                    "/api/submissions",
                    data={"track": "tracking", "phase": "heat"},
                    files={"file": ("r.zip", uploads[i].read_bytes())},
                    headers=headers,
                )
                assert sent.status_code == 201, sent.text
                while True:
                    rows = client.get("/api/leaderboard/tracking/heat").json()["rows"]
                    if any(r["entrant"] == f"t{i}" for r in rows):
                        break
                    time.sleep(0.02)
                latencies.append(time.perf_counter() - t0)
        finally:
            loop.stop()
        typical = statistics.median(latencies)
        print(
            f"latency upload -> on the public leaderboard: median {typical:.2f} s"
            f" (min {min(latencies):.2f}, max {max(latencies):.2f}; {len(latencies)} runs, "
            f"idle pool), {datetime.now(UTC):%Y-%m-%d}"
        )


if __name__ == "__main__":
    main()
