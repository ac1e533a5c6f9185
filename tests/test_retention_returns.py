"""Returns to homelessness (HUD SPM 2 style): int_returns and mart_returns_by_window on tiny
inline tables, with the windows worked out by hand beside them.

Everyone is enrolled on 2016-12-01 and placed (moves into a flat) on 2017-01-01 unless a test
says otherwise; data are extracted on 2020-12-31, so a 2017 placement has 1460 days of follow-up.
Windows: 0-180, 181-365, 366-730, 0-730 days after the placement (inclusive).
"""

from __future__ import annotations

from tests.retention_tables import build, participants_for, rows

HEADER = "participant_id,start_date,end_date,housing_type,end_reason\n"


def returns(spells: str, **kw) -> list[tuple]:
    con = build(HEADER + spells, participants_for(HEADER + spells, enrolment="2016-12-01"),
                targets=("int_returns",), **kw)
    return rows(con, "select participant_id, tenancy_seq, days_to_return, return_source "
                     "from int_returns order by all")


def windows(spells: str, **kw) -> dict[str, tuple[int, int]]:
    """(eligible, returned) per window, all Housing First participants."""
    con = build(HEADER + spells, participants_for(HEADER + spells, enrolment="2016-12-01"),
                targets=("mart_returns_by_window",), **kw)
    got = rows(con, "select window_days, n_eligible, n_returned from mart_returns_by_window "
                    "where stratum_variable = 'all'")
    return {w: (e, r) for w, e, r in got}


def test_the_first_homeless_spell_after_the_tenancy_ends_is_the_return():
    spells = ("A,2017-01-01,2017-04-11,own_lease,eviction\n"  # day 100
              "A,2017-04-11,2017-05-01,shelter,unknown\n"
              "A,2017-05-01,,rough_sleeping,\n")
    assert returns(spells) == [("A", 1, 100, "homeless_spell")]


def test_an_end_reason_of_returned_to_homelessness_is_a_return_even_without_a_spell_after():
    spells = "A,2017-01-01,2017-07-20,own_lease,returned_to_homelessness\n"  # day 200
    assert returns(spells) == [("A", 1, 200, "end_reason")]


def test_a_homeless_spell_during_a_move_between_flats_is_not_a_return():
    spells = ("A,2017-01-01,2017-06-01,own_lease,moved_within_programme\n"
              "A,2017-06-01,2017-06-10,temporary_accommodation,moved_within_programme\n"
              "A,2017-06-10,,own_lease,\n")
    assert returns(spells) == [("A", 1, None, None)]


def test_a_homeless_spell_after_release_from_a_long_prison_stay_is_a_return():
    spells = ("A,2017-01-01,2017-04-11,own_lease,prison\n"  # day 100, then 150 days in prison
              "A,2017-04-11,2017-09-08,prison,unknown\n"
              "A,2017-09-08,,shelter,\n")  # day 250
    assert returns(spells) == [("A", 1, 250, "homeless_spell")]


def test_returns_sooner_than_the_minimum_gap_are_not_counted():
    spells = ("A,2017-01-01,2017-01-11,own_lease,abandoned\n"  # day 10
              "A,2017-01-11,,shelter,\n")
    assert returns(spells, params={"retention.returns.min_gap_days": 15}) == [
        ("A", 1, None, None)]


def test_hand_worked_windows_for_four_people():
    # A returns on day 100, B on day 250, C on day 500, D never; E is placed on 2020-06-01
    # (213 days before extraction) and returns on day 50.
    # 0-180:   eligible A B C D E (5), returned A E (2)
    # 181-365: eligible A B C D   (4), returned B   (1)
    # 366-730: eligible A B C D   (4), returned C   (1)
    # 0-730:   eligible A B C D   (4), returned A B C (3)
    spells = ("A,2017-01-01,2017-04-11,own_lease,eviction\nA,2017-04-11,,shelter,\n"
              "B,2017-01-01,2017-09-08,own_lease,abandoned\nB,2017-09-08,,rough_sleeping,\n"
              "C,2017-01-01,2018-05-16,own_lease,returned_to_homelessness\n"
              "D,2017-01-01,,own_lease,\n"
              "E,2020-06-01,2020-07-21,municipal_flat,eviction\n"
              "E,2020-07-21,,family_friends,\n")
    assert windows(spells) == {"0-180": (5, 2), "181-365": (4, 1), "366-730": (4, 1),
                               "0-730": (4, 3)}


def test_counting_by_person_uses_each_persons_first_placement_only():
    # A: placed, evicted on day 100 (return), placed again 2017-06-01 and still there.
    spells = ("A,2017-01-01,2017-04-11,own_lease,eviction\n"
              "A,2017-04-11,2017-06-01,shelter,moved_within_programme\n"
              "A,2017-06-01,,municipal_flat,\n")
    assert windows(spells)["0-730"] == (1, 1)


def test_counting_by_placement_counts_every_tenancy():
    spells = ("A,2017-01-01,2017-04-11,own_lease,eviction\n"
              "A,2017-04-11,2017-06-01,shelter,moved_within_programme\n"
              "A,2017-06-01,,municipal_flat,\n")
    got = windows(spells, params={"retention.returns.unit": "placement"})
    assert got["0-730"] == (2, 1)


def test_the_counting_unit_and_definition_are_recorded_in_the_table():
    spells = "A,2017-01-01,,own_lease,\n"
    con = build(HEADER + spells, participants_for(HEADER + spells, enrolment="2016-12-01"),
                targets=("mart_returns_by_window",), params={"retention.definition": "hud_spm"})
    assert rows(con, "select distinct definition_name, counting_unit "
                     "from mart_returns_by_window") == [("hud_spm", "person")]
