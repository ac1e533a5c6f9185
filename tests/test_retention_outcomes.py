"""Time to housing, days stably housed, temporary accommodation, targets, fidelity and MANSA,
on tiny inline tables with the expected numbers worked out beside them.

Participants are enrolled on 2019-01-01 unless a test says otherwise; extraction 2020-12-31
(exactly 730 days after enrolment).
"""

from __future__ import annotations

import polars as pl
import pytest
from scipy import stats

from hfeval.contract import MANSA_ITEMS
from hfeval.retention import fidelity, outcomes
from tests.retention_tables import build, participants_for, rows

HEADER = "participant_id,start_date,end_date,housing_type,end_reason\n"


def person(spells: str, columns: str, **kw) -> list[tuple]:
    con = build(HEADER + spells, targets=("mart_person_outcomes",), **kw)
    return rows(con, f"select {columns} from mart_person_outcomes order by participant_id")


# ---- time to housing -----------------------------------------------------------------------------

def test_time_to_housing_runs_from_enrolment_to_the_first_move_in():
    spells = ("P1,2019-01-01,2019-03-02,temporary_accommodation,moved_within_programme\n"
              "P1,2019-03-02,,own_lease,\n")
    assert person(spells, "housed, days_to_housing, time_to_housing_days") == [(True, 60, 60)]


def test_someone_never_housed_is_censored_at_extraction():
    assert person("P1,2019-01-01,,shelter,\n", "housed, time_to_housing_days") == [(False, 730)]


def test_someone_who_dies_before_being_housed_is_censored_at_death():
    spells = "P1,2019-01-01,2019-04-11,shelter,death\n"
    assert person(spells, "housed, time_to_housing_days") == [(False, 100)]


def test_median_time_to_housing_counts_the_never_housed_as_censored():
    # Days 10, 20, 40 housed; one censored at 30. KM: S(10) = 3/4, S(20) = 2/4 -> median 20.
    # The housed alone would give a median of 20 too, but S(40) = 0 and share by 30 days = 0.5.
    people = pl.DataFrame({"arm": "housing_first", "time_to_housing_days": [10, 20, 30, 40],
                           "housed": [True, True, False, True]})
    row = outcomes.time_to_housing(people, ["all"], (30,)).row(0, named=True)
    assert (row["n_people"], row["n_housed"], row["median_days_to_housing"],
            row["share_housed_by_30_days"]) == (4, 3, 20.0, 0.5)


def test_share_housed_after_everyone_still_followed_has_gone_is_not_estimable():
    people = pl.DataFrame({"arm": "housing_first", "time_to_housing_days": [10, 30],
                           "housed": [True, False]})
    row = outcomes.time_to_housing(people, ["all"], (365,)).row(0, named=True)
    assert row["share_housed_by_365_days"] is None


# ---- share of days stably housed -----------------------------------------------------------------

def test_share_of_days_stably_housed_over_24_months():
    # 60 nights in temporary accommodation, then 670 in an own flat: 670 / 730.
    spells = ("P1,2019-01-01,2019-03-02,temporary_accommodation,moved_within_programme\n"
              "P1,2019-03-02,,own_lease,\n")
    got = person(spells, "days_observed_window, days_stably_housed_window, "
                         "share_days_stably_housed, full_window_observed")
    assert got == [(730, 670, pytest.approx(670 / 730), True)]


def test_days_observed_end_at_death():
    # Housed from day 0, died on day 100: 100 of 100 observed days housed.
    spells = "P1,2019-01-01,2019-04-11,own_lease,death\n"
    got = person(spells, "days_observed_window, share_days_stably_housed, full_window_observed")
    assert got == [(100, 1.0, False)]


def test_days_observed_end_at_extraction():
    spells = "P1,2020-01-01,,own_lease,\n"
    participants = participants_for(HEADER + spells, enrolment="2020-07-04")
    got = person(spells, "days_observed_window, days_stably_housed_window",
                 participants=participants)
    assert got == [(180, 180)]


# ---- temporary accommodation ---------------------------------------------------------------------

def temporary(spells: str) -> list[tuple]:
    con = build(HEADER + spells, targets=("int_temporary_stays",))
    return rows(con, "select days_in_episode, n_spells, is_open, exceeds_ceiling "
                     "from int_temporary_stays order by participant_id, episode_seq")


def test_61_days_in_temporary_accommodation_is_within_mandals_two_month_ceiling():
    spells = "P1,2019-01-01,2019-03-03,temporary_accommodation,moved_within_programme\n"
    assert temporary(spells) == [(61, 1, False, False)]


def test_62_days_in_temporary_accommodation_exceeds_the_ceiling():
    spells = "P1,2019-01-01,2019-03-04,temporary_accommodation,moved_within_programme\n"
    assert temporary(spells) == [(62, 1, False, True)]


