"""Re-running the same files stores the same events, not a second copy.

A run whose sources are all local files read as fast as they decode (not paced, not looped)
is deterministic, so its events can take ids derived from the inputs and the settings instead
of random ones (as runs on Ray already do); the store then replaces rather than duplicates
them when the same run is made again, after a crash or on purpose. Any change to a file (size
or modification time), a source, the pipeline, the zones or the lines gives new ids.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from shigu.pipeline.config import Config


def file_run_salt(cfg: Config) -> str | None:
    """The id salt of a deterministic file run, or None when a source is live or paced."""
    parts = []
    for source in cfg.sources:
        if source.realtime or source.loop:
            return None
        path = Path(source.uri).expanduser()
        if not path.is_file():
            return None  # a stream, a camera, a folder of images that may change
        stat = path.stat()
        parts.append([source.id, str(path.resolve()), stat.st_size, stat.st_mtime_ns,
                      source.model_dump(mode="json")])  # fmt: skip
    settings = {
        "sources": parts,
        "pipeline": cfg.pipeline.model_dump(mode="json"),
        "zones": [z.model_dump(mode="json") for z in cfg.zones],
        "lines": [line.model_dump(mode="json") for line in cfg.lines],
    }
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return "file-run:" + hashlib.sha256(blob).hexdigest()
