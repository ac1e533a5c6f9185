"""Disclosure control, rule by rule: presets, primary suppression and rounding, derived values
and ratios, secondary (complementary) suppression, curve cuts and protection notes."""

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hfeval.config import PARAMETER_DOCS, resolve_parameters
from hfeval.disclosure import (
    PRESETS,
    Curve,
    DisclosureRule,
    Partition,
    protect,
    round_count,
)

RULE = DisclosureRule(counts=("n",), derived={"share": ("n", "k")})
RULE_NK = DisclosureRule(counts=("n", "k"), derived={"share": ("n", "k")})


def test_counts_from_1_to_threshold_are_suppressed_and_flagged():
    df = pl.DataFrame({"n": [0, 1, 7, 8]})
    out, _ = protect(df, DisclosureRule(counts=("n",)), threshold=7, rounding_base=5)
    assert out["n"].to_list() == [0, None, None, 10]
    assert out["n_suppressed"].to_list() == [False, True, True, False]


def test_counts_are_rounded_half_up_to_the_base():
    assert [round_count(v, 5) for v in (8, 12, 13, 15, 17, 18)] == [10, 10, 15, 15, 15, 20]
    df = pl.DataFrame({"n": [8, 12, 13, 102]})
    out, _ = protect(df, DisclosureRule(counts=("n",)), threshold=7, rounding_base=5)
    assert out["n"].to_list() == [10, 10, 15, 100]


def test_derived_value_is_suppressed_when_any_of_its_counts_is_small():
    df = pl.DataFrame({"n": [20, 20], "k": [3, 15], "share": [0.15, 0.75]})
    out, _ = protect(df, RULE_NK, threshold=7, rounding_base=5)
    assert out["share"].to_list() == [None, 0.75]
    assert out["share_suppressed"].to_list() == [True, False]


def test_every_column_says_how_it_was_protected():
    df = pl.DataFrame({"municipality": ["a"], "n": [10], "k": [9], "share": [0.9]})
    out, notes = protect(df, RULE_NK, threshold=7, rounding_base=5)
    assert set(notes) == set(out.columns)


def test_tables_describing_no_person_pass_unchanged():
    df = pl.DataFrame({"amount": [1.0, 2.0]})
    out, notes = protect(df, DisclosureRule(enabled=False), threshold=7, rounding_base=5)
    assert out.equals(df)
    assert notes["amount"].startswith("not protected")


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30),
    threshold=st.integers(min_value=1, max_value=10),
    base=st.sampled_from([1, 3, 5, 10]),
)
def test_no_published_count_is_between_1_and_the_threshold(counts, threshold, base):
    df = pl.DataFrame({"n": counts})
    out, _ = protect(df, DisclosureRule(counts=("n",)), threshold=threshold, rounding_base=base)
    published = [v for v in out["n"].to_list() if v is not None]
    assert all(v == 0 or v > threshold for v in published)
    assert all(v % base == 0 for v in published)
    # rounding never moves a count by more than half the base
    for raw, pub in zip(counts, out["n"].to_list(), strict=True):
        if pub is not None:
            assert abs(raw - pub) <= base / 2


def test_a_ratio_is_recomputed_from_the_rounded_counts():
    # 13 of 14 would reveal that exactly one person was not housed; 15 of 15 reveals nothing.
    df = pl.DataFrame({"n": [14, 40], "k": [13, 3], "share": [13 / 14, 3 / 40]})
    rule = DisclosureRule(counts=("n", "k"), ratios={"share": ("k", "n")})
    out, notes = protect(df, rule, threshold=7, rounding_base=5)
    assert out["share"].to_list() == [1.0, None]
    assert out["share_suppressed"].to_list() == [False, True]
    assert "rounded" in notes["share"]


# ---- presets -----------------------------------------------------------------------------------

def test_the_default_preset_is_opensafely_suppress_7_round_to_5():
    params = resolve_parameters()
    assert (params["disclosure.preset"], params["disclosure.threshold"],
            params["disclosure.rounding_base"]) == ("opensafely", 7, 5)


def test_the_ssb_preset_suppresses_1_and_2_and_rounds_to_3():
    params = resolve_parameters(overrides=["disclosure.preset=ssb"])
    assert (params["disclosure.threshold"], params["disclosure.rounding_base"]) == (2, 3)
    out, _ = protect(pl.DataFrame({"n": [0, 1, 2, 3, 4, 5, 10]}), DisclosureRule(counts=("n",)),
                     threshold=2, rounding_base=3)
    # 3 -> 3, 4 -> 3 (4/3 = 1.33), 5 -> 6 (1.67), 10 -> 9 (3.33)
    assert out["n"].to_list() == [0, None, None, 3, 3, 6, 9]


