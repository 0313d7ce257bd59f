"""The pipeline's YAML config, validated with pydantic.

Errors name the key path and what was expected, e.g.
``zones[0].rules[0].min_seconds: Input should be a valid number``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from shigu.analytics.motion import MotionConfig
from shigu.core.errors import ConfigError
from shigu.core.geometry import polygon_problem
from shigu.detect.slicing import SliceConfig
from shigu.stages.secondary import SecondaryConfig

Point = tuple[float, float]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # no NaN or Infinity


MAX_POLYGON_POINTS = 256  # a zone is drawn by hand; thousands of points only slow validation


class SourceConfig(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    uri: str
    fps: float | None = Field(None, gt=0, description="process at most this many frames/s")
    realtime: bool = Field(False, description="pace a file at its own frame rate, as a camera")
    loop: bool = Field(False, description="start a file over at its end (demos, soak tests)")
    calibration: Calibration | None = None
    motion: MotionConfig | None = Field(
        None, description="this source's motion-gate settings (keys given override pipeline's)"
    )
    detector: DetectorConfig | None = Field(
        None, description="this source's own detector (default: the pipeline's)"
    )
    telemetry: TelemetryConfig | None = Field(
        None, description="a drone's flight telemetry: tracks and events on the map"
    )


class TelemetryConfig(Strict):
    """Where the camera was: a DJI SRT file, or MISB ST 0601 KLV in the video (``klv``)."""

    srt: str | None = Field(None, description="DJI .SRT beside the video")
    klv: bool = Field(False, description="read MISB ST 0601 KLV from the video's data stream")
    hfov: float | None = Field(
        None, gt=0, lt=180, description="horizontal field of view, degrees (default: KLV's, 82)"
    )
    dem: str | None = Field(None, description="terrain heights: GeoTIFF or ESRI .asc")
    ground_alt: float | None = Field(
        None, description="KLV: the ground's height above sea level, metres"
    )

    @model_validator(mode="after")
    def _one_source(self) -> TelemetryConfig:
        if (self.srt is None) == (not self.klv):
            raise ValueError("give telemetry either srt: FILE.SRT or klv: true")
        return self


class Calibration(Strict):
    """Four (or more) image points and where they are on the ground, in metres."""

    image: list[Point] = Field(min_length=4)
    world: list[Point] = Field(min_length=4)
    geo: list[Point] | None = Field(
        None, description="the same points' [latitude, longitude] (WGS-84), for roadside messages"
    )

    @model_validator(mode="after")
    def _same_length(self) -> Calibration:
        if len(self.image) != len(self.world):
            raise ValueError("image and world need the same number of points")
        if self.geo is not None:
            if len(self.geo) != len(self.world):
                raise ValueError("geo needs one [latitude, longitude] per world point")
            if any(not (-90 <= a <= 90 and -180 <= b <= 180) for a, b in self.geo):
                raise ValueError("geo points are [latitude, longitude] in degrees")
        return self


class DetectorConfig(Strict):
    model: str = "yolox-nano"
    format: str | None = None
    classes: list[str] | None = None
    conf: float = Field(0.1, ge=0, le=1, description="low, so the tracker sees weak boxes too")
    device: str = "cpu"
    slice: SliceConfig | None = Field(
        None, description="sliced inference for small objects in large frames (SAHI's)"
    )


class TrackerSection(Strict):
    """The pipeline's default is ByteTrack with relinking: with lost tracks relinked to the
    new ids that continue them, it counted line crossings closest to ground truth over
    hundreds of random lines (docs/pipeline.md, benchmarks/line_counts.py)."""

    type: str = "bytetrack"
    lost_buffer: int | None = Field(None, ge=1)
    cmc: bool = False
    reid: str | None = None
    relink_seconds: float | None = Field(
        None,
        ge=0,
        le=60,
        description="a new track born where another was lost at most this long ago continues "
        "it (counts once); 0 turns relinking off; default 2 s, off for OC-SORT",
    )

    def relink(self) -> float:
        """Relinking window in seconds. OC-SORT re-finds lost tracks by their last observation
        itself; relinking on top of it chained swapped identities and undercounted."""
        if self.relink_seconds is not None:
            return self.relink_seconds
        return 0.0 if self.type.startswith("ocsort") else 2.0


class PluginStage(Strict):
    """A stage from an installed plugin (the ``shigu.stages`` entry-point group)."""

    use: str = Field(description="the stage's entry-point name")
    options: dict[str, Any] = Field(default_factory=dict)
    _typed: BaseModel | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _known(self) -> PluginStage:
        from shigu.stages import stage_options

        try:
            self._typed = stage_options(self.use, self.options)
        except ConfigError as exc:
            raise ValueError(exc.message + (f"; {exc.hint}" if exc.hint else "")) from None
        return self

    @property
    def typed_options(self) -> BaseModel:
        """The options as the stage's own pydantic model."""
        assert self._typed is not None
        return self._typed


