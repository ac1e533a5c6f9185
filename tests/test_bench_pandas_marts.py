"""benchmarks/pandas_marts.py (the pandas yardstick of `make bench`) gives the pipeline's numbers.

One small SYNTHETIC contract-layout data set (hfeval.synth) goes through the pipeline and through
the pandas implementation; each test compares one mart with the warehouse table the pipeline
built (before disclosure control, which the pandas version does not apply). The pipeline's marts
publish small municipalities only inside an aggregate (publication units); the pandas version
groups by municipality, so aggregates are compared for the municipalities published alone.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from hfeval import pipeline, synth
from hfeval.config import get_paths

ROOT = Path(__file__).resolve().parents[1]


def _load_pandas_marts():
    spec = importlib.util.spec_from_file_location(
        "pandas_marts", ROOT / "benchmarks" / "pandas_marts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pm = _load_pandas_marts()


def _per_municipality(db: pd.DataFrame, mine: pd.DataFrame, on: list[str],
                      column: str = "municipality_code") -> pd.DataFrame:
    """The pipeline's rows for municipalities published alone, each with the pandas row."""
    alone = db[db[column].isin(set(mine[column]))]
    merged = alone.merge(mine, on=on, how="left", suffixes=("_db", "_pd"), indicator=True)
    assert (merged["_merge"] == "both").all()
    assert merged[column].nunique() >= 3  # enough municipalities to mean something
    return merged


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(pandas outputs, connection to the pipeline's warehouse) for one synthetic data set."""
    root = tmp_path_factory.mktemp("bench")
    data = root / "data"
    synth.generate(data, synth.SynthConfig(seed=7, participants=300, style="contract",
                                           file_format="parquet"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HFEVAL_OUTPUT", str(root / "out"))
        paths = get_paths()
        result = pipeline.run(data, paths=paths, overrides=["costs.bootstrap.n_resamples=20"])
    assert result.exit_code == 0, result.messages
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    yield pm.run(data), con
    con.close()


def test_the_synthetic_data_set_loads_without_quarantine(both):
    # Otherwise the pandas version (no validation) would see rows the pipeline dropped.
    _, con = both
    assert con.execute("select sum(rows_quarantined) from load_accounting").fetchall() == [(0,)]


def test_participants_match_mart_participants(both):
    out, con = both
    cols = ["participant_id", "ever_housed", "days_to_housing", "stably_housed_at_extraction"]
    db = con.sql(f"select {', '.join(cols)} from mart_participants order by 1").df()
    pd_ = out["participants"].sort_values("participant_id")[cols].reset_index(drop=True)

    assert len(pd_) == len(db) == 300
    assert (pd_["participant_id"].to_numpy() == db["participant_id"].to_numpy()).all()
    assert (pd_["ever_housed"].to_numpy() == db["ever_housed"].to_numpy()).all()
    assert (pd_["stably_housed_at_extraction"].to_numpy()
            == db["stably_housed_at_extraction"].to_numpy()).all()
    assert np.array_equal(pd_["days_to_housing"].astype(float).fillna(-1).to_numpy(),
                          db["days_to_housing"].astype(float).fillna(-1).to_numpy())


@pytest.mark.parametrize("mart,name,keys", [
    ("mart_overview_by_municipality", "overview_by_municipality",
     ["country", "municipality_code", "arm"]),
    ("mart_enrolment_by_municipality_year", "enrolment_by_municipality_year",
     ["country", "municipality_code", "cohort_year", "arm"]),
])
def test_counts_and_medians_match_the_sql_mart(both, mart, name, keys):
    out, con = both
    cols = ["n_participants", "n_housed", "n_stably_housed_at_extraction",
            "median_days_to_housing"]
    db = con.sql(f"select {', '.join(keys + cols)} from {mart}").df()
    merged = _per_municipality(db, out[name][keys + cols], keys)

    for c in cols:
        assert np.allclose(merged[f"{c}_db"].astype(float).fillna(-1),
                           merged[f"{c}_pd"].astype(float).fillna(-1)), c


def test_first_tenancies_match_mart_tenancies(both):
    out, con = both
    db = con.sql("select participant_id, duration_days, event_type from mart_tenancies "
                 "where tenancy_seq = 1").df()
    merged = db.merge(out["first_tenancies"], on="participant_id", how="outer",
                      suffixes=("_db", "_pd"), indicator=True)

    assert len(merged) > 100 and (merged["_merge"] == "both").all()
    assert (merged["duration_days_db"] == merged["duration_days_pd"]).all()
    assert (merged["event_type_db"] == merged["event_type_pd"]).all()
    assert set(merged["event_type_db"]) >= {"loss", "censored"}  # the data exercise both


def test_retention_at_12_months_matches_mart_retention_by_stratum(both):
    out, con = both
    db = con.sql("select arm, stratum_value as municipality_name, n_people, n_at_risk, survival "
                 "from mart_retention_by_stratum "
                 "where stratum_variable = 'municipality' and months = 12").df()
    merged = _per_municipality(db, out["retention_12m"], ["arm", "municipality_name"],
                               "municipality_name")

    assert (merged["n_people_db"] == merged["n_people_pd"]).all()
    assert (merged["n_at_risk_db"] == merged["n_at_risk_pd"]).all()
    assert np.allclose(merged["survival"].astype(float).fillna(-1),
                       merged["survival_12m"].astype(float).fillna(-1))


def test_costs_by_payer_and_period_match_mart_costs_by_person_period(both):
    out, con = both
    db = con.sql("""
        select c.country, c.municipality_code, c.arm, c.payer_sector, c.period,
               sum(c.cost) as cost
        from mart_costs_by_person_period as c
        where c.period in ('pre', 'post') and c.is_priced and c.participant_id in (
            select participant_id from mart_costs_by_person_period
            where period = 'observation' and included)
        group by all
    """).df()
    keys = ["country", "municipality_code", "arm", "payer_sector", "period"]
    merged = _per_municipality(db, out["costs_by_payer"], keys)

    # hfeval sums each person's costs in steps of 1/10,000 (designs.MONEY_SCALE, so they do not
    # depend on summation order): equal to within a hundredth of a krone.
    assert np.allclose(merged["cost_db"], merged["cost_pd"], rtol=1e-9, atol=1e-2)
    assert merged["cost_db"].sum() > 0


# ---- the product-limit estimator, by hand --------------------------------------------------------


def test_km_at_is_the_product_limit_estimate():
    # Durations 2, 3+, 5, 5, 8+ (+ = censored). At t = 6: S = (1 - 1/5) * (1 - 2/3) = 0.2667;
    # at risk at 6: the one censored at 8.
    durations = np.array([2, 3, 5, 5, 8], dtype=float)
    losses = np.array([True, False, True, True, False])

    s, at_risk = pm.km_at(durations, losses, 6.0)

    assert s == pytest.approx(0.8 * (1 / 3))
    assert at_risk == 1


def test_km_at_is_unknown_beyond_the_last_follow_up():
    s, at_risk = pm.km_at(np.array([2.0, 3.0]), np.array([True, False]), 10.0)

    assert np.isnan(s) and at_risk == 0


def test_km_at_reads_a_loss_on_the_day_itself():
    s, _ = pm.km_at(np.array([4.0, 9.0]), np.array([True, False]), 4.0)

    assert s == pytest.approx(0.5)


def test_costs_use_the_price_year_of_the_catalogue_row():
    t = {
        "cpi": pd.DataFrame({"country": ["NO", "NO"], "year": [2020, 2024],
                             "index_value": [100.0, 125.0]}),
        "exchange_rates": pd.DataFrame({"year": [2020], "currency": ["NOK"], "per_eur": [10.0]}),
        "unit_costs": pd.DataFrame({"country": ["NO"], "currency": ["NOK"],
                                    "price_year": [2020]}),
    }

    factors = pm.price_factors(t)

    assert factors["price_factor"].tolist() == [1.25]  # 2020 prices x 125 / 100
