"""Take the README's pictures of a report with headless Chromium (offline: only file:// is loaded).

Usage::

    python scripts/screenshot_report.py report docs/

writes ``docs/report_index.png`` (the index page) and ``docs/report_page.png`` (the map and the
timeline of ``06_places_events.html``). Needs Debian's chromium (scripts/install_browser.sh).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path, help="report folder (from `corelib report`)")
    ap.add_argument("out", type=Path, help="folder for the PNG files")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        page.goto((args.report / "index.html").resolve().as_uri())
        page.screenshot(path=str(args.out / "report_index.png"))
        page.set_viewport_size({"width": 1100, "height": 1100})
        page.goto((args.report / "06_places_events.html").resolve().as_uri())
        page.get_by_text("A map of the places mentioned").first.evaluate("e => e.scrollIntoView()")
        page.screenshot(path=str(args.out / "report_page.png"))
        browser.close()
    print(f"wrote {args.out / 'report_index.png'} and {args.out / 'report_page.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
