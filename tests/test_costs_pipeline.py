"""Costs end to end on tiny inline sources: SQL pricing, marts, overrides, the CLI."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from hfeval import pipeline
from hfeval.cli import app
from hfeval.config import Paths, get_paths
from tests.helpers import write_source

# P01 (Lindesnes, NO): somatic days before move-in (priced: NOK 7,141 a day at 2005 prices),
# police arrests (no unit cost in the catalogue). P05 (Odense, DK): prison days (priced).
SERVICE_USE = """participant_id,service,start_date,end_date,quantity,unit,source_system
P01,somatic_inpatient,2013-05-01,2013-05-04,3,day,patient_register
P01,police_arrest,2013-06-01,,1,episode,police_register
P01,police_arrest,2014-06-01,,1,episode,police_register
P05,prison,2011-01-01,2011-01-31,30,day,prison_register
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Paths:
    """One pipeline run shared by the tests of this module (a run takes seconds)."""
    root = tmp_path_factory.mktemp("costs")
    paths = Paths(root=get_paths().root, output=root / "out")
    result = pipeline.run(write_source(root / "data", service_use=SERVICE_USE), paths=paths)
    assert result.exit_code == 0, result.messages
    return paths


@pytest.fixture
def run(built, monkeypatch) -> Paths:
    monkeypatch.setenv("HFEVAL_OUTPUT", str(built.output))
    return built


def _rows(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_service_rows_get_their_catalogue_unit_cost(run):
    rows = _rows(run.warehouse,
                 "select participant_id, service, is_priced, unit_cost, payer_sector "
                 "from int_service_use_priced order by participant_id, start_date")
    assert rows == [
        ("P01", "somatic_inpatient", True, 7141.0, "specialist_health"),
        ("P01", "police_arrest", False, None, None),
        ("P01", "police_arrest", False, None, None),
        ("P05", "prison", True, 1878.0, "justice"),
    ]


def test_unpriced_service_use_is_published_as_a_report(run):
    rows = _rows(run.warehouse,
                 "select country, service, unit, n_events, total_quantity, n_participants "
                 "from mart_unpriced_service_use")
    assert rows == [("NO", "police_arrest", "episode", 2, 2.0, 1)]


def test_person_level_costs_are_in_the_price_year(run):
    # 3 somatic days x NOK 7,141 (2005) x CPI 2024 / 2005 = 21,423 x 133.60 / 82.31
    rows = _rows(run.warehouse,
                 "select period, cost from mart_costs_by_person_period "
                 "where participant_id = 'P01' and service = 'somatic_inpatient'")
    assert rows == [("pre", pytest.approx(21_423 * 133.60 / 82.31))]


def test_cost_estimates_are_published_with_small_numbers_suppressed(run):
    rows = _rows(run.publish_db,
                 "select distinct estimate, estimate_suppressed from mart_costs_by_payer")
    assert rows == [(None, True)]  # every stratum here has 1-3 people


def test_a_users_unit_cost_replaces_the_default_row(tmp_path):
    data = write_source(tmp_path / "data", service_use=SERVICE_USE)
    (data / "reference").mkdir()
    (data / "reference" / "unit_costs.csv").write_text(
        "country,service,unit,amount,currency,price_year,payer_sector,source,note\n"
        "NO,somatic_inpatient,day,10000,NOK,2024,specialist_health,local hospital 2024,\n"
        "NO,police_arrest,episode,5000,NOK,2024,justice,local police 2024,\n",
        encoding="utf-8")
    assert pipeline.run(data, paths=get_paths()).exit_code == 0
    rows = _rows(get_paths().warehouse,
                 "select service, sum(cost) from mart_costs_by_person_period "
                 "where participant_id = 'P01' and period in ('pre', 'post') group by all "
                 "order by service")
    assert rows == [("police_arrest", 10_000.0), ("somatic_inpatient", 30_000.0)]
    assert _rows(get_paths().warehouse, "select count(*) from mart_unpriced_service_use") == [(0,)]


def test_cli_costs_suppresses_small_strata_by_default(run):
    out = CliRunner().invoke(app, ["costs", "--design", "prepost", "--resamples", "99"])
    assert out.exit_code == 0, out.output
    assert "suppressed: 7 or fewer people" in out.output
    assert "Ly & Latimer 2015" not in out.output.split("suppressed")[0]


def test_cli_costs_prints_net_saving_by_payer_when_asked_to_show_small_strata(run):
    out = CliRunner().invoke(app, ["costs", "--design", "prepost", "--resamples", "99",
                                   "--show-small-strata", "--currency", "EUR"])
    assert out.exit_code == 0, out.output
    assert "net saving per participant-year" in out.output
    assert "by payer sector (net):" in out.output
    assert "EUR 2024 prices" in out.output
    assert "Ly & Latimer 2015" in out.output


def test_cli_costs_refuses_a_price_year_without_cpi(run):
    out = CliRunner().invoke(app, ["costs", "--price-year", "2031"])
    assert out.exit_code == 3
    assert "does not extrapolate" in out.output
