"""Headless PNG of a deviation map: two orthographic views with a colour bar (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_DRAWN = 60_000


def render_deviation_png(
    points: np.ndarray,
    deviations: np.ndarray,
    limit: float,
    path: Path,
    title: str = "",
    unit: str = "mm",
    unit_scale: float = 1000.0,
) -> Path:
    """Top and side views along the cloud's principal axes, coloured by signed deviation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    keep = rng.permutation(len(points))[:MAX_DRAWN]
    pts, dev = points[keep], deviations[keep]
    centred = pts - pts.mean(axis=0)
    _, vecs = np.linalg.eigh(centred.T @ centred)
    axes = centred @ vecs[:, ::-1]  # major, middle, minor
    fig, panels = plt.subplots(1, 2, figsize=(11, 5), constrained_layout=True)
    vmax = limit * unit_scale
    scatter = None
    for ax, (i, j, depth), name in zip(
        panels,
        ((0, 1, 2), (0, 2, 1)),
        ("top (major x middle axis)", "side (major x minor)"),
        strict=True,
    ):
        order = np.argsort(axes[:, depth])
        scatter = ax.scatter(
            axes[order, i] * unit_scale,
            axes[order, j] * unit_scale,
            c=dev[order] * unit_scale,
            s=1.5,
            cmap="coolwarm",
            vmin=-vmax,
            vmax=vmax,
            linewidths=0,
        )
        ax.set_aspect("equal")
        ax.set_title(name)
        ax.set_xlabel(unit)
        ax.set_ylabel(unit)
    assert scatter is not None
    bar = fig.colorbar(scatter, ax=panels, shrink=0.85)
    bar.set_label(f"signed deviation ({unit})")
    if title:
        fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
