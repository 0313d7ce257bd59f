"""The arena's pages in real headless Chromium against `shigu arena serve` on loopback: a
visitor, two participants (one registering and uploading through the page), a judge and an
organiser each walk their part, up to the announced awards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.cli import run_cli
from tests.conftest import free_port
from tests.server.test_dashboard import ARGS, ARTEFACTS, CHROMIUM

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PASSWORD = "correct horse battery"
ENV = {"SHIGU_PASSWORD": PASSWORD}
SCORER = """
from pathlib import Path


def items(gt):
    return ["a", "b", "c", "d"]


def score(gt, sub, items):
    value = float(next(Path(sub).rglob("*.txt")).read_text())
    return {"accuracy": value}
"""


def _cli(*args: object) -> None:
    done = run_cli(*args, env=ENV)
    assert done.returncode == 0, done.stderr


def _cup(
    tmp_path: Path,
    phase: str = "final",
    kind: str = "heat",
    upload_mb: float = 200,
    **extra: object,
) -> Path:
    """A one-track challenge scored by the organisers' own code (``cupscorer.py`` beside it)."""
    (tmp_path / "cupscorer.py").write_text(SCORER)
    (tmp_path / "gt").mkdir()
    track = {
        "id": "smart",
        "task": "custom",
        "metric": "accuracy",
        "scorer": "cupscorer:score",
        "max_upload_mb": upload_mb,
    }
    window = {
        "id": phase,
        "kind": kind,
        "start": "2026-01-01T00:00:00Z",
        "end": "2099-01-01T00:00:00Z",
        "tracks": {"smart": {"ground_truth": "gt"}},
    }
    challenge = tmp_path / "cup.yaml"
    challenge.write_text(yaml.safe_dump({"tracks": [track], "phases": [window], **extra}))
    return challenge


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    challenge = _cup(
        tmp_path,
        id="page-cup",
        title="Page Cup",
        kind="final",
        panel={"judges_per_finalist": 1},
        awards=[{"name": "Gold", "count": 1}, {"name": "Silver", "count": 1}],
    )
    arena = tmp_path / "arena"
    _cli("arena", "init", arena, "--challenge", challenge)
    _cli("arena", "person", "olga", "-c", arena, "--role", "organiser")
    _cli("arena", "person", "judy", "-c", arena, "--role", "judge")
    _cli("arena", "person", "bo", "-c", arena)
    _cli("arena", "team", "blue", "-c", arena, "--captain", "bo")
    (tmp_path / "blue.txt").write_text("0.6")
    _cli(
        "arena",
        "submit",
        tmp_path / "blue.txt",
        "-c",
        arena,
        "--phase",
        "final",
        "--team",
        "blue",
        "--wait",
    )
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "shigu", "arena", "serve", "-c", str(arena), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/challenge", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    yield url, tmp_path
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def _sign_in(page: object, url: str, name: str) -> None:
    from playwright.sync_api import expect

    page.goto(url + "/")  # type: ignore[attr-defined]
    page.fill("#login-name", name)  # type: ignore[attr-defined]
    page.fill("#login-password", PASSWORD)  # type: ignore[attr-defined]
    page.click("#login-button")  # type: ignore[attr-defined]
    expect(page.locator("#who")).to_contain_text(name)  # type: ignore[attr-defined]