class PipelineSection(Strict):
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    secondary: list[SecondaryConfig] = Field(
        default_factory=list, description="models run on crops of the tracked objects"
    )
    stages: list[PluginStage] = Field(default_factory=list, description="plugin stages")
    motion: MotionConfig = Field(
        default_factory=MotionConfig, description="skip detection on frames where nothing moves"
    )
    tracker: TrackerSection | None = Field(default_factory=TrackerSection)
    mode: Literal["auto", "file", "live"] = "auto"
    anchor: Literal["bottom_center", "center", "top_center"] = "bottom_center"
    batch: int = Field(4, ge=1, le=64, description="frames per inference batch across sources")
    queue: int = Field(8, ge=1, le=1024, description="decoded frames buffered per source")


class IntrusionRule(Strict):
    type: Literal["intrusion"]
    classes: list[str] | None = None
    min_seconds: float = Field(0.0, ge=0)


class LoiteringRule(Strict):
    type: Literal["loitering"]
    classes: list[str] | None = None
    min_seconds: float = Field(30.0, gt=0)


class CrowdingRule(Strict):
    type: Literal["crowding"]
    classes: list[str] | None = None
    max_count: int = Field(ge=0)
    min_seconds: float = Field(0.0, ge=0)


class WrongWayRule(Strict):
    type: Literal["wrong_way"]
    classes: list[str] | None = None
    direction: Point
    min_seconds: float = Field(1.0, gt=0)
    min_distance: float = Field(20.0, ge=0)


class StoppedRule(Strict):
    type: Literal["stopped"]
    classes: list[str] | None = None
    min_seconds: float = Field(gt=0)
    max_move: float = Field(10.0, ge=0, description="pixels moved at most over min_seconds")


class SpeedingRule(Strict):
    type: Literal["speeding"]
    classes: list[str] | None = None
    max_kmh: float = Field(gt=0)
    min_seconds: float = Field(
        0.0, ge=0, description="the speed stays above max_kmh this long before it fires"
    )


class TemperatureRule(Strict):
    """Thermal sources: the zone's hottest point above ``max_celsius`` for ``min_seconds``."""

    type: Literal["temperature"]
    max_celsius: float
    min_seconds: float = Field(0.0, ge=0)
    hysteresis: float = Field(1.0, ge=0, description="end once this far below the threshold")


class FallRule(Strict):
    """People: a fast descent to the floor, then lying there (docs/living.md)."""

    type: Literal["fall"]
    classes: list[str] | None = None
    min_lying_seconds: float = Field(2.0, gt=0, le=600, description="on the floor this long")
    descent_seconds: float = Field(1.0, gt=0, le=10, description="a fall takes at most this")
    lying_ratio: float = Field(
        0.6, gt=0, lt=0.8, description="down: at most this share of the upright height"
    )


class OccupancyRule(Strict):
    """Head counts per minute and ``occupied`` events with hysteresis (docs/living.md)."""

    type: Literal["occupancy"]
    classes: list[str] | None = None
    occupied_seconds: float = Field(1.0, ge=0, le=600, description="someone in it this long")
    empty_seconds: float = Field(30.0, ge=0, le=86400, description="nobody seen this long")


class PluginRule(Strict):
    """A zone rule from an installed plugin (the ``shigu.rules`` entry-point group)."""

    type: Literal["plugin"]
    use: str = Field(description="the rule's entry-point name")
    classes: list[str] | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> PluginRule:
        from shigu.analytics.scene import rule_options

        try:
            rule_options(self.use, self.options)
        except ConfigError as exc:
            raise ValueError(exc.message + (f"; {exc.hint}" if exc.hint else "")) from None
        return self


RuleConfig = Annotated[
    IntrusionRule
    | LoiteringRule
    | CrowdingRule
    | WrongWayRule
    | StoppedRule
    | SpeedingRule
    | TemperatureRule
    | FallRule
    | OccupancyRule
    | PluginRule,
    Field(discriminator="type"),
]


