import numpy as np
import pytest

from shigu.core.errors import InputError
from shigu.solutions.spatial import Cloud, read_cloud, write_cloud
from shigu.solutions.spatial._open3d import o3d
from shigu.solutions.spatial.cloud import depth_to_cloud

RNG = np.random.default_rng(0)
POINTS = RNG.uniform(-0.1, 0.1, (500, 3))


@pytest.mark.parametrize("suffix", [".ply", ".pcd", ".xyz", ".npy"])
def test_write_read_round_trip_in_mm(tmp_path, suffix):
    path = write_cloud(tmp_path / f"c{suffix}", Cloud(POINTS), units="mm")
    raw = read_cloud(path)  # read as metres: the numbers are millimetres
    assert np.allclose(raw.points, POINTS * 1000, atol=1e-3)
    cloud = read_cloud(path, units="mm")
    assert np.allclose(cloud.points, POINTS, atol=1e-6)
    assert not list(tmp_path.glob(".c-*")), "temporary files left behind"


def test_text_csv_kitti_and_npy_columns(tmp_path):
    np.savetxt(tmp_path / "a.txt", np.c_[POINTS, RNG.random(len(POINTS))])
    np.savetxt(tmp_path / "a.csv", POINTS, delimiter=",")
    np.c_[POINTS, np.ones(len(POINTS))].astype("<f4").tofile(tmp_path / "a.bin")
    for name in ("a.txt", "a.csv", "a.bin"):
        assert np.allclose(read_cloud(tmp_path / name).points, POINTS, atol=1e-6), name


def test_kitti_scan_from_shared_data(data_dir):
    cloud = read_cloud(data_dir / "pointcloud" / "kitti_velodyne_reduced_000000.bin")
    assert len(cloud) == 324560 // 16
    assert 30 < cloud.diagonal < 200  # a street scene in metres


def test_las_and_laz(tmp_path):
    laspy = pytest.importorskip("laspy")
    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales = np.array([0.0001] * 3)
    las = laspy.LasData(header)
    las.x, las.y, las.z = POINTS.T
    for name in ("a.las", "a.laz"):
        las.write(tmp_path / name)
        assert np.allclose(read_cloud(tmp_path / name).points, POINTS, atol=1e-4)


@pytest.mark.parametrize("suffix", [".stl", ".obj", ".ply"])
def test_mesh_is_sampled_on_its_surface(tmp_path, suffix):
    box = o3d().geometry.TriangleMesh.create_box(10, 20, 30)  # millimetres
    path = tmp_path / f"box{suffix}"
    box.compute_triangle_normals()
    o3d().io.write_triangle_mesh(str(path), box)
    cloud = read_cloud(path, units="mm", mesh_samples=5000)
    assert cloud.mesh is not None and len(cloud) == 5000
    assert np.allclose(cloud.extent, [0.01, 0.02, 0.03], atol=1e-3)
    # every sample lies on a face of the box
    p = cloud.points / np.array([0.01, 0.02, 0.03])
    on_face = np.min(np.minimum(np.abs(p), np.abs(p - 1)), axis=1)
    assert on_face.max() < 1e-6
    assert np.allclose(read_cloud(path, units="mm", mesh_samples=5000).points, cloud.points)


def test_depth_image_back_projection(tmp_path):
    import cv2

    depth = np.zeros((48, 64), np.uint16)
    depth[10:20, 30:40] = 1500  # 1.5 m
    cv2.imwrite(str(tmp_path / "d.png"), depth)
    cloud = depth_to_cloud(tmp_path / "d.png", 50.0, 50.0, 32.0, 24.0, depth_scale=1000)
    assert len(cloud) == 100
    assert np.allclose(cloud.points[:, 2], 1.5)
    u, v = 30, 10
    assert np.allclose(cloud.points[0], [(u - 32) * 1.5 / 50, (v - 24) * 1.5 / 50, 1.5])


def test_nan_points_are_refused_or_dropped(tmp_path):
    pts = POINTS.copy()
    pts[:7, 1] = np.nan
    np.save(tmp_path / "n.npy", pts)
    with pytest.raises(InputError, match=r"7 of 500 points .*NaN"):
        read_cloud(tmp_path / "n.npy")
    cloud = read_cloud(tmp_path / "n.npy", drop_invalid=True)
    assert len(cloud) == 493 and cloud.notes == ["dropped 7 non-finite points"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.ply", b"", "not a PLY"),
        ("junk.ply", b"hello, not a cloud\n" * 20, "not a PLY"),
        ("junk.pcd", b"\x00\x01garbage" * 50, "holds no points"),
        ("junk.npy", b"not numpy", "not a NumPy"),
        ("bad.bin", b"abc", "not a KITTI scan"),
        ("words.txt", b"a b c\n", "not a table"),
        ("two.xyz", b"1 2 3\n", "valid points"),
        ("c.docx", b"x", "unknown point cloud format"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_cloud(path, min_points=3)


def test_unknown_unit():
    with pytest.raises(InputError, match="unknown unit 'parsec'"):
        read_cloud(__file__, units="parsec")
