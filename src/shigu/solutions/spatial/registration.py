"""Rigid registration of a source cloud onto a target.

Preprocessing (voxel size from the cloud's own scale, statistical outlier removal, normals,
FPFH), global candidates (FPFH + RANSAC seeded, Fast Global Registration, and a deterministic
multi-start over principal-axis and cube-symmetry hypotheses for the planar or symmetric parts
where features fail), then a coarse-to-fine GICP schedule. Every step is Open3D's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from shigu.core.errors import InputError
from shigu.solutions.spatial._open3d import o3d, point_cloud
from shigu.solutions.spatial.cloud import Cloud
from shigu.solutions.spatial.transforms import describe

METHODS = ("auto", "ransac", "fgr", "multistart", "icp")
REFINEMENTS = ("gicp", "point-to-plane", "none")
COARSE_POINTS = 4000  # target points left by the coarse voxel
MIN_POINTS = 30
EXTRA_RANSAC = 4  # further seeded RANSAC runs while the candidates disagree
MULTISTART_KEEP = 3  # multi-start hypotheses refined to the finest scale
FINE_MAX_POINTS = 60_000  # source points used by the finest ICP stage
UNIT_MISMATCH_RATIO = 20.0  # scales this far apart are mm vs m, not two views of one part


@dataclass(frozen=True)
class RegistrationOptions:
    """How to register; every default is derived from the clouds themselves."""

    voxel: float | None = None  # coarse voxel in metres (default: leaves ~4,000 target points)
    method: str = "auto"
    refine: str = "gicp"
    seed: int = 0
    ransac_iterations: int = 100_000
    ransac_confidence: float = 0.999
    remove_outliers: bool = True
    init: np.ndarray | None = None  # a starting pose for method "icp"


@dataclass
class RegistrationResult:
    """The pose that maps SOURCE into TARGET, with its quality and how it was found."""

    transform: np.ndarray
    fitness: float  # share of source points with a target point within the final threshold
    inlier_rmse: float  # metres, over those points
    seconds: float
    method: str
    voxel: float
    threshold: float
    candidates: dict[str, float] = field(default_factory=dict)  # method -> coarse fitness

    def to_dict(self) -> dict[str, Any]:
        out = describe(np.round(self.transform, 10))
        out.update(
            fitness=round(self.fitness, 6),
            inlier_rmse=round(self.inlier_rmse, 9),
            seconds=round(self.seconds, 3),
            method=self.method,
            voxel=self.voxel,
            threshold=self.threshold,
            candidates={k: round(v, 6) for k, v in self.candidates.items()},
        )
        return out


def point_spacing(points: np.ndarray, sample: int = 2000) -> float:
    """Median distance to the nearest neighbour on a seeded sample: the scan's resolution."""
    tree = cKDTree(points)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(points), size=min(sample, len(points)), replace=False)
    dist, _ = tree.query(points[idx], k=2)
    return float(np.median(dist[:, 1]))


def auto_voxel(target: Cloud, spacing: float) -> float:
    """The coarse voxel that leaves about ``COARSE_POINTS`` target points.

    Feature matching needs enough points to describe the shape and RANSAC's cost grows with
    them; a fixed count serves parts and rooms alike, where a fixed share of the size would
    leave a room with too few. Points on a surface scale with 1 / voxel^2.
    """
    voxel = target.diagonal / 50
    pcd = point_cloud(target.points)
    for _ in range(3):
        n = len(pcd.voxel_down_sample(voxel).points)
        voxel *= float(np.sqrt(max(n, 1) / COARSE_POINTS))
    return float(max(voxel, 1.5 * spacing))


def _hybrid(radius: float, max_nn: int) -> Any:
    return o3d().geometry.KDTreeSearchParamHybrid(radius=radius, max_nn=max_nn)


@dataclass
class _Prepared:
    pcd: Any  # downsampled, cleaned, with normals
    fpfh: Any = None


def _prepare(cloud: Cloud, voxel: float, remove_outliers: bool, features: bool) -> _Prepared:
    pcd = point_cloud(cloud.points).voxel_down_sample(voxel)
    if remove_outliers and len(pcd.points) > 50:
        pcd, _ = pcd.remove_statistical_outlier(nb_neighbors=20, std_ratio=2.0)
    pcd.estimate_normals(_hybrid(2 * voxel, 30))
    prepared = _Prepared(pcd)
    if features:
        reg = o3d().pipelines.registration
        prepared.fpfh = reg.compute_fpfh_feature(pcd, _hybrid(5 * voxel, 100))
    return prepared