class ZoneConfig(Strict):
    id: str
    source: str
    polygon: list[Point] = Field(min_length=3, max_length=MAX_POLYGON_POINTS)
    rules: list[RuleConfig] = Field(default_factory=list)
    furniture: bool = Field(False, description="a bed or sofa: lying there is not a fall")

    @field_validator("polygon")
    @classmethod
    def _simple_polygon(cls, polygon: list[Point]) -> list[Point]:
        problem = polygon_problem(polygon)
        if problem:
            raise ValueError(problem)
        return polygon


class LineConfig(Strict):
    id: str
    source: str
    points: tuple[Point, Point]
    classes: list[str] | None = None

    @field_validator("points")
    @classmethod
    def _distinct(cls, points: tuple[Point, Point]) -> tuple[Point, Point]:
        if points[0] == points[1]:
            raise ValueError("the two points of a line must differ")
        return points


class StoreConfig(Strict):
    url: str = "sqlite:///shigu.db"
    media_dir: str = "shigu-media"
    retention_days: float | None = Field(30, gt=0)
    retention_gb: float | None = Field(10, gt=0)


class MediaConfig(Strict):
    snapshots: bool = True
    clips: bool = False
    pre_seconds: float = Field(2.0, ge=0, le=30)
    post_seconds: float = Field(3.0, ge=0, le=60)
    jpeg_quality: int = Field(85, ge=10, le=100)


class WebhookSink(Strict):
    url: str
    retries: int = Field(5, ge=0)
    timeout: float = Field(5.0, gt=0)
    dead_letter: str = "webhook-dead-letter.jsonl"


class MqttSink(Strict):
    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "shigu"
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    discovery_prefix: str | None = Field(
        "homeassistant", description="Home Assistant MQTT discovery of occupancy rooms; null: off"
    )


class RoadsideSink(Strict):
    """Roadside safety (RSM) and information (RSI) messages over MQTT (docs/vehicles.md)."""

    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "v2x"
    rsu_id: str = Field("shigu-rsu", pattern=r"^[A-Za-z0-9_.-]+$")
    rate_hz: float = Field(10.0, gt=0, le=50, description="RSMs per second of media time")
    flow_seconds: float = Field(60.0, gt=0, description="lane counts every this many seconds")
    queue_kmh: float = Field(5.0, gt=0, description="vehicles slower than this are queuing")
    qos: int = Field(0, ge=0, le=2)
    username: str | None = None
    password: str | None = None
    client_id: str | None = None


class SinksConfig(Strict):
    jsonl: str | None = None
    webhook: WebhookSink | None = None
    mqtt: MqttSink | None = None
    roadside: RoadsideSink | None = Field(
        None, description="RSM/RSI roadside messages of calibrated sources over MQTT"
    )
    video_dir: str | None = Field(None, description="annotated MP4 per source in this folder")
    heatmap_dir: str | None = Field(None, description="heatmap PNG per source in this folder")
    geojson: str | None = Field(
        None, description="tracks and events of sources with telemetry, as GeoJSON"
    )
    kml: str | None = Field(None, description="the same as KML")


class MetricsConfig(Strict):
    port: int | None = Field(None, ge=0, le=65535, description="serve /metrics (Prometheus)")
    file: str | None = Field(None, description="write Prometheus text here at the end")