def test_the_dst_preset_suppresses_1_to_4_and_does_not_round():
    params = resolve_parameters(overrides=["disclosure.preset=dst"])
    assert (params["disclosure.threshold"], params["disclosure.rounding_base"]) == (4, 1)
    out, notes = protect(pl.DataFrame({"n": [0, 4, 5, 13]}), DisclosureRule(counts=("n",)),
                         threshold=4, rounding_base=1)
    assert out["n"].to_list() == [0, None, 5, 13]
    assert "not rounded" in notes["n"]


def test_an_explicit_threshold_overrides_the_preset_but_keeps_its_rounding():
    params = resolve_parameters(overrides=["disclosure.preset=dst", "disclosure.threshold=9"])
    assert (params["disclosure.threshold"], params["disclosure.rounding_base"]) == (9, 1)


def test_a_rounding_base_in_a_parameter_file_overrides_the_preset(tmp_path):
    f = tmp_path / "params.yaml"
    f.write_text("disclosure:\n  preset: ssb\n  rounding_base: 10\n", encoding="utf-8")
    params = resolve_parameters(f)
    assert (params["disclosure.threshold"], params["disclosure.rounding_base"]) == (2, 10)


def test_an_unknown_preset_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="opensafely, ssb, dst"):
        resolve_parameters(overrides=["disclosure.preset=eurostat"])


def test_disclosure_control_cannot_be_turned_off_with_a_zero_threshold():
    with pytest.raises(ValueError, match="at least 1"):
        resolve_parameters(overrides=["disclosure.threshold=0"])


def test_every_preset_is_documented_in_the_parameter_docs():
    doc = PARAMETER_DOCS["disclosure.preset"][1]
    assert all(name in doc for name in PRESETS)


# ---- rule syntax -------------------------------------------------------------------------------

RULE_YAML = """
counts: [n]
derived: {median_days: [n]}
secondary:
  - {cells: stratum_value, within: [arm, stratum_variable], total: "the 'all' row"}
curve: {within: [arm, stratum_value], time: months, at_risk: n, drop: true}
notes: {median_days: "median of days"}
"""


def test_a_rule_is_read_from_its_pipeline_yaml_mapping():
    rule = DisclosureRule.from_spec(yaml.safe_load(RULE_YAML))
    assert rule.secondary == (Partition(cells=("stratum_value",),
                                        within=("arm", "stratum_variable"), total="the 'all' row"),)
    assert rule.curve == Curve(within=("arm", "stratum_value"), time="months", at_risk="n",
                               drop=True)
    assert rule.derived == {"median_days": ("n",)}


def test_a_misspelt_rule_key_is_refused():
    with pytest.raises(ValueError, match="secondry"):
        DisclosureRule.from_spec({"counts": ["n"], "secondry": []})


# ---- secondary (complementary) suppression ------------------------------------------------------

BY_UNIT = DisclosureRule(counts=("n",), secondary=(Partition(cells=("unit",), within=("arm",)),))


def test_a_lone_suppressed_cell_gets_the_smallest_other_cell_as_its_complement():
    # the total (5 + 12 + 40 = 57) is published elsewhere: 5 alone would be 57 - 12 - 40
    df = pl.DataFrame({"arm": ["hf"] * 3, "unit": ["a", "b", "c"], "n": [5, 40, 12]})
    out, _ = protect(df, BY_UNIT, threshold=7, rounding_base=5)
    assert out["n"].to_list() == [None, 40, None]
    assert out["n_suppressed"].to_list() == [True, False, True]


def test_two_suppressed_cells_in_a_group_need_no_complement():
    df = pl.DataFrame({"arm": ["hf"] * 3, "unit": ["a", "b", "c"], "n": [5, 3, 12]})
    out, _ = protect(df, BY_UNIT, threshold=7, rounding_base=5)
    assert out["n"].to_list() == [None, None, 10]


def test_each_group_is_protected_on_its_own():
    df = pl.DataFrame({"arm": ["hf", "hf", "cmp", "cmp"], "unit": ["a", "b", "a", "b"],
                       "n": [5, 30, 20, 30]})
    out, _ = protect(df, BY_UNIT, threshold=7, rounding_base=5)
    assert out["n"].to_list() == [None, None, 20, 30]


