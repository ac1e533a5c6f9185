"""Tenancies (int_tenancies.sql under a definition set): edge cases as tiny inline tables.

Every participant is enrolled on 2019-01-01; data are extracted on 2020-12-31. Durations count
nights: from 2019-02-01 to 2020-12-31 is 699 days.
"""

from __future__ import annotations

from tests.retention_tables import build, rows

HEADER = "participant_id,start_date,end_date,housing_type,end_reason\n"
FIRST = ("select tenancy_seq, duration_days, event_type, event_code, n_flats "
         "from mart_tenancies order by participant_id, tenancy_seq")


def tenancies(spells: str, **kw) -> list[tuple]:
    return rows(build(HEADER + spells, **kw), FIRST)


def test_a_flat_still_lived_in_at_extraction_is_censored_there():
    assert tenancies("P1,2019-02-01,,own_lease,\n") == [
        (1, 699, "censored", "open_at_extraction", 1)]


def test_move_in_and_loss_on_the_same_day_is_a_loss_at_day_zero():
    assert tenancies("P1,2019-03-01,2019-03-01,own_lease,eviction\n") == [
        (1, 0, "loss", "eviction", 1)]


def test_a_flat_left_exactly_on_the_extraction_date_for_a_known_reason_is_a_loss():
    assert tenancies("P1,2020-12-01,2020-12-31,municipal_flat,abandoned\n") == [
        (1, 30, "loss", "abandoned", 1)]


def test_a_spell_closed_on_the_extraction_date_without_a_reason_is_still_open():
    # Exports often close open spells on the extraction day: not an (unknown) loss.
    assert tenancies("P1,2020-12-01,2020-12-31,municipal_flat,\n") == [
        (1, 30, "censored", "closed_at_extraction", 1)]


def test_a_move_to_another_flat_within_30_days_continues_the_tenancy():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,moved_within_programme\n"
              "P1,2019-06-20,,municipal_flat,\n")
    assert tenancies(spells) == [(1, 699, "censored", "open_at_extraction", 2)]


def test_a_move_exactly_30_days_later_still_continues_the_tenancy():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,moved_within_programme\n"
              "P1,2019-07-01,,municipal_flat,\n")
    assert tenancies(spells)[0][2:] == ("censored", "open_at_extraction", 2)


def test_a_move_more_than_30_days_later_is_a_loss_and_the_new_flat_a_new_tenancy():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,moved_within_programme\n"
              "P1,2019-07-02,,municipal_flat,\n")
    assert tenancies(spells) == [
        (1, 120, "loss", "moved_within_programme", 1),
        (2, 548, "censored", "open_at_extraction", 1),
    ]


def test_nights_in_temporary_accommodation_between_two_flats_are_part_of_the_move():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,voluntary_move\n"
              "P1,2019-06-01,2019-06-10,temporary_accommodation,moved_within_programme\n"
              "P1,2019-06-10,,own_lease,\n")
    assert tenancies(spells) == [(1, 699, "censored", "open_at_extraction", 2)]


def test_an_unknown_exit_followed_by_another_flat_within_30_days_is_a_move():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,\n"
              "P1,2019-06-05,,own_lease,\n")
    assert tenancies(spells)[0][2:] == ("censored", "open_at_extraction", 2)


def test_an_unknown_exit_to_anywhere_else_is_a_loss():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,\n"
              "P1,2019-06-01,,family_friends,\n")
    assert tenancies(spells) == [(1, 120, "loss", "unknown", 1)]


def test_an_eviction_stays_a_loss_even_when_rehoused_the_next_week():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,eviction\n"
              "P1,2019-06-08,,municipal_flat,\n")
    assert [r[:4] for r in tenancies(spells)] == [
        (1, 120, "loss", "eviction"), (2, 572, "censored", "open_at_extraction")]


def test_a_death_during_a_tenancy_is_a_competing_event():
    assert tenancies("P1,2019-02-01,2019-08-01,own_lease,death\n") == [
        (1, 181, "competing", "death", 1)]


def test_a_hospital_stay_of_up_to_90_days_followed_by_a_return_home_is_not_a_loss():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,hospital\n"
              "P1,2019-06-01,2019-08-30,hospital,moved_within_programme\n"  # 90 days
              "P1,2019-08-30,,own_lease,\n")
    assert tenancies(spells) == [(1, 699, "censored", "open_at_extraction", 2)]


def test_an_institution_stay_longer_than_90_days_is_a_competing_event_on_the_day_they_left():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,institution\n"
              "P1,2019-06-01,2019-08-31,institution,voluntary_move\n"  # 91 days
              "P1,2019-08-31,,own_lease,\n")
    assert [r[:4] for r in tenancies(spells)] == [
        (1, 120, "competing", "institution"), (2, 488, "censored", "open_at_extraction")]


