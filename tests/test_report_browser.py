"""`journey report` in a real browser: Debian's headless Chromium, driven by
Selenium through Debian's chromedriver (nothing downloads a browser).

For every example: the report opens from a file:// URL with no console
error and no network request (the only request is the page itself), every
chart and picture has rendered with a non-zero size, and a full-page
screenshot is saved (to $JOURNEY_SCREENSHOTS, else the test's temporary
folder) for a person to look at.

CI installs chromium and chromium-driver (.ci/run) and sets CI=true: there
the test never skips. On a developer machine without them it skips, saying
what to install.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest

from journeydsl.cli.report import report_command

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.journey"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

if not (CHROMIUM and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium and chromium-driver (.ci/run)")
    pytest.skip("headless browser tests need Debian's chromium and chromium-driver "
                "(apt-get install chromium chromium-driver)", allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1366,900", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("JOURNEY_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_report_in_headless_chromium(browser, example, tmp_path):
    lang = "vi" if example.stem.startswith("vn_") else "en"
    out = tmp_path / f"{example.stem}.report.html"
    assert report_command(example, out, lang) == 0
    browser.get_log("performance")  # drop what came before
    browser.get_log("browser")
    browser.get(out.as_uri())
    requests = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    assert requests == [out.as_uri()], requests  # the page itself, nothing else
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors
    sizes = browser.execute_script("""
        return Array.from(document.querySelectorAll('section svg')).map(s => {
            const r = s.getBoundingClientRect();
            return [s.closest('section').id, r.width, r.height];
        });""")
    sections = {name for name, _, _ in sizes}
    assert {"board", "funnel", "montecarlo"} <= sections, sections
    for name, width, height in sizes:
        assert width > 50 and height > 30, (name, width, height)
    _intervals_drawn(browser)
    assert browser.execute_script("return document.querySelectorAll('script').length") == 0
    _screenshot(browser, shots_dir(tmp_path) / f"{example.stem}.report.png")
    _board_fits_a_printed_page(browser)


def _intervals_drawn(driver) -> None:
    """The Monte Carlo chart drew its intervals and points: every interval
    bar (a Vega rule) and point (a symbol) laid out with a size, at least
    one per KPI panel."""
    marks = driver.execute_script("""
        const chart = document.querySelector('section#montecarlo svg');
        const sized = sel => Array.from(chart.querySelectorAll(sel)).map(e => {
            const r = e.getBoundingClientRect(); return [r.width, r.height]; });
        return {rules: sized('g.mark-rule.role-mark line'),
                points: sized('g.mark-symbol.role-mark path'),
                panels: chart.querySelectorAll('g.mark-symbol.role-mark').length};""")
    assert marks["panels"] >= 5, marks  # conversion, profit, CLV, CAC, LTV:CAC, payback
    assert len(marks["points"]) >= 2 * marks["panels"], marks  # estimate and exact
    assert all(w > 3 and h > 3 for w, h in marks["points"]), marks
    # an interval bar is a horizontal line as long as its span
    assert marks["rules"] and all(w > 0 for w, _ in marks["rules"]), marks


def _board_fits_a_printed_page(driver) -> None:
    """Printed, the board is whole on one A4 landscape page (186 mm high
    inside its margins) under its heading: at 1500 px wide it was taller
    than the page, so the heading printed alone and the board ran over two
    pages."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        height = driver.execute_script(
            "return document.querySelector('section.board svg').getBoundingClientRect().height")
        heading = driver.execute_script(
            "return document.querySelector('section.board h2').getBoundingClientRect().height")
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    page = 186 / 25.4 * 96  # px
    assert 100 < height and height + heading + 16 <= page, (height, heading, page)


def _screenshot(driver, path: Path) -> None:
    """The whole page, not only the window."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                 "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes().startswith(b"\x89PNG")
