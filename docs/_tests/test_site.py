"""The built site in a real browser: headless Chromium driven by Playwright (`nox -s docs_browser`).

Not part of the default `pytest` run (its testpaths are tests/ and src/mlxlr). Needs the site built
(`nox -s docs`) and Chromium: Debian's `/usr/bin/chromium` (`apt-get install -y chromium`), or the
executable that CHROMIUM names. Playwright's own browser download is never used (it does not work offline).

The site is served by Python's http.server on a free port of 127.0.0.1. Checks: every page loads with no
console error, no page error and no failed request; every image has loaded; the search box finds
`CosineDecay` for "cosine"; every internal link answers 200 and every anchor exists; screenshots of the
catalogue in light and dark mode go to docs/_build/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import os
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from playwright import sync_api  # nox -s docs_browser installs it

BUILD = Path(__file__).resolve().parents[1] / "_build"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = sorted(
    p.relative_to(HTML).as_posix()
    for p in HTML.rglob("*.html")
    if not p.relative_to(HTML).as_posix().startswith(("_static/", "_sources/", "_images/"))
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a browser that drops a request it no longer needs
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def site():
    """The base URL of the built site, served on a free port of the loopback address."""
    if not (HTML / "index.html").exists():
        pytest.fail(f"no site in {HTML}: run `nox -s docs` first")
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


class Visit:
    """A page opened in a fresh context, with every console error, page error and failed request kept."""

    def __init__(self, browser, url: str, color_scheme: str = "light") -> None:
        self.context = browser.new_context(color_scheme=color_scheme, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def visited(site, browser):
    """Every page, loaded once: its problems, its images, its links and the anchors it has."""
    results = {}
    for name in PAGES:
        visit = Visit(browser, site + name)
        page = visit.page
        page.evaluate("window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
        results[name] = {
            "problems": list(visit.problems),
            "images": page.eval_on_selector_all(
                "img", "els => els.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
            ),
            "links": page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)"),
            "anchors": set(page.eval_on_selector_all("[id], a[name]", "els => els.map(e => e.id || e.name)")),
        }
        visit.close()
    return results


def test_the_site_has_its_pages():
    expected = {
        "index.html",
        "getting-started.html",
        "algebra.html",
        "catalogue.html",
        "optimizer.html",
        "expressions.html",
        "cli.html",
        "mlx-lm.html",
        "distributed.html",
        "performance.html",
        "custom.html",
        "api.html",
        "migration/index.html",
        *(f"migration/{name}.html" for name in ("pytorch", "huggingface", "optax", "keras", "mlx")),
    }
    assert expected <= set(PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_without_errors(visited, name):
    assert visited[name]["problems"] == []


@pytest.mark.parametrize("name", PAGES)
def test_every_image_has_loaded(visited, name):
    broken = [src for src, complete, width in visited[name]["images"] if not (complete and width > 0)]
    assert broken == []


def test_pages_with_pictures_show_them(visited):
    pictures = {name: sum("schedule-" in (src or "") for src, _, _ in v["images"]) for name, v in visited.items()}
    assert pictures["catalogue.html"] >= 25
    assert pictures["algebra.html"] >= 10


def test_no_internal_link_is_broken(site, visited):
    status: dict[str, int] = {}
    broken = []
    for name, result in visited.items():
        for href in result["links"]:
            if not href.startswith(site):
                continue  # external: not checked offline
            target, fragment = urldefrag(href)
            if target not in status:
                try:
                    with urllib.request.urlopen(target, timeout=10) as response:
                        status[target] = response.status
                except urllib.error.HTTPError as e:
                    status[target] = e.code
            if status[target] != 200:
                broken.append(f"{name}: {href} (HTTP {status[target]})")
                continue
            path = urlsplit(target).path.removeprefix("/") or "index.html"
            if path.endswith("/"):
                path += "index.html"
            if fragment and path in visited and unquote(fragment) not in visited[path]["anchors"]:
                broken.append(f"{name}: {href} (no anchor #{fragment})")
    reached = {urlsplit(url).path.removeprefix("/") for url in status}
    assert reached >= set(PAGES) - {"search.html"}  # every page is linked from another (search: by its form)
    assert broken == []


def test_search_box_finds_cosine_decay(site, browser):
    visit = Visit(browser, site + "index.html")
    page = visit.page
    page.keyboard.press("Control+k")  # the theme's search dialog
    box = page.locator("#pst-search-dialog input[name=q]")
    box.fill("cosine")
    box.press("Enter")
    page.wait_for_url("**/search.html?q=cosine*")
    page.wait_for_selector("#search-results ul.search li a", timeout=15_000)
    hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(a => a.href)")
    assert any(h.endswith("api.html#mlxlr.CosineDecay") for h in hits), hits
    assert any("catalogue.html" in h for h in hits), hits
    assert visit.problems == []
    visit.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_of_the_catalogue(site, browser, scheme):
    visit = Visit(browser, site + "catalogue.html", color_scheme=scheme)
    page = visit.page
    assert page.evaluate("document.documentElement.dataset.theme") == scheme
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if scheme == "light" else "-dark"
    page.screenshot(path=str(SCREENSHOTS / f"catalogue{suffix}.png"), full_page=True)
    page.locator("#linear").scroll_into_view_if_needed()
    page.locator("#linear").screenshot(path=str(SCREENSHOTS / f"catalogue-linear{suffix}.png"))
    # The picture's background is the page's: transparent SVG, no white backing in dark mode.
    backing = page.eval_on_selector("figure.schedule-plot img", "i => getComputedStyle(i).backgroundColor")
    assert backing in ("rgba(0, 0, 0, 0)", "transparent")
    assert visit.problems == []
    visit.close()
