"""Audit the locked dependencies for known vulnerabilities (pip-audit), and say plainly when
no vulnerability database can be reached.

    python scripts/audit.py [requirements/dev.lock]

Exit 1 when a locked package has a known vulnerability; exit 0 when none is known, and also
when neither PyPI's vulnerability data nor OSV answers (offline machines): then it prints that
the lock was NOT audited, so nobody mistakes silence for a clean bill.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def audit(lock: Path, service: str) -> dict[str, object] | None:
    exe = Path(sys.executable).with_name("pip-audit")
    cmd = [str(exe), "--vulnerability-service", service, "-r", str(lock), "--no-deps",
           "--disable-pip", "--progress-spinner", "off", "-f", "json"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    try:
        return dict(json.loads(done.stdout))
    except json.JSONDecodeError:
        return None  # the service could not be reached at all


def main() -> int:
    lock = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "requirements" / "dev.lock"
    for service in ("pypi", "osv"):
        report = audit(lock, service)
        if report is None:
            continue
        deps = list(report.get("dependencies", []))  # type: ignore[call-overload]
        checked = [d for d in deps if "skip_reason" not in d]
        if not checked:
            continue  # every query failed: this database is not reachable from here
        bad = [(d["name"], d["version"], v["id"]) for d in checked for v in d.get("vulns", [])]
        for name, version, vuln in bad:
            print(f"vulnerable: {name} {version}: {vuln}")
        skipped = len(deps) - len(checked)
        print(f"dependency audit ({service}): {len(checked)} packages checked, "
              f"{len(bad)} known vulnerabilities" + (f", {skipped} not found" if skipped else ""))
        return 1 if bad else 0
    print(f"dependency audit: NOT DONE - no vulnerability database is reachable from this "
          f"machine (PyPI's JSON API and api.osv.dev); {lock.name} was not audited")
    return 0


if __name__ == "__main__":
    sys.exit(main())
