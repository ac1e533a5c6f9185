"""One-way sensitivity (tornado) of the net saving, on the tiny tables of test_costs_designs.

Hand calculation (12-month window, nothing discounted, programme 1,000 per participant-year):
  Housing First A: 10 prison days before (10,000), 2 after (2,000); B: 11 shelter nights
  before (5,500), none after. Pre/post offset = (15,500 - 2,000) / (2 x 365/365.25) per year,
  of which prison (10,000 - 2,000) and shelter 5,500; net saving = offset - 1,000.
"""

from __future__ import annotations

import polars as pl
import pytest

from hfeval.costs.designs import CostSettings
from hfeval.costs.outputs import CostingInputs, cost, estimate
from hfeval.costs.sensitivity import point_estimates, tornado
from tests.test_costs_designs import EVENTS, PEOPLE, SETTINGS, TABLES, Y, costed

KEY = ("NO", "4205", "M4205")
# mart_programme_costs: 2,000 for 2 participant-years in the price year = 1,000 a year.
PROGRAMME = pl.DataFrame({
    "municipality_code": ["4205"], "country": ["NO"], "year": [2020], "currency": ["NOK"],
    "total_cost_nominal": [2000.0], "fixed_cost_nominal": [1500.0],
    "variable_cost_nominal": [500.0], "staff_fte": [1.0], "n_participants": [2],
    "participant_years": [2.0]})
OFFSET = 13_500 / (2 * Y)


def inputs() -> CostingInputs:
    ev = pl.DataFrame(EVENTS, schema_overrides={"unit_cost": pl.Float64,
                                                "unit_cost_price_year": pl.Int64,
                                                "cost_catalogue": pl.Float64})
    return CostingInputs(pl.DataFrame(PEOPLE), ev, PROGRAMME, TABLES)


def test_point_estimate_is_the_net_saving_of_the_bootstrap_estimate():
    c = costed(PEOPLE, EVENTS, programme_per_py=1000.0)
    est = estimate(c, design="prepost")
    net = est.filter((pl.col("measure") == "net_saving") & (pl.col("breakdown") == "total"))
    assert point_estimates(c, design="prepost", by="municipality")[KEY] == pytest.approx(
        net["estimate"].item())


def test_scaling_a_unit_cost_scales_only_that_services_offset():
    c = costed(PEOPLE, EVENTS, programme_per_py=1000.0)
    base = point_estimates(c, design="prepost", by="municipality")[KEY]
    up = point_estimates(c, design="prepost", by="municipality",
                         service_scale={"prison": 1.25})[KEY]
    assert base == pytest.approx(OFFSET - 1000)
    assert up - base == pytest.approx(0.25 * 8_000 / (2 * Y))


def test_scaling_a_unit_cost_equals_costing_with_that_unit_cost():
    expensive = [{**e, "cost_catalogue": e["cost_catalogue"] * 1.25}
                 if e["service"] == "prison" else e for e in EVENTS]
    scaled = point_estimates(costed(PEOPLE, EVENTS, programme_per_py=1000.0), design="did", by="municipality",
                             service_scale={"prison": 1.25})[KEY]
    direct = point_estimates(costed(PEOPLE, expensive, programme_per_py=1000.0), design="did", by="municipality")[KEY]
    assert scaled == pytest.approx(direct)


def test_tornado_moves_each_variable_with_the_rest_at_base():
    table = tornado(inputs(), SETTINGS, design=["prepost", "did"], by="municipality")
    prepost = table.filter(pl.col("design") == "prepost")
    prison = prepost.filter(pl.col("variable") == "unit cost: prison").row(0, named=True)
    assert (prison["low_setting"], prison["high_setting"]) == ("-25%", "+25%")
    assert prison["net_saving_base"] == pytest.approx(OFFSET - 1000)
    assert prison["swing"] == pytest.approx(0.5 * 8_000 / (2 * Y))
    programme = prepost.filter(pl.col("variable") == "programme cost").row(0, named=True)
    assert programme["net_saving_low"] == pytest.approx(OFFSET - 750)
    assert programme["net_saving_high"] == pytest.approx(OFFSET - 1250)
    assert set(table["design"]) == {"prepost", "did"}
    assert prepost["n_participants_hf"].unique().to_list() == [2]


def test_tornado_window_is_the_estimate_recosted_at_each_window():
    table = tornado(inputs(), SETTINGS, design="prepost", by="municipality",
                    params={"costs.sensitivity.window_months": [6, 12]})
    row = table.filter(pl.col("variable") == "window (months)").row(0, named=True)
    for months, value in ((6, row["net_saving_low"]), (12, row["net_saving_high"])):
        c = cost(inputs(), CostSettings(**{**SETTINGS.__dict__, "window_months": months}))
        assert value == pytest.approx(point_estimates(c, design="prepost",
                                                      by="municipality")[KEY])
