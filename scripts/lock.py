"""The lock files: which exact versions (with hashes) a fresh machine installs.

    python scripts/lock.py update   # re-resolve requirements/{demo,dev}.lock (needs uv)
    python scripts/lock.py upgrade  # the same, taking the newest releases allowed
    python scripts/lock.py check    # fail when pyproject's dependencies changed since

Each lock records the sha256 of pyproject.toml's dependency tables, so `check` is exact and
offline: it fails only when the declared dependencies changed and the lock was not redone.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {"demo": ROOT / "requirements" / "demo.lock", "dev": ROOT / "requirements" / "dev.lock"}
HEADER = "# pyproject-dependencies-sha256: "
# the machines this project runs on (CI's included); torch comes from the local CPU wheel
PLATFORM = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_36"]


def dependencies_digest() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        "dependencies": project.get("dependencies", []),
        "optional": project.get("optional-dependencies", {}),
        "python": project.get("requires-python"),
    }
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def update(upgrade: bool) -> int:
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    digest = dependencies_digest()
    for extra, path in LOCKS.items():
        path.parent.mkdir(exist_ok=True)
        cmd = [
            uv,
            "pip",
            "compile",
            str(ROOT / "pyproject.toml"),
            "--extra",
            extra,
            "--generate-hashes",
            "--no-header",
            "--quiet",
            *PLATFORM,
            "-o",
            str(path),
        ]
        cmd += ["--find-links", "/opt/wheels"] if Path("/opt/wheels").is_dir() else []
        if upgrade:
            cmd.append("--upgrade")
        if subprocess.call(cmd, cwd=ROOT):
            print(f"error: uv could not resolve the {extra} lock", file=sys.stderr)
            return 1
        body = path.read_text()
        path.write_text(
            f"# Locked by `python scripts/lock.py update` (uv); install with\n"
            f"#   pip install --require-hashes -r {path.relative_to(ROOT)}\n"
            f"{HEADER}{digest}\n{body}"
        )
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def check() -> int:
    digest = dependencies_digest()
    for path in LOCKS.values():
        if not path.is_file():
            print(f"error: {path.relative_to(ROOT)} is missing: run `make lock`", file=sys.stderr)
            return 1
        recorded = next(
            (
                line[len(HEADER) :].strip()
                for line in path.read_text().splitlines()
                if line.startswith(HEADER)
            ),
            None,
        )
        if recorded != digest:
            print(
                f"error: {path.relative_to(ROOT)} is stale: pyproject.toml's dependencies "
                "changed since it was made. Run `make lock` and commit the lock files",
                file=sys.stderr,
            )
            return 1
    print("lock files match pyproject.toml")
    return 0


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "check"
    if action not in ("update", "upgrade", "check"):
        print("usage: python scripts/lock.py update|upgrade|check", file=sys.stderr)
        sys.exit(2)
    sys.exit(check() if action == "check" else update(action == "upgrade"))
