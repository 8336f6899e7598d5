"""The dashboard in a real browser (Debian's chromium via playwright), talking to 127.0.0.1 only.

Loads the page served by `guarantee-sim-dashboard`, sets the attribution slider (and the
render interval) with a click, resets, steps, and checks that the settings, the timeline and the narrative
change. Leaves a screenshot in tests/artifacts/dashboard.png.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = pytest.mark.skipif(  # under CI (which installs chromium) a missing browser fails instead
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"), reason=f"Debian's chromium is not installed at {CHROMIUM} (CI installs it)"
)


@pytest.fixture(scope="session")
def base_url():
    """No base URL: the test opens the dashboard's own address (replaces pytest-base-url's fixture,
    which pytest 9 flags as deprecated)."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, headless; playwright's own browser download is not used."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    """`guarantee-sim-dashboard` on a free loopback port; stopped after the tests."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path_factory.mktemp("dashboard") / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from guarantee_sim.present.app import main; main()", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 45
        try:
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the dashboard did not start:\n{log_path.read_text()}")
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text()


def set_slider(page, label: str, value: float) -> float:
    """Click a Vuetify slider's track where ``value`` lies (one change, as a user's click); return the value set."""
    field = page.locator(".v-input", has=page.locator("label", has_text=label))
    thumb = field.locator("[role=slider]")
    low, high = float(thumb.get_attribute("aria-valuemin")), float(thumb.get_attribute("aria-valuemax"))
    track = field.locator(".v-slider")
    box = track.bounding_box()
    track.click(position={"x": box["width"] * (value - low) / (high - low), "y": box["height"] / 2})
    return float(thumb.get_attribute("aria-valuenow"))


def test_load_move_a_slider_step_and_see_the_run_change(page, dashboard):
    outside = []

    def only_loopback(route):
        url = route.request.url
        if url.startswith(dashboard) or url.startswith(("blob:", "data:")):
            route.continue_()
        else:  # the front end's external pings (and anything else) never leave the machine
            outside.append(url)
            route.abort()

    page.route("**/*", only_loopback)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(dashboard)
    page.wait_for_selector("#gs-narrative", timeout=30_000)
    assert page.locator(".gs-state").count() == 35
    assert "nothing has happened yet" in text(page, "#gs-narrative")
    assert "Up to day 0:" in text(page, "#gs-timeline-caption")
    image = page.locator("img").first.get_attribute("src")

    assert set_slider(page, "Attribution prob.", 0.3) == 0.3  # from 0.70; applied on Reset, as in Mesa
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("document.querySelector('#gs-settings').innerText.includes('Attribution probability 0.30')",
                           timeout=15_000)
    assert "commission.attribution_probability=0.3" in text(page, "#gs-command")

    days = int(set_slider(page, "Render Interval", 61))  # each Step now advances about two months
    assert 40 < days < 80
    page.get_by_role("button", name="Step").click()
    page.wait_for_function(
        f"document.querySelector('#gs-timeline-caption').innerText.includes('Up to day {days}:')", timeout=15_000)
    # the panels are separate widgets: each arrives in its own message
    page.wait_for_function("!document.querySelector('#gs-narrative').innerText.includes('nothing has happened yet')",
                           timeout=15_000)
    page.wait_for_function(f"document.querySelector('img').getAttribute('src') !== {image!r}", timeout=15_000)
    page.wait_for_function(f"document.querySelector('#gs-funnel').innerText.includes('Day {days} of 365')",
                           timeout=15_000)
    lines = [line for line in text(page, "#gs-narrative").splitlines() if line.startswith("Day ")]
    assert lines and all(0 <= int(line.split(":")[0][4:]) <= days for line in lines)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert all(not url.startswith(("http://127.", "http://localhost")) for url in outside)
