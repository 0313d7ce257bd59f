"""``shigu doctor``: what this installation has, in one table, before a user files a bug."""

from __future__ import annotations

import importlib
import os
import platform
from pathlib import Path

import typer
from rich.table import Table

from shigu.cli._common import console

HELP = """Check this installation: versions, ONNX Runtime providers, FFmpeg, the model cache,
the optional parts (store, server, Ray, industrial, 3D) and whether the event store opens.

Paste its output into a bug report. Exit code 1 when something needed is broken.

Example: shigu doctor --config examples/security/pets_perimeter.yaml
"""

EXTRAS = {
    "store (events, MQTT)": ("sqlalchemy", "paho.mqtt"),
    "server (dashboard, API)": ("fastapi", "uvicorn"),
    "scale (Ray)": ("ray", "pyarrow"),
    "eval (COCO, TrackEval)": ("pycocotools", "trackeval"),
    "industrial (codes, OCR)": ("zxingcpp", "rapidocr_onnxruntime"),
    "spatial (3D, Open3D)": ("open3d", "laspy"),
}


def _version(module: str) -> str | None:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # an import can fail in many ways (missing .so, bad build)
        return None if isinstance(exc, ModuleNotFoundError) else f"broken: {exc}"
    return str(getattr(mod, "__version__", "installed"))


def doctor(
    config: Path | None = typer.Option(None, "--config", help="Also open this config's store."),
    db: str | None = typer.Option(None, "--db", help="Also open this store URL."),
) -> None:
    from shigu import __version__

    table = Table(title=f"shigu {__version__}", title_justify="left", show_header=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    broken = False
    table.add_row("python", f"{platform.python_version()} on {platform.platform(terse=True)}")
    table.add_row("cores", str(os.cpu_count()))
    for name, module in (("numpy", "numpy"), ("opencv", "cv2"), ("onnxruntime", "onnxruntime")):
        version = _version(module)
        broken |= version is None or version.startswith("broken")
        table.add_row(name, version or "missing")
    import onnxruntime

    table.add_row("ORT providers", ", ".join(onnxruntime.get_available_providers()))
    import av

    libs = ", ".join(f"{k} {'.'.join(map(str, v))}" for k, v in av.library_versions.items())
    table.add_row("PyAV / FFmpeg", f"{av.__version__} ({libs})")
    from shigu.runtime.zoo import shigu_home

    models = shigu_home() / "models"
    cached = sorted(p.name for p in models.glob("*.onnx")) if models.is_dir() else []
    table.add_row("model cache", f"{models} ({len(cached)} models)")
    table.add_row("model mirror", os.environ.get("SHIGU_MODEL_MIRROR") or "none (downloads)")
    for extra, modules in EXTRAS.items():
        versions = [(m, _version(m)) for m in modules]
        text = ", ".join(f"{m} {v}" if v else f"{m} missing" for m, v in versions)
        table.add_row(extra, text)
    table.add_row("event store", _store_status(db, config))
    console.print(table)
    if broken:
        raise typer.Exit(1)


def _store_status(db: str | None, config: Path | None) -> str:
    from shigu.core.errors import ShiguError
    from shigu.store.locate import locate_store

    try:
        url, origin = locate_store(db, config)
        from shigu.store import EventStore

        store = EventStore(url)
        try:
            n = store.count()
        finally:
            store.close()
    except ShiguError as exc:
        return f"not opened: {exc.one_line()}"
    except Exception as exc:  # a driver error is a finding here, not a crash
        return f"not opened: {type(exc).__name__}: {exc}"
    return f"ok, {n} events ({origin})"


def register(root: typer.Typer) -> None:
    root.command("doctor", help=HELP)(doctor)
