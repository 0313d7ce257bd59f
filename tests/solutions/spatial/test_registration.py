import numpy as np
import pytest

from shigu.core.errors import InputError
from shigu.solutions.spatial import Cloud, RegistrationOptions, register, registration_errors
from shigu.solutions.spatial.transforms import random_pose

pytestmark = pytest.mark.slow


def _within_targets(transform, pair):
    rre, rte = registration_errors(transform, pair.gt)
    return rre, rte, rre < 2.0 and rte < 0.02 * pair.target.diagonal


def test_shared_pairs_meet_the_targets(pair):
    result = register(pair.source, pair.target)
    rre, rte, ok = _within_targets(result.transform, pair)
    assert ok, f"{pair.name}: RRE {rre:.3f} deg, RTE {rte:.4f} m ({result.method})"
    assert 0 < result.fitness <= 1 and result.inlier_rmse < result.threshold


def test_same_transform_on_every_run(bunny_pair):
    a = register(bunny_pair.source, bunny_pair.target).to_dict()
    b = register(bunny_pair.source, bunny_pair.target).to_dict()
    assert a["transform"] == b["transform"] and a["method"] == b["method"]


def test_random_poses_give_the_same_answer(pair):
    """Move SOURCE by a random rigid pose: the result must be the same pose composed with it.
    Five poses per pair here (the suite's time); benchmarks/registration.py runs 22."""
    rng = np.random.default_rng(2026)
    base = register(pair.source, pair.target).transform
    for k in range(5):
        pose = random_pose(rng, max_translation=pair.target.diagonal)
        moved = pair.source.transformed(pose)
        found = register(moved, pair.target).transform @ pose  # back in the original frame
        rre, rte, ok = _within_targets(found, pair)
        assert ok, f"{pair.name} pose {k}: RRE {rre:.3f} deg, RTE {rte:.4f} m"
        drift_r, drift_t = registration_errors(found, base)
        assert drift_r < 0.1 and drift_t < 0.002 * pair.target.diagonal, (k, drift_r, drift_t)


def _bracket_surface(rng, size, n):
    """Points on four faces of a box: a planar part with no rotational symmetry."""
    face = rng.integers(0, 4, n)
    p = rng.random((n, 3)) * size
    for axis in range(3):
        p[face == axis, axis] = 0.0
    p[face == 3, 0] = size[0]
    return p


def test_planar_part_found_by_multistart():
    """A bracket of four plates: FPFH sees only planes; multi-start still finds the pose."""
    rng = np.random.default_rng(5)
    size = np.array([0.20, 0.12, 0.06])
    model = _bracket_surface(rng, size, 20000)
    pose = np.eye(4)
    pose[:3, :3] = random_pose(rng, 0)[:3, :3]
    pose[:3, 3] = [0.3, -0.1, 0.5]
    scan = _bracket_surface(rng, size, 15000) @ pose[:3, :3].T + pose[:3, 3]
    scan += rng.normal(0, 0.0003, scan.shape)
    result = register(Cloud(scan), Cloud(model), RegistrationOptions(method="multistart"))
    rre, rte = registration_errors(result.transform, np.linalg.inv(pose))
    assert rre < 2.0 and rte < 0.02 * np.linalg.norm(size), (rre, rte)
    auto = register(Cloud(scan), Cloud(model))
    rre, rte = registration_errors(auto.transform, np.linalg.inv(pose))
    assert rre < 2.0 and rte < 0.02 * np.linalg.norm(size), (auto.method, rre, rte)


def test_bad_pairs():
    rng = np.random.default_rng(0)
    cloud = Cloud(rng.random((1000, 3)))
    with pytest.raises(InputError, match="at least 30"):
        register(Cloud(rng.random((2, 3))), cloud)
    with pytest.raises(InputError, match="mismatched units"):
        register(Cloud(cloud.points * 1000), cloud)
    with pytest.raises(InputError, match="all at one place"):
        register(Cloud(np.ones((100, 3))), cloud)
    with pytest.raises(InputError, match="unknown method"):
        register(cloud, cloud, RegistrationOptions(method="magic"))
