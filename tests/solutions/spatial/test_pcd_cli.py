"""``shigu pcd`` and ``shigu eval registration`` through the installed entry point."""

import json

import numpy as np
import pytest

from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration


def test_register_json_is_complete_and_the_same_every_run(bunny_pair, tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"pose{k}.json"
        proc = run_cli(
            "pcd",
            "register",
            bunny_pair.source_path,
            bunny_pair.target_path,
            "--json",
            out,
            "--out",
            tmp_path / "aligned.ply",
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(json.loads(out.read_text()))
    a, b = outs
    for key in (
        "transform",
        "fitness",
        "inlier_rmse",
        "rotation_deg",
        "translation",
        "euler_xyz_deg",
        "quaternion_wxyz",
        "seconds",
    ):
        assert key in a, key
    assert a["transform"] == b["transform"]
    assert np.allclose(np.array(a["transform"]), bunny_pair.gt, atol=0.01)
    assert (tmp_path / "aligned.ply").stat().st_size > 0
    proc = run_cli(
        "eval",
        "registration",
        "--gt",
        bunny_pair.target_path.parent / "T_bun045_to_bun000.txt",
        "--pred",
        tmp_path / "pose0.json",
        "--json",
        tmp_path / "e.json",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "e.json").read_text())["summary"]
    assert summary["success"]["rre<2deg,rte<0.05"] == 1.0


def test_inspect_pass_fail_png_and_coloured_cloud(tmp_path):
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (4000, 2))  # a 100 mm plate, in millimetres
    ref = np.c_[xy, np.zeros(4000)]
    scan = np.c_[xy, rng.normal(0, 0.05, 4000)]
    np.save(tmp_path / "ref.npy", ref)
    np.save(tmp_path / "scan.npy", scan)
    base = (
        "pcd",
        "inspect",
        tmp_path / "scan.npy",
        tmp_path / "ref.npy",
        "--units",
        "mm",
        "--no-align",
    )
    ok = run_cli(
        *base,
        "--tolerance",
        "0.5mm",
        "--json",
        tmp_path / "s.json",
        "--png",
        tmp_path / "d.png",
        "--out",
        tmp_path / "d.ply",
    )
    assert ok.returncode == 0, ok.stderr
    assert "PASS" in ok.stdout
    stats = json.loads((tmp_path / "s.json").read_text())
    assert abs(stats["stats_m"]["rms"] - 0.05e-3) < 0.01e-3
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "d.ply").stat().st_size > 0
    tight = run_cli(*base, "--tolerance", "0.05mm")
    assert tight.returncode == 1 and "FAIL" in tight.stdout


def test_fit_and_info(tmp_path):
    rng = np.random.default_rng(1)
    v = rng.normal(size=(3000, 3))
    np.savetxt(tmp_path / "ball.xyz", 12.5 * v / np.linalg.norm(v, axis=1)[:, None])
    proc = run_cli(
        "pcd",
        "fit",
        tmp_path / "ball.xyz",
        "--shape",
        "sphere",
        "--units",
        "mm",
        "--json",
        tmp_path / "f.json",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "f.json").read_text())["params"]["diameter"] == pytest.approx(
        0.025, abs=1e-6
    )
    info = run_cli("pcd", "info", tmp_path / "ball.xyz", "--units", "mm")
    assert info.returncode == 0 and "3,000" in info.stdout and "mm" in info.stdout


def test_convert_units(tmp_path):
    np.save(tmp_path / "a.npy", np.array([[1.0, 2.0, 3.0]] * 10))
    proc = run_cli(
        "pcd",
        "convert",
        tmp_path / "a.npy",
        tmp_path / "b.ply",
        "--units",
        "m",
        "--out-units",
        "mm",
    )
    assert proc.returncode == 0, proc.stderr
    back = run_cli("pcd", "info", tmp_path / "b.ply", "--json", tmp_path / "i.json")
    assert back.returncode == 0
    assert json.loads((tmp_path / "i.json").read_text())["max_m"] == [1000.0, 2000.0, 3000.0]


def _bad_inputs(tmp):
    rng = np.random.default_rng(0)
    good = tmp / "good.npy"
    np.save(good, rng.random((2000, 3)))
    (tmp / "empty.ply").write_bytes(b"")
    np.save(tmp / "two.npy", rng.random((2, 3)))
    nan = rng.random((500, 3))
    nan[3] = np.nan
    np.save(tmp / "nan.npy", nan)
    (tmp / "notcloud.pcd").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp / "pic.jpg").write_bytes(b"\xff\xd8\xff")
    return good, [
        (("pcd", "register", tmp / "empty.ply", good), "not a PLY", 2),
        (("pcd", "register", tmp / "two.npy", good), "at least 30", 2),
        (("pcd", "register", tmp / "nan.npy", good), "--drop-invalid", 2),
        (("pcd", "register", good, good, "--target-units", "mm"), "mismatched units", 2),
        (("pcd", "register", tmp / "notcloud.pcd", good), "holds no points", 2),
        (("pcd", "register", tmp / "pic.jpg", good), "unknown point cloud format", 2),
        (("pcd", "register", tmp / "missing.ply", good), "file not found", 2),
        (("pcd", "register", good, good, "--json", tmp / "x.txt"), "should end in .json", 2),
        (("pcd", "register", good, good, "--units", "furlong"), "unknown unit", 2),
        (("pcd", "inspect", good, good, "--tolerance", "abc"), "not a length", 2),
        (("pcd", "fit", good, "--shape", "torus"), "unknown shape", 2),
        (("pcd", "register", good), "Missing argument", 2),
        (("pcd", "frobnicate"), "No such command", 2),
        (("eval", "registration", "--gt", good, "--pred", good), "not a finite 4x4", 2),
    ]


def test_bad_inputs_one_line_errors(tmp_path):
    _, cases = _bad_inputs(tmp_path)
    for args, message, code in cases:
        proc = run_cli(*args)
        assert_one_line_error(proc, message, code)
        assert not list(tmp_path.glob("x.txt"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), None),
        (("detect",), None),
        (("detect", "--bogus", "x"), "No such option: --bogus"),
        (("detect", "x.mp4", "--conf", "abc"), "Invalid value for '--conf'"),
        (("nonsense",), "No such command 'nonsense'"),
        (("eval", "mot"), "Missing option '--gt'"),
        (("detect", "a.jpg", "b.jpg", "c.jpg"), "unexpected extra argument"),
        (("pcd", "inspect", "a.ply", "b.ply", "--pass-share", "7"), "--pass-share"),
    ],
)
def test_usage_errors_print_no_traceback(args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    if message is None:
        assert "Usage: shigu" in proc.stdout  # a bare group or command shows its help
    else:
        assert_one_line_error(proc, message, 2)
        assert "--help" in proc.stderr


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("shigu ")