def test_every_role_walks_its_pages(served: tuple[str, Path]) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium missing: run scripts/install-system-deps.sh")
    from playwright.sync_api import expect, sync_playwright

    url, tmp = served
    ARTEFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        violations: list[str] = []

        def page() -> object:
            new = browser.new_page(viewport={"width": 1200, "height": 900})
            new.on(
                "console",
                lambda m: violations.append(m.text) if "Security Policy" in m.text else None,
            )
            return new

        # a visitor sees the public board, with no team, panel or organiser views
        visitor = page()
        visitor.goto(url + "/")  # type: ignore[attr-defined]
        expect(visitor.locator("#title")).to_have_text("Page Cup")  # type: ignore[attr-defined]
        expect(visitor.locator("#board tbody tr")).to_have_count(1)  # type: ignore[attr-defined]
        expect(visitor.locator("#team")).to_be_hidden()  # type: ignore[attr-defined]
        expect(visitor.locator("#organiser")).to_be_hidden()  # type: ignore[attr-defined]

        # a participant registers, forms a team and uploads through the page
        red = page()
        red.goto(url + "/")  # type: ignore[attr-defined]
        red.fill("#login-name", "rita")  # type: ignore[attr-defined]
        red.fill("#login-password", PASSWORD)  # type: ignore[attr-defined]
        red.click("#register-button")  # type: ignore[attr-defined]
        expect(red.locator("#message")).to_contain_text("registered")  # type: ignore[attr-defined]
        red.click("#login-button")  # type: ignore[attr-defined]
        expect(red.locator("#who")).to_contain_text("rita (participant)")  # type: ignore[attr-defined]
        red.fill("#team-id", "red")  # type: ignore[attr-defined]
        red.click("#team-form button")  # type: ignore[attr-defined]
        expect(red.locator("#team-name")).to_have_text("Team red")  # type: ignore[attr-defined]
        (tmp / "red.txt").write_text("0.9")
        red.set_input_files("#submit-file", str(tmp / "red.txt"))  # type: ignore[attr-defined]
        red.click("#submit-form button")  # type: ignore[attr-defined]
        expect(red.locator("#message")).to_contain_text("queued")  # type: ignore[attr-defined]
        for _ in range(60):
            red.reload()  # type: ignore[attr-defined]
            red.wait_for_selector("body[data-ready='1']")  # type: ignore[attr-defined]
            if "scored" in red.locator("#submissions").inner_text():  # type: ignore[attr-defined]
                break
            time.sleep(0.5)
        expect(red.locator("#submissions")).to_contain_text("accuracy 0.9000")  # type: ignore[attr-defined]
        red.click("#submissions button:text('Select')")  # type: ignore[attr-defined]
        expect(red.locator("#submissions")).to_contain_text("★")  # type: ignore[attr-defined]
        red.select_option("#board-split", "private")  # type: ignore[attr-defined]
        red.click("#board-form button")  # type: ignore[attr-defined]
        expect(red.locator("#message")).to_contain_text("revealed when")  # type: ignore[attr-defined]
        red.screenshot(path=str(ARTEFACTS / "arena-participant.png"), full_page=True)  # type: ignore[attr-defined]

        visitor.reload()  # type: ignore[attr-defined]
        expect(visitor.locator("#board tbody tr")).to_have_count(2)  # type: ignore[attr-defined]
        expect(visitor.locator("#board tbody tr").first).to_contain_text("red")  # type: ignore[attr-defined]

        # the organiser names the finalists (CLI) and assigns the judge (page)
        _cli("arena", "finalists", "red=smart", "blue=smart", "-c", tmp / "arena")
        olga = page()
        _sign_in(olga, url, "olga")
        olga.click("#assign-button")  # type: ignore[attr-defined]
        expect(olga.locator("#message")).to_contain_text("judges assigned")  # type: ignore[attr-defined]
        expect(olga.locator("#audit")).to_contain_text("assign")  # type: ignore[attr-defined]

        # the judge scores both finalists
        judy = page()
        _sign_in(judy, url, "judy")
        expect(judy.locator("#assignments tbody tr")).to_have_count(2)  # type: ignore[attr-defined]
        for team, value in (("red", "9"), ("blue", "4")):
            rows = judy.locator("#assignments tbody tr")  # type: ignore[attr-defined]
            row = rows.filter(has=judy.locator(f"td:text-is('{team}')"))  # type: ignore[attr-defined]
            for box in range(4):
                row.locator("input").nth(box).fill(value)
            row.locator("button").click()
            expect(judy.locator("#message")).to_contain_text("saved")  # type: ignore[attr-defined]
        judy.screenshot(path=str(ARTEFACTS / "arena-judge.png"), full_page=True)  # type: ignore[attr-defined]
        expect(judy.locator("#organiser")).to_be_hidden()  # type: ignore[attr-defined]

        # the organiser sees the ranking and announces the awards; the visitor sees them
        olga.reload()  # type: ignore[attr-defined]
        expect(olga.locator("#sheet tbody tr")).to_have_count(2)  # type: ignore[attr-defined]
        olga.click("#announce-button")  # type: ignore[attr-defined]
        expect(olga.locator("#message")).to_contain_text("announced")  # type: ignore[attr-defined]
        olga.screenshot(path=str(ARTEFACTS / "arena-organiser.png"), full_page=True)  # type: ignore[attr-defined]
        visitor.reload()  # type: ignore[attr-defined]
        expect(visitor.locator("#award-list li")).to_have_count(2)  # type: ignore[attr-defined]
        awards = visitor.locator("#award-list").inner_text()  # type: ignore[attr-defined]
        assert awards.index("red") < awards.index("blue")
        expect(visitor.locator("#award-links")).to_be_visible()  # type: ignore[attr-defined]
        visitor.screenshot(path=str(ARTEFACTS / "arena-public.png"), full_page=True)  # type: ignore[attr-defined]
        pdf = httpx.get(url + "/certificates.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        browser.close()
    assert not violations, violations


def test_the_arena_beside_the_dashboard(tmp_path: Path) -> None:
    """`shigu serve CONFIG --arena DIR`: the arena at /arena/, its pages and API working
    under that prefix, its large uploads not stopped by the dashboard's 1 MiB body limit."""
    from tests.servers.shigu_serve import ShiguServer, add_user, site_config

    challenge = _cup(tmp_path, id="side-cup", title="Side Cup", phase="open", upload_mb=8)
    arena = tmp_path / "arena"
    _cli("arena", "init", arena, "--challenge", challenge)
    _cli("arena", "person", "ann", "-c", arena)
    _cli("arena", "team", "alpha", "-c", arena, "--captain", "ann")
    site = site_config(tmp_path)
    add_user(site, "admin", "admin", PASSWORD)
    server = ShiguServer(site, free_port(), "--no-engine", "--arena", str(arena)).wait()
    try:
        url = server.url
        assert httpx.get(url + "/arena", follow_redirects=False).headers["location"] == "/arena/"
        page = httpx.get(url + "/arena/")
        assert page.status_code == 200 and "static/arena.js" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert httpx.get(url + "/arena/static/arena.js").status_code == 200
        assert httpx.get(url + "/arena/api/challenge").json()["title"] == "Side Cup"
        token = httpx.post(url + "/arena/api/login", json={"name": "ann", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        big = b"0.5" + b" " * (3 * 1024 * 1024)  # 3 MiB: over the dashboard's limit
        sent = httpx.post(
            url + "/arena/api/submissions",
            data={"track": "smart", "phase": "open"},
            files={"file": ("r.txt", big)},
            headers=headers,
            timeout=30,
        )
        assert sent.status_code == 201, sent.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = httpx.get(url + "/arena/api/leaderboard/smart/open").json()["rows"]
            if rows:
                break
            time.sleep(0.3)
        assert rows and rows[0]["entrant"] == "alpha" and rows[0]["score"] == 0.5
        assert httpx.get(url + "/healthz").status_code == 200  # the dashboard is still there
        if os.path.exists(CHROMIUM):
            from playwright.sync_api import expect, sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                tab = browser.new_page()
                tab.goto(url + "/arena/")
                expect(tab.locator("#title")).to_have_text("Side Cup")
                expect(tab.locator("#board tbody tr")).to_have_count(1)
                browser.close()
    finally:
        server.stop()
