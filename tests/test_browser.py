"""In a real browser: Debian's headless Chromium driven by Playwright, every non-local request blocked.

(a) JupyterLab on 127.0.0.1 opens a copy of a notebook, runs all cells, and its chart renders
    interactively (Vega-Lite from JupyterLab's own bundle, no network).
(b) The report's index and pages open from file:// and every chart renders; no script from article
    text runs (the test corpus has ``<script>`` and ``<img onerror>`` in its articles) and that text
    shows escaped.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from corelib.notebook_params import NOTEBOOK_DIR

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "file:", "data:", "blob:",
         "about:")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (run scripts/install_browser.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def offline_page(browser, blocked: list[str]):
    """Return a new page on which every request that is not local is aborted (and recorded)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def route(r):
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- (a) JupyterLab

@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Start JupyterLab on 127.0.0.1 in a temp root with a copy of notebook 01 and the seeds; yield its URL."""
    root = tmp_path_factory.mktemp("lab")
    (root / "notebooks").mkdir()
    for path in sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")):
        shutil.copy(path, root / "notebooks")
    shutil.copytree(NOTEBOOK_DIR.parent / "seeds", root / "seeds")
    # render every cell (no windowing), so the whole notebook is in the page to check
    settings = root / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}', encoding="utf-8")
    # and no question about fetching Jupyter news (a toast over the page)
    apputils = root / ".settings" / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True)
    (apputils / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}',
                                                               encoding="utf-8")
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".config"), "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
           "--ServerApp.password=", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly",
           f"--LabApp.workspaces_dir={root / '.workspaces'}", f"--LabApp.user_settings_dir={root / '.settings'}"]
    log = open(root / "lab.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text())
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_jupyterlab_runs_a_notebook_and_draws_its_charts(browser, lab):
    committed = nbformat.read(NOTEBOOK_DIR / "01_corpus_overview.ipynb", as_version=4)
    n_code = sum(c.cell_type == "code" for c in committed.cells)
    n_charts = sum("image/svg+xml" in o.get("data", {}) for c in committed.cells for o in c.get("outputs", []))
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    page.goto(f"{lab}/lab/tree/notebooks/01_corpus_overview.ipynb?reset", wait_until="domcontentloaded")
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')", timeout=60_000)
    # wait until the document is loaded and its kernel (python3, from the notebook) is idle
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
    }""")
    page.wait_for_function("window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status === 'idle'",
                           timeout=60_000)
    code_cells = "[...window.jupyterapp.shell.currentWidget.content.model.cells].filter(c => c.type === 'code')"
    # clear the committed outputs in the model, then run every cell (started, not awaited)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs'); }")
    page.wait_for_function(f"{code_cells}.every(c => c.outputs.length === 0 && c.executionCount === null)")
    assert page.locator(".jp-Notebook .vega-embed").count() == 0
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    # the last code cell records the key figures: when its output is there, every cell has run
    page.wait_for_function(f"{code_cells}.every(c => c.executionCount !== null) && {code_cells}.at(-1).outputs.length > 0",
                           timeout=120_000)
    assert page.evaluate(f"{code_cells}.map(c => c.executionCount)") == list(range(1, n_code + 1))
    assert "articles = 5" in page.locator(".jp-Notebook .jp-CodeCell").last.inner_text()
    charts = page.locator(".jp-OutputArea-output .vega-embed")
    charts.first.wait_for(timeout=30_000)
    page.wait_for_function(f"document.querySelectorAll('.jp-OutputArea-output .vega-embed :is(svg.marks, canvas.marks)').length >= {n_charts}",
                           timeout=30_000)
    sizes = page.evaluate("""[...document.querySelectorAll('.jp-OutputArea-output .vega-embed :is(svg.marks, canvas.marks)')]
                             .map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])""")
    assert len(sizes) == n_charts and all(w > 100 and h > 50 for w, h in sizes), sizes
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], .jp-RenderedText .ansi-red-fg")
    assert errors.count() == 0, errors.all_inner_texts()
    # interactive: hovering a bar shows a tooltip with the data behind it
    first = page.locator(".jp-OutputArea-output .vega-embed").first
    first.evaluate("e => e.scrollIntoView({block: 'center'})")
    box = first.locator(":is(svg.marks, canvas.marks)").bounding_box()
    points = [(box["x"] + box["width"] * fx / 10, box["y"] + dy) for dy in range(20, int(box["height"]), 8)
              for fx in (3, 2)]
    for x, y in points:
        page.mouse.move(x, y)
        if page.locator("#vg-tooltip-element.visible").count():
            break
    assert page.locator("#vg-tooltip-element.visible").count() == 1
    assert "articles" in page.locator("#vg-tooltip-element").inner_text()
    assert not [u for u in blocked if "cdn" in u or "unpkg" in u or "jsdelivr" in u], blocked
    page.close()


