"""Known faces: alignment and matching, then `shigu faces` enrol/list/delete as a user runs it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from shigu.solutions.living.faces import TEMPLATE, align, best_match, gallery_of
from tests.cli import assert_one_line_error, run_cli
from tests.helpers import face_pictures


def test_alignment_puts_the_landmarks_on_the_template() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (300, 300, 3), dtype=np.uint8)
    angle, scale, shift = np.deg2rad(20), 1.7, np.array([80.0, 60.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = TEMPLATE @ rot.T + shift  # where a rotated, scaled face has them
    for p in landmarks:  # mark each landmark with a bright dot
        cv2.circle(image, (round(p[0]), round(p[1])), 5, (255, 255, 255), -1)
    crop = align(image, landmarks)
    assert crop.shape == (112, 112, 3)
    for p in TEMPLATE:
        x, y = round(p[0]), round(p[1])
        assert crop[y - 1 : y + 2, x - 1 : x + 2].min() > 200  # the dot landed on the template


def test_gallery_means_and_threshold() -> None:
    a, b = np.eye(128, dtype=np.float32)[0], np.eye(128, dtype=np.float32)[1]
    names, gallery = gallery_of([("ann", a.tolist()), ("bo", b.tolist()), ("ann", a.tolist())])
    assert names == ["ann", "bo"] and np.allclose(np.linalg.norm(gallery, axis=1), 1)
    probe = (0.9 * a + 0.1 * b) / np.linalg.norm(0.9 * a + 0.1 * b)
    assert best_match(probe, names, gallery, 0.72).name == "ann"
    assert best_match(probe, names, gallery, 0.999).name is None
    assert best_match(probe, [], np.zeros((0, 128), np.float32), 0.5).name is None


@pytest.mark.slow
def test_shigu_faces_enrol_list_delete(data_dir: Path, tmp_path: Path) -> None:
    pictures = face_pictures(data_dir, tmp_path / "pics")
    assert len(pictures) >= 5
    db = f"sqlite:///{tmp_path}/faces.db"
    proc = run_cli("faces", "enrol", "alice", *pictures[:4], "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert "enrolled alice: 4 face(s) added, 4 stored" in proc.stdout
    listed = run_cli("faces", "list", "--db", db)
    assert listed.returncode == 0 and listed.stdout.split()[:3] == ["alice", "4", "embeddings,"]
    # a picture without a face stops the enrolment before anything is stored
    bear = data_dir / "images" / "coco_val2017" / "000000000285.jpg"
    assert_one_line_error(run_cli("faces", "enrol", "bob", pictures[4], bear, "--db", db),
                          "no face found in 000000000285.jpg")  # fmt: skip
    assert "bob" not in run_cli("faces", "list", "--db", db).stdout
    assert_one_line_error(run_cli("faces", "enrol", "bob", tmp_path / "nope.jpg", "--db", db),
                          "picture not found")  # fmt: skip
    gone = run_cli("faces", "delete", "alice", "--db", db)
    assert gone.returncode == 0 and "deleted 4 face embedding(s) of alice" in gone.stdout
    assert "0 people enrolled" in run_cli("faces", "list", "--db", db).stdout
    assert_one_line_error(run_cli("faces", "delete", "alice", "--db", db), "nobody called")
