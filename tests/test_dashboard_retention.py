"""The Retention and the Pathways pages in Streamlit's AppTest: they render in every language,
the headline numbers are the published numbers formatted for the reader, a suppressed cell shows
the word for "suppressed" (never a number or 0), and the target status honours rounding.

The publishable demo database is the one tests/test_dashboard_apptest.py builds (once per
session, cached in pytest's session folder); tests that need a particular cell suppressed or a
particular target edit a copy of it. Widgets are set through session state before the single
run of each render. Assert messages name pages, languages, tables and columns only, never a
published value.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hfeval import i18n
from tests.test_dashboard_apptest import build_dashboard_demo, shown_tables, static_tables

pytestmark = pytest.mark.slow  # shares the demo build (about 40 s), then about 1 s per render

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
APP = DASHBOARD / "app.py"
RETENTION, PATHWAYS = "app_pages/retention.py", "app_pages/pathways.py"
LANGS = i18n.LANGS
HAMAR = "3403"  # a Norwegian demo municipality with both arms
BREAKDOWNS = ("municipality", "cohort_year", "support_model", "sex", "age_band")


@pytest.fixture(scope="session")
def publish_db(tmp_path_factory) -> Path:
    return build_dashboard_demo(tmp_path_factory).publish_db


def edited_copy(publish_db: Path, folder: Path, *statements: str) -> Path:
    """A copy of the demo database with `statements` applied (as disclosure control or a
    municipality's reference data could have left it)."""
    copy = folder / "hfeval_publish.duckdb"
    shutil.copy(publish_db, copy)
    with duckdb.connect(str(copy)) as con:
        for sql in statements:
            con.execute(sql)
    return copy


def suppress(table: str, columns: tuple[str, ...], where: str) -> str:
    blank = ", ".join(f"{c} = null, {c}_suppressed = true" for c in columns)
    return f"update {table} set {blank} where {where}"


@pytest.fixture(scope="session")
def suppressed_db(publish_db, tmp_path_factory) -> Path:
    """Everyone's 12-month retention in both arms, and the Housing First share of temporary
    stays over the ceiling, suppressed."""
    return edited_copy(
        publish_db, tmp_path_factory.mktemp("suppressed"),
        suppress("mart_retention_by_stratum", ("n_at_risk", "survival", "ci_lower", "ci_upper"),
                 "stratum_variable = 'all' and months = 12"),
        suppress("mart_temporary_stays", ("n_episodes_over_ceiling",
                                          "share_episodes_over_ceiling"),
                 "arm = 'housing_first' and stratum_variable = 'all'"),
    )


_RENDERED: dict[tuple, AppTest] = {}


def render(page: str, lang: str, db: Path, query: dict[str, str] | None = None,
           **state) -> AppTest:
    """Run app.py on `page` in `lang` with URL parameters and widgets preset (area, km_by, ...);
    each view is rendered once per session and shared by the tests that read it."""
    key = (page, lang, str(db), tuple(sorted((query or {}).items())),
           tuple(sorted(state.items())))
    if key in _RENDERED:
        return _RENDERED[key]
    if str(DASHBOARD) not in sys.path:
        sys.path.insert(0, str(DASHBOARD))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HFEVAL_PUBLISH_DB", str(db))
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params["lang"] = lang
        for name, value in (query or {}).items():
            at.query_params[name] = value
        for name, value in state.items():
            at.session_state[name] = value
        at.switch_page(page)
        _RENDERED[key] = at.run()
    return _RENDERED[key]


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, f"expected one metric labelled {label!r}, found {len(values)}"
    return values[0]


def table_with(at: AppTest, *headers: str) -> pd.DataFrame:
    """The one static table whose header has all of `headers`."""
    found = [t for t in static_tables(at) if set(headers) <= set(t.columns)]
    assert len(found) == 1, f"expected one table with columns {headers}, found {len(found)}"
    return found[0]


def published_row(db: Path, sql: str) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchall()[0], strict=True))


