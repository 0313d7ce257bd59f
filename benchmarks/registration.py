"""Registration: Shigu's pipeline vs Open3D's documented default, same pairs, same run.

The reference is Open3D's global-registration tutorial as written: voxel 0.05 (metres),
normals radius 2v / 30, FPFH radius 5v / 100, RANSAC with mutual filter, distance 1.5v, edge
length 0.9, (100000, 0.999), then point-to-plane ICP at 0.4v on the full clouds. Each pair is
run as given and under ten seeded random poses of the source; a run succeeds when RRE < 2 deg
and RTE < 2% of the target's diagonal (errors taken back in the original frame). Prints per
pair and pose, then medians of time and the success counts.

    python benchmarks/registration.py [--poses 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _common import DATA, machine
from shigu.solutions.spatial import Cloud, read_cloud, register, registration_errors
from shigu.solutions.spatial._open3d import o3d, point_cloud
from shigu.solutions.spatial.transforms import random_pose


def open3d_tutorial(source: Cloud, target: Cloud, voxel: float = 0.05) -> np.ndarray:
    reg = o3d().pipelines.registration
    o3d().utility.random.seed(0)
    src, tgt = point_cloud(source.points), point_cloud(target.points)

    def prep(pcd):  # type: ignore[no-untyped-def]
        down = pcd.voxel_down_sample(voxel)
        down.estimate_normals(o3d().geometry.KDTreeSearchParamHybrid(radius=2 * voxel, max_nn=30))
        fpfh = reg.compute_fpfh_feature(
            down, o3d().geometry.KDTreeSearchParamHybrid(radius=5 * voxel, max_nn=100)
        )
        return down, fpfh

    (sd, sf), (td, tf) = prep(src), prep(tgt)
    dist = 1.5 * voxel
    coarse = reg.registration_ransac_based_on_feature_matching(
        sd,
        td,
        sf,
        tf,
        True,
        dist,
        reg.TransformationEstimationPointToPoint(False),
        3,
        [
            reg.CorrespondenceCheckerBasedOnEdgeLength(0.9),
            reg.CorrespondenceCheckerBasedOnDistance(dist),
        ],
        reg.RANSACConvergenceCriteria(100000, 0.999),
    )
    for pcd in (src, tgt):
        pcd.estimate_normals(o3d().geometry.KDTreeSearchParamHybrid(radius=2 * voxel, max_nn=30))
    fine = reg.registration_icp(
        src, tgt, 0.4 * voxel, coarse.transformation, reg.TransformationEstimationPointToPlane()
    )
    return np.asarray(fine.transformation)


def pairs() -> dict[str, tuple[Cloud, Cloud, np.ndarray]]:
    reg_dir = DATA / "registration"
    bunny, match = reg_dir / "stanford_bunny", reg_dir / "geotransformer_demo"
    return {
        "3DMatch demo": (
            read_cloud(match / "src.npy"),
            read_cloud(match / "ref.npy"),
            np.load(match / "gt.npy"),
        ),
        "bunny 045->000": (
            read_cloud(bunny / "bun045.ply"),
            read_cloud(bunny / "bun000.ply"),
            np.loadtxt(bunny / "T_bun045_to_bun000.txt"),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {machine()}; open3d {o3d().__version__}")
    print(
        f"{'pair':16} {'pose':>4}  {'method':8} {'RRE deg':>8} {'RTE m':>9} {'RTE %':>6} "
        f"{'ok':>3} {'s':>6}"
    )
    summary: dict[tuple[str, str], list[tuple[bool, float, float, float]]] = {}
    for name, (source, target, gt) in pairs().items():
        rng = np.random.default_rng(2026)
        for k in range(args.poses + 1):
            pose = np.eye(4) if k == 0 else random_pose(rng, target.diagonal)
            moved = source.transformed(pose)
            for method in ("shigu", "open3d-tutorial"):
                started = time.perf_counter()
                if method == "shigu":
                    t = register(moved, target).transform
                else:
                    t = open3d_tutorial(moved, target)
                seconds = time.perf_counter() - started
                rre, rte = registration_errors(t @ pose, gt)
                ok = rre < 2.0 and rte < 0.02 * target.diagonal
                summary.setdefault((name, method), []).append((ok, seconds, rre, rte))
                print(
                    f"{name:16} {k:>4}  {method[:8]:8} {rre:8.3f} {rte:9.4f} "
                    f"{100 * rte / target.diagonal:6.2f} {'yes' if ok else 'no':>3} {seconds:6.2f}"
                )
    print("\nsummary (medians over the given pose and the random poses)")
    for (name, method), rows in summary.items():
        oks = sum(r[0] for r in rows)
        print(
            f"{name:16} {method:16} success {oks}/{len(rows)}  "
            f"median time {statistics.median(r[1] for r in rows):.2f} s  "
            f"median RRE {statistics.median(r[2] for r in rows):.3f} deg  "
            f"median RTE {statistics.median(r[3] for r in rows):.4f}"
        )


if __name__ == "__main__":
    main()
