"""Schemathesis fuzzes every operation of the OpenAPI document: no answer may be a 5xx."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.conftest import free_port
from tests.server.conftest import Api

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_schemathesis_finds_no_server_errors(api: Api, tmp_path: Path) -> None:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="error"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not server.started:
        time.sleep(0.05)
    auth = f"Authorization: Bearer {api.tokens['admin']}"
    spec = httpx.get(base + "/api/openapi.json", headers={"Authorization": auth.split(": ", 1)[1]})
    assert spec.status_code == 200 and len(spec.json()["paths"]) >= 20
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    try:
        proc = subprocess.run(
            [
                cli,
                "run",
                base + "/api/openapi.json",
                "-H",
                auth,
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--seed",
                "1",
                "--request-timeout",
                "20",
                "--phases",
                "examples,coverage,fuzzing",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    report = proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, report
    import re

    passed = re.search(r"(\d+) generated, (\d+) passed", proc.stdout)
    assert passed is not None and int(passed.group(2)) > 500, report
    assert not re.search(r"\d+ failed", proc.stdout), report
    print(proc.stdout[-1500:])
