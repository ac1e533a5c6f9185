"""The dashboard end to end: `streamlit run dashboard/app.py` driven by headless Debian Chromium.

For every page of app.py in every language: load it, wait until the app has finished running,
take a 1280x800 screenshot (into the test's tmp folder, and into $HFEVAL_SCREENSHOTS if set),
and check that
- no exception box is shown;
- no count of people between 1 and the disclosure threshold is on screen: every cell of a
  static table's column (ui.show_table) and every st.metric whose label the page shows as a count of people (the
  labels are recorded by rendering the same page in AppTest, from the `count` kind the page
  gives ui.Col / ui.metric). Not covered here: counts written into free text, chart marks, and
  tables over 30 rows (st.dataframe draws on a canvas); the AppTest suite checks every value a
  page formats as a count, wherever it goes;
- the Overview's metrics and its by-municipality table equal the publishable tables
  (mart_time_to_housing, mart_retention_by_stratum, mart_overview_by_municipality), formatted
  with hfeval.i18n for the language, suppressed cells as the word.

Needs Debian's chromium (scripts/ensure-chromium.sh installs it): skipped locally without it,
failed in CI (env CI or HFEVAL_REQUIRE_BROWSER set; .ci/run sets the latter). Assert messages name pages, languages, labels and columns only.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from hfeval import i18n
from tests.test_dashboard_apptest import APP, LANGS, PAGES, build_dashboard_demo, rendered_page

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
VIEWPORT = {"width": 1280, "height": 800}
# The app has finished: the script is not running, nothing is stale or still a skeleton, and
# the page's title is there.
READY = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')
    && !!document.querySelector('[data-testid="stMain"] h1');
}"""
# The small tables (ui.show_table draws each as one static HTML table, class hf-table).
TABLES = """() => [...document.querySelectorAll('[data-testid="stMain"] .hf-table table')]
  .map(t => ({
    header: [...t.querySelectorAll('thead th')].map(c => c.innerText.trim()),
    rows: [...t.querySelectorAll('tbody tr')].map(r =>
      [...r.querySelectorAll('th, td')].map(c => c.innerText.trim())),
  }))"""
METRICS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]')]
  .map(m => ({
    label: m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
    value: m.querySelector('[data-testid="stMetricValue"]').innerText.trim(),
  }))"""


# ---- set-up: chromium, the demo database, the server ---------------------------------------------


def require_chromium() -> None:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (run scripts/ensure-chromium.sh)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (uv sync)")
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI") or os.environ.get("HFEVAL_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("streamlit did not become healthy within 60 s")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    require_chromium()
    return build_dashboard_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def server(demo, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    env = {**os.environ, "HFEVAL_PUBLISH_DB": str(demo.publish_db),
           "HFEVAL_OUTPUT": str(log.parent / "output")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=APP.parents[1], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def count_labels(demo) -> dict[tuple[str, str], set[str]]:
    """Per (page, lang): the table headers and metric labels the page shows counts of people
    under, recorded by rendering it in AppTest (before the browser starts)."""
    return {(f, lang): rendered_page(f, lang, demo.publish_db).count_labels
            for _, f in PAGES for lang in LANGS}


# ---- reading what is on screen ---------------------------------------------------------------------


def load(page, url: str) -> None:
    page.goto(url)
    for _ in range(2):  # a first render can trigger a rerun (URL-bound widgets): settle twice
        page.wait_for_function(READY, timeout=90_000)
        time.sleep(0.5)


def norm(text: str) -> str:
    """Text as compared: every kind of space one plain space (Babel uses no-break spaces)."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def as_int(text: str) -> int | None:
    """The whole number a cell shows (1 234 / 1.234 / 1,234), or None if it is not one."""
    t = norm(text).replace(" ", "").replace(".", "").replace(",", "")
    return int(t) if re.fullmatch(r"-?\d+", t) else None


def small_counts(tables: list[dict], metrics: list[dict], labels: set[str],
                 threshold: int) -> list[str]:
    """Where a count of people between 1 and the threshold is shown: (header or label) only."""
    found = []
    for t in tables:
        header = [norm(h) for h in t["header"]]
        cols = [i for i, h in enumerate(header) if h in labels]
        for row in t["rows"]:
            for i in cols:
                n = as_int(row[i]) if i < len(row) else None
                if n is not None and 1 <= n <= threshold:
                    found.append(header[i])
    for m in metrics:
        n = as_int(m["value"])
        if norm(m["label"]) in labels and n is not None and 1 <= n <= threshold:
            found.append(norm(m["label"]))
    return found


