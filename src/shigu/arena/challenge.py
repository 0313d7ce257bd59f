"""A challenge as one YAML file: tracks, phases with hidden ground truth and a public/private
split, submission limits, the expert panel's criteria and the award tiers.

Validated like the pipeline config (one line per problem, ``key.path: what was wrong``).
Ground-truth and baseline paths are read relative to the challenge file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from shigu.core.errors import ConfigError
from shigu.pipeline.config import Strict, format_errors, read_yaml

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Task = Literal["mot", "anomaly", "coco", "segmentation", "plates", "custom"]

# The metrics each task's scorer reports, with their natural ordering.
TASK_METRICS: dict[str, dict[str, bool]] = {
    "mot": {"HOTA": True, "MOTA": True, "IDF1": True, "DetA": True, "AssA": True, "IDSW": False},
    "anomaly": {"image_auroc": True, "pixel_auroc": True, "pro": True},
    "coco": {"AP": True, "AP50": True, "AP75": True, "AR100": True},
    "segmentation": {"dice": True, "hd95_mm": False},
    "plates": {"exact": True, "chars": True},
}

DEFAULT_CRITERIA = (
    ("talent", "Talent and team", 0.25),
    ("technical", "Technical advancement", 0.25),
    ("industrialisation", "Industrialisation capability", 0.25),
    ("landing", "Landing form", 0.25),
)


class Limits(Strict):
    """Submissions a team may make per track and phase (failed ones do not count)."""

    per_day: int = Field(5, ge=1, le=1000)
    total: int = Field(100, ge=1, le=100000)


class TrackPhase(Strict):
    """A track's hidden part in one phase: ground truth (never served) and its split."""

    ground_truth: str
    public: list[str] | None = Field(
        None, description="item ids scored on the public leaderboard (the rest are private)"
    )
    public_fraction: float = Field(0.5, gt=0, lt=1)
    baselines: dict[Id, str] = Field(default_factory=dict)


class Phase(Strict):
    id: Id
    title: str = ""
    kind: Literal["heat", "final"] = "heat"
    region: str = ""
    start: datetime
    end: datetime
    limits: Limits = Field(default_factory=Limits)
    final_selections: int = Field(2, ge=1, le=20, description="submissions a team may select")
    tracks: dict[Id, TrackPhase]

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end <= self.start:
            raise ValueError(f"phase {self.id!r} ends before it starts")
        return self


class Track(Strict):
    id: Id
    title: str = ""
    task: Task
    metric: str
    higher_is_better: bool | None = None
    scorer: str | None = Field(
        None, description="for task custom: 'module:function' (organisers' own scoring code)"
    )
    ladder_step: float | None = Field(
        None, gt=0, description="public leaderboard moves only on an improvement beyond this"
    )
    time_limit_s: float = Field(600.0, gt=0, le=86400)
    memory_mb: int = Field(4096, ge=64, le=262144)
    max_upload_mb: float = Field(200.0, gt=0, le=100000)

    @model_validator(mode="after")
    def _metric(self) -> Track:
        if self.task == "custom":
            if not self.scorer or ":" not in self.scorer:
                raise ValueError(f"track {self.id!r}: task custom needs scorer: 'module:function'")
            if self.higher_is_better is None:
                self.higher_is_better = True
            return self
        known = TASK_METRICS[self.task]
        if self.metric not in known:
            raise ValueError(
                f"track {self.id!r}: metric {self.metric!r} is not one of {', '.join(known)}"
            )
        if self.higher_is_better is None:
            self.higher_is_better = known[self.metric]
        return self


class Criterion(Strict):
    id: Id
    title: str = ""
    weight: float = Field(gt=0, le=100)


class Panel(Strict):
    """How the expert panel scores finalists."""

    criteria: list[Criterion] = Field(
        default_factory=lambda: [Criterion(id=i, title=t, weight=w) for i, t, w in DEFAULT_CRITERIA]
    )
    scale: tuple[float, float] = (0.0, 10.0)
    judges_per_finalist: int = Field(3, ge=1, le=50)
    normalise: Literal["zscore", "robust", "none"] = "zscore"
    benchmark_criterion: str | None = Field(
        "technical", description="criterion the automatic score feeds (None: it feeds none)"
    )
    benchmark_weight: float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _known(self) -> Panel:
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("panel.criteria: ids must be unique")
        if self.benchmark_weight > 0 and self.benchmark_criterion not in ids:
            raise ValueError(f"panel.benchmark_criterion {self.benchmark_criterion!r} unknown")
        if self.scale[1] <= self.scale[0]:
            raise ValueError("panel.scale: the maximum must be above the minimum")
        return self


class AwardTier(Strict):
    name: str = Field(min_length=1, max_length=80)
    count: int = Field(ge=1, le=1000)


class Challenge(Strict):
    id: Id
    title: str = ""
    private: bool = Field(False, description="participants join by invitation only")
    max_team_size: int = Field(5, ge=1, le=100)
    tracks: list[Track] = Field(min_length=1)
    phases: list[Phase] = Field(min_length=1)
    panel: Panel = Field(default_factory=Panel)
    awards: list[AwardTier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _refs(self) -> Challenge:
        tracks = {t.id for t in self.tracks}
        if len(tracks) != len(self.tracks):
            raise ValueError("tracks: ids must be unique")
        if len({p.id for p in self.phases}) != len(self.phases):
            raise ValueError("phases: ids must be unique")
        for phase in self.phases:
            unknown = set(phase.tracks) - tracks
            if unknown:
                raise ValueError(f"phase {phase.id!r} names unknown track {sorted(unknown)[0]!r}")
        return self

    def track(self, track_id: str) -> Track:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise ConfigError(
            f"no track {track_id!r} in challenge {self.id!r}",
            f"tracks are: {', '.join(t.id for t in self.tracks)}",
        )

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise ConfigError(
            f"no phase {phase_id!r} in challenge {self.id!r}",
            f"phases are: {', '.join(p.id for p in self.phases)}",
        )

    @property
    def final(self) -> Phase | None:
        return next((p for p in self.phases if p.kind == "final"), None)


def parse_challenge(data: object, origin: str = "challenge", base: Path | None = None) -> Challenge:
    """Validate loaded YAML; relative ground-truth and baseline paths become absolute."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping at the top level")
    try:
        challenge = Challenge.model_validate(data)
    except ValidationError as exc:
        errors = format_errors(exc)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{origin}: {errors[0]}{more}", "fix the challenge file") from None
    if base is not None:
        for phase in challenge.phases:
            for tp in phase.tracks.values():
                tp.ground_truth = str((base / tp.ground_truth).resolve())
                tp.baselines = {k: str((base / v).resolve()) for k, v in tp.baselines.items()}
    return challenge


def load_challenge(path: str | Path) -> Challenge:
    p = Path(path)
    challenge = parse_challenge(read_yaml(p, "challenge"), str(p), p.resolve().parent)
    for phase in challenge.phases:
        for track_id, tp in phase.tracks.items():
            if not Path(tp.ground_truth).exists():
                raise ConfigError(
                    f"{p}: phase {phase.id!r} track {track_id!r}: ground truth not found: "
                    f"{tp.ground_truth}",
                    "paths are relative to the challenge file",
                )
    return challenge
