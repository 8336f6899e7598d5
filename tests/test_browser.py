"""The dashboard in a real browser (Debian's chromium via playwright) at a projector's 1280x720,
talking to 127.0.0.1 only: the classroom view, a batch from the page against the command line,
two designs on one seed against ``explain``, and the sweep explorer. Leaves screenshots in
tests/artifacts/ (dashboard*.png), to be looked at.
"""

import json
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

pytestmark = [
    pytest.mark.skipif(  # under CI (which installs chromium) a missing browser fails instead
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"), reason=f"Debian's chromium is not installed at {CHROMIUM} (CI installs it)"),
    pytest.mark.main_line,  # the page over rows equal on both lines; test_dashboard.py renders it on both
]


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


SIZE = {"width": 1280, "height": 720}
MESA_INTERNALS = ("PAGE 0", "Use Threads", "Render Interval", "Play Interval", "This website runs on Solara")
# every visible element with text of its own: its text, its font size as shown (a CSS transform,
# as Vuetify's floating labels have, scales it), and whether it is in the main panels (not the
# sidebar or the title bar)
TEXT_SIZES = """() => {
  const scale = el => { let k = 1; for (let a = el; a; a = a.parentElement) {
    const t = getComputedStyle(a).transform; if (t && t !== 'none') k *= Math.hypot(...new DOMMatrix(t).toFloat64Array().slice(0, 2)); }
    return k; };
  return [...document.querySelectorAll('body *')].filter(el =>
    el.offsetParent && el.offsetWidth > 0 && [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
  ).map(el => [el.textContent.trim().slice(0, 40),
               parseFloat(getComputedStyle(el).fontSize) * scale(el),
               !el.closest('.v-navigation-drawer, .v-app-bar, .v-toolbar, header')]); }"""


def cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "guarantee_sim.runs.cli", *args], cwd=cwd, capture_output=True,
                          text=True, check=True)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The explorer's results folder, empty until a test runs a sweep into it."""
    return tmp_path_factory.mktemp("results")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory, results):
    """`guarantee-sim-dashboard` on a free loopback port; stopped after the tests."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path_factory.mktemp("dashboard") / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from guarantee_sim.present.app import main; main()", "--port", str(port),
             "--results", str(results)],
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


@pytest.fixture
def opened(page, dashboard):
    """The dashboard at 1280x720, with nothing leaving the machine."""
    outside = []

    def only_loopback(route):
        url = route.request.url
        if url.startswith(dashboard) or url.startswith(("blob:", "data:")):
            route.continue_()
        else:  # the front end's external pings (and anything else) never leave the machine
            outside.append(url)
            route.abort()

    page.route("**/*", only_loopback)
    page.set_viewport_size(SIZE)
    page.goto(dashboard)
    page.wait_for_selector("#gs-why", timeout=30_000)
    yield page
    assert all(not url.startswith(("http://127.", "http://localhost")) for url in outside)


def text(page, selector: str) -> str:
    return page.locator(selector).first.inner_text()


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def above_the_fold(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SIZE["height"] and box["height"] > 20


def smallest_text(page) -> tuple[float, str]:
    sizes = [(round(size, 1), label) for label, size, main in page.evaluate(TEXT_SIZES) if main]
    assert len(sizes) > 50  # the panels' text was found
    return min(sizes)


def test_the_classroom_view_reads_from_the_back_of_the_hall(opened):
    page = opened
    for selector in ("#gs-why", "#gs-timeline", "#gs-funnel"):  # without scrolling
        assert above_the_fold(page, selector), selector
    size, label = smallest_text(page)
    assert size >= 16, (size, label)
    page.evaluate("""() => { const s = document.createElement('span'); s.id = 'gs-probe'; s.textContent = 'tiny';
                              s.style.fontSize = '11px'; document.querySelector('#gs-why').appendChild(s); }""")
    assert smallest_text(page) == (11.0, "tiny")  # the check sees small type where there is some
    page.evaluate("() => document.querySelector('#gs-probe').remove()")
    values = page.locator(".gs-lever-value")
    assert values.count() == 7 and values.first.is_visible()
    assert "Detection by the monitoring: 1.00 x the preset's values" in values.first.inner_text()
    assert "Commission attributes an incident: 70%" in text(page, '[data-lever="attribution"]')
    body = page.locator("body").inner_text()
    assert not [word for word in MESA_INTERNALS if word in body]
    assert page.locator("#gs-coalition .gs-state").count() == 35
    shoot(page, "dashboard.png")

    page.get_by_role("button", name="To the end").click()
    page.wait_for_function("document.querySelector('#gs-why-panel').innerText.includes('Day 365 of 365')", timeout=15_000)
    assert "The trigger fired on day" in text(page, "#gs-why")
    assert "Armed attack on day" in text(page, "#gs-in-time")
    trigger = page.locator('#gs-timeline .gs-mark[data-mark="trigger"]')
    trigger.hover(force=True)  # a tooltip a projector shows: large type, drawn on the page
    tip = page.locator('#gs-timeline .gs-mark[data-mark="trigger"] .gs-tip')
    assert tip.is_visible() and "trigger fires" in tip.inner_text()
    assert float(tip.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 16
    assert smallest_text(page)[0] >= 16
    shoot(page, "dashboard_end.png")


def test_a_changed_setting_shows_at_once_and_steps_follow(opened):
    page = opened
    page.get_by_role("button", name="Step 7 days").click()
    page.wait_for_function("document.querySelector('#gs-why-panel').innerText.includes('Day 7 of 365')", timeout=15_000)
    page.get_by_label("Breach pattern").click(force=True)
    page.get_by_role("option", name="hybrid", exact=True).click()
    page.wait_for_function("document.querySelector('#gs-command').innerText.includes('breach=hybrid')", timeout=15_000)
    assert "Day 7 of 365" in text(page, "#gs-why-panel")  # the new run brought to the day reached, no Reset


@pytest.mark.slow  # the pages' numbers are rows, equal on both lines (test_cross_version.py)
def test_a_batch_of_100_from_the_page_ends_with_the_command_lines_probabilities(opened, tmp_path):
    page = opened
    page.get_by_role("tab", name="Many runs").click()
    page.get_by_role("button", name="Run the batch").click()
    page.wait_for_function("document.querySelector('#gs-batch') && "
                           "document.querySelector('#gs-batch').innerText.includes('100 of 100 runs done')", timeout=60_000)
    command = text(page, "#gs-batch-command")
    assert command == "guarantee-sim runs=100 seed=6"
    cli([*command.split()[1:], f"hydra.run.dir={tmp_path / 'cell'}"], tmp_path)
    summary = json.loads((tmp_path / "cell" / "summary.json").read_text())
    for measure in ("attack_probability", "support_in_time_given_attack", "protected_probability",
                    "activation_probability"):
        p = summary[measure]
        want = f"{p['estimate']:.1%} [{p['low']:.1%}, {p['high']:.1%}]"
        assert text(page, f'#gs-batch td[data-measure="{measure}"]') == want, measure
    shoot(page, "dashboard_batch.png")


@pytest.mark.slow  # the pages' numbers are rows, equal on both lines (test_cross_version.py)
def test_two_designs_side_by_side_on_one_seed_are_the_runs_explain_tells(opened):
    from guarantee_sim.present import explain, narrative

    page = opened
    page.get_by_role("tab", name="Two designs, one seed").click()
    page.wait_for_selector(".gs-compare", timeout=30_000)
    blocks = page.locator(".gs-compare")
    assert blocks.count() == 2
    designs = [blocks.nth(i).get_attribute("data-design") for i in range(2)]
    assert designs == ["paris_2026", "budapest_like"]
    for i, design in enumerate(designs):
        command = blocks.nth(i).locator(".gs-compare-command").inner_text()
        assert command.endswith("seed=6")
        told = explain.tell(command.split()[2:])
        assert narrative.why(told.model) == blocks.nth(i).locator(".gs-why").inner_text()
        assert f"commitments={design}" in command or design == "paris_2026"
    shoot(page, "dashboard_compare.png")


@pytest.mark.slow  # the pages' numbers are rows, equal on both lines (test_cross_version.py)
def test_the_explorer_opens_a_sweep_and_a_click_shows_that_cell(opened, results):
    cli(["-m", "commitments=paris_2026,budapest_like", "breach=sporadic,surge_offensive", "runs=20",
         "hydra/launcher=basic", f"hydra.sweep.dir={results / 'sweeps' / 'designs'}"], results)
    page = opened
    page.get_by_role("tab", name="Explore a sweep").click()
    page.wait_for_selector("#gs-explorer .gs-heat-cell", timeout=30_000)
    cells = page.locator("#gs-explorer .gs-heat-cell")
    assert cells.count() == 4
    cells.nth(1).click()
    page.wait_for_selector("#gs-explorer-funnel", timeout=30_000)
    page.wait_for_selector("#gs-explorer-run", timeout=30_000)
    assert "guarantee-sim explain" in text(page, "#gs-explorer-run")
    page.locator("#gs-explorer-funnel").scroll_into_view_if_needed()
    shoot(page, "dashboard_explorer.png")
