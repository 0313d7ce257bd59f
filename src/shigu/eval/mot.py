"""MOTChallenge tracking metrics (HOTA, CLEAR/MOTA, Identity/IDF1) computed by TrackEval.

Nothing here re-implements a metric: ground truth and result files are laid out the way
TrackEval's ``MotChallenge2DBox`` expects (through symlinks in a temporary folder) and its
``Evaluator`` does the scoring. MOT15 ground truth (world coordinates in columns 8-10) and
MOT16/17/20 ground truth (class and visibility columns, with distractor preprocessing) are
both handled; which one a folder holds is read off its ``gt.txt`` unless told.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError
from shigu.sources.mot import read_mot_txt, read_seqinfo

HOTA_KEYS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA")
CLEAR_KEYS = (
    "MOTA",
    "MOTP",
    "MODA",
    "CLR_Re",
    "CLR_Pr",
    "MTR",
    "PTR",
    "MLR",
    "CLR_TP",
    "CLR_FN",
    "CLR_FP",
    "IDSW",
    "MT",
    "PT",
    "ML",
    "Frag",
)
IDENTITY_KEYS = ("IDF1", "IDR", "IDP", "IDTP", "IDFN", "IDFP")
PERCENT_KEYS = set(HOTA_KEYS) | {
    "MOTA",
    "MOTP",
    "MODA",
    "CLR_Re",
    "CLR_Pr",
    "MTR",
    "PTR",
    "MLR",
    "IDF1",
    "IDR",
    "IDP",
}
SUMMARY_KEYS = (
    "HOTA",
    "DetA",
    "AssA",
    "LocA",
    "MOTA",
    "IDF1",
    "IDSW",
    "CLR_FP",
    "CLR_FN",
    "MT",
    "ML",
    "Frag",
)
ALPHAS = np.arange(0.05, 0.99, 0.05)  # TrackEval's localisation thresholds


@dataclass
class MotEvalResult:
    """Metrics per sequence plus ``COMBINED``; percentages are 0-100, counts are integers."""

    benchmark: str
    sequences: list[str]
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    hota_curve: dict[str, list[float]] = field(default_factory=dict)  # HOTA at each alpha

    @property
    def combined(self) -> dict[str, float]:
        return self.metrics["COMBINED"]

    def write_csv(self, path: Path) -> None:
        keys = list(HOTA_KEYS) + list(CLEAR_KEYS) + list(IDENTITY_KEYS)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["sequence", *keys])
            for name in [*self.sequences, "COMBINED"]:
                row = self.metrics[name]
                writer.writerow([name, *[_fmt(k, row.get(k, float("nan"))) for k in keys]])

    def plot_hota(self, path: Path, title: str = "HOTA vs localisation threshold") -> None:
        """HOTA per sequence and combined as curves over TrackEval's alpha thresholds (PNG)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
        for name, values in self.hota_curve.items():
            style = (
                {"linewidth": 2.5, "color": "black"}
                if name == "COMBINED"
                else {"linewidth": 1, "alpha": 0.7}
            )
            ax.plot(ALPHAS, values, label=name, **style)
        ax.set_xlabel("localisation threshold α (IoU)")
        ax.set_ylabel("HOTA (%)")
        ax.set_ylim(0, 100)
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.set_title(title)
        ax.legend(fontsize=7, loc="lower left")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


def _fmt(key: str, value: float) -> str:
    return (
        f"{value:.3f}" if key in PERCENT_KEYS or not float(value).is_integer() else str(int(value))
    )


def detect_benchmark(gt_file: Path) -> str:
    """``MOT15`` when columns 8-10 hold world coordinates, else ``MOT17`` (class/visibility)."""
    rows = read_mot_txt(gt_file)
    if rows.shape[1] < 9 or len(rows) == 0:
        return "MOT15"
    cls, vis = rows[:, 7], rows[:, 8]
    integral = np.all(np.equal(np.mod(cls, 1), 0)) and cls.min() >= 1 and cls.max() <= 13
    return "MOT17" if integral and vis.min() >= 0 and vis.max() <= 1 else "MOT15"


