import numpy as np
import pytest

from shigu.solutions.spatial import Cloud, fit_cylinder, fit_plane, fit_sphere, inspect_against
from shigu.solutions.spatial._open3d import o3d
from shigu.solutions.spatial.inspection import _outward_normals
from shigu.solutions.spatial.transforms import random_pose

NOISE = 0.0002  # 0.2 mm


@pytest.mark.slow
def test_bump_on_the_bunny_is_found_with_its_height(bunny_pair):
    """A 4 mm Gaussian bump added to one region, the scan moved: deviation finds 4 mm +- 10%."""
    ref = bunny_pair.target
    normals = _outward_normals(ref)
    centre = ref.points[np.argmin(ref.points[:, 2])]
    r = np.linalg.norm(ref.points - centre, axis=1)
    height = 0.004
    bumped = ref.points + (height * np.exp(-0.5 * (r / 0.01) ** 2))[:, None] * normals
    pose = random_pose(np.random.default_rng(3), 0.05)
    scan = Cloud(bumped).transformed(pose)
    result = inspect_against(scan, ref, tolerances=[0.001])
    dev = result.deviations
    peak = int(np.argmax(dev))
    assert dev[peak] == pytest.approx(height, rel=0.10)
    assert np.linalg.norm(bumped[peak] - centre) < 0.005  # the peak is where the bump is
    far = r > 0.04
    assert np.percentile(np.abs(dev[far]), 99) < 0.0005  # elsewhere the part is nominal
    verdict = result.verdicts()[0]
    assert not verdict["passed"] and 0.9 < verdict["within_share"] < 1.0


def test_deviation_to_a_mesh_is_signed():
    box = o3d().geometry.TriangleMesh.create_box(0.1, 0.1, 0.1)
    box.compute_triangle_normals()
    ref = Cloud(np.asarray(box.vertices), mesh=box)
    pts = np.array([[0.05, 0.05, 0.103], [0.05, 0.05, 0.097], [0.05, -0.002, 0.05]])
    result = inspect_against(Cloud(pts), ref, tolerances=[0.0025], align=False)
    assert np.allclose(result.deviations, [0.003, -0.003, 0.002], atol=1e-6)
    assert result.verdicts()[0]["within_share"] == pytest.approx(1 / 3)


def test_plane_fit_within_the_noise():
    rng = np.random.default_rng(0)
    xy = rng.uniform(-0.05, 0.05, (5000, 2))
    normal = np.array([0.01, -0.02, 1.0]) / np.linalg.norm([0.01, -0.02, 1.0])
    z = -(normal[0] * xy[:, 0] + normal[1] * xy[:, 1]) / normal[2] + 0.003
    pts = np.c_[xy, z] + rng.normal(0, NOISE, (5000, 3)) * normal
    outliers = rng.uniform(-0.05, 0.05, (200, 3))
    fit = fit_plane(np.r_[pts, outliers], threshold=4 * NOISE)
    n = np.array(fit.params["normal"]) * np.sign(fit.params["normal"][2])
    assert np.degrees(np.arccos(min(1.0, n @ normal))) < 0.1
    assert fit.rms == pytest.approx(NOISE, rel=0.15)
    assert fit.params["flatness"] < 2.2 * fit.threshold  # peak-to-valley of the inliers
    assert fit.inliers >= 4900


def test_cylinder_and_sphere_fits_within_the_noise():
    rng = np.random.default_rng(1)
    theta, z = rng.uniform(0, 2 * np.pi, 6000), rng.uniform(0, 0.12, 6000)
    cyl = np.c_[0.025 * np.cos(theta), 0.025 * np.sin(theta), z] + rng.normal(0, NOISE, (6000, 3))
    pose = random_pose(rng, 0.2)
    fit = fit_cylinder(cyl @ pose[:3, :3].T + pose[:3, 3], threshold=4 * NOISE)
    axis = pose[:3, :3] @ [0, 0, 1]
    assert abs(abs(np.dot(fit.params["axis"], axis)) - 1) < 1e-4
    assert fit.params["diameter"] == pytest.approx(0.05, abs=NOISE)
    assert fit.params["length"] == pytest.approx(0.12, abs=0.002)
    sphere = rng.normal(size=(4000, 3))
    sphere = 0.03 * sphere / np.linalg.norm(sphere, axis=1)[:, None] + [0.1, 0.2, 0.3]
    fit = fit_sphere(sphere + rng.normal(0, NOISE, sphere.shape), threshold=4 * NOISE)
    assert fit.params["diameter"] == pytest.approx(0.06, abs=NOISE)
    assert np.allclose(fit.params["centre"], [0.1, 0.2, 0.3], atol=NOISE)
