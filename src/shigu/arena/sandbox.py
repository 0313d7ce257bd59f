"""Score one submission in a separate process that can do little harm.

The parent (:func:`run_scoring`) starts ``python -m shigu.arena.sandbox JOB`` in its own
session and work folder, with an emptied environment, limits on address space, CPU time,
file size and open files, and a wall-clock deadline after which the whole process group is
killed. Where the kernel allows (root or user namespaces) the child gets a network namespace
of its own, with no interfaces up. In any case, before it reads the upload, the child installs
a Python audit hook (which cannot be removed) that refuses sockets, new processes, and writes
or deletions anywhere but its work folder: the ground truth is read-only to it.

The child unpacks, validates and scores, and writes ``result.json``:
``{"status": "scored"|"invalid"|"failed", "message", "report", "public", "private"}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULT = "result.json"
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000


def _isolate_network() -> bool:
    """Enter a network namespace of our own (only a loopback, down): directly where we may
    (CAP_SYS_ADMIN), else inside a new user namespace that maps our own uid and gid to
    themselves (allowed unprivileged where the kernel has user namespaces). False when
    neither works; the audit hook still refuses sockets."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if int(libc.unshare(CLONE_NEWNET)) == 0:
            return True
        uid, gid = os.getuid(), os.getgid()
        if int(libc.unshare(CLONE_NEWUSER | CLONE_NEWNET)) != 0:
            return False
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):  # fmt: skip
            with open(f"/proc/self/{name}", "w") as fh:
                fh.write(text)
        return True
    except (OSError, AttributeError):
        return False


def network_isolated() -> bool:
    """True in a network namespace with nothing but the loopback device."""
    import socket

    try:
        return [name for _, name in socket.if_nameindex()] == ["lo"]
    except OSError:
        return False


def _limit(memory_mb: int, cpu_s: float, file_mb: int) -> None:
    import resource

    mem = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    cpu = max(1, int(cpu_s) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    size = file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_scoring(
    job: dict[str, Any], work: Path, time_limit_s: float, memory_mb: int
) -> dict[str, Any]:
    """Run the job in a sandboxed child; always returns a result (never raises on its fault)."""
    work.mkdir(parents=True, exist_ok=True)
    job_file = work / "job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    (work / RESULT).unlink(missing_ok=True)
    file_mb = max(64, int(job.get("max_bytes", 0) * 25 / 1024**2))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
        "TMPDIR": str(work),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p),
    }

    def prepare() -> None:
        _isolate_network()
        _limit(memory_mb, time_limit_s, file_mb)

    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "shigu.arena.sandbox", str(job_file)],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(work / "stderr.txt").open("wb"),
        start_new_session=True,
        preexec_fn=prepare,
    )
    try:
        rc = proc.wait(timeout=time_limit_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return {
            "status": "failed",
            "message": f"scoring exceeded its time limit of {time_limit_s:g} s and was stopped",
        }
    elapsed = time.monotonic() - started
    result_path = work / RESULT
    if result_path.is_file():
        try:
            result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
            result["seconds"] = round(elapsed, 3)
            return result
        except ValueError:
            pass
    if rc in (-signal.SIGXCPU, -signal.SIGKILL):
        return {"status": "failed", "message": "scoring exceeded its CPU time limit"}
    tail = (work / "stderr.txt").read_text(errors="replace").strip().splitlines()[-1:]
    if tail and "MemoryError" in tail[0]:
        return {
            "status": "failed",
            "message": f"scoring exceeded its memory limit of {memory_mb} MiB",
        }
    return {
        "status": "failed",
        "message": f"the scorer stopped with exit code {rc}"
        + (f": {tail[0][:200]}" if tail else ""),
    }


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# ------------------------------------------------------------------ the child
_BLOCKED = ("socket.", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork")
_WRITE_EVENTS = {
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.symlink",
    "os.chmod",
    "os.chown",
    "os.link",
    "os.truncate",
    "shutil.rmtree",
    "os.utime",
}


def _guard(work: Path) -> None:
    """Refuse network, processes, and writes outside ``work`` for the rest of this process."""
    root = str(work.resolve())

    def inside(path: object) -> bool:
        if isinstance(path, int):
            return True  # an already open descriptor
        try:
            text = os.fsdecode(path)  # type: ignore[arg-type]
        except TypeError:
            return False
        full = os.path.realpath(os.path.join(root, text))
        return full == root or full.startswith(root + os.sep)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event.startswith(_BLOCKED) and event != "socket.gethostname":
            raise PermissionError(f"the scoring sandbox does not allow {event}")
        if event == "open" and args:
            mode = args[1] if len(args) > 1 else "r"
            flags = args[2] if len(args) > 2 else 0
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            )
            if writing and not inside(args[0]):
                raise PermissionError(f"the scoring sandbox cannot write {args[0]!r}")
        elif event in _WRITE_EVENTS and not all(
            inside(a)
            for a in (args[1:2] if event == "os.symlink" else args[:2])  # a link may point out
            if isinstance(a, str | bytes | os.PathLike)
        ):
            raise PermissionError(f"the scoring sandbox does not allow {event} there")

    sys.addaudithook(hook)


def _child(job_file: Path) -> dict[str, Any]:
    from shigu.arena import tasks
    from shigu.core.errors import ShiguError

    work = job_file.parent
    job = json.loads(job_file.read_text(encoding="utf-8"))
    isolated = network_isolated()
    _guard(work)
    if job.get("scorer"):
        for extra in job.get("scorer_path", []):
            sys.path.insert(0, extra)
    gt = Path(job["ground_truth"])
    try:
        sub = tasks.unpack(Path(job["upload"]), work / "submission", int(job["max_bytes"]))
        items = job["public"] + job["private"]
        tasks.validate(job["task"], gt, sub, items, job.get("scorer"))
    except ShiguError as exc:
        report = getattr(exc, "details", None) or [exc.one_line()]
        return {"status": "invalid", "message": exc.one_line(), "report": report}
    try:
        public = tasks.score(job["task"], gt, sub, job["public"], job.get("scorer"))
        private = (
            tasks.score(job["task"], gt, sub, job["private"], job.get("scorer"))
            if job["private"]
            else {}
        )
    except MemoryError:
        return {"status": "failed", "message": "scoring exceeded its memory limit"}
    except ShiguError as exc:
        return {"status": "invalid", "message": exc.one_line(), "report": [exc.one_line()]}
    return {
        "status": "scored",
        "message": "scored",
        "report": [],
        "public": public,
        "private": private,
        "network_isolated": isolated,
    }


def main() -> None:
    job_file = Path(sys.argv[1]).resolve()
    try:
        result = _child(job_file)
    except MemoryError:
        result = {"status": "failed", "message": "scoring exceeded its memory limit"}
    except Exception as exc:
        result = {
            "status": "failed",
            "message": f"scoring failed: {type(exc).__name__}: {exc}"[:300],
        }
    tmp = job_file.parent / (RESULT + ".part")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    os.replace(tmp, job_file.parent / RESULT)


if __name__ == "__main__":
    main()