@pytest.mark.parametrize("name", ["02_who_speaks", "03_stance", "04_keywords_keyness", "05_topics",
                                  "06_places_events"])
def test_jupyterlab_draws_every_committed_chart(browser, lab, name):
    # JupyterLab's own Vega-Lite (5.x) draws the committed specifications (written by altair 6), offline
    committed = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    n_charts = sum("image/svg+xml" in o.get("data", {}) for c in committed.cells for o in c.get("outputs", []))
    page = offline_page(browser, [])
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{lab}/lab/tree/notebooks/{name}.ipynb?reset", wait_until="domcontentloaded")
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')", timeout=60_000)
    page.wait_for_function(f"document.querySelectorAll('.jp-OutputArea-output .vega-embed :is(svg.marks, canvas.marks)').length >= {n_charts}",
                           timeout=60_000)
    sizes = page.evaluate("""[...document.querySelectorAll('.jp-OutputArea-output .vega-embed :is(svg.marks, canvas.marks)')]
                             .map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])""")
    assert len(sizes) == n_charts and all(w > 100 and h > 50 for w, h in sizes), sizes
    assert not [e for e in errors if "vega" in e.lower() or "Error" in e], errors
    page.close()


# --------------------------------------------------------------------------- (b) the report, offline

def test_report_pages_render_offline_and_run_no_article_script(browser, notebook_report):
    out, manifest = notebook_report
    pages = ["index.html"] + [r["html"] for r in manifest["notebooks"] if r["html"]]
    assert len(pages) == 7
    dialogs: list[str] = []
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    escaped_seen = []
    for name in pages:
        page.goto((out / name).as_uri(), wait_until="load")
        page.wait_for_timeout(100)
        assert page.evaluate("document.querySelectorAll('script').length") == 0, name
        images = page.evaluate("""[...document.querySelectorAll('img.corelib-chart')]
                                  .map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])""")
        if name != "index.html":
            executed = nbformat.read(out / name.replace(".html", ".ipynb"), as_version=4)
            n_charts = sum(1 for c in executed.cells for o in c.get("outputs", [])
                           if "image/svg+xml" in o.get("data", {}))
            assert len(images) == n_charts > 0, name
            assert all(ok and w > 100 and h > 50 for ok, w, h, _ in images), (name, images)
            if "<script>alert(1)</script>" in page.inner_text("body"):
                assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content()
                escaped_seen.append(name)
    assert escaped_seen, "the hostile article text should show, escaped, on at least one page"
    assert dialogs == [], dialogs
    assert blocked == [], blocked  # the pages ask for nothing outside the report folder
    page.close()


def test_report_index_links_every_page(browser, notebook_report):
    out, manifest = notebook_report
    page = offline_page(browser, [])
    page.goto((out / "index.html").as_uri())
    links = page.evaluate("[...document.querySelectorAll('table.notebooks a')].map(a => a.getAttribute('href'))")
    for r in manifest["notebooks"]:
        assert r["html"] in links and r["ipynb"] in links
    assert page.locator("tr.ok").count() == len(manifest["notebooks"])
    page.close()
