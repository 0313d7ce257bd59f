"""`shigu arena` as a user runs it: a challenge from its file to a scored leaderboard, and
every mistake answered in one line."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.arena.conftest import first_frames
from tests.arena.submissions import mot_zip
from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration
ENV = {"SHIGU_PASSWORD": "correct horse battery"}
SEQ = "MOT17-09-FRCNN"


@pytest.fixture
def challenge(tmp_path: Path, data_dir: Path) -> Path:
    first_frames(tmp_path / "gt", data_dir / "mot" / "MOT17", [SEQ])
    path = tmp_path / "cup.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "id": "cli-cup",
                "tracks": [{"id": "tracking", "task": "mot", "metric": "HOTA"}],
                "phases": [
                    {
                        "id": "heat",
                        "start": "2026-01-01T00:00:00Z",
                        "end": "2099-01-01T00:00:00Z",
                        "tracks": {"tracking": {"ground_truth": "gt", "public": [SEQ]}},
                    }
                ],
            }
        )
    )
    return path


def test_a_challenge_from_the_command_line(tmp_path: Path, challenge: Path) -> None:
    arena = tmp_path / "arena"
    checked = run_cli("arena", "check", challenge)
    assert checked.returncode == 0 and "valid" in checked.stdout, checked.stderr
    assert run_cli("arena", "init", arena, "--challenge", challenge).returncode == 0
    assert_one_line_error(run_cli("arena", "init", arena, "--challenge", challenge), "already")
    for name in ("ann", "bob"):
        done = run_cli("arena", "person", name, "-c", arena, env=ENV)
        assert done.returncode == 0, done.stderr
    made = run_cli("arena", "team", "alpha", "-c", arena, "--captain", "ann", "--member", "bob")
    assert made.returncode == 0, made.stderr

    good = mot_zip(challenge.parent / "gt", [SEQ], tmp_path / "good.zip", "good")
    sub = run_cli("arena", "submit", good, "-c", arena, "--phase", "heat", "--team", "alpha",
                  "--wait")  # fmt: skip
    assert sub.returncode == 0 and "scored" in sub.stdout and "HOTA" in sub.stdout, sub.stderr
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr(f"{SEQ}.txt", "frame,id,x,y,w,h\n")
    invalid = run_cli("arena", "submit", bad, "-c", arena, "--phase", "heat", "--as", "bob",
                      "--wait")  # fmt: skip
    assert (
        invalid.returncode == 1 and "invalid" in invalid.stdout and "not numbers" in invalid.stdout
    )
    assert "Traceback" not in invalid.stderr

    board = run_cli("arena", "leaderboard", "-c", arena, "--track", "tracking", "--phase", "heat",
                    "--format", "csv")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(board.stdout)))
    assert [r["entrant"] for r in rows] == ["alpha"] and float(rows[0]["score"]) > 80
    status = run_cli("arena", "status", "-c", arena)
    assert "scored" in status.stdout and "invalid" in status.stdout
    audit = run_cli("arena", "audit", "-c", arena)
    assert "submit" in audit.stdout and "score" in audit.stdout

    picked = run_cli("arena", "finalists", "-c", arena, "--top", "1", "--phase", "heat")
    assert picked.returncode == 0 and "1 finalists: alpha" in picked.stdout, picked.stderr

    hidden = run_cli("arena", "leaderboard", "-c", arena, "--track", "tracking", "--phase",
                     "heat", "--private", "--as", "bob")  # fmt: skip
    assert_one_line_error(hidden, "revealed when the phase ends")


def test_mistakes_get_one_line(tmp_path: Path, challenge: Path) -> None:
    arena = tmp_path / "arena"
    assert_one_line_error(run_cli("arena", "status", "-c", tmp_path / "nowhere"), "not an arena")
    assert run_cli("arena", "init", arena, "--challenge", challenge).returncode == 0
    assert_one_line_error(
        run_cli("arena", "submit", challenge, "-c", arena, "--phase", "nope", "--team", "x"),
        "no phase 'nope'",
    )
    assert_one_line_error(
        run_cli("arena", "submit", challenge, "-c", arena, "--phase", "heat", "--team", "x"),
        "no team 'x'",
    )
    assert_one_line_error(
        run_cli("arena", "person", "eve", "-c", arena, env={"SHIGU_PASSWORD": "short"}), "short"
    )
    assert_one_line_error(
        run_cli("arena", "person", "eve", "-c", arena, "--role", "king", env=ENV), "unknown role"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\ntracks: []\nphases: []\n")
    assert_one_line_error(run_cli("arena", "check", broken), "tracks")
    assert_one_line_error(run_cli("arena", "check", tmp_path / "missing.yaml"), "not found")
    assert_one_line_error(
        run_cli(
            "arena",
            "leaderboard",
            "-c",
            arena,
            "--track",
            "tracking",
            "--phase",
            "heat",
            "--format",
            "xml",
        ),
        "unknown format",
    )