def test_consecutive_temporary_spells_are_one_episode():
    spells = ("P1,2019-01-01,2019-02-01,temporary_accommodation,voluntary_move\n"
              "P1,2019-02-01,2019-03-15,temporary_accommodation,moved_within_programme\n"
              "P1,2019-03-15,,own_lease,\n")
    assert temporary(spells) == [(73, 2, False, True)]


def test_an_open_episode_counts_to_extraction():
    spells = "P1,2020-12-01,,temporary_accommodation,\n"
    assert temporary(spells) == [(30, 1, True, False)]


# ---- housed against target -----------------------------------------------------------------------

def test_housed_against_target_counts_first_move_ins_per_municipality():
    # Lindesnes (target 10 a year): 2 housed in 2019, 1 in 2020 -> 3 over 2 years, target 20.
    spells = ("P1,2019-02-01,,own_lease,\nP2,2019-05-01,,own_lease,\n"
              "P3,2020-03-01,,own_lease,\nP4,2019-01-01,,shelter,\n")
    con = build(HEADER + spells, targets=("mart_housed_vs_target",))
    assert rows(con, "select municipality_name, n_housed, years_with_move_ins, "
                     "target_housed_per_year, target_housed_over_years_with_move_ins "
                     "from mart_housed_vs_target") == [("Lindesnes", 3, 2, 10, 20)]


# ---- fidelity ------------------------------------------------------------------------------------

def test_home_visits_per_participant_week_runs_from_enrolment_to_extraction():
    # 730 days = 104.29 weeks; 105 home visits (and a phone call that does not count).
    spells = "P1,2019-01-01,,own_lease,\n"
    visits = "".join(f"P1,{d},home_visit\n" for d in
                     pl.date_range(pl.date(2019, 1, 1), pl.date(2020, 12, 31), "7d", eager=True)
                     .cast(pl.String).to_list())
    contacts = "participant_id,contact_date,contact_type\n" + visits + "P1,2019-05-05,phone\n"
    con = build(HEADER + spells, targets=("mart_fidelity",), contacts=contacts)
    got = rows(con, "select n_participants, n_home_visits, home_visits_per_participant_week, "
                    "n_meeting_target from mart_fidelity where stratum_variable = 'all'")
    assert got == [(1, 105, pytest.approx(105 / (730 / 7)), 1)]


def test_share_of_first_flats_with_an_ordinary_lease():
    spells = ("participant_id,start_date,end_date,housing_type,lease_type,end_reason\n"
              "P1,2019-02-01,,own_lease,ordinary,\nP2,2019-02-01,,municipal_flat,time_limited,\n")
    con = build(spells, targets=("mart_fidelity",))
    assert rows(con, "select n_housed, n_first_flat_ordinary_lease, share_first_flat_ordinary_lease "
                     "from mart_fidelity where stratum_variable = 'all'") == [(2, 1, 0.5)]


# ---- MANSA -------------------------------------------------------------------------------------

def test_mansa_change_is_the_paired_mean_difference_with_a_t_interval():
    # Differences 1, 2, 0: mean 1, SD 1, SE 1/sqrt(3); t(0.975, 2) = 4.302653.
    got = fidelity.paired_change([3, 4, 5], [4, 6, 5])
    half = 4.302653 / 3**0.5
    assert (got["n_pairs"], got["mean_change"]) == (3, 1.0)
    assert (got["ci_lower"], got["ci_upper"]) == pytest.approx((1 - half, 1 + half), abs=1e-6)
    assert got["p_value"] == pytest.approx(stats.ttest_rel([4, 6, 5], [3, 4, 5]).pvalue)


def test_only_participants_scored_at_baseline_and_the_wave_are_paired():
    qol = pl.DataFrame({"participant_id": ["A", "A", "B", "C", "C"], "wave": [0, 1, 1, 0, 1],
                        "mansa_mean_score": [3.0, 4.0, 5.0, 4.0, None]})
    participants = pl.DataFrame({"participant_id": ["A", "B", "C"], "arm": "housing_first"})
    change = fidelity.mansa_change(fidelity.mansa_pairs(qol, participants), ["all"])
    assert change.select("wave", "n_pairs", "mean_change").rows() == [(1, 1, 1.0)]


def test_mansa_means_come_from_the_staging_rule_of_at_least_nine_items():
    # Baseline: 12 items of 3 (mean 3); wave 1: 9 items of 5 and 3 missing (mean 5) -> +2.
    header = "participant_id,wave," + ",".join(name for name, _ in MANSA_ITEMS)
    qol = (f"{header}\nP1,0," + ",".join(["3"] * 12) + "\nP1,1," + ",".join(["5"] * 9)
           + ",,,\n")
    con = build(HEADER + "P1,2019-02-01,,own_lease,\n", targets=("mart_mansa_change",),
                quality_of_life=qol)
    assert rows(con, "select wave, n_pairs, mean_change from mart_mansa_change "
                     "where arm = 'housing_first' and stratum_variable = 'all'") == [(1, 1, 2.0)]