# ---- expected overview numbers, straight from the publishable tables ------------------------------


def shown(row: dict, column: str, kind: str, lang: str) -> str:
    """A published cell as the dashboard must show it (ui.cell), from hfeval.i18n only."""
    if row.get(f"{column}_suppressed"):
        return i18n.t("common.suppressed", lang)
    v = row.get(column)
    if v is None:
        return "–"
    if kind == "int":
        return i18n.fmt_int(v, lang)
    if kind == "pct":
        return i18n.fmt_pct(v, lang)
    if kind.startswith("code:"):
        return i18n.t(f"common.{kind[5:]}.{v}", lang)
    return str(v)


def query(db: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def expected_overview(db: Path, lang: str) -> tuple[dict[str, str], list[list[str]]]:
    everyone = "stratum_variable = 'all' and arm = 'housing_first'"
    tth = query(db, f"select * from mart_time_to_housing where {everyone}")[0]
    ret = query(db, f"select * from mart_retention_by_stratum where {everyone} and months = 12")[0]

    def t(key: str) -> str:
        return i18n.t(f"dashboard.overview.{key}", lang)

    metrics = {t("participants"): shown(tth, "n_people", "int", lang),
               t("housed"): shown(tth, "n_housed", "int", lang),
               t("retention_12"): shown(ret, "survival", "pct", lang),
               t("median_days"): shown(tth, "median_days_to_housing", "int", lang)}
    rows = [[shown(r, "municipality_name", "text", lang), shown(r, "arm", "code:arm", lang),
             shown(r, "n_participants", "int", lang), shown(r, "n_housed", "int", lang),
             shown(r, "n_stably_housed_at_extraction", "int", lang),
             shown(r, "share_of_housed_stably_housed_at_extraction", "pct", lang),
             shown(r, "median_days_to_housing", "int", lang)]
            for r in query(db, "select * from mart_overview_by_municipality "
                               "order by country, municipality_name, arm desc")]
    return {norm(k): norm(v) for k, v in metrics.items()}, [[norm(c) for c in r] for r in rows]


# ---- the test -----------------------------------------------------------------------------------------


def test_every_page_in_every_language_in_chromium(demo, server, browser, count_labels,
                                                   tmp_path):
    threshold = int(demo.manifest["parameters"]["disclosure.threshold"])
    human_dir = os.environ.get("HFEVAL_SCREENSHOTS")
    problems: list[str] = []
    page = browser.new_page(viewport=VIEWPORT)
    for slug, page_file in PAGES:
        for lang in LANGS:
            where = f"{slug} in {lang}"
            load(page, f"{server}/{'' if slug == 'overview' else slug}?lang={lang}")
            shot = tmp_path / f"{slug}-{lang}.png"
            page.screenshot(path=str(shot))
            if human_dir:
                Path(human_dir).mkdir(parents=True, exist_ok=True)
                shutil.copy2(shot, Path(human_dir) / shot.name)
            if page.query_selector('[data-testid="stException"]'):
                problems.append(f"{where}: an exception is shown")
            if norm(page.inner_text("h1")) == "":
                problems.append(f"{where}: no title")
            tables, metrics = page.evaluate(TABLES), page.evaluate(METRICS)
            labels = {norm(x) for x in count_labels[(page_file, lang)]}
            for label in small_counts(tables, metrics, labels, threshold):
                problems.append(f"{where}: a count of 1-{threshold} under '{label}'")
            if slug == "overview":
                want_metrics, want_rows = expected_overview(demo.publish_db, lang)
                got_metrics = {norm(m["label"]): norm(m["value"]) for m in metrics}
                for label, value in want_metrics.items():
                    if got_metrics.get(label) != value:
                        problems.append(f"{where}: metric '{label}' differs from the database")
                if not tables or [[norm(c) for c in r] for r in tables[0]["rows"]] != want_rows:
                    problems.append(f"{where}: the by-municipality table differs from "
                                    "mart_overview_by_municipality")
    page.close()
    assert problems == []