def retention_12(db: Path, arm: str) -> dict:
    return published_row(db, "select * from mart_retention_by_stratum where arm = '" + arm
                         + "' and stratum_variable = 'all' and months = 12")


def t(key: str, lang: str, **kw) -> str:
    return i18n.t(key, lang, **kw)


# ---- every language, every view, no exceptions --------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("area", ["all", f"unit:{HAMAR}"])
def test_the_retention_page_renders_in_every_language(publish_db, lang, area):
    at = render(RETENTION, lang, publish_db, area=area)
    assert [e.message for e in at.exception] == [], f"retention, {area}, {lang}"
    assert at.title[0].value == t("retention.title", lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("area", ["all", f"unit:{HAMAR}"])
def test_the_pathways_page_renders_in_every_language(publish_db, lang, area):
    at = render(PATHWAYS, lang, publish_db, area=area)
    assert [e.message for e in at.exception] == [], f"pathways, {area}, {lang}"
    assert at.title[0].value == t("pathways.title", lang)


@pytest.mark.parametrize("breakdown", BREAKDOWNS)
def test_the_curves_can_be_compared_by_every_breakdown(publish_db, breakdown):
    at = render(RETENTION, "nb", publish_db, km_by=breakdown, area="country:NO")
    assert [e.message for e in at.exception] == [], f"retention by {breakdown}"
    # One row per published group and report month, Housing First only.
    shown = table_with(at, t("retention.col_survival", "nb"), t("retention.col_n_at_risk", "nb"))
    assert len(shown) > 0, f"retention by {breakdown}: empty table"
    assert len(shown) % 3 == 0, f"retention by {breakdown}: not 6/12/24 for every group"


@pytest.mark.parametrize("lang", LANGS)
def test_a_link_with_the_breakdown_code_opens_that_breakdown_in_every_language(publish_db,
                                                                              lang):
    at = render(RETENTION, lang, publish_db, query={"km_by": "sex"})
    assert [e.message for e in at.exception] == [], lang
    shown = table_with(at, t("retention.col_survival", lang), t("retention.col_months", lang))
    groups = set(shown[t("retention.col_group", lang)])
    assert groups == {t("common.sex.female", lang), t("common.sex.male", lang)}, lang


def curve_point_tables(at: AppTest, lang: str) -> list[pd.DataFrame]:
    """The tables of the numbers behind the curves (month by month, without the 6/12/24-month
    table's count of people)."""
    return [f for f in shown_tables(at) if t("retention.km_n_at_risk", lang) in f.columns
            and t("retention.col_months", lang) in f.columns
            and t("retention.col_n_people", lang) not in f.columns]


def test_the_numbers_behind_the_curves_are_sent_only_once_their_expander_is_open(publish_db):
    closed = render(RETENTION, "da", publish_db)
    opened = render(RETENTION, "da", publish_db, **{"retention-km-data": True})
    assert [e.message for e in opened.exception] == []
    assert curve_point_tables(closed, "da") == []
    assert len(curve_point_tables(opened, "da")) == 1


# ---- the numbers shown are the published numbers ------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_12_month_metric_is_the_published_estimate(publish_db, lang):
    row = retention_12(publish_db, "housing_first")
    at = render(RETENTION, lang, publish_db)
    shown = metric(at, t("retention.metric_housing_first", lang, months=12))
    assert shown == i18n.fmt_pct(row["survival"], lang), f"12-month retention in {lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_sentence_at_the_top_quotes_the_published_12_month_estimate_and_ci(publish_db,
                                                                                lang):
    hf, cmp = retention_12(publish_db, "housing_first"), retention_12(publish_db, "comparison")
    at = render(RETENTION, lang, publish_db)
    expected = t("retention.summary", lang, selection=t("common.stratum.all", lang),
                 value=i18n.fmt_pct(hf["survival"], lang),
                 low=i18n.fmt_pct(hf["ci_lower"], lang), high=i18n.fmt_pct(hf["ci_upper"], lang))
    expected += " " + t("retention.summary_comparison", lang,
                        value=i18n.fmt_pct(cmp["survival"], lang),
                        low=i18n.fmt_pct(cmp["ci_lower"], lang),
                        high=i18n.fmt_pct(cmp["ci_upper"], lang))
    assert at.markdown[0].value == f"**{expected}**", f"retention summary in {lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_median_days_to_housing_is_the_published_estimate(publish_db, lang):
    row = published_row(publish_db, "select * from mart_time_to_housing where "
                                    "arm = 'housing_first' and stratum_variable = 'all'")
    at = render(PATHWAYS, lang, publish_db)
    shown = [m.value for m in at.metric if m.label == t("pathways.metric_median", lang)]
    assert shown[0] == i18n.fmt_int(row["median_days_to_housing"], lang), f"median in {lang}"


