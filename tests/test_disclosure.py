"""Disclosure control: suppression of small counts, rounding, derived values."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from hfeval.disclosure import DisclosureRule, protect, round_count

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