def find_sequences(gt_dir: Path) -> list[Path]:
    """Sequence folders under ``gt_dir`` (each with ``gt/gt.txt``), or ``gt_dir`` itself."""
    if (gt_dir / "gt" / "gt.txt").is_file():
        return [gt_dir]
    seqs = (
        sorted(p for p in gt_dir.iterdir() if (p / "gt" / "gt.txt").is_file())
        if gt_dir.is_dir()
        else []
    )
    if not seqs:
        raise InputError(
            f"no ground truth found under {gt_dir}",
            "expected sequence folders each holding gt/gt.txt and seqinfo.ini",
        )
    return seqs


def scaled_ground_truth(gt_dir: str | Path, scale: float, out_dir: str | Path) -> Path:
    """Copy sequences' ground truth into ``out_dir`` with boxes (and image size) scaled.

    For videos re-encoded at another size than the one annotated: the PETS2009 S2L1 clip at
    480x360 matches MOT15's 768x576 ground truth scaled by 0.625.
    """
    if scale <= 0:
        raise InputError(f"ground-truth scale must be positive, got {scale}")
    out = Path(out_dir)
    for seq in find_sequences(Path(gt_dir)):
        rows = read_mot_txt(seq / "gt" / "gt.txt")
        rows[:, 2:6] *= scale
        target = out / seq.name / "gt"
        target.mkdir(parents=True, exist_ok=True)
        np.savetxt(target / "gt.txt", rows, delimiter=",", fmt="%.6g")
        try:
            info = read_seqinfo(seq)
        except InputError:
            continue
        (out / seq.name / "seqinfo.ini").write_text(
            f"[Sequence]\nname={seq.name}\nimDir={info.im_dir}\n"
            f"frameRate={info.frame_rate:g}\nseqLength={info.length}\n"
            f"imWidth={round(info.width * scale)}\nimHeight={round(info.height * scale)}\n"
            f"imExt={info.im_ext}\n"
        )
    return out