def _ransac(
    src: _Prepared, tgt: _Prepared, voxel: float, opts: RegistrationOptions, seed: int
) -> Any:
    reg = o3d().pipelines.registration
    o3d().utility.random.seed(seed)
    dist = 1.5 * voxel
    return reg.registration_ransac_based_on_feature_matching(
        src.pcd,
        tgt.pcd,
        src.fpfh,
        tgt.fpfh,
        True,
        dist,
        reg.TransformationEstimationPointToPoint(False),
        3,
        [
            reg.CorrespondenceCheckerBasedOnEdgeLength(0.9),
            reg.CorrespondenceCheckerBasedOnDistance(dist),
        ],
        reg.RANSACConvergenceCriteria(opts.ransac_iterations, opts.ransac_confidence),
    ).transformation


def _fgr(src: _Prepared, tgt: _Prepared, voxel: float) -> Any:
    reg = o3d().pipelines.registration
    option = reg.FastGlobalRegistrationOption(maximum_correspondence_distance=0.5 * voxel)
    return reg.registration_fgr_based_on_feature_matching(
        src.pcd, tgt.pcd, src.fpfh, tgt.fpfh, option
    ).transformation


def _cube_rotations() -> list[np.ndarray]:
    """The 24 rotations of a cube: every axis-aligned orientation, for symmetric parts."""
    out = []
    for perm in ((0, 1, 2), (1, 2, 0), (2, 0, 1), (1, 0, 2), (0, 2, 1), (2, 1, 0)):
        for signs in product((1, -1), repeat=3):
            m = np.zeros((3, 3))
            for row, (col, sign) in enumerate(zip(perm, signs, strict=True)):
                m[row, col] = sign
            if np.linalg.det(m) > 0:
                out.append(m)
    return out


def _principal_axes(points: np.ndarray) -> np.ndarray:
    centred = points - points.mean(axis=0)
    _, vecs = np.linalg.eigh(centred.T @ centred)
    axes = vecs[:, ::-1]
    if np.linalg.det(axes) < 0:
        axes[:, 2] *= -1
    return axes  # columns: major, middle, minor


def _multistart_hypotheses(src: np.ndarray, tgt: np.ndarray) -> list[np.ndarray]:
    """Poses that match centroids and map source principal axes onto target axes, each way."""
    a_src, a_tgt = _principal_axes(src), _principal_axes(tgt)
    c_src, c_tgt = src.mean(axis=0), tgt.mean(axis=0)
    out = []
    for cube in _cube_rotations():
        rot = a_tgt @ cube @ a_src.T
        t = np.eye(4)
        t[:3, :3] = rot
        t[:3, 3] = c_tgt - rot @ c_src
        out.append(t)
    return out


def _icp(
    src: Any, tgt: Any, threshold: float, init: np.ndarray, kind: str, iterations: int = 30
) -> np.ndarray:
    """Refine ``init`` by GICP (covariances from the points) or point-to-plane ICP (normals)."""
    reg = o3d().pipelines.registration
    criteria = reg.ICPConvergenceCriteria(max_iteration=iterations)
    if kind == "gicp":
        estimation = reg.TransformationEstimationForGeneralizedICP()
        result = reg.registration_generalized_icp(src, tgt, threshold, init, estimation, criteria)
    else:
        estimation = reg.TransformationEstimationPointToPlane()
        result = reg.registration_icp(src, tgt, threshold, init, estimation, criteria)
    return np.asarray(result.transformation)


def _score(src: Any, tgt: Any, threshold: float, transform: np.ndarray) -> tuple[float, float]:
    ev = o3d().pipelines.registration.evaluate_registration(src, tgt, threshold, transform)
    return float(ev.fitness), float(ev.inlier_rmse)


def _check_pair(source: Cloud, target: Cloud) -> None:
    for name, cloud in (("SOURCE", source), ("TARGET", target)):
        if len(cloud) < MIN_POINTS:
            raise InputError(
                f"{name} has {len(cloud)} points; registration needs at least {MIN_POINTS}",
                "give a denser cloud",
            )
        if cloud.diagonal <= 0:
            raise InputError(f"{name}'s points are all at one place", "check the file")
    ratio = source.diagonal / target.diagonal
    if ratio > UNIT_MISMATCH_RATIO or ratio < 1 / UNIT_MISMATCH_RATIO:
        raise InputError(
            f"SOURCE is {source.diagonal:.4g} m across and TARGET {target.diagonal:.4g} m: "
            f"a {max(ratio, 1 / ratio):.0f}x scale gap looks like mismatched units",
            "state each file's units with --source-units / --target-units (m, mm, ...)",
        )


