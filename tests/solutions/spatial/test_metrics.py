import json

import numpy as np
import pytest

from shigu.core.errors import InputError
from shigu.solutions.spatial.metrics import evaluate_poses, read_poses, registration_errors
from shigu.solutions.spatial.transforms import random_pose


def _log(pairs):
    lines = []
    for (i, j), t in pairs.items():
        lines.append(f"{i}\t{j}\t10")
        lines += [" ".join(f"{v:.10f}" for v in row) for row in t]
    return "\n".join(lines) + "\n"


def test_rre_rte_of_a_known_offset():
    gt = np.eye(4)
    pred = np.eye(4)
    c, s = np.cos(np.radians(10)), np.sin(np.radians(10))
    pred[:2, :2] = [[c, -s], [s, c]]
    pred[:3, 3] = [0.3, 0.4, 0.0]
    rre, rte = registration_errors(pred, gt)
    assert rre == pytest.approx(10.0) and rte == pytest.approx(0.5)


def test_3dmatch_log_with_missing_pair(tmp_path):
    rng = np.random.default_rng(0)
    gt = {(0, 1): random_pose(rng, 1), (0, 2): random_pose(rng, 1), (1, 2): random_pose(rng, 1)}
    pred = {k: v.copy() for k, v in gt.items() if k != (1, 2)}
    pred[(0, 2)][:3, 3] += [0.2, 0, 0]  # 20 cm off: a 3DMatch success, not a tight one
    (tmp_path / "gt.log").write_text(_log(gt))
    (tmp_path / "pred.log").write_text(_log(pred))
    result = evaluate_poses(read_poses(tmp_path / "gt.log"), read_poses(tmp_path / "pred.log"))
    s = result["summary"]
    assert s["pairs"] == 3 and s["missing"] == 1
    assert s["success"]["rre<15deg,rte<0.3"] == pytest.approx(2 / 3)
    assert s["success"]["rre<5deg,rte<0.1"] == pytest.approx(1 / 3)


def test_plain_matrix_npy_and_register_json(tmp_path):
    t = random_pose(np.random.default_rng(1), 1)
    np.savetxt(tmp_path / "t.txt", t)
    np.save(tmp_path / "t.npy", t)
    (tmp_path / "t.json").write_text(json.dumps({"transform": t.tolist()}))
    for name in ("t.txt", "t.npy", "t.json"):
        assert np.allclose(read_poses(tmp_path / name)["pose"], t)


@pytest.mark.parametrize(
    ("content", "message"),
    [("1 2 3\n4 5 6\n", "neither"), ("a b c d\n", "neither"), ("2 0 0 0\n" * 4, "not a rigid")],
)
def test_bad_pose_files(tmp_path, content, message):
    (tmp_path / "p.txt").write_text(content)
    with pytest.raises(InputError, match=message):
        read_poses(tmp_path / "p.txt")
