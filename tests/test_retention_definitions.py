"""The retention definitions are named parameter sets; these tests pin their values."""

from __future__ import annotations

import pytest

from hfeval.config import PARAMETER_DOCS, default_parameters, resolve_parameters
from hfeval.retention import definitions as d


def test_the_default_is_the_housing_first_definition_of_domain_md():
    assert default_parameters()["retention.definition"] == "housing_first"
    hf = d.get_definition("housing_first")
    assert (hf.move_max_gap_days, hf.long_stay_min_days, hf.long_stay_handling,
            hf.death_handling) == (30, 90, "competing", "competing")
    assert hf.stable_types == ("own_lease", "municipal_flat", "supported_housing")
    assert hf.long_stay_types == ("institution", "prison", "hospital")


def test_housing_first_counts_a_move_with_an_unknown_reason_as_a_move_but_not_an_eviction():
    hf = d.get_definition("housing_first")
    assert set(hf.move_reasons) == {"moved_within_programme", "voluntary_move", "unknown"}


def test_hud_spm_drops_deaths_and_counts_long_stays_as_losses():
    hud = d.get_definition("hud_spm")
    assert (hud.death_handling, hud.long_stay_handling, hud.returns_unit,
            hud.returns_min_gap_days) == ("exclude", "loss", "person", 15)


def test_strict_any_exit_lets_nothing_continue_a_tenancy():
    strict = d.get_definition("strict_any_exit")
    assert (strict.move_max_gap_days, strict.long_stay_min_days, strict.death_handling) == (
        None, None, "loss")


def test_every_named_set_is_listed_in_the_parameter_documentation():
    doc = PARAMETER_DOCS["retention.definition"][1]
    assert all(name in doc for name in d.DEFINITIONS)


def test_an_unknown_set_name_is_refused_with_the_known_names():
    with pytest.raises(KeyError, match="housing_first, hud_spm, strict_any_exit"):
        d.resolve_definition({"retention.definition": "nonsense"})


def test_a_single_value_override_renames_the_set_so_outputs_never_claim_the_plain_name():
    params = resolve_parameters(overrides=["retention.long_stay_min_days=180"])
    resolved = d.resolve_definition(params)
    assert (resolved.name, resolved.long_stay_min_days) == (
        "housing_first+long_stay_min_days=180", 180)


def test_an_override_equal_to_the_sets_own_value_keeps_the_name():
    params = resolve_parameters(overrides=["retention.move_max_gap_days=30"])
    assert d.resolve_definition(params).name == "housing_first"


def test_a_negative_gap_is_refused():
    params = resolve_parameters(overrides=["retention.move_max_gap_days=-1"])
    with pytest.raises(ValueError, match="move_max_gap_days"):
        d.resolve_definition(params)


def test_an_unknown_returns_unit_is_refused():
    params = resolve_parameters(overrides=["retention.returns.unit=household"])
    with pytest.raises(ValueError, match="returns unit"):
        d.resolve_definition(params)


def test_return_windows_are_inclusive_day_ranges():
    assert d.parse_windows(["0-180", "181-365"]) == [("0-180", 0, 180), ("181-365", 181, 365)]


def test_a_malformed_window_is_refused():
    with pytest.raises(ValueError, match="day range"):
        d.parse_windows(["180-0"])


def test_the_parameters_table_records_the_set_and_its_values():
    row = d.parameters_frame(default_parameters()).row(0, named=True)
    assert (row["definition_name"], row["move_max_gap_days"], row["long_stay_min_days"],
            row["death_handling"], row["returns_windows"]) == (
        "housing_first", 30, 90, "competing", ["0-180", "181-365", "366-730", "0-730"])


def test_the_published_definition_table_names_the_set_and_every_value():
    table = d.build_definition_table(None, default_parameters())
    values = dict(zip(table["parameter"], table["value"], strict=True))
    assert values["definition_name"] == "housing_first"
    assert values["move_max_gap_days"] == "30"
    assert values["move_reasons"] == "moved_within_programme, voluntary_move, unknown"
    assert values["retention.report_months"] == "6, 12, 24"
