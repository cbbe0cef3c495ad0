"""The app in a real browser: Debian's Chromium driven by Playwright, no internet.

The app is started with ``streamlit run`` on a free port; Chromium loads it,
the map must appear with every script and style sheet served by the app itself,
a site drawn with Leaflet.draw must come back evaluated, and the station slider
must change the numbers and the map's planned sites while the drawing stays.

``make test`` / ``.ci/run`` install Chromium with apt-get (``make browser``);
without ``/usr/bin/chromium`` these tests fail, they are not skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import REPO_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
APP = REPO_ROOT / "apps" / "streamlit_app.py"
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    """The app served by ``streamlit run`` on a free local port; stopped after the module's tests."""
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.address", "127.0.0.1", "--server.port", str(port),
           "--server.enableStaticServing", "true", "--server.fileWatcherType", "none"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("GEOPLAN_PROJECT", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within {START_TIMEOUT_S} s:\n"
                            f"{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium; a missing browser is a failure (CI installs it with apt-get)."""
    if not CHROMIUM.is_file():
        pytest.fail("/usr/bin/chromium is missing: run `make browser` (apt-get install chromium); "
                    "the browser tests must run, they are not optional")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: install the dev extras (pip install -e '.[dev]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    """One page on the app (module scope: the first load pays the app's start-up), with its requests."""
    ctx = browser.new_context(viewport={"width": 1500, "height": 1200})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    requests: list[tuple[str, str]] = []
    pg.on("request", lambda r: requests.append((r.resource_type, r.url)))
    pg.goto(app_url)
    pg.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=120_000)
    pg.get_by_text("Stations per 10k (city)").wait_for()
    pg.requests = requests  # type: ignore[attr-defined]
    yield pg
    ctx.close()


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True))
    return box.first.locator('[data-testid="stMetricValue"]').inner_text()


def wait_metric(page, label: str, value: str, timeout_s: float = 20.0) -> float:
    """Seconds until metric ``label`` shows ``value``."""
    started = time.monotonic()
    while metric(page, label) != value:
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"metric {label!r} is {metric(page, label)!r}, expected {value!r}")
        page.wait_for_timeout(50)
    return time.monotonic() - started


def layer_names(frame) -> str:
    return frame.locator(".leaflet-control-layers").text_content() or ""


def test_map_loads_offline_with_layers_and_legend(page, app_url):
    frame = page.frame_locator(MAP_FRAME)
    assert frame.locator(".leaflet-draw-toolbar a.leaflet-draw-draw-marker").count() == 1
    assert frame.locator(".leaflet-draw-draw-polygon").count() == 1
    assert frame.locator(".leaflet-draw-draw-rectangle").count() == 1
    assert frame.locator(".geoplan-legend").count() == 1
    assert frame.locator("canvas").count() >= 1  # the sites are drawn on a canvas
    names = layer_names(frame)
    for name in ("Existing 5G sites", "Districts: stations per 10k vs target", "5G coverage grid",
                 "Planned 5G sites (greedy order) (7,619)", "Population (residents per km²)", "Edge data centres"):
        assert name in names
    # no script, style sheet, font or image came from anywhere but the app itself
    external = [(t, u) for t, u in page.requests if urlparse(u).scheme in ("http", "https")
                and urlparse(u).hostname not in LOCAL_HOSTS]
    assert external == []
    local_assets = [u for t, u in page.requests if t in ("script", "stylesheet") and "/app/static/vendor/" in u]
    assert any(u.endswith("leaflet.js") for u in local_assets)
    assert any(u.endswith("leaflet.draw.js") for u in local_assets)
    assert metric(page, "Stations (existing + new)") == "18,500"


def test_draw_a_site_then_move_the_slider(page):
    frame = page.frame_locator(MAP_FRAME)
    leaflet = frame.locator(".leaflet-container")
    frame.locator("a.leaflet-draw-draw-marker").click()
    box = leaflet.bounding_box()
    assert box is not None
    # a point in the north of the city, where the plan leaves people uncovered
    leaflet.click(position={"x": box["width"] * 0.42, "y": box["height"] * 0.28})
    page.get_by_text("Added residents covered", exact=True).wait_for(timeout=30_000)
    assert metric(page, "Drawn sites") == "1"
    added = int(metric(page, "Added residents covered").replace(",", ""))
    assert added >= 0
    district_metric = page.locator('[data-testid="stMetric"]').filter(has_text=re.compile(r": stations per 10k"))
    assert district_metric.count() == 1
    delta = district_metric.locator('[data-testid="stMetricDelta"]').inner_text()
    assert re.match(r"\+0\.0[1-9]", delta), delta  # one more station in that district
    assert frame.locator(".leaflet-marker-icon").count() == 1

    per_10k = metric(page, "Stations per 10k (city)")
    slider = page.get_by_role("slider", name="Total 5G stations (existing + new)")
    slider.focus()
    slider.press("ArrowRight")
    took = wait_metric(page, "Stations (existing + new)", "18,550")
    print(f"slider to numbers: {took:.2f} s")
    assert took < 5.0, f"the numbers took {took:.1f} s to follow the slider"
    assert metric(page, "Stations per 10k (city)") != per_10k
    # the map swaps in the new planned sites and keeps the drawing
    deadline = time.monotonic() + 15
    while "(7,669)" not in layer_names(frame):
        assert time.monotonic() < deadline, layer_names(frame)
        page.wait_for_timeout(100)
    assert frame.locator(".leaflet-marker-icon").count() == 1
    assert metric(page, "Drawn sites") == "1"

    slider.press("End")
    wait_metric(page, "Stations (existing + new)", "25,000")
    assert metric(page, "Districts meeting target") == "6 / 6"


def test_siting_layers_on_the_map_and_drawing_still_works(page):
    """The candidate inventories and constraint zones join the base map; a site can still be drawn."""
    page.get_by_text("Base map", exact=True).click()
    page.get_by_text("Candidate inventories and siting constraints", exact=True).click()
    from playwright.sync_api import Error as PlaywrightError

    frame = page.frame_locator(MAP_FRAME)
    deadline = time.monotonic() + 60
    names = ""
    while "Candidate inventories by kind" not in names:  # the map remounts: two frames for a moment
        assert time.monotonic() < deadline, names
        page.wait_for_timeout(200)
        with contextlib.suppress(PlaywrightError):
            names = layer_names(frame)
    assert "Siting constraints (5 layers)" in names
    leaflet = frame.locator(".leaflet-container")
    frame.locator("a.leaflet-draw-draw-marker").click()
    box = leaflet.bounding_box()
    assert box is not None
    leaflet.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.30})
    page.get_by_text("Added residents covered", exact=True).wait_for(timeout=30_000)
    assert int(metric(page, "Drawn sites")) >= 1