def test_a_zero_is_not_a_complement_while_a_non_zero_cell_is_left():
    df = pl.DataFrame({"arm": ["hf"] * 3, "unit": ["a", "b", "c"], "n": [5, 0, 50]})
    out, _ = protect(df, BY_UNIT, threshold=7, rounding_base=5)
    assert out["n"].to_list() == [None, 0, None]


def test_a_zero_is_the_complement_of_last_resort():
    df = pl.DataFrame({"arm": ["x", "x", "y", "y"], "unit": ["a", "b", "a", "b"],
                       "n": [3, 12, 12, 0]})
    rule = DisclosureRule(counts=("n",), secondary=(Partition(("unit",), ("arm",)),
                                                    Partition(("arm",), ("unit",))))
    out, _ = protect(df, rule, threshold=7, rounding_base=5)
    # arm x: 3 needs 12 (x, b); unit a: 3 needs 12 (y, a); unit b: 12 (x, b) has only a zero
    # beside it, so the zero is hidden too (else the unit's total would give the 12 away)
    assert out["n_suppressed"].to_list() == [True, True, True, True]


def test_complements_are_added_over_every_partition_until_nothing_changes():
    # rows = strata of two variables; a unit suppressed in one partition forces a complement,
    # which leaves a single suppressed cell in the other partition, and so on
    df = pl.DataFrame({
        "arm": ["hf"] * 4, "sex": ["f", "f", "m", "m"], "unit": ["a", "b", "a", "b"],
        "n": [4, 30, 25, 60],
    })
    rule = DisclosureRule(counts=("n",), secondary=(
        Partition(cells=("unit",), within=("arm", "sex")),
        Partition(cells=("sex",), within=("arm", "unit")),
    ))
    out, _ = protect(df, rule, threshold=7, rounding_base=5)
    # f: 4 -> complement 30 (b, f); unit a: 4 alone -> 25 (a, m); unit b: 30 alone -> 60 (b, m)
    assert out["n_suppressed"].to_list() == [True, True, True, True]


def test_per_year_cells_beside_a_published_total_never_leave_one_year_recoverable():
    # mart_housed_per_year_vs_target beside mart_housed_vs_target: 5 + 20 + 30 = 55 housed
    per_year = pl.DataFrame({"municipality_code": ["1108"] * 3, "year": [2014, 2015, 2016],
                             "n_housed": [5, 20, 30]})
    rule = DisclosureRule(counts=("n_housed",), secondary=(
        Partition(cells=("year",), within=("municipality_code",), total="mart_housed_vs_target"),
    ))
    out, _ = protect(per_year, rule, threshold=7, rounding_base=5)
    assert out["n_housed"].to_list() == [None, None, 30]


def test_derived_and_ratio_columns_follow_their_secondarily_suppressed_counts():
    df = pl.DataFrame({"arm": ["hf"] * 3, "unit": ["a", "b", "c"], "n": [5, 40, 12],
                       "k": [2, 20, 6], "median_days": [10.0, 20.0, 30.0],
                       "share": [0.4, 0.5, 0.5]})
    rule = DisclosureRule(counts=("n", "k"), derived={"median_days": ("n",)},
                          ratios={"share": ("k", "n")},
                          secondary=(Partition(("unit",), ("arm",)),))
    out, _ = protect(df, rule, threshold=7, rounding_base=5)
    assert out["median_days"].to_list() == [None, 20.0, None]
    assert out["share"].to_list() == [None, 0.5, None]


def test_a_partition_that_does_not_tell_rows_apart_is_refused():
    df = pl.DataFrame({"arm": ["hf", "hf"], "window": ["0-180", "181-365"], "unit": ["a", "a"],
                       "n": [5, 40]})
    with pytest.raises(ValueError, match="window|within"):
        protect(df, BY_UNIT, threshold=7, rounding_base=5)


# ---- curves ------------------------------------------------------------------------------------

CURVE = DisclosureRule(counts=("n_at_risk",), derived={"survival": ("n_at_risk",)},
                       curve=Curve(within=("stratum",), time="months", at_risk="n_at_risk"))


