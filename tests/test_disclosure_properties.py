"""Property tests (hypothesis) of disclosure control, for every preset: no published count in
1..threshold, no partition group with exactly one suppressed non-zero cell, published totals
consistent with their published cells within the rounding, derived values hidden with their
counts, zero stays zero, curves stay cut, and every municipality in exactly one safe unit."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfeval.disclosure import (
    PRESETS,
    Curve,
    DisclosureRule,
    Partition,
    protect,
    publication_units,
    suppression_masks,
)

PROFILE = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])
presets = st.sampled_from(sorted(PRESETS))
small_or_large = st.one_of(st.integers(0, 12), st.integers(0, 300))


# The shape of every stratum mart: per arm, an 'all' row, country rows adding up to it and
# publication-unit rows adding up to their country (the two partitions of pipeline.yaml).
STRATA_RULE = DisclosureRule(
    counts=("n",), derived={"mean_days": ("n",)},
    secondary=(Partition(("stratum_value",), ("arm", "stratum_variable")),
               Partition(("stratum_value",), ("arm", "stratum_variable", "stratum_country"))),
)


@st.composite
def stratum_tables(draw) -> pl.DataFrame:
    rows = []
    for arm in ("housing_first", "comparison"):
        n_countries = draw(st.integers(1, 3))
        countries = {}
        for c in range(n_countries):
            units = draw(st.lists(small_or_large, min_size=1, max_size=5))
            countries[f"C{c}"] = units
            rows += [(arm, "municipality", f"C{c}-U{u}", f"C{c}", v) for u, v in enumerate(units)]
            rows.append((arm, "country", f"C{c}", f"C{c}", sum(units)))
        rows.append((arm, "all", "all", None, sum(sum(u) for u in countries.values())))
    df = pl.DataFrame(rows, schema=["arm", "stratum_variable", "stratum_value",
                                    "stratum_country", "n"], orient="row")
    return df.with_columns((pl.col("n") * 1.5).alias("mean_days"))


def published(draw_table: pl.DataFrame, preset: str) -> tuple[pl.DataFrame, int, int]:
    p = PRESETS[preset]
    out, _ = protect(draw_table, STRATA_RULE, threshold=p.threshold,
                     rounding_base=p.rounding_base)
    return out, p.threshold, p.rounding_base


@PROFILE
@given(table=stratum_tables(), preset=presets)
def test_no_published_count_is_between_1_and_the_threshold_for_any_preset(table, preset):
    out, t, base = published(table, preset)
    shown = [v for v in out["n"].to_list() if v is not None]
    assert all(v == 0 or v > t for v in shown)
    assert all(v % base == 0 for v in shown)


@PROFILE
@given(table=stratum_tables(), preset=presets)
def test_no_group_has_exactly_one_suppressed_non_zero_cell(table, preset):
    out, _, _ = published(table, preset)
    both = table.with_columns(out["n_suppressed"])
    for p in STRATA_RULE.secondary:
        for _, g in both.group_by(list(p.within)):
            hidden = g.filter(pl.col("n_suppressed"))
            if g.height >= 2 and hidden.height == 1:
                assert hidden["n"].item() == 0  # a lone hidden zero gives nothing away


@PROFILE
@given(table=stratum_tables(), preset=presets)
def test_published_totals_match_their_published_cells_within_the_rounding(table, preset):
    out, _, base = published(table, preset)
    for arm in ("housing_first", "comparison"):
        rows = out.filter(pl.col("arm") == arm)
        levels = [("all", "country", None)] + [
            ("country", "municipality", c) for c in
            rows.filter(pl.col("stratum_variable") == "country")["stratum_value"].to_list()]
        for total_var, cell_var, country in levels:
            total = rows.filter(pl.col("stratum_variable") == total_var)
            if country is not None:
                total = total.filter(pl.col("stratum_value") == country)
            cells = rows.filter(pl.col("stratum_variable") == cell_var)
            if country is not None:
                cells = cells.filter(pl.col("stratum_country") == country)
            if total["n_suppressed"].item() or cells["n_suppressed"].any():
                continue
            tolerance = (cells.height + 1) * base / 2
            assert abs(cells["n"].sum() - total["n"].item()) <= tolerance


@PROFILE
@given(table=stratum_tables(), preset=presets)
def test_derived_values_are_hidden_whenever_their_count_is(table, preset):
    out, _, _ = published(table, preset)
    assert (out["mean_days_suppressed"] == out["n_suppressed"]).all()
    assert out.filter(pl.col("n_suppressed"))["mean_days"].null_count() == out[
        "n_suppressed"].sum()


@PROFILE
@given(counts=st.lists(small_or_large, min_size=1, max_size=40), preset=presets)
def test_zero_stays_zero_and_nothing_else_becomes_zero(counts, preset):
    p = PRESETS[preset]
    out, _ = protect(pl.DataFrame({"n": counts}), DisclosureRule(counts=("n",)),
                     threshold=p.threshold, rounding_base=p.rounding_base)
    for raw, shown in zip(counts, out["n"].to_list(), strict=True):
        if raw == 0:
            assert shown == 0
        elif shown is not None:
            assert shown > 0


@st.composite
def curves(draw) -> pl.DataFrame:
    rows = []
    for s in range(draw(st.integers(1, 4))):
        at_risk = sorted(draw(st.lists(st.integers(0, 60), min_size=1, max_size=12)),
                         reverse=True)
        rows += [(f"s{s}", month, n) for month, n in enumerate(at_risk)]
    return pl.DataFrame(rows, schema=["stratum", "months", "n_at_risk"], orient="row")


@PROFILE
@given(table=curves(), preset=presets)
def test_a_curve_once_cut_stays_cut(table, preset):
    p = PRESETS[preset]
    rule = DisclosureRule(counts=("n_at_risk",), curve=Curve(("stratum",), "months", "n_at_risk"))
    hidden, _ = suppression_masks(table, rule, threshold=p.threshold,
                                  rounding_base=p.rounding_base)
    flagged = table.with_columns(pl.Series("h", hidden["n_at_risk"]))
    for _, g in flagged.group_by("stratum"):
        h = g.sort("months")["h"].to_numpy()
        assert np.all(np.maximum.accumulate(h) == h)  # no visible row after a hidden one
        shown = g.filter(~pl.col("h"))["n_at_risk"]
        assert (shown > p.threshold).all()


@st.composite
def municipalities(draw) -> pl.DataFrame:
    rows = []
    for country in ("NO", "DK")[: draw(st.integers(1, 2))]:
        for m in range(draw(st.integers(1, 8))):
            rows.append((country, f"R{draw(st.integers(0, 2))}", f"{country}{m:03d}", f"M{m}",
                         draw(st.integers(1, 60))))
    return pl.DataFrame(rows, schema=["country", "region", "municipality_code",
                                      "municipality_name", "n_participants"], orient="row")


@PROFILE
@given(munis=municipalities(), minimum=st.integers(0, 40))
def test_every_municipality_is_in_one_unit_that_is_big_enough_or_the_whole_country(munis,
                                                                                   minimum):
    units = publication_units(munis, minimum)
    assert sorted(units["municipality_code"]) == sorted(munis["municipality_code"])
    # one name per unit and one unit per name (names are the municipality strata's values)
    assert units.select("unit_code", "unit_name").unique().height == units["unit_code"].n_unique()
    assert units["unit_name"].n_unique() == units["unit_code"].n_unique()
    for (code,), g in units.group_by("unit_code"):
        country = g["country"][0]
        whole_country = g.height == munis.filter(pl.col("country") == country).height
        assert g["n_participants"].sum() >= minimum or whole_country
        assert g["n_municipalities_in_unit"].to_list() == [g.height] * g.height
        if g["unit_kind"][0] != "municipality":
            assert g.height >= 2 and code.startswith(f"{country}-agg")
