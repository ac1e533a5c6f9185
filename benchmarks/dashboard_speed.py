"""How fast is the dashboard? First render of each page and a filter change, in headless Chromium.

Starts `streamlit run dashboard/app.py` headless on a free port with HFEVAL_PUBLISH_DB pointing at
a publishable database (by default the largest `make bench` size's), finds the pages from the
app's own navigation links (so new pages are measured without changes here), and for each page:

* first render: from navigating a new tab to the page (`?lang=en`) until the script has finished
  (`stApp` script state notRunning, no running indicator), the main area has content and every
  chart and table in it has drawn; the first visit of each page after the server warmed up on
  the default page (its own caches empty), then a second, warm visit;
* filter change: choose another value in the first sidebar selectbox that is not the language,
  until the rerun it starts has finished and redrawn.

    uv run python benchmarks/dashboard_speed.py [--db PATH] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = ROOT / "build" / "bench" / "out" / "p100000" / "warehouse" / "hfeval_publish.duckdb"
CHROMIUM = "/usr/bin/chromium"
PAGE_TIMEOUT_MS = 120_000

# Counts script runs and remembers when the last one finished (installed in every document).
OBSERVER = """
window.__hf = {runs: 0};
new MutationObserver((changes) => {
  for (const c of changes) {
    if (c.target.getAttribute('data-test-script-state') === 'running') window.__hf.runs++;
  }
}).observe(document, {subtree: true, attributes: true,
                      attributeFilter: ['data-test-script-state']});
"""

# True once a script run has finished and the page has drawn what it produced (in view).
DRAWN = """
(minRuns) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || !window.__hf || window.__hf.runs < minRuns) return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid^="stStatusWidgetRunning"]')) return false;
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || !main.querySelector('[data-testid="stElementContainer"]')) return false;
  for (const c of main.querySelectorAll('[data-testid="stVegaLiteChart"]'))
    if (!c.querySelector('canvas, svg')) return false;
  // The table grid draws on a canvas only once it scrolls into view.
  for (const c of main.querySelectorAll('[data-testid="stDataFrame"]'))
    if (!c.querySelector('canvas') && c.getBoundingClientRect().top < window.innerHeight)
      return false;
  return true;
}
"""

NAV_LINKS = '[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]'
SIDEBAR_SELECTS = '[data-testid="stSidebar"] [data-testid="stSelectbox"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(db: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
           "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    env = {**os.environ, "HFEVAL_PUBLISH_DB": str(db)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not start within 60 s")


def render(page: Any, url: str) -> float:
    """Seconds from navigating to `url` until the first script run has drawn."""
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_function(DRAWN, arg=1, polling="raf", timeout=PAGE_TIMEOUT_MS)
    return time.perf_counter() - t0


# After a filter change: a new script run has started (a fast rerun may never show the running
# state, but the filters write the URL) and the page has drawn again.
CHANGED = """
(before) => {
  if (window.__hf.runs <= before.runs && location.href === before.href) return false;
  return (""" + DRAWN.strip() + """)(0);
}
"""


def filter_change(page: Any) -> float | None:
    """Seconds to rerun and redraw after choosing another value in the first sidebar filter
    (the language selector excluded); None if the page has none with a second option."""
    # The sidebar's filters are drawn a moment after the main area (a page may have the
    # language selector only: then this waits for nothing and finds no filter below).
    with contextlib.suppress(Exception):
        page.wait_for_function(f"document.querySelectorAll('{SIDEBAR_SELECTS}').length > 1",
                               timeout=10_000)
    selects = page.locator(SIDEBAR_SELECTS)
    for i in range(selects.count()):
        box = selects.nth(i)
        if "language" in (box.inner_text() or "").lower():
            continue
        before = page.evaluate("({runs: window.__hf.runs, href: location.href})")
        box.locator('[role="combobox"], [data-baseweb="select"]').first.click()
        options = page.locator('[role="option"]')
        try:
            options.nth(1).wait_for(timeout=10_000)
        except Exception:  # noqa: BLE001 - a filter with one option
            page.keyboard.press("Escape")
            continue
        t0 = time.perf_counter()
        options.nth(1).click()
        page.wait_for_function(CHANGED, arg=before, polling="raf", timeout=PAGE_TIMEOUT_MS)
        return time.perf_counter() - t0
    return None


def page_urls(page: Any, base: str) -> list[tuple[str, str]]:
    """(name, url) of every page in the app's navigation, the default page first."""
    hrefs = page.locator(NAV_LINKS).evaluate_all("els => els.map(e => e.href)")
    out: list[tuple[str, str]] = []
    for href in hrefs or [base + "/"]:
        path = href.split("?", 1)[0].rstrip("/").removeprefix(base).strip("/")
        url = f"{base}/{path}?lang=en" if path else f"{base}/?lang=en"
        if all(u != url for _, u in out):
            out.append((path or "(default)", url))
    return out


def measure(db: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_streamlit(db, port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--headless", "--no-sandbox", "--disable-gpu"])
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            ctx.add_init_script(OBSERVER)
            warm = ctx.new_page()
            warmup_s = render(warm, f"{base}/?lang=en")  # server, imports, default page
            pages = page_urls(warm, base)
            warm.close()
            results = []
            for name, url in pages:
                tab = ctx.new_page()
                first = render(tab, url)
                tab.close()
                tab = ctx.new_page()
                again = render(tab, url)
                changed = filter_change(tab)
                tab.close()
                results.append({"page": name, "url": url.removeprefix(base),
                                "first_render_s": first, "warm_render_s": again,
                                "filter_change_s": changed})
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    import streamlit

    return {"db": str(db), "streamlit": streamlit.__version__, "warmup_s": warmup_s,
            "pages": results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=DEFAULT_DB, help="publishable DuckDB file")
    ap.add_argument("--json", action="store_true", help="also print the results as one JSON line")
    args = ap.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db} does not exist: run `make bench` (or hfeval run) first")
    res = measure(args.db.resolve())
    print(f"dashboard on {args.db} (server warm-up {res['warmup_s']:.2f} s)")
    for r in res["pages"]:
        f = r["filter_change_s"]
        print(f"  {r['page']:14s} first render {r['first_render_s']:6.2f} s   warm "
              f"{r['warm_render_s']:6.2f} s   filter change "
              f"{'-' if f is None else f'{f * 1000:6.0f} ms'}")
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()