def test_consecutive_prison_and_hospital_spells_count_as_one_long_stay():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,prison\n"
              "P1,2019-06-01,2019-07-31,prison,hospital\n"
              "P1,2019-07-31,2019-09-30,hospital,\n"
              "P1,2019-09-30,,own_lease,\n")
    assert tenancies(spells)[0][:4] == (1, 120, "competing", "prison")


def test_a_short_stay_followed_by_homelessness_is_a_loss_when_the_flat_was_left():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,prison\n"
              "P1,2019-06-01,2019-07-01,prison,unknown\n"
              "P1,2019-07-01,,shelter,\n")
    assert tenancies(spells) == [(1, 120, "loss", "not_rehoused_after_prison", 1)]


def test_a_short_stay_still_running_at_extraction_is_censored_on_the_day_they_left():
    # Whether it turns out short (tenancy goes on) or long (competing) is not known yet.
    spells = ("P1,2020-06-01,2020-12-01,own_lease,hospital\n"
              "P1,2020-12-01,,hospital,\n")
    assert tenancies(spells) == [(1, 183, "censored", "short_stay_ongoing", 1)]


def test_a_stay_still_running_at_extraction_and_already_long_is_a_competing_event():
    spells = ("P1,2019-02-01,2020-06-01,own_lease,prison\n"
              "P1,2020-06-01,,prison,\n")
    assert tenancies(spells) == [(1, 486, "competing", "prison", 1)]


def test_a_death_during_a_short_hospital_stay_is_a_death_on_the_day_of_death():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,hospital\n"
              "P1,2019-06-01,2019-06-11,hospital,death\n")
    assert tenancies(spells) == [(1, 130, "competing", "death", 1)]


def test_flats_before_enrolment_are_not_tenancies():
    spells = ("P1,2018-01-01,2018-12-01,own_lease,eviction\n"
              "P1,2018-12-01,2019-01-20,shelter,moved_within_programme\n"
              "P1,2019-01-20,,own_lease,\n")
    assert tenancies(spells) == [(1, 711, "censored", "open_at_extraction", 1)]


def test_people_never_housed_have_no_tenancy():
    assert tenancies("P1,2019-01-01,,shelter,\n") == []


def test_every_tenancy_records_the_definition_it_was_built_with():
    con = build(HEADER + "P1,2019-02-01,,own_lease,\n")
    assert rows(con, "select definition_name from mart_tenancies") == [("housing_first",)]


# ---- other definition sets and overrides ---------------------------------------------------------

def test_hud_spm_drops_a_death_from_the_denominator():
    spells = "P1,2019-02-01,2019-08-01,own_lease,death\n"
    assert tenancies(spells, params={"retention.definition": "hud_spm"}) == [
        (1, 181, "excluded", "death", 1)]


def test_hud_spm_counts_a_long_institution_stay_as_a_loss():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,institution\n"
              "P1,2019-06-01,,institution,\n")
    assert tenancies(spells, params={"retention.definition": "hud_spm"})[0][:4] == (
        1, 120, "loss", "institution")


def test_strict_any_exit_counts_a_move_between_flats_as_a_loss():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,moved_within_programme\n"
              "P1,2019-06-01,,municipal_flat,\n")
    assert [r[:4] for r in tenancies(spells, params={"retention.definition": "strict_any_exit"})
            ] == [(1, 120, "loss", "moved_within_programme"),
                  (2, 579, "censored", "open_at_extraction")]


def test_strict_any_exit_counts_a_death_as_a_loss():
    spells = "P1,2019-02-01,2019-08-01,own_lease,death\n"
    assert tenancies(spells, params={"retention.definition": "strict_any_exit"}) == [
        (1, 181, "loss", "death", 1)]


def test_a_shorter_move_gap_parameter_turns_a_20_day_move_into_a_loss_and_renames_the_set():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,moved_within_programme\n"
              "P1,2019-06-21,,municipal_flat,\n")
    con = build(HEADER + spells, params={"retention.move_max_gap_days": 14})
    assert rows(con, "select definition_name, event_type from mart_tenancies "
                     "where tenancy_seq = 1") == [
        ("housing_first+move_max_gap_days=14", "loss")]


def test_a_higher_long_stay_threshold_turns_a_long_stay_into_part_of_the_tenancy():
    spells = ("P1,2019-02-01,2019-06-01,own_lease,institution\n"
              "P1,2019-06-01,2019-09-29,institution,voluntary_move\n"  # 120 days
              "P1,2019-09-29,,own_lease,\n")
    got = tenancies(spells, params={"retention.long_stay_min_days": 180})
    assert got == [(1, 699, "censored", "open_at_extraction", 2)]
