"""Everything about a config that can be known without running it, reported all at once.

``shigu config validate`` and ``shigu run`` share these checks, so a config that validates
does not fail at start-up for a reason that could have been seen: an unknown class, tracker
or model, a store URL no driver reads, a video file that is not there, or (with ``probe``,
which opens the sources) a zone or line outside the frame.
"""

from __future__ import annotations

from pathlib import Path

from shigu.pipeline.config import Config, DetectorConfig

_STREAM_PREFIXES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "srt://", "webcam:")
_STORE_SCHEMES = ("sqlite:///", "postgresql://", "postgresql+psycopg://")


def resolve_input(value: str, base: Path | None) -> str:
    """A relative local path as the config file's folder sees it, else as the working folder
    does (older configs were written relative to where `shigu run` was started)."""
    if base is None or value.startswith(_STREAM_PREFIXES) or Path(value).is_absolute():
        return value
    beside = base / value
    return str(beside) if beside.exists() or any(c in value for c in "*?[") else value


def _is_local(uri: str) -> bool:
    return not uri.startswith(_STREAM_PREFIXES) and not uri.startswith("/dev/video")


def _check_detector(where: str, det: DetectorConfig, problems: list[str]) -> tuple[str, ...] | None:
    """Problems of one detector config; its label set when known."""
    from shigu.core.labels import label_set
    from shigu.detect.factory import DETECTORS
    from shigu.runtime.registry import MODELS

    spec = MODELS.get(det.model)
    if spec is None and not Path(det.model).is_file():
        known = ", ".join(m for m, s in MODELS.items() if s.format in DETECTORS)
        problems.append(
            f"{where}.model: {det.model!r} is neither a known model ({known}) nor an .onnx file"
        )
        return None
    if spec is not None and spec.format not in DETECTORS:
        problems.append(f"{where}.model: {det.model} is a {spec.format} model, not a detector")
        return None
    labels = label_set(spec.labels) if spec is not None else None
    for i, name in enumerate(det.classes or []):
        if labels is not None and name not in labels and not name.isdigit():
            problems.append(f"{where}.classes[{i}]: {name!r} is not a class of {det.model}")
    return labels


def check_config(cfg: Config, probe: bool = False, sources: bool = True) -> list[str]:
    """One line per problem (``key.path: what is wrong``); empty when the config is sound.

    ``sources=False`` leaves out missing source files: `shigu run` keeps going with the
    sources that open (a camera may be down) and reports the others.
    """
    from shigu.runtime.registry import MODELS
    from shigu.track.factory import PRESETS

    problems: list[str] = []
    labels_of = {"": _check_detector("pipeline.detector", cfg.pipeline.detector, problems)}
    for i, sc in enumerate(cfg.sources):
        if sc.detector is not None:
            labels_of[sc.id] = _check_detector(f"sources[{i}].detector", sc.detector, problems)
    lists = [(f"lines[{i}]", ln.source, ln.classes) for i, ln in enumerate(cfg.lines)]
    lists += [
        (f"zones[{i}].rules[{j}]", zone.source, getattr(rule, "classes", None))
        for i, zone in enumerate(cfg.zones)
        for j, rule in enumerate(zone.rules)
    ]
    for where, src_id, names in lists:
        labels = labels_of.get(src_id, labels_of[""])
        model = cfg.detector_for(src_id).model
        for k, name in enumerate(names or []):
            if labels is not None and name not in labels:
                problems.append(f"{where}.classes[{k}]: {name!r} is not a class of {model}")
    for i, sec in enumerate(cfg.pipeline.secondary):
        sspec = MODELS.get(sec.model)
        kinds = ("movenet", "blazepose", "reid")
        if (sspec is None and not Path(sec.model).is_file()) or (
            sspec is not None and sspec.format not in kinds
        ):
            known = ", ".join(m for m, s in MODELS.items() if s.format in kinds)
            problems.append(
                f"pipeline.secondary[{i}].model: {sec.model!r} is not a secondary model "
                f"({known}, or an .onnx file)"
            )
        primary = labels_of[""]
        for k, name in enumerate(sec.classes or []):
            if primary is not None and name not in primary:
                problems.append(
                    f"pipeline.secondary[{i}].classes[{k}]: {name!r} is not a class of "
                    f"{cfg.pipeline.detector.model}"
                )
    tr = cfg.pipeline.tracker
    if tr is not None:
        if tr.type not in PRESETS and tr.type != "default":
            problems.append(
                f"pipeline.tracker.type: unknown tracker {tr.type!r} (use {', '.join(PRESETS)})"
            )
        if tr.reid:
            rspec = MODELS.get(tr.reid)
            if (rspec is None and not Path(tr.reid).is_file()) or (
                rspec is not None and rspec.format != "reid"
            ):
                problems.append(f"pipeline.tracker.reid: {tr.reid!r} is not a ReID model")
    url = cfg.store.url
    if not url.startswith(_STORE_SCHEMES):
        problems.append(
            f"store.url: {url.split('@')[-1]!r} is not a supported store "
            "(sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)"
        )
    elif url.startswith("sqlite:///") and url not in ("sqlite:///", "sqlite:///:memory:"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        if str(folder) and not folder.is_dir():
            problems.append(f"store.url: the folder {folder} does not exist")
    for i, source in enumerate(cfg.sources if sources else []):
        if _is_local(source.uri) and not any(c in source.uri for c in "*?["):
            path = Path(source.uri.removeprefix("images:").removeprefix("file://"))
            if not path.exists():
                problems.append(f"sources[{i}].uri: {source.uri} does not exist")
        t = source.telemetry
        for key, value in (("srt", t.srt if t else None), ("dem", t.dem if t else None)):
            if value and not Path(value).is_file():
                problems.append(f"sources[{i}].telemetry.{key}: {value} does not exist")
    if probe and not problems:
        problems += _probe(cfg)
    return problems


def _probe(cfg: Config) -> list[str]:
    """Open each source for its frame size; zones and lines must lie inside it."""
    from shigu.core.errors import ShiguError
    from shigu.pipeline.engine import _check_zone_bounds
    from shigu.sources import open_source

    problems = []
    for i, source in enumerate(cfg.sources):
        try:
            src = open_source(source.uri, source_id=source.id)
        except ShiguError as exc:
            problems.append(f"sources[{i}].uri: {exc.one_line()}")
            continue
        try:
            _check_zone_bounds(cfg, source.id, src.info.width, src.info.height)
        except ShiguError as exc:
            problems.append(exc.message)
        finally:
            src.close()
    return problems
