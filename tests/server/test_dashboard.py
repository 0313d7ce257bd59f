"""The dashboard in real headless Chromium (Debian's, driven by Playwright): sign in, watch the
live view update, draw a zone on the PETS2009 source, see its intrusion event arrive."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.servers.shigu_serve import ShiguServer, add_user, site_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# screenshots a person can look at after a test run (kept under the repository, ignored by git)
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "dashboard-pass-1"


def seed_occupancy(db: Path) -> None:
    """An hour of two rooms' per-minute head counts, for the occupancy chart."""
    from datetime import UTC, datetime, timedelta

    from shigu.solutions.living.occupancy import OccupancyMinute
    from shigu.store.events import EventStore

    store = EventStore(f"sqlite:///{db}")
    start = datetime.now(UTC) - timedelta(hours=1)
    store.add_occupancy([
        OccupancyMinute("gate", room, 60.0 * i, start + timedelta(minutes=i),
                        (i % 7) / 2 + k, i % 7 + k, 600)
        for i in range(60) for k, room in enumerate(("hall", "office"))
    ])  # fmt: skip
    store.close()


@pytest.fixture
def server(tmp_path: Path, pets_video: Path) -> Iterator[str]:
    path = site_config(
        tmp_path, sources=[{"id": "gate", "uri": str(pets_video), "realtime": True, "loop": True}]
    )
    add_user(path, "ops", "operator", PASSWORD)
    seed_occupancy(tmp_path / "shigu.db")
    running = ShiguServer(path, free_port()).wait(lambda health: health["engine"] == "running")
    yield running.url
    running.stop()


