"""CLI tests run the installed ``shigu`` entry point in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_ENTRY_POINT = Path(sys.executable).with_name("shigu")
# the console script pip installed beside this interpreter; ``python -m shigu`` if there is none
SHIGU = [str(_ENTRY_POINT)] if _ENTRY_POINT.exists() else [sys.executable, "-m", "shigu"]


def run_cli(
    *args: str | Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [*SHIGU, *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=cwd,
    )


def assert_one_line_error(
    proc: subprocess.CompletedProcess[str], contains: str, code: int | None = None
) -> None:
    assert proc.returncode != 0, proc.stdout
    if code is not None:
        assert proc.returncode == code, (proc.returncode, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip().startswith("error:")]
    assert len(lines) == 1, err
    assert contains in lines[0], err