class Config(Strict):
    sources: list[SourceConfig] = Field(min_length=1)
    pipeline: PipelineSection = Field(default_factory=PipelineSection)
    zones: list[ZoneConfig] = Field(default_factory=list)
    lines: list[LineConfig] = Field(default_factory=list)
    store: StoreConfig = Field(default_factory=StoreConfig)
    media: MediaConfig = Field(default_factory=MediaConfig)
    sinks: SinksConfig = Field(default_factory=SinksConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)

    def motion_for(self, source_id: str) -> MotionConfig:
        """The motion settings of a source: the pipeline's, with the source's keys over them."""
        base = self.pipeline.motion
        sc = next((s for s in self.sources if s.id == source_id), None)
        if sc is None or sc.motion is None:
            return base
        return base.model_copy(
            update={k: getattr(sc.motion, k) for k in sc.motion.model_fields_set}
        )

    def detector_for(self, source_id: str) -> DetectorConfig:
        """The detector a source uses: its own, or the pipeline's."""
        sc = next((s for s in self.sources if s.id == source_id), None)
        return sc.detector if sc is not None and sc.detector is not None else self.pipeline.detector

    @model_validator(mode="after")
    def _references(self) -> Config:
        ids = [s.id for s in self.sources]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate source id(s): {', '.join(sorted(dup))}")
        groups: list[tuple[str, list[tuple[str, str]]]] = [
            ("zones", [(z.id, z.source) for z in self.zones]),
            ("lines", [(ln.id, ln.source) for ln in self.lines]),
        ]
        for kind, items in groups:
            names = [name for name, _ in items]
            dupz = {i for i in names if names.count(i) > 1}
            if dupz:
                raise ValueError(f"duplicate {kind} id(s): {', '.join(sorted(dupz))}")
            for i, (_, source) in enumerate(items):
                if source not in ids:
                    raise ValueError(
                        f"{kind}[{i}].source: {source!r} is not a source id "
                        f"(sources: {', '.join(ids)})"
                    )
        calibrated = {s.id for s in self.sources if s.calibration is not None}
        uris = {s.id: s.uri for s in self.sources}
        for i, zone in enumerate(self.zones):
            for j, rule in enumerate(zone.rules):
                if rule.type == "temperature" and not _is_thermal(uris[zone.source]):
                    raise ValueError(
                        f"zones[{i}].rules[{j}]: temperature needs a thermal source "
                        f"(uri 'thermal:PATH'), {zone.source!r} is {uris[zone.source]!r}"
                    )
                if rule.type == "speeding" and zone.source not in calibrated:
                    raise ValueError(
                        f"zones[{i}].rules[{j}]: speeding needs a calibration on source "
                        f"{zone.source!r}"
                    )
        return self


def _is_thermal(uri: str) -> bool:
    return uri.startswith("thermal:") or uri.lower().endswith(".seq")


SourceConfig.model_rebuild()


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in (
            "intrusion",
            "loitering",
            "crowding",
            "wrong_way",
            "stopped",
            "speeding",
            "temperature",
            "plugin",
        ):
            continue  # the discriminator's branch name is noise in the path
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def format_errors(exc: ValidationError) -> list[str]:
    """One line per problem: ``key.path: what was wrong``."""
    lines = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see `shigu config validate --help`)"
        path = _path(err["loc"])
        lines.append(msg if path == "(top level)" and ": " in msg else f"{path}: {msg}")
    return lines


def parse_config(data: Any, origin: str = "config") -> Config:
    """Validate already-loaded YAML/JSON data."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"{origin}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        errors = format_errors(exc)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        err = ConfigError(
            f"{origin}: {errors[0]}{more}", "run `shigu config validate FILE` for all"
        )
        err.details = errors  # type: ignore[attr-defined]
        raise err from None


def read_yaml(p: Path, what: str) -> Any:
    """Load a YAML file given by a user: every way it can be unreadable is one ConfigError
    (missing, not YAML with its line, not text, a huge number, nesting too deep)."""
    if not p.is_file():
        raise ConfigError(f"{what} file not found: {p}", "pass the path of a YAML file")
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{p} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p} is not a text file") from None
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, nesting 1000 deep
        reason = (
            "it is nested too deeply"
            if isinstance(exc, RecursionError)
            else "it holds a number with too many digits"
            if "digits" in str(exc)
            else str(exc)[:120]
        )
        raise ConfigError(f"{p} cannot be read: {reason}", "check the file") from None


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file.

    Relative input paths (source files, model files) are found beside the config file first,
    then in the working folder; output paths (store, media, sinks) stay relative to the
    working folder, where `shigu run` is started."""
    p = Path(path)
    data = read_yaml(p, "config")
    cfg = parse_config(data, str(p))
    from shigu.pipeline.checks import resolve_input

    base = p.resolve().parent
    for source in cfg.sources:
        source.uri = resolve_input(source.uri, base)
        if source.telemetry is not None:
            t = source.telemetry
            t.srt = resolve_input(t.srt, base) if t.srt else t.srt
            t.dem = resolve_input(t.dem, base) if t.dem else t.dem
    det = cfg.pipeline.detector
    if det.model.endswith(".onnx"):
        det.model = resolve_input(det.model, base)
    for sec in cfg.pipeline.secondary:
        if sec.model.endswith(".onnx"):
            sec.model = resolve_input(sec.model, base)
    if cfg.pipeline.tracker is not None and cfg.pipeline.tracker.reid:
        cfg.pipeline.tracker.reid = resolve_input(cfg.pipeline.tracker.reid, base)
    return cfg