def evaluate_mot(
    gt_dir: str | Path,
    results_dir: str | Path,
    benchmark: str | None = None,
    sequences: list[str] | None = None,
    gt_scale: float = 1.0,
) -> MotEvalResult:
    """Score MOTChallenge result files against ground truth with TrackEval.

    Args:
        gt_dir: a folder of sequence folders (``SEQ/gt/gt.txt`` and ``SEQ/seqinfo.ini``).
        results_dir: holds ``SEQ.txt`` for each sequence (MOTChallenge result format).
        benchmark: ``MOT15``, ``MOT16``, ``MOT17`` or ``MOT20``; read off the ground truth
            when None.
        sequences: evaluate only these (default: every sequence that has ground truth).
        gt_scale: scale ground-truth boxes first (see :func:`scaled_ground_truth`).
    """
    if gt_scale != 1.0:
        with tempfile.TemporaryDirectory(prefix="shigu-gt-") as tmp:
            scaled = scaled_ground_truth(gt_dir, gt_scale, tmp)
            return evaluate_mot(scaled, results_dir, benchmark, sequences)
    import trackeval

    gt_root, res_root = Path(gt_dir), Path(results_dir)
    if not res_root.is_dir():
        raise InputError(f"results folder not found: {results_dir}")
    seq_dirs = find_sequences(gt_root)
    if sequences:
        wanted = set(sequences)
        seq_dirs = [s for s in seq_dirs if s.name in wanted]
        missing = wanted - {s.name for s in seq_dirs}
        if missing:
            raise InputError(f"no ground truth for {', '.join(sorted(missing))} in {gt_dir}")
    missing_results = [s.name for s in seq_dirs if not (res_root / f"{s.name}.txt").is_file()]
    if missing_results:
        raise InputError(
            f"results missing for {', '.join(missing_results)} in {results_dir}",
            "each sequence needs SEQ.txt (run shigu track --mot first)",
        )
    bench = benchmark or detect_benchmark(seq_dirs[0] / "gt" / "gt.txt")
    if bench not in ("MOT15", "MOT16", "MOT17", "MOT20"):
        raise InputError(f"unknown benchmark {bench!r}", "use MOT15, MOT16, MOT17 or MOT20")

    with tempfile.TemporaryDirectory(prefix="shigu-eval-") as tmp:
        gt_fol, tr_fol = Path(tmp) / "gt", Path(tmp) / "trackers" / "shigu" / "data"
        tr_fol.mkdir(parents=True)
        seq_info: dict[str, int] = {}
        for seq in seq_dirs:
            (gt_fol / seq.name / "gt").mkdir(parents=True)
            (gt_fol / seq.name / "gt" / "gt.txt").symlink_to((seq / "gt" / "gt.txt").resolve())
            _validate_results(res_root / f"{seq.name}.txt")
            (tr_fol / f"{seq.name}.txt").symlink_to((res_root / f"{seq.name}.txt").resolve())
            try:
                seq_info[seq.name] = read_seqinfo(seq).length
            except InputError:
                seq_info[seq.name] = int(read_mot_txt(seq / "gt" / "gt.txt")[:, 0].max())
            (gt_fol / seq.name / "seqinfo.ini").write_text(
                f"[Sequence]\nname={seq.name}\nseqLength={seq_info[seq.name]}\n"
            )
        dataset_config = {
            "GT_FOLDER": str(gt_fol),
            "TRACKERS_FOLDER": str(Path(tmp) / "trackers"),
            "TRACKERS_TO_EVAL": ["shigu"],
            "BENCHMARK": bench,
            "SPLIT_TO_EVAL": "train",
            "SKIP_SPLIT_FOL": True,
            "SEQ_INFO": seq_info,
            "PRINT_CONFIG": False,
            "DO_PREPROC": bench != "MOT15",
        }
        eval_config = {
            "USE_PARALLEL": False,
            "PRINT_RESULTS": False,
            "PRINT_CONFIG": False,
            "TIME_PROGRESS": False,
            "OUTPUT_SUMMARY": False,
            "OUTPUT_DETAILED": False,
            "PLOT_CURVES": False,
            "DISPLAY_LESS_PROGRESS": True,
            "OUTPUT_EMPTY_CLASSES": False,
            "BREAK_ON_ERROR": True,
            "RETURN_ON_ERROR": False,
            "LOG_ON_ERROR": None,
        }
        evaluator = trackeval.Evaluator(eval_config)
        dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
        metrics = [
            trackeval.metrics.HOTA(),
            trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
            trackeval.metrics.Identity({"PRINT_CONFIG": False}),
        ]
        with contextlib.redirect_stdout(io.StringIO()):
            raw, _ = evaluator.evaluate([dataset], metrics)
    per_seq = raw["MotChallenge2DBox"]["shigu"]
    result = MotEvalResult(benchmark=bench, sequences=[s.name for s in seq_dirs])
    for name in [*result.sequences, "COMBINED_SEQ"]:
        entry = per_seq[name]["pedestrian"]
        row: dict[str, float] = {}
        for key in HOTA_KEYS:
            row[key] = float(np.mean(entry["HOTA"][key])) * 100
        for key in CLEAR_KEYS:
            row[key] = _scale(key, entry["CLEAR"][key])
        for key in IDENTITY_KEYS:
            row[key] = _scale(key, entry["Identity"][key])
        label = "COMBINED" if name == "COMBINED_SEQ" else name
        result.metrics[label] = row
        result.hota_curve[label] = [float(v) * 100 for v in entry["HOTA"]["HOTA"]]
    return result


def _scale(key: str, value: Any) -> float:
    number = float(value)
    return number * 100 if key in PERCENT_KEYS else number


def _validate_results(path: Path) -> None:
    """Fail with a clear message before TrackEval meets a malformed result file."""
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        return
    first = text.splitlines()[0]
    parts = first.replace(" ", ",").split(",")
    try:
        [float(p) for p in parts[:6]]
    except ValueError as exc:
        raise InputError(
            f"{path} is not a MOTChallenge result file (first line: {first[:60]!r})",
            "rows must be frame,id,left,top,width,height,conf,-1,-1,-1",
        ) from exc
    if len(parts) < 6:
        raise InputError(f"{path} has {len(parts)} columns; MOTChallenge results need at least 6")