def test_login_live_view_zone_editor_and_timeline(server: str) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium missing: run scripts/install-system-deps.sh")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # Under the server's Content-Security-Policy the dashboard still works: it signs in,
        # its script fills the page, and the browser reports no violation.
        strict = browser.new_page()
        violations: list[str] = []
        strict.on(
            "console", lambda m: violations.append(m.text) if "Security Policy" in m.text else None
        )
        strict.goto(server + "/login")
        strict.fill("#username", "ops")
        strict.fill("#password", PASSWORD)
        strict.click("#signin")
        expect(strict.locator("#me")).to_have_text("ops (operator)")
        expect(strict.locator("#tile-gate .status")).to_contain_text("connected")
        assert not violations, violations
        strict.close()
        # the rest evaluates test expressions in the page, which the policy (rightly) forbids
        page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        page.goto(server + "/")
        assert page.url.endswith("/login")
        page.fill("#password", "wrong-password")
        page.fill("#username", "ops")
        page.click("#signin")
        expect(page.locator("#error")).to_contain_text("wrong")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.wait_for_url(server + "/")
        expect(page.locator("#me")).to_have_text("ops (operator)")

        # Live view: the MJPEG tile shows the video and its frame counter goes up.
        status = page.locator("#tile-gate .status")
        expect(status).to_contain_text("connected")
        image = page.locator("#tile-gate img")
        page.wait_for_function("document.querySelector('#tile-gate img').naturalWidth > 0")
        assert image.evaluate("i => i.naturalWidth") == 480

        def frames() -> int:
            return int(status.inner_text().split(" frames")[0].split("·")[-1])

        first = frames()
        page.wait_for_timeout(2500)
        assert frames() > first

        # Zone editor: draw a polygon over the walkway on the live frame and save it.
        page.click("nav button[data-tab=editor]")
        canvas = page.locator("#canvas")
        page.wait_for_function("document.querySelector('#canvas').width === 480")
        box = canvas.bounding_box()
        assert box is not None
        sx, sy = box["width"] / 480, box["height"] / 360
        for x, y in ((5, 110), (475, 110), (475, 355), (5, 355)):
            canvas.click(position={"x": x * sx, "y": y * sy})
        page.fill("#e-id", "walkway")
        page.select_option("#e-rule", "intrusion")
        page.fill("#e-seconds", "0.5")
        page.fill("#e-classes", "person")
        page.click("#e-save")
        expect(page.locator("#e-msg")).to_have_text("saved zone walkway")
        expect(page.locator("#shapes")).to_contain_text("zone walkway")

        # Edit a saved zone: add a crowding rule's parameter; a line with classes.
        page.click("button[data-edit='zones:walkway']")
        expect(page.locator("#e-msg")).to_have_text("editing zone walkway")
        page.select_option("#e-rule", "crowding")
        page.fill("#p-max_count", "2")
        page.click("#e-save")
        expect(page.locator("#shapes")).to_contain_text("zone walkway (crowding)")
        page.select_option("#e-kind", "lines")
        for x, y in ((240, 60), (240, 350)):
            canvas.click(position={"x": x * sx, "y": y * sy})
        page.fill("#e-id", "middle")
        page.fill("#e-classes", "person")
        page.click("#e-save")
        expect(page.locator("#shapes")).to_contain_text("line middle")
        zones = page.evaluate("fetch('/api/zones').then(r => r.json())")
        rule = next(z for z in zones if z["id"] == "walkway")["rules"][0]
        assert rule["type"] == "crowding" and rule["max_count"] == 2, rule
        lines = page.evaluate("fetch('/api/lines').then(r => r.json())")
        assert next(ln for ln in lines if ln["id"] == "middle")["classes"] == ["person"]
        # back to the intrusion rule the timeline step below waits for
        page.click("button[data-edit='zones:walkway']")
        page.select_option("#e-rule", "intrusion")
        page.fill("#e-seconds", "0.5")
        page.click("#e-save")
        expect(page.locator("#shapes")).to_contain_text("zone walkway (intrusion)")

        # Timeline: the intrusion event for the new zone arrives (pushed over the WebSocket).
        page.click("nav button[data-tab=events]")
        item = page.locator("#timeline li[data-type=intrusion][data-zone=walkway]").first
        expect(item).to_be_visible(timeout=60_000)
        expect(item.locator("img")).to_be_visible()
        page.wait_for_function(
            "() => { const i = document.querySelector('#timeline li[data-zone=walkway] img');"
            " return i && i.complete && i.naturalWidth > 0; }",
            timeout=30_000,
        )
        # The thumbnail shows the whole crop (letterboxed, not cut to fill its box).
        expect(item.locator("img")).to_have_css("object-fit", "contain")
        # The event says its score and where in the video it starts; its thumbnail opens the
        # full snapshot (with the zone and the box drawn).
        expect(item.locator(".facts")).to_contain_text("score 0.")
        expect(item.locator(".facts")).to_contain_text("video 0:")
        item.locator("img").click()
        expect(page.locator("#snapshot")).to_be_visible()
        page.wait_for_function(
            "() => { const i = document.querySelector('#full');"
            " return i.complete && i.naturalWidth === 480; }",
            timeout=30_000,
        )
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "dashboard-snapshot.png"))
        page.click("#close-snapshot")
        # Filters are choices: the zone drawn above is offered, and picking a type filters.
        page.wait_for_function(
            "() => [...document.querySelectorAll('#f-zone option')]"
            ".some(o => o.value === 'walkway')",
            timeout=15_000,
        )
        page.select_option("#f-type", "intrusion")
        page.select_option("#f-zone", "walkway")
        page.click("#filters button[type=submit]")
        expect(page.locator("#timeline li").first).to_have_attribute("data-type", "intrusion")

        # The live tile counts today's events; the chart has time and value axes.
        page.click("nav button[data-tab=live]")
        expect(page.locator("#tile-gate .today")).to_contain_text("walkway", timeout=20_000)
        # A camera's own page: its live view, status and recent events.
        page.click("#tile-gate img")
        expect(page.locator("#camera")).to_be_visible()
        expect(page.locator("#cam-title")).to_have_text("gate")
        expect(page.locator("#cam-events li").first).to_be_visible(timeout=20_000)
        page.wait_for_function("document.querySelector('#cam-view').naturalWidth === 480")
        page.screenshot(path=str(ARTEFACTS / "dashboard-camera.png"))
        page.click("#cam-back")
        page.click("nav button[data-tab=charts]")
        expect(page.locator("#chart svg")).to_contain_text("time (local)", timeout=20_000)
        expect(page.locator("#chart svg")).to_contain_text("events per bucket")
        # occupancy: a solid (mean) and a dotted (max) line per room, the rooms named
        expect(page.locator("#occupancy-chart svg path")).to_have_count(4)
        expect(page.locator("#occupancy-chart svg")).to_contain_text("gate/office")
        page.locator("#charts").screenshot(path=str(ARTEFACTS / "dashboard-occupancy.png"))
        page.screenshot(path=str(ARTEFACTS / "dashboard-chart.png"))

        # Phone-sized screen: the same pages still fit.
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
        browser.close()


def test_forged_forwarded_for_does_not_dodge_the_sign_in_limit(server: str) -> None:
    """Through the real server (uvicorn): X-Forwarded-For is believed only from a
    --trusted-proxy, so six guesses from one peer under six forged addresses and names are
    limited like six from one address."""
    codes = []
    for i in range(6):
        r = httpx.post(server + "/api/auth/login", json={"username": f"user{i}",
                       "password": "wrong-guess-123"},
                       headers={"X-Forwarded-For": f"203.0.113.{i}"}, timeout=10)  # fmt: skip
        codes.append(r.status_code)
    assert codes[:5] == [401] * 5 and codes[5] == 429, codes