def register(
    source: Cloud, target: Cloud, options: RegistrationOptions | None = None
) -> RegistrationResult:
    """Find the 4x4 transform mapping ``source`` onto ``target`` (same result every run)."""
    opts = options or RegistrationOptions()
    if opts.method not in METHODS:
        raise InputError(f"unknown method {opts.method!r}", f"use one of {', '.join(METHODS)}")
    if opts.refine not in REFINEMENTS:
        raise InputError(f"unknown refinement {opts.refine!r}", f"use {', '.join(REFINEMENTS)}")
    _check_pair(source, target)
    start = time.perf_counter()
    spacing = max(point_spacing(source.points), point_spacing(target.points))
    voxel = opts.voxel or auto_voxel(target, spacing)
    if voxel <= 0 or not np.isfinite(voxel):
        raise InputError(f"voxel size {voxel} must be positive", "")
    need_features = opts.method in ("auto", "ransac", "fgr")
    src = _prepare(source, voxel, opts.remove_outliers, need_features)
    tgt = _prepare(target, voxel, opts.remove_outliers, need_features)
    for name, prep in (("SOURCE", src), ("TARGET", tgt)):
        if len(prep.pcd.points) < 3 * 3:
            raise InputError(
                f"{name} keeps only {len(prep.pcd.points)} points at voxel {voxel:.4g} m",
                "give a smaller --voxel",
            )

    fine = _Ranker(source, target, voxel, spacing, opts.refine)
    if opts.method == "icp":
        fine.add("icp", np.eye(4) if opts.init is None else np.asarray(opts.init, float), src, tgt)
    if opts.method in ("auto", "ransac"):
        fine.add("ransac", np.asarray(_ransac(src, tgt, voxel, opts, opts.seed)), src, tgt)
    if opts.method in ("auto", "fgr"):
        fine.add("fgr", np.asarray(_fgr(src, tgt, voxel)), src, tgt)
    if opts.method == "auto":
        # until two independent candidates agree, draw more: RANSAC with the next seeds
        for extra in range(1, EXTRA_RANSAC + 1):
            if fine.agreement():
                break
            t = np.asarray(_ransac(src, tgt, voxel, opts, opts.seed + extra))
            fine.add(f"ransac{extra}", t, src, tgt)
    if opts.method in ("auto", "multistart"):
        # always, in auto: on planar parts every feature-based draw can agree on a flipped pose
        coarser = 2 * voxel
        src_c = _prepare(source, coarser, opts.remove_outliers, False)
        tgt_c = _prepare(target, coarser, opts.remove_outliers, False)
        hyps = _multistart_hypotheses(np.asarray(src_c.pcd.points), np.asarray(tgt_c.pcd.points))
        multi = _coarse_refine(
            src_c.pcd,
            tgt_c.pcd,
            coarser,
            {f"multistart{i}": h for i, h in enumerate(hyps)},
            "point-to-plane",
        )
        for name in sorted(multi, key=lambda k: (-multi[k][0], multi[k][1]))[:MULTISTART_KEEP]:
            fine.add(name, multi[name][2], src, tgt)
    # the arbiter is the fit at the fine scales: at the coarse voxel a wrong pose sliding
    # along walls or floors can fit as well as the right one
    best = fine.best()
    transform, threshold, fitness, rmse = _finest(
        source, target, spacing, fine.results[best][0], voxel, opts.refine
    )
    return RegistrationResult(
        transform=transform,
        fitness=fitness,
        inlier_rmse=rmse,
        seconds=time.perf_counter() - start,
        method=best.rstrip("0123456789"),
        voxel=float(voxel),
        threshold=float(threshold),
        candidates={k: v[2] for k, v in fine.results.items()},
    )


class _Ranker:
    """Candidates refined at voxel/2 and scored there; a pose already refined is not redone."""

    def __init__(
        self, source: Cloud, target: Cloud, voxel: float, spacing: float, refine: str
    ) -> None:
        self.source, self.target, self.voxel = source, target, voxel
        self.spacing, self.refine = spacing, refine
        self.results: dict[str, tuple[np.ndarray, float, float, float]] = {}
        self._coarse: list[np.ndarray] = []

    def add(self, name: str, pose: np.ndarray, src: _Prepared, tgt: _Prepared) -> None:
        _, _, coarse = _coarse_refine(src.pcd, tgt.pcd, self.voxel, {name: pose}, self.refine)[name]
        for done, (prev_name, prev) in zip(self._coarse, self.results.items(), strict=True):
            if _same_pose(done, coarse, self.target.diagonal):
                self.results[name] = prev  # the same start refines to the same pose
                self._coarse.append(coarse)
                del prev_name
                return
        self._coarse.append(coarse)
        self.results[name] = _fine_refine(
            self.source, self.target, self.voxel, self.spacing, coarse, self.refine
        )

    def agreement(self) -> bool:
        """Two candidates, found independently, refined to the same pose."""
        return _agreement(self.results, self.target)

    def best(self) -> str:
        r = self.results
        return max(r, key=lambda k: (round(r[k][2], 4), -r[k][3]))