def test_a_curve_is_cut_from_the_first_time_seven_or_fewer_are_at_risk():
    df = pl.DataFrame({"stratum": ["a"] * 4, "months": [0, 6, 12, 24],
                       "n_at_risk": [20, 9, 7, 0], "survival": [1.0, 0.9, 0.8, 0.8]})
    out, _ = protect(df, CURVE, threshold=7, rounding_base=5)
    # 0 at risk at 24 months is not small, but the estimate there is the 12-month one
    assert out["n_at_risk"].to_list() == [20, 10, None, None]
    assert out["survival"].to_list() == [1.0, 0.9, None, None]


def test_each_curve_is_cut_on_its_own_in_time_order():
    df = pl.DataFrame({"stratum": ["b", "a", "a", "b"], "months": [12, 12, 0, 0],
                       "n_at_risk": [30, 5, 40, 30], "survival": [0.9, 0.5, 1.0, 1.0]})
    out, _ = protect(df, CURVE, threshold=7, rounding_base=5)
    assert out["n_at_risk"].to_list() == [30, None, 40, 30]


def test_a_dropped_curve_loses_its_cut_rows():
    rule = DisclosureRule(counts=("n_at_risk",), curve=Curve(("stratum",), "months",
                                                             "n_at_risk", drop=True))
    df = pl.DataFrame({"stratum": ["a"] * 3, "months": [0, 1, 2], "n_at_risk": [20, 8, 6]})
    out, _ = protect(df, rule, threshold=7, rounding_base=5)
    assert out["months"].to_list() == [0, 1]


def test_a_complement_in_a_curve_cuts_the_rest_of_that_curve():
    # month 1: unit b (5 at risk) is cut, so unit a (30) is its complement; a is then cut too
    df = pl.DataFrame({"arm": ["hf"] * 4, "unit": ["a", "a", "b", "b"], "months": [0, 1, 0, 1],
                       "n_at_risk": [40, 30, 20, 5]})
    rule = DisclosureRule(counts=("n_at_risk",),
                          curve=Curve(("arm", "unit"), "months", "n_at_risk"),
                          secondary=(Partition(("unit",), ("arm", "months")),))
    out, _ = protect(df, rule, threshold=7, rounding_base=5)
    assert out["n_at_risk"].to_list() == [40, None, 20, None]


def test_a_table_publishing_numbers_at_risk_without_a_curve_rule_is_refused():
    df = pl.DataFrame({"n_at_risk": [20, 3]})
    with pytest.raises(ValueError, match="curve"):
        protect(df, DisclosureRule(counts=("n_at_risk",)), threshold=7, rounding_base=5)


# ---- notes -------------------------------------------------------------------------------------

def test_notes_say_which_partitions_and_which_curve_cut_protect_a_count():
    rule = DisclosureRule.from_spec(yaml.safe_load(RULE_YAML))
    df = pl.DataFrame({"arm": ["hf"], "stratum_variable": ["all"], "stratum_value": ["all"],
                       "months": [0], "n": [20], "median_days": [3.0]})
    _, notes = protect(df, rule, threshold=7, rounding_base=5)
    assert "secondary suppression" in notes["n"] and "the 'all' row" in notes["n"]
    assert "cut from the first months with 7 or fewer at risk" in notes["n"]
    assert notes["median_days"] == "median of days"  # the rule's own note replaces the generic
    assert "publication unit" in notes["stratum_value"]


def test_unit_columns_are_noted_as_publication_units():
    df = pl.DataFrame({"municipality_code": ["NO-agg"], "municipality_name": ["x"], "n": [9]})
    _, notes = protect(df, DisclosureRule(counts=("n",)), threshold=7, rounding_base=5)
    assert "mart_publication_units" in notes["municipality_code"]
    assert "mart_publication_units" in notes["municipality_name"]


def test_a_narrower_cut_of_a_mart_keeps_only_the_partitions_it_has_columns_for():
    # the retention command's table has no stratum_country: its units are not split by country
    rule = DisclosureRule(counts=("n",), secondary=(
        Partition(("stratum_value",), ("stratum_variable",)),
        Partition(("stratum_value",), ("stratum_variable", "stratum_country")),
    ))
    assert rule.for_table(["n", "stratum_variable", "stratum_value"]).secondary == (
        rule.secondary[0],)
    df = pl.DataFrame({"stratum_variable": ["municipality"] * 2, "stratum_value": ["a", "b"],
                       "n": [5, 30]})
    out, _ = protect(df, rule, threshold=7, rounding_base=5)
    assert out["n"].to_list() == [None, None]