# ---- suppressed cells show the word -------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_suppressed_12_month_estimate_shows_the_word_suppressed(suppressed_db, lang):
    word = t("common.suppressed", lang)
    at = render(RETENTION, lang, suppressed_db)
    assert [e.message for e in at.exception] == [], lang
    assert metric(at, t("retention.metric_housing_first", lang, months=12)) == word, lang
    assert metric(at, t("retention.metric_comparison", lang, months=12)) == word, lang
    shown = table_with(at, t("retention.col_survival", lang), t("retention.col_months", lang))
    at_12 = shown[shown[t("retention.col_months", lang)] == "12"]
    assert at_12[t("retention.col_survival", lang)].tolist() == [word, word], lang
    assert at_12[t("retention.col_n_at_risk", lang)].tolist() == [word, word], lang


@pytest.mark.parametrize("lang", LANGS)
def test_a_suppressed_12_month_estimate_is_said_to_be_suppressed_at_the_top(suppressed_db,
                                                                           lang):
    at = render(RETENTION, lang, suppressed_db)
    expected = t("retention.summary_suppressed", lang, selection=t("common.stratum.all", lang))
    assert at.markdown[0].value == f"**{expected}**", lang


@pytest.mark.parametrize("lang", LANGS)
def test_a_suppressed_share_of_stays_over_the_ceiling_shows_the_word(suppressed_db, lang):
    word = t("common.suppressed", lang)
    at = render(PATHWAYS, lang, suppressed_db)
    assert [e.message for e in at.exception] == [], lang
    over = [m.value for m in at.metric
            if m.label == t("pathways.temp_metric_share", lang, ceiling=61)]
    assert over[0] == word, f"Housing First stays over the ceiling in {lang}"
    shown = table_with(at, t("pathways.col_n_episodes", lang))
    hf = shown[shown[t("pathways.col_group", lang)] == t("common.arm.housing_first", lang)]
    assert hf[t("pathways.col_share_over", lang, ceiling=61)].tolist() == [word], lang
    assert hf[t("pathways.col_n_over", lang, ceiling=61)].tolist() == [word], lang


# ---- the target status honours rounding --------------------------------------------------------


def test_the_target_status_says_too_close_to_call_when_rounding_could_hide_the_answer(
        publish_db, tmp_path):
    # Published counts are rounded to the nearest 5, so a published 15 is a true 13..17.
    # housed 20 vs target 15: true 18..22 >= 15 -> reached; housed 10 vs 15: true 8..12 < 15
    # -> below; housed 15 vs 15: true 13..17 -> too close to call.
    db = edited_copy(publish_db, tmp_path, *[
        "update mart_housed_vs_target set target_housed_total = 15, target_housed_per_year = "
        f"null, n_housed = {housed}, n_housed_suppressed = false where municipality_name = "
        f"'{name}'" for name, housed in (("Odense", 20), ("Randers", 10), ("Hamar", 15))])
    at = render(PATHWAYS, "en", db, area="all")
    shown = table_with(at, t("pathways.col_status", "en"))
    status = dict(zip(shown[t("pathways.col_area", "en")], shown[t("pathways.col_status", "en")],
                      strict=True))
    assert status["Odense"] == t("pathways.status_met", "en")
    assert status["Randers"] == t("pathways.status_below", "en")
    assert status["Hamar"] == t("pathways.status_unclear", "en")