def _same_pose(a: np.ndarray, b: np.ndarray, size: float) -> bool:
    return (
        rotation_between(a[:3, :3], b[:3, :3]) < 1.0
        and float(np.linalg.norm(a[:3, 3] - b[:3, 3])) < 0.01 * size
    )


def _agreement(fine: dict[str, tuple[np.ndarray, float, float, float]], target: Cloud) -> bool:
    """True when two candidates, found independently, refine to the same pose."""
    poses = [v[0] for v in fine.values()]
    return any(
        _same_pose(a, b, target.diagonal) for i, a in enumerate(poses) for b in poses[i + 1 :]
    )


def _coarse_refine(
    src: Any, tgt: Any, voxel: float, candidates: dict[str, np.ndarray], refine: str
) -> dict[str, tuple[float, float, np.ndarray]]:
    """Each candidate refined at the coarse voxel and scored: (fitness, rmse, transform)."""
    out = {}
    kind = "point-to-plane" if refine != "gicp" else "gicp"
    for name, init in candidates.items():
        t = _icp(src, tgt, 2.0 * voxel, init, kind, iterations=30)
        fitness, rmse = _score(src, tgt, 1.5 * voxel, t)
        out[name] = (fitness, rmse, t)
    return out


def _source_subset(source: Cloud, n: int) -> Any:
    order = np.random.default_rng(0).permutation(len(source))
    return point_cloud(source.points[np.sort(order[: min(len(source), max(n, MIN_POINTS))])])


def _stage(
    source: Cloud,
    tgt_full: Any,
    scale: float,
    spacing: float,
    threshold: float,
    transform: np.ndarray,
    refine: str,
) -> tuple[np.ndarray, Any, Any]:
    """One ICP stage at ``scale``: target voxel grid, source a seeded subset by index.

    A voxel grid in the source's own frame would pick other points for every pose of the
    part, and the result would then depend on how the part lies.
    """
    tgt_s = tgt_full.voxel_down_sample(scale)
    src_s = _source_subset(source, min(len(tgt_s.points), FINE_MAX_POINTS))
    if refine == "point-to-plane":
        for pcd in (src_s, tgt_s):
            pcd.estimate_normals(_hybrid(max(2 * scale, 4 * spacing), 30))
    if refine != "none":
        transform = _icp(src_s, tgt_s, threshold, transform, refine)
    return transform, src_s, tgt_s


def _fine_refine(
    source: Cloud,
    target: Cloud,
    voxel: float,
    spacing: float,
    transform: np.ndarray,
    refine: str,
) -> tuple[np.ndarray, float, float, float]:
    """ICP at voxel/2: (pose, threshold, fitness, rmse) for ranking candidates."""
    scale = voxel / 2
    threshold = 1.5 * scale
    transform, src_s, tgt_s = _stage(
        source, point_cloud(target.points), scale, spacing, threshold, transform, refine
    )
    fitness, rmse = _score(src_s, tgt_s, threshold, transform)
    return transform, threshold, fitness, rmse


def _finest(
    source: Cloud,
    target: Cloud,
    spacing: float,
    transform: np.ndarray,
    voxel: float,
    refine: str,
) -> tuple[np.ndarray, float, float, float]:
    """The winner's last stages: voxel/4, then the scans' own resolution when finer."""
    tgt_full = point_cloud(target.points)
    scales = [voxel / 4] + ([spacing] if spacing < 0.2 * voxel else [])
    threshold = 0.0
    src_s = tgt_s = None
    for i, scale in enumerate(scales):
        threshold = (2.0 if i == len(scales) - 1 else 1.5) * scale
        transform, src_s, tgt_s = _stage(
            source, tgt_full, scale, spacing, threshold, transform, refine
        )
    fitness, rmse = _score(src_s, tgt_s, threshold, transform)
    return transform, threshold, fitness, rmse


def rotation_between(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in degrees between two rotation matrices."""
    return float(np.degrees(Rotation.from_matrix(a.T @ b).magnitude()))
