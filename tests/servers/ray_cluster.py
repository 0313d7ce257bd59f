"""A real Ray cluster on loopback: a head node and a second worker node, each with 1 CPU.

Both are started with ``ray start --block`` in their own process group, so a test can kill a
whole node (raylet and its workers) and the fixture can stop exactly what it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RAY_USAGE_STATS_ENABLED="0",
        # Notice a dead node within a few seconds rather than the default ~30 s.
        RAY_health_check_period_ms="500",
        RAY_health_check_timeout_ms="1000",
        RAY_health_check_failure_threshold="3",
    )
    return env


class RayCluster:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.head: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        out = open(self.root / log, "wb")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(
            [RAY, "start", "--block", "--disable-usage-stats", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(),
            start_new_session=True,
        )

    def _cpus(self) -> float:
        code = (
            f"import ray; ray.init(address='{self.address}', logging_level='ERROR');"
            "print(ray.cluster_resources().get('CPU', 0))"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env()
        )
        try:
            return float(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return 0.0

    def start(self) -> RayCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        self.head = self._spawn(
            [
                "--head",
                f"--port={self.port}",
                "--num-cpus=1",
                "--include-dashboard=false",
                f"--temp-dir={self.root / 'tmp'}",
                "--node-ip-address=127.0.0.1",
            ],
            "head.log",
        )
        self.add_worker()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self._cpus() >= 2:
                return self
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"Ray cluster did not come up; see {self.root}/*.log")

    def add_worker(self) -> subprocess.Popen[bytes]:
        worker = self._spawn(
            [f"--address={self.address}", "--num-cpus=1", "--node-ip-address=127.0.0.1"],
            f"worker{len(self.workers)}.log",
        )
        self.workers.append(worker)
        return worker

    def kill_worker(self, index: int = 0) -> None:
        """SIGKILL a worker node: its raylet and every task and actor process on it."""
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait(timeout=10)

    def stop(self) -> None:
        for proc in [*self.workers, self.head]:
            if proc is None or proc.poll() is not None:
                continue
            try:
                # a throwaway cluster: a short grace period, then the whole process group
                # (waiting 20 s for `ray start --block` to wind down cost the suite minutes)
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=3)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
