"""The numpy Kaplan-Meier, Aalen-Johansen, median, time-to-housing and paired-t estimates
against their oracles: lifelines' KaplanMeierFitter and AalenJohansenFitter, and scipy's
ttest_rel, on hand-made edge cases and generated data (ties, censoring on event days, day-0
events, everyone censored, one person, everyone an event). Also the grouping that replaced
filtering once per stratum value."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.utils import median_survival_times
from polars.testing import assert_frame_equal
from scipy import stats

from hfeval.retention import fidelity, outcomes, survival

TOL = {"rtol": 1e-9, "atol": 1e-12}
EXAMPLES = settings(max_examples=60, deadline=None)

# (durations, events): ties, censoring on an event day, a day-0 event, all censored, one
# person, everyone an event, everyone on the same day.
EDGE_CASES = [
    ([3, 5, 5, 5, 8, 8, 12], [1, 1, 0, 1, 0, 1, 0]),
    ([0, 0, 4, 9], [1, 0, 1, 0]),
    ([2, 6, 7], [0, 0, 0]),
    ([5], [1]),
    ([5], [0]),
    ([1, 2, 2, 3, 9], [1, 1, 1, 1, 1]),
    ([4, 4, 4, 4], [1, 1, 0, 1]),
    ([4, 4, 4], [1, 1, 1]),
    ([10.5, 3.25, 7.0, 3.25], [1, 0, 1, 1]),
]

days = st.integers(0, 40)
samples = st.integers(1, 25).flatmap(lambda n: st.tuples(
    st.lists(days, min_size=n, max_size=n), st.lists(st.booleans(), min_size=n, max_size=n)))
competing = st.integers(1, 25).flatmap(lambda n: st.tuples(
    st.lists(days, min_size=n, max_size=n), st.lists(st.integers(0, 3), min_size=n, max_size=n)))
times = st.lists(st.integers(0, 90).map(lambda x: x / 2), min_size=1, max_size=6)


def lifelines_km(d, e) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(np.asarray(d, dtype=float), np.asarray(e, dtype=bool))


def none_to_nan(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# ---- Kaplan-Meier -------------------------------------------------------------------------------

def assert_km_equals_lifelines(d, e):
    kmf = lifelines_km(d, e)
    km = survival.kaplan_meier(d, e)
    np.testing.assert_array_equal(km.time, kmf.timeline)
    np.testing.assert_array_equal(km.at_risk, kmf.event_table["at_risk"].to_numpy())
    np.testing.assert_allclose(km.survival, kmf.survival_function_.iloc[:, 0], **TOL)
    np.testing.assert_allclose(km.ci_lower, kmf.confidence_interval_.iloc[:, 0], **TOL)
    np.testing.assert_allclose(km.ci_upper, kmf.confidence_interval_.iloc[:, 1], **TOL)


@pytest.mark.parametrize(("d", "e"), EDGE_CASES)
def test_kaplan_meier_table_equals_lifelines_on_edge_cases(d, e):
    assert_km_equals_lifelines(d, e)


@EXAMPLES
@given(samples)
def test_kaplan_meier_table_equals_lifelines_on_generated_data(sample):
    assert_km_equals_lifelines(*sample)


def lifelines_survival_at(d, e, t) -> dict[str, np.ndarray]:
    """lifelines' S and band at each time, with this project's missing-value rules applied."""
    kmf = lifelines_km(d, e)
    s = kmf.survival_function_.iloc[:, 0].asof(t).to_numpy()
    band = kmf.confidence_interval_.asof(t).to_numpy()
    at_risk = np.array([(np.asarray(d) >= x).sum() for x in t])
    s = np.where((at_risk == 0) & (s > 0), np.nan, s)  # beyond the last follow-up
    no_interval = np.isnan(s) | (s >= 1) | (s <= 0)
    lo, hi = (np.where(no_interval, np.nan, band[:, i]) for i in (0, 1))
    return {"survival": s, "ci_lower": lo, "ci_upper": hi, "n_at_risk": at_risk}


def assert_survival_at_equals_lifelines(d, e, t):
    ours = survival.survival_at(d, e, t)
    expected = lifelines_survival_at(d, e, t)
    for column in ("survival", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(none_to_nan(ours[column]), expected[column], **TOL)
    assert ours["n_at_risk"].to_list() == expected["n_at_risk"].tolist()


@pytest.mark.parametrize(("d", "e"), EDGE_CASES)
def test_survival_at_equals_lifelines_on_edge_cases(d, e):
    assert_survival_at_equals_lifelines(d, e, [0, 0.5, 3, 4, 5, 7.5, 8, 12, 13, 100])


@EXAMPLES
@given(samples, times)
def test_survival_at_equals_lifelines_on_generated_data(sample, t):
    assert_survival_at_equals_lifelines(*sample, t)


def lifelines_median(d, e) -> tuple[float | None, ...]:
    kmf = lifelines_km(d, e)
    ci = median_survival_times(kmf.confidence_interval_)
    values = (kmf.median_survival_time_, ci.iloc[0, 0], ci.iloc[0, 1])
    return tuple(float(v) if np.isfinite(v) else None for v in values)


@pytest.mark.parametrize(("d", "e"), EDGE_CASES)
def test_median_and_its_interval_equal_lifelines_on_edge_cases(d, e):
    assert survival.median_survival(d, e) == lifelines_median(d, e)


@EXAMPLES
@given(samples)
def test_median_and_its_interval_equal_lifelines_on_generated_data(sample):
    assert survival.median_survival(*sample) == lifelines_median(*sample)


def test_median_of_nobody_is_missing():
    assert survival.median_survival([], []) == (None, None, None)


# ---- cumulative incidence -----------------------------------------------------------------------

def lifelines_incidence(d, c, code, t) -> tuple[float, float, float]:
    """lifelines' AalenJohansenFitter estimate and its own 95 % CI at each time, fitted on
    days + 1 with different causes on a day untied by cause k microdays (survival's
    convention, so lifelines neither drops day-0 events nor jitters at random)."""
    d, c = np.asarray(d, dtype=float), np.asarray(c)
    if not (c == code).any():
        return 0.0, np.nan, np.nan
    untied = d - np.where(c > 0, c * 1e-6, 0.0) + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ajf = AalenJohansenFitter(calculate_variance=True).fit(untied, c, event_of_interest=code)
    row = np.searchsorted(ajf.cumulative_density_.index.to_numpy(), t + 1.0, side="right") - 1
    f = float(ajf.cumulative_density_.iloc[row, 0])
    lo, hi = sorted(ajf.confidence_interval_.iloc[row].to_numpy())
    if f <= 0 or f >= 1:  # the log(-log) interval is undefined there
        return f, np.nan, np.nan
    return f, lo, hi


def assert_incidence_equals_lifelines(d, c, t):
    ours = survival.cumulative_incidence(d, c, t)
    expected = np.array([lifelines_incidence(d, c, code, x)
                         for code in survival.CAUSES.values() for x in t])
    np.testing.assert_allclose(ours["cumulative_incidence"].to_numpy(), expected[:, 0], **TOL)
    np.testing.assert_allclose(none_to_nan(ours["ci_lower"]), expected[:, 1], **TOL)
    np.testing.assert_allclose(none_to_nan(ours["ci_upper"]), expected[:, 2], **TOL)


@pytest.mark.parametrize(("d", "c"), [
    ([1, 2, 2, 3, 4, 5, 5, 5, 9], [1, 2, 0, 1, 0, 2, 3, 0, 1]),
    ([0, 0, 0, 3, 5, 8], [1, 2, 3, 0, 1, 0]),
    ([2, 6, 7], [0, 0, 0]),
    ([5], [2]),
    ([1, 2, 2, 3, 9], [1, 3, 1, 2, 1]),
    ([4, 4, 4, 4, 4], [1, 1, 2, 3, 0]),
])
def test_cumulative_incidence_equals_lifelines_on_edge_cases(d, c):
    assert_incidence_equals_lifelines(d, c, [0, 1.5, 2, 4, 5, 9, 30])


@settings(max_examples=30, deadline=None)  # lifelines' own variance loop is slow
@given(competing, times)
def test_cumulative_incidence_equals_lifelines_on_generated_data(sample, t):
    assert_incidence_equals_lifelines(*sample, t)


def test_cumulative_incidence_of_nobody_is_missing():
    cif = survival.cumulative_incidence([], [], [10.0], {"one": 1})
    assert cif.row(0) == ("one", 10.0, None, None, None)


def test_cumulative_incidence_at_many_times_equals_one_time_at_a_time():
    # Many times are computed in chunks (bounded memory); each must equal its own call.
    rng = np.random.default_rng(3)
    d, c = rng.integers(0, 1500, 2000).astype(float), rng.choice(4, 2000)
    grid = np.arange(0, 1520, 0.5)
    together = survival.cumulative_incidence(d, c, grid)
    apart = pl.concat([survival.cumulative_incidence(d, c, [t]) for t in grid])
    assert_frame_equal(together.sort("cause", "time_days"), apart.sort("cause", "time_days"),
                       rel_tol=1e-12, abs_tol=0.0)


# ---- time to housing ----------------------------------------------------------------------------

@EXAMPLES
@given(samples)
def test_time_to_housing_equals_lifelines(sample):
    d, housed = sample
    people = pl.DataFrame({"arm": "housing_first", "time_to_housing_days": d, "housed": housed})
    row = outcomes.time_to_housing(people, ["all"], (0, 5, 20, 41)).row(0, named=True)
    kmf = lifelines_km(d, housed)
    assert (row["median_days_to_housing"], row["median_ci_lower"], row["median_ci_upper"]) == (
        lifelines_median(d, housed))
    for t in (0, 5, 20, 41):
        estimable = max(d) >= t or all(housed)
        expected = 1.0 - float(kmf.survival_function_at_times(t).iloc[0]) if estimable else None
        assert row[f"share_housed_by_{t}_days"] == (
            None if expected is None else pytest.approx(expected, rel=1e-9, abs=1e-12))
    assert (row["n_people"], row["n_housed"]) == (len(d), sum(housed))


# ---- MANSA paired change ------------------------------------------------------------------------

def scipy_paired_change(b, f) -> dict[str, float | None]:
    """paired_change as it was written with scipy, one group at a time."""
    b, f = np.asarray(b, dtype=float), np.asarray(f, dtype=float)
    diff, n = f - b, len(b)
    out = {"n_pairs": n, "mean_baseline": b.mean(), "mean_followup": f.mean(),
           "mean_change": diff.mean(), "ci_lower": None, "ci_upper": None, "p_value": None}
    if n >= 2:
        se = diff.std(ddof=1) / np.sqrt(n)
        half = stats.t.ppf(0.975, n - 1) * se
        out["ci_lower"], out["ci_upper"] = diff.mean() - half, diff.mean() + half
        out["p_value"] = float(stats.ttest_rel(f, b).pvalue) if se > 0 else None
    return out


# MANSA means move in twelfths; equal changes are common in small groups.
scores = st.integers(12, 84).map(lambda x: x / 12)


@EXAMPLES
@given(st.lists(st.tuples(scores, scores), min_size=1, max_size=12))
def test_paired_change_equals_scipy_exactly(pairs):
    b, f = zip(*pairs, strict=True)
    assert fidelity.paired_change(b, f) == scipy_paired_change(b, f)


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_paired_change_of_identical_differences_equals_scipy_exactly(n):
    # Mean of 0.1 * n is not exactly 0.1 for some n: a standard deviation of ~1e-17, and then
    # scipy's p-value (its own moment arithmetic) is what must come out.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = scipy_paired_change([1.0] * n, [1.1] * n)
    assert fidelity.paired_change([1.0] * n, [1.1] * n) == expected


def test_mansa_change_equals_paired_change_per_arm_stratum_and_wave():
    rng = np.random.default_rng(5)
    pairs = pl.DataFrame({
        "arm": rng.choice(["housing_first", "comparison"], 200),
        "country": rng.choice(["NO", "DK"], 200),
        "municipality_name": [None if v == "-" else str(v)
                              for v in rng.choice(["A", "B", "C", "-"], 200)],
        "wave": rng.choice([1, 2, 3], 200), "baseline": rng.integers(12, 85, 200) / 12,
        "followup": rng.integers(12, 85, 200) / 12,
    })
    table = fidelity.mansa_change(pairs, ["all", "country", "municipality"])
    for row in table.iter_rows(named=True):
        group = pairs.filter(pl.col("arm") == row["arm"], pl.col("wave") == row["wave"])
        column = survival.STRATUM_COLUMNS[row["stratum_variable"]]
        if column is not None:
            group = group.filter(pl.col(column).fill_null("unknown") == row["stratum_value"])
        expected = scipy_paired_change(group["baseline"], group["followup"])
        assert {c: row[c] for c in expected} == expected


# ---- grouping -----------------------------------------------------------------------------------

def test_strata_sort_values_name_missing_ones_unknown_and_keep_row_order():
    frame = pl.DataFrame({"municipality_name": ["B", None, "A", "B", "A"], "x": [1, 2, 3, 4, 5]})
    got = [(var, value, rows["x"].to_list())
           for var, value, rows in survival.strata(frame, ["all", "municipality"])]
    assert got == [("all", "all", [1, 2, 3, 4, 5]), ("municipality", "A", [3, 5]),
                   ("municipality", "B", [1, 4]), ("municipality", "unknown", [2])]


def test_strata_of_numbers_are_sorted_as_text():
    frame = pl.DataFrame({"cohort_year": [2020, 2019, 2020]})
    assert [v for _, v, _ in survival.strata(frame, ["cohort_year"])] == ["2019", "2020"]


def test_an_unknown_stratum_is_refused():
    with pytest.raises(ValueError, match="unknown stratum"):
        survival.strata(pl.DataFrame({"x": [1]}), ["shoe_size"])


def test_a_table_by_stratum_has_a_block_per_arm_and_stratum_in_sorted_order():
    frame = pl.DataFrame({"arm": ["hf", "cmp", "hf", "hf"], "sex": ["m", "f", "f", "m"],
                          "x": [1.0, 2.0, 3.0, 4.0]})
    table = survival.table_by_stratum(
        frame, ["all", "sex"], ["x"], lambda rows: {"total": [rows["x"].sum()]},
        {"arm": pl.String, "stratum_variable": pl.String, "stratum_value": pl.String,
         "total": pl.Float64})
    assert table.rows() == [("cmp", "all", "all", 2.0), ("cmp", "sex", "f", 2.0),
                            ("hf", "all", "all", 8.0), ("hf", "sex", "f", 3.0),
                            ("hf", "sex", "m", 5.0)]


def test_retention_by_stratum_equals_survival_at_on_each_stratum():
    rng = np.random.default_rng(11)
    n = 400
    tenancies = pl.DataFrame({
        "tenancy_seq": 1, "arm": rng.choice(["housing_first", "comparison"], n),
        "municipality_name": rng.choice([f"M{i:02d}" for i in range(30)], n),
        "duration_days": rng.integers(0, 900, n),
        "event_type": rng.choice(["loss", "censored", "competing"], n),
    })
    table = survival.retention_by_stratum(tenancies, ["all", "municipality"], [6, 12, 24])
    for (arm, var, value), block in table.group_by(
            "arm", "stratum_variable", "stratum_value", maintain_order=True):
        rows = tenancies.filter(pl.col("arm") == arm)
        if var == "municipality":
            rows = rows.filter(pl.col("municipality_name") == value)
        expected = survival.survival_at(rows["duration_days"], rows["event_type"] == "loss",
                                        survival.months_to_days([6, 12, 24]))
        assert block.select(expected.columns).equals(expected)
