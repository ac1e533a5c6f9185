"""The Costs and the Fidelity pages in Streamlit's AppTest: what they show equals what was
published, restated in another currency by hand-worked factors, and a suppressed estimate shows
the word, never a number.

The publishable demo database is the one tests/test_dashboard_apptest.py builds (once per
session, cached in pytest's session folder). Widgets are set through session state before the
single run of each render (as ui.url_selectbox reads them: codes, not labels). Assert messages
name pages, languages, tables and columns only, never a published value.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from hfeval import i18n
from tests.test_dashboard_apptest import build_dashboard_demo, static_tables

pytestmark = pytest.mark.slow  # shares the demo build (about 40 s), then about 1 s per render

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
APP = DASHBOARD / "app.py"
COSTS, FIDELITY = "app_pages/costs.py", "app_pages/fidelity.py"
LANGS = i18n.LANGS
ODENSE = "461"  # a Danish demo municipality with both arms: every cost estimate published
ECB_DKK_PER_EUR_2024 = 7.4589  # annual mean of ECB daily reference rates (DOMAIN.md §4)


@pytest.fixture(scope="session")
def publish_db(tmp_path_factory) -> Path:
    return build_dashboard_demo(tmp_path_factory).publish_db


@pytest.fixture(scope="session")
def suppressed_db(publish_db, tmp_path_factory) -> Path:
    """A copy of the demo database in which Odense's difference-in-differences estimates are
    suppressed, as disclosure control leaves them when an arm has 1..threshold people."""
    copy = tmp_path_factory.mktemp("suppressed") / "hfeval_publish.duckdb"
    shutil.copy(publish_db, copy)
    columns = ("estimate", "ci_low", "ci_high", "percentile_low", "percentile_high", "bca_low",
               "bca_high")
    blank = ", ".join(f"{c} = null, {c}_suppressed = true" for c in columns)
    with duckdb.connect(str(copy)) as con:
        for table in ("mart_costs_net", "mart_costs_by_payer", "mart_costs_by_service"):
            con.execute(f"update {table} set {blank} "
                        "where municipality_code = ? and design = 'did'", [ODENSE])
    return copy


def render(page: str, lang: str, db: Path, monkeypatch, **state) -> AppTest:
    """Run app.py on `page` in `lang` with widgets preset (area, design, currency, ...)."""
    if str(DASHBOARD) not in sys.path:
        sys.path.insert(0, str(DASHBOARD))
    monkeypatch.setenv("HFEVAL_PUBLISH_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(page)
    return at.run()


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, f"expected one metric labelled {label!r}, found {len(values)}"
    return values[0]


def table(at: AppTest, index: int):
    """A static table as shown (the `index`-th on the page)."""
    return static_tables(at)[index]


def published(db: Path, sql: str, params: list) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()[0]


def net_saving(db: Path, design: str) -> tuple[float, str]:
    return published(db, "select estimate, currency from mart_costs_net where "
                         "municipality_code = ? and design = ? and measure = 'net_saving'",
                     [ODENSE, design])


# ---- every language, every view, no exceptions --------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("design", ["did", "prepost"])
def test_the_costs_page_for_one_area_renders_in_every_language(publish_db, monkeypatch, lang,
                                                                design):
    at = render(COSTS, lang, publish_db, monkeypatch, area=f"unit:{ODENSE}", design=design)
    assert [e.message for e in at.exception] == [], f"costs, {design}, {lang}"
    assert at.title[0].value == i18n.t("costs.title", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_costs_page_for_all_areas_in_euro_renders_in_every_language(publish_db,
                                                                        monkeypatch, lang):
    at = render(COSTS, lang, publish_db, monkeypatch, currency="EUR", price_year="2015")
    assert [e.message for e in at.exception] == [], f"costs, all areas, {lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_the_fidelity_page_for_one_area_renders_in_every_language(publish_db, monkeypatch,
                                                                   lang):
    at = render(FIDELITY, lang, publish_db, monkeypatch, area=f"unit:{ODENSE}")
    assert [e.message for e in at.exception] == [], f"fidelity, {lang}"
    assert at.title[0].value == i18n.t("fidelity.title", lang)


# ---- the numbers are the published numbers -------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_headline_net_saving_is_the_published_estimate(publish_db, monkeypatch, lang):
    estimate, currency = net_saving(publish_db, "did")
    at = render(COSTS, lang, publish_db, monkeypatch, area=f"unit:{ODENSE}", design="did")
    shown = metric(at, i18n.t("costs.net_saving", lang))
    assert shown == i18n.fmt_money(estimate, lang, currency), f"net saving in {lang}"


def test_euro_at_the_published_price_year_divides_by_that_year_s_ecb_rate(publish_db,
                                                                          monkeypatch):
    # The demo publishes DKK at 2024 prices, so the factor is 1 / 7.4589 (DKK per EUR, 2024):
    # e.g. DKK 43,894 -> EUR 43,894 / 7.4589 = EUR 5,884.8.
    estimate, currency = net_saving(publish_db, "prepost")
    assert currency == "DKK"
    assert published(publish_db, "select per_eur from stg_exchange_rates "
                                 "where year = 2024 and currency = 'DKK'", []) == \
        (ECB_DKK_PER_EUR_2024,)
    at = render(COSTS, "en", publish_db, monkeypatch, area=f"unit:{ODENSE}", design="prepost",
                currency="EUR", price_year="2024")
    expected = i18n.fmt_money(estimate / ECB_DKK_PER_EUR_2024, "en", "EUR")
    assert metric(at, i18n.t("costs.net_saving", "en")) == expected
    assert any("EUR at 2024 prices" in c.value for c in at.caption)


def test_ratios_and_counts_do_not_change_with_the_currency(publish_db, monkeypatch):
    per_10, = published(publish_db, "select estimate from mart_costs_net where "
                                    "municipality_code = ? and design = 'did' and "
                                    "measure = 'saved_per_10_spent'", [ODENSE])
    at = render(COSTS, "nb", publish_db, monkeypatch, area=f"unit:{ODENSE}", design="did",
                currency="EUR", price_year="2015")
    label = i18n.t("costs.saved_per_10", "nb", currency="EUR")
    assert metric(at, label) == i18n.fmt_num(per_10, "nb", 1)


def test_the_fidelity_headline_is_the_published_home_visit_rate(publish_db, monkeypatch):
    rate, = published(publish_db, "select home_visits_per_participant_week from mart_fidelity "
                                  "where stratum_variable = 'all'", [])
    at = render(FIDELITY, "da", publish_db, monkeypatch)
    assert metric(at, i18n.t("fidelity.visits", "da")) == i18n.fmt_num(rate, "da", 2)


# ---- honesty: suppressed, caveats, what is left out ----------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_suppressed_estimate_shows_the_word_for_suppressed(suppressed_db, monkeypatch, lang):
    at = render(COSTS, lang, suppressed_db, monkeypatch, area=f"unit:{ODENSE}", design="did")
    assert [e.message for e in at.exception] == []
    word = i18n.t("common.suppressed", lang)
    for key in ("net_saving", "offset", "programme_cost"):
        assert metric(at, i18n.t(f"costs.{key}", lang)) == word, f"{key} in {lang}"
    payer = table(at, 0)  # who pays and who saves
    assert set(payer[i18n.t("costs.col_ci_low", lang)]) == {word}


def test_before_and_after_carries_the_regression_to_the_mean_caveat(publish_db, monkeypatch):
    at = render(COSTS, "nb", publish_db, monkeypatch, area=f"unit:{ODENSE}", design="prepost")
    assert any(i18n.t("costs.prepost_caveat", "nb") in w.value for w in at.warning)
    at = render(COSTS, "nb", publish_db, monkeypatch, area=f"unit:{ODENSE}", design="did")
    assert not any(i18n.t("costs.prepost_caveat", "nb") in w.value for w in at.warning)


def test_unpriced_service_use_is_listed_and_said_to_be_left_out(publish_db, monkeypatch):
    n_unpriced, = published(publish_db, "select count(*) from mart_unpriced_service_use "
                                        "where country = 'DK'", [])
    at = render(COSTS, "en", publish_db, monkeypatch, area=f"unit:{ODENSE}")
    assert i18n.t("costs.unpriced_warning", "en") in [w.value for w in at.warning]
    unpriced = table(at, -1)
    assert len(unpriced) == n_unpriced
    assert set(unpriced[i18n.t("costs.col_country", "en")]) == {"Denmark"}


def test_the_fidelity_page_says_weeks_run_to_the_extraction(publish_db, monkeypatch):
    at = render(FIDELITY, "en", publish_db, monkeypatch)
    assert i18n.t("fidelity.weeks_caveat", "en") in [i.value for i in at.info]
