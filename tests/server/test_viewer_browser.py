"""The volume viewer in real headless Chromium: sign in, see three planes, drag to change the
window, step through slices, turn the overlay on."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.server.test_dashboard import ARGS, ARTEFACTS, CHROMIUM
from tests.servers.shigu_serve import ShiguServer, add_user, site_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PASSWORD = "viewer-pass-1"


@pytest.fixture
def viewer_server(tmp_path: Path, data_dir: Path) -> Iterator[str]:
    root = tmp_path / "volumes"
    root.mkdir()
    ts = data_dir / "medical" / "totalsegmentator"
    shutil.copy(ts / "example_ct_sm.nii.gz", root / "abdomen.nii.gz")
    shutil.copy(ts / "example_seg.nii.gz", root / "abdomen_seg.nii.gz")
    path = site_config(tmp_path)
    add_user(path, "doc", "viewer", PASSWORD)
    server = ShiguServer(path, free_port(), "--no-engine", "--volumes", str(root)).wait()
    yield server.url
    server.stop()


def test_viewer_drag_window_slices_and_overlay(viewer_server: str) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium missing: run scripts/install-system-deps.sh")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # under the server's Content-Security-Policy the viewer loads with no violation
        strict = browser.new_page()
        violations: list[str] = []
        strict.on("console", lambda m: violations.append(m.text) if "Policy" in m.text else None)
        strict.goto(viewer_server + "/login")
        strict.fill("#username", "doc")
        strict.fill("#password", PASSWORD)
        strict.click("#signin")
        strict.wait_for_url(viewer_server + "/")
        strict.goto(viewer_server + "/viewer")
        expect(strict.locator("#vol-info")).to_contain_text("122 x 101 x 30")
        expect(strict.locator("figure[data-plane=axial] img")).to_have_attribute(
            "src", re.compile("name=abdomen")
        )
        strict.wait_for_timeout(500)
        assert not violations, violations
        strict.close()
        # the rest evaluates test expressions in the page, which the policy (rightly) forbids
        page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
        page.goto(viewer_server + "/viewer")
        assert page.url.endswith("/login")  # the same sign-in as the dashboard
        page.fill("#username", "doc")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.wait_for_url(viewer_server + "/")
        page.click("#volumes-link")
        page.wait_for_url(viewer_server + "/viewer")
        expect(page.locator("#vol-info")).to_contain_text("122 x 101 x 30")
        axial = page.locator("figure[data-plane=axial] img")
        for plane in ("axial", "coronal", "sagittal"):
            page.wait_for_function(
                f"document.querySelector('figure[data-plane={plane}] img').naturalWidth > 0"
            )
        expect(page.locator("#vol-window")).to_contain_text("window ")
        initial = page.locator("#vol-window").text_content()
        before = axial.get_attribute("src")
        box = axial.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + 50, box["y"] + 50)
        page.mouse.down()
        page.mouse.move(box["x"] + 150, box["y"] + 20, steps=5)
        page.mouse.up()
        expect(page.locator("#vol-window")).not_to_have_text(initial or "")
        page.wait_for_function(
            "document.querySelector('figure[data-plane=axial] img').src.includes('center=')"
        )
        assert axial.get_attribute("src") != before
        page.locator("figure[data-plane=axial] input").fill("3")
        expect(page.locator("figure[data-plane=axial] .idx")).to_have_text("4/30")
        assert "overlay=abdomen_seg.nii.gz" in (axial.get_attribute("src") or "")  # offered
        page.uncheck("#vol-overlay-on")
        assert "overlay=" not in (axial.get_attribute("src") or "")
        ARTEFACTS.mkdir(exist_ok=True)
        page.check("#vol-overlay-on")
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTEFACTS / "viewer.png"))
        browser.close()
