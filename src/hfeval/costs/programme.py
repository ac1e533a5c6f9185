"""What the programme costs per participant-year, and the break-even number of participants.

Input: mart_programme_costs (per municipality and budget year: nominal costs split into fixed
team costs, staff + administration, and variable costs, housing subsidies, rent guarantees
and other items; and the participant-years of Housing First participants in the programme
that year, from enrolment to extraction or death).

- Each year's amounts are moved to the price year and currency (prices.py) with the CPI of
  the municipality's country.
- Programme cost per participant-year = sum of real costs / sum of participant-years, over
  the years with both costs and participants.
- Break-even participants for a team with fixed cost F a year, when each participant costs v
  a year beyond it and avoids o a year in other services: N = F / (o - v); none when o <= v.
  The Husbanken example (DOMAIN.md §4: a 5-person team, NOK 3.8 m a year in 2015, breaks even
  against hostel use at 14-18 participants) is N = F / o with v = 0.
"""

from __future__ import annotations

import math

import polars as pl

from hfeval.costs.designs import CostSettings
from hfeval.costs.prices import PriceTables, price_factor, target_currency


def real_programme_costs(
    programme_costs: pl.DataFrame, tables: PriceTables, settings: CostSettings
) -> pl.DataFrame:
    """mart_programme_costs with amounts in the price year and currency of `settings`."""
    if programme_costs.height == 0:
        return programme_costs.with_columns(
            pl.lit(None, pl.Float64).alias(c) for c in
            ("price_factor", "total_cost", "fixed_cost", "variable_cost"))
    factors = [
        price_factor(tables, country=r["country"], currency=r["currency"], year=int(r["year"]),
                     price_year=settings.price_year, to_currency=settings.currency)
        for r in programme_costs.iter_rows(named=True)
    ]
    return programme_costs.with_columns(pl.Series("price_factor", factors)).with_columns(
        (pl.col("total_cost_nominal") * pl.col("price_factor")).alias("total_cost"),
        (pl.col("fixed_cost_nominal") * pl.col("price_factor")).alias("fixed_cost"),
        (pl.col("variable_cost_nominal") * pl.col("price_factor")).alias("variable_cost"),
        pl.col("country").map_elements(lambda c: target_currency(c, settings.currency),
                                       return_dtype=pl.String).alias("result_currency"),
        pl.lit(settings.price_year).alias("price_year"),
    )


def programme_cost_per_participant_year(real: pl.DataFrame) -> pl.DataFrame:
    """Per municipality: cost per participant-year, fixed cost per year, variable cost per
    participant-year, over the years with costs and participant-years."""
    used = real.filter(pl.col("participant_years") > 0)
    return used.group_by("municipality_code", "country").agg(
        pl.len().alias("n_years"),
        pl.col("year").min().alias("first_year"),
        pl.col("year").max().alias("last_year"),
        pl.col("participant_years").sum().alias("participant_years"),
        (pl.col("total_cost").sum() / pl.col("participant_years").sum())
        .alias("programme_cost_per_py"),
        pl.col("fixed_cost").mean().alias("fixed_cost_per_year"),
        (pl.col("variable_cost").sum() / pl.col("participant_years").sum())
        .alias("variable_cost_per_py"),
        pl.col("staff_fte").mean().alias("mean_staff_fte"),
    ).sort("country", "municipality_code")


def break_even_participants(
    fixed_cost_per_year: float, offset_per_participant_year: float,
    variable_cost_per_participant_year: float = 0.0,
) -> float | None:
    """Participants at which costs avoided pay for the team: F / (o - v); None if o <= v."""
    margin = offset_per_participant_year - variable_cost_per_participant_year
    if not math.isfinite(margin) or margin <= 0 or not math.isfinite(fixed_cost_per_year):
        return None
    return fixed_cost_per_year / margin


def saved_per_unit_spent(offset: float, programme_cost: float, unit: float = 10.0) -> float:
    """At Home/Chez Soi's 'saved per $10 spent': unit x costs avoided / programme cost."""
    return unit * offset / programme_cost if programme_cost > 0 else math.nan
