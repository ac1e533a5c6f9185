"""Survival estimates against numbers computed elsewhere: published textbook values, lifelines,
and hand calculations written out here."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.datasets import load_leukemia

from hfeval.retention import survival

# Freireich et al. (1963), remission times in weeks of the 21 children on 6-mercaptopurine
# ("+" = censored): 6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+,
# as tabulated in Kleinbaum & Klein, Survival Analysis: A Self-Learning Text (ch. 2) and in
# Gehan (1965). The placebo group: 1 1 2 2 3 4 4 5 5 8 8 8 8 11 11 12 12 15 17 22 23.
MP6_WEEKS = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP6_RELAPSE = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO_WEEKS = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]

# Kleinbaum & Klein, table of KM estimates for the 6-MP group, S(t) at each relapse time.
PUBLISHED_KM = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}


def mp6() -> tuple[list[int], list[bool]]:
    return MP6_WEEKS, [bool(e) for e in MP6_RELAPSE]


def test_inline_freireich_data_are_the_data_lifelines_ships_as_leukemia():
    df = load_leukemia()  # Kleinbaum & Klein's anderson.dat; Rx = 0 is the 6-MP group
    mp = df[df.Rx == 0].sort_values(["t", "status"], ascending=[True, False])
    assert mp.t.tolist() == MP6_WEEKS and mp.status.tolist() == MP6_RELAPSE


def test_kaplan_meier_reproduces_the_published_6mp_estimates():
    est = survival.survival_at(*mp6(), list(PUBLISHED_KM))
    assert [round(s, 3) for s in est["survival"]] == list(PUBLISHED_KM.values())


def test_kaplan_meier_equals_a_hand_calculation_of_the_product_limit():
    # Risk sets and relapses at each relapse week (censored at t stay at risk at t):
    # 6: 21 at risk, 3 relapse; 7: 17, 1; 10: 15, 1; 13: 12, 1; 16: 11, 1; 22: 7, 1; 23: 6, 1.
    steps = [(6, 21, 3), (7, 17, 1), (10, 15, 1), (13, 12, 1), (16, 11, 1), (22, 7, 1), (23, 6, 1)]
    s, by_hand = 1.0, []
    for _, n, d in steps:
        s *= (n - d) / n
        by_hand.append(s)
    est = survival.survival_at(*mp6(), [t for t, _, _ in steps])
    assert est["survival"].to_list() == pytest.approx(by_hand, abs=1e-12)
    assert est["n_at_risk"].to_list() == [n for _, n, _ in steps]


def test_confidence_interval_is_the_exponential_greenwood_interval_worked_by_hand():
    # At week 13: Greenwood sum of d / (n (n - d)) over relapse times <= 13.
    greenwood = 3 / (21 * 18) + 1 / (17 * 16) + 1 / (15 * 14) + 1 / (12 * 11)
    s13 = (18 / 21) * (16 / 17) * (14 / 15) * (11 / 12)
    se_loglog = math.sqrt(greenwood) / abs(math.log(s13))
    centre = math.log(-math.log(s13))
    lower = math.exp(-math.exp(centre + 1.959964 * se_loglog))
    upper = math.exp(-math.exp(centre - 1.959964 * se_loglog))
    est = survival.survival_at(*mp6(), [13]).row(0, named=True)
    assert (est["ci_lower"], est["ci_upper"]) == pytest.approx((lower, upper), abs=1e-5)


def test_survival_and_interval_agree_with_lifelines_at_every_event_time():
    kmf = KaplanMeierFitter().fit(MP6_WEEKS, MP6_RELAPSE)
    times = [6, 7, 10, 13, 16, 22, 23]
    est = survival.survival_at(*mp6(), times)
    assert est["survival"].to_list() == pytest.approx(
        kmf.survival_function_.loc[times].iloc[:, 0].tolist())
    assert est["ci_lower"].to_list() == pytest.approx(
        kmf.confidence_interval_.loc[times].iloc[:, 0].tolist())
    assert est["ci_upper"].to_list() == pytest.approx(
        kmf.confidence_interval_.loc[times].iloc[:, 1].tolist())


def test_the_number_at_risk_at_t_counts_everyone_still_followed_at_t():
    # Durations 3, 5 (censored), 5, 8: at t = 5 three are still followed.
    est = survival.survival_at([3, 5, 5, 8], [True, False, True, True], [0, 5, 5.5, 8])
    assert est["n_at_risk"].to_list() == [4, 3, 1, 1]


def test_survival_beyond_the_last_follow_up_is_not_estimable():
    est = survival.survival_at(*mp6(), [35, 36]).row(1, named=True)
    assert est["survival"] is None and est["n_at_risk"] == 0


def test_before_the_first_loss_survival_is_one_with_no_interval():
    # lifelines reports [1, 1]; an interval claiming certainty is not published.
    est = survival.survival_at(*mp6(), [5]).row(0, named=True)
    assert (est["survival"], est["ci_lower"], est["ci_upper"]) == (1.0, None, None)


def test_a_loss_on_day_zero_counts_at_day_zero():
    est = survival.survival_at([0, 10, 20, 30], [True, False, False, False], [0])
    assert est["survival"][0] == pytest.approx(0.75)


def test_the_published_curve_is_cut_before_the_number_at_risk_falls_to_the_threshold():
    curve = survival.km_curve(*mp6(), min_at_risk=7)
    # Risk sets at the step times 0, 6, 7, 10, 13, 16, 22: 21 21 17 15 12 11 7 -> stop at 22.
    assert curve["time_days"].to_list() == [0, 6, 7, 10, 13, 16]


def test_the_monthly_grid_hides_the_exact_days_of_single_losses():
    grid = survival.km_grid([10, 40, 70, 95], [True, False, True, False], step_days=30.4375)
    assert grid["time_days"].to_list() == pytest.approx([0, 30.4375, 60.875, 91.3125])
    assert grid["survival"].to_list() == pytest.approx([1.0, 0.75, 0.75, 0.375])


def test_log_rank_6mp_against_placebo_is_the_published_16_79():
    # Kleinbaum & Klein, ch. 2: log-rank statistic 16.79 (1 df) for the remission data.
    tenancies = pl.DataFrame({
        "tenancy_seq": 1, "event_type": ["loss" if e else "censored" for e in MP6_RELAPSE]
        + ["loss"] * 21, "duration_days": MP6_WEEKS + PLACEBO_WEEKS,
        "sex": ["female"] * 21 + ["male"] * 21,
    })
    result = survival.logrank(tenancies, "sex")
    assert (round(result["statistic"], 2), result["df"]) == (16.79, 1)


def test_cox_model_reproduces_the_published_treatment_coefficient():
    # Venables & Ripley, MASS (4th ed.), coxph on the same data (Efron ties): coef 1.572
    # (hazard ratio 4.82, SE 0.412) for placebo against 6-MP.
    tenancies = pl.DataFrame({
        "tenancy_seq": 1, "event_type": ["loss" if e else "censored" for e in MP6_RELAPSE]
        + ["loss"] * 21, "duration_days": MP6_WEEKS + PLACEBO_WEEKS,
        "placebo": [0.0] * 21 + [1.0] * 21,
    })
    summary = survival.cox_model(tenancies, covariates=["placebo"])
    assert round(summary.loc["placebo", "coef"], 3) == 1.572
    assert round(summary.loc["placebo", "se(coef)"], 3) == 0.412


# ---- cumulative incidence (Aalen-Johansen) ---------------------------------------------------

def test_cumulative_incidence_equals_a_hand_calculation():
    # Days 1 2 2 3 4 5, causes 1 2 0 1 0 2 (0 = censored):
    # day 1: 6 at risk, cause 1        -> F1 = 1/6,             S = 5/6
    # day 2: 5 at risk, cause 2 (+1 censored after it)
    #                                  -> F2 = 5/6 * 1/5 = 1/6, S = 4/6
    # day 3: 3 at risk, cause 1        -> F1 = 1/6 + 4/6 * 1/3 = 7/18, S = 4/9
    # day 5: 1 at risk, cause 2        -> F2 = 1/6 + 4/9 = 11/18, S = 0
    cif = survival.cumulative_incidence([1, 2, 2, 3, 4, 5], [1, 2, 0, 1, 0, 2], [3, 5],
                                        {"one": 1, "two": 2})
    values = {(r["cause"], r["time_days"]): r["cumulative_incidence"] for r in cif.to_dicts()}
    assert values == pytest.approx({("one", 3): 7 / 18, ("one", 5): 7 / 18,
                                    ("two", 3): 1 / 6, ("two", 5): 11 / 18})


def test_causes_on_the_same_day_share_the_risk_set_without_random_jitter():
    # Day 2: 3 at risk, one of each cause -> each F = 1/3 (lifelines would jitter at random).
    cif = survival.cumulative_incidence([2, 2, 3], [1, 2, 0], [2], {"one": 1, "two": 2})
    assert cif["cumulative_incidence"].to_list() == pytest.approx([1 / 3, 1 / 3])


def test_a_loss_on_the_day_of_move_in_counts_in_the_cumulative_incidence():
    # lifelines' AalenJohansenFitter alone gives 0 at day 0 (it zeroes its first time point).
    cif = survival.cumulative_incidence([0, 0, 3, 5], [1, 2, 0, 1], [0, 5], {"one": 1, "two": 2})
    values = {(r["cause"], r["time_days"]): r["cumulative_incidence"] for r in cif.to_dicts()}
    # day 0: 4 at risk, one of each cause; day 5: 1 at risk, cause 1 -> F1 = 1/4 + 2/4 * 1.
    assert values == pytest.approx({("one", 0): 1 / 4, ("one", 5): 3 / 4,
                                    ("two", 0): 1 / 4, ("two", 5): 1 / 4})


def test_without_competing_events_cumulative_incidence_is_one_minus_kaplan_meier():
    d, e = mp6()
    cif = survival.cumulative_incidence(d, [int(x) for x in e], [13, 23], {"loss": 1})
    km = survival.survival_at(d, e, [13, 23])
    assert cif["cumulative_incidence"].to_list() == pytest.approx(
        [1 - s for s in km["survival"]])


def test_cumulative_incidence_interval_agrees_with_lifelines_own_variance():
    rng = np.random.default_rng(7)
    d = rng.integers(1, 500, 120).astype(float) + rng.random(120)  # no ties
    c = rng.choice([0, 1, 2], 120, p=[0.5, 0.3, 0.2])
    ours = survival.cumulative_incidence(d, c, [100.0, 300.0], {"one": 1})
    ajf = AalenJohansenFitter(calculate_variance=True).fit(d, c, event_of_interest=1)
    ci = ajf.confidence_interval_
    expected = [b for t in (100.0, 300.0) for b in sorted(ci.loc[ci.index <= t].iloc[-1])]
    assert [b for r in ours.to_dicts() for b in (r["ci_lower"], r["ci_upper"])] == (
        pytest.approx(expected))


# ---- by stratum ------------------------------------------------------------------------------

def test_retention_by_stratum_gives_one_row_per_arm_stratum_and_month():
    tenancies = pl.DataFrame({
        "tenancy_seq": [1, 1, 1, 1, 2], "arm": "housing_first",
        "municipality_name": ["A", "A", "B", "B", "B"],
        "duration_days": [100, 400, 50, 800, 30],
        "event_type": ["loss", "censored", "competing", "censored", "loss"],
    })
    table = survival.retention_by_stratum(tenancies, ["all", "municipality"], [12])
    # all: the competing event on day 50 leaves 3 at risk at the loss on day 100 -> 2/3;
    # A: loss on day 100 of 2 -> 1/2; B: no loss among first tenancies -> 1.
    got = [(r["stratum_value"], r["n_people"], r["n_at_risk"], r["survival"])
           for r in table.to_dicts()]
    assert got == [("all", 4, 2, pytest.approx(2 / 3)), ("A", 2, 1, 0.5), ("B", 2, 1, 1.0)]


def test_first_tenancies_leave_out_what_the_definition_excludes():
    tenancies = pl.DataFrame({"tenancy_seq": [1, 1, 2], "event_type": ["excluded", "loss", "loss"]})
    assert survival.first_tenancies(tenancies).height == 1


def test_causes_are_loss_death_and_long_stay():
    tenancies = pl.DataFrame({
        "event_type": ["censored", "loss", "competing", "competing", "competing"],
        "event_code": ["open_at_extraction", "eviction", "death", "prison", "hospital"],
    })
    assert survival.cause_codes(tenancies).to_list() == [0, 1, 2, 3, 3]
