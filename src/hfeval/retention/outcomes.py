"""Time to housing, from enrolment to the first move-in to stable housing.

Some participants are never housed before extraction (or die first): their time is censored
there, so the median comes from Kaplan-Meier (`survival.kaplan_meier`, equal to lifelines'
KaplanMeierFitter), not from the housed alone, which would make housing look faster than it is.
"Share housed by day t" is 1 - S(t) from the same fit. At Home/Chez Soi reported 73 days (ACT
arm) against 220 (DOMAIN.md §3).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from hfeval.retention.survival import kaplan_meier, median_of, table_by_stratum

HOUSED_BY_DAYS = (30, 61, 91, 182, 365)


def _housing(days: np.ndarray, housed: np.ndarray, housed_by_days: Sequence[int]
             ) -> dict[str, Any]:
    """One stratum's row (NaN where missing)."""
    km = kaplan_meier(days, housed)
    median = [np.nan if x is None else x for x in median_of(km)]
    row = {"n_people": len(days), "n_housed": int(housed.sum()),
           "median_days_to_housing": median[0], "median_ci_lower": median[1],
           "median_ci_upper": median[2]}
    for t in housed_by_days:
        share = np.nan
        # Estimable while someone is still followed at t, or once everyone is housed.
        if len(days) and ((days >= t).any() or housed.all()):
            pos = np.searchsorted(km.time, t, side="right") - 1  # the step in force at t
            share = 1.0 - km.survival[pos] if pos >= 0 else np.nan
        row[f"share_housed_by_{t}_days"] = share
    return {c: [v] for c, v in row.items()}


def time_to_housing(
    people: pl.DataFrame, by: Sequence[str], housed_by_days: Sequence[int] = HOUSED_BY_DAYS
) -> pl.DataFrame:
    """Per arm and stratum: people, housed, KM median days to housing with 95 % CI, and the
    share housed within each of `housed_by_days` (mart_person_outcomes rows)."""
    schema = {"arm": pl.String, "stratum_variable": pl.String, "stratum_value": pl.String,
              "n_people": pl.Int64, "n_housed": pl.Int64, "median_days_to_housing": pl.Float64,
              "median_ci_lower": pl.Float64, "median_ci_upper": pl.Float64,
              **{f"share_housed_by_{t}_days": pl.Float64 for t in housed_by_days}}
    frame = people.with_columns(
        pl.col("time_to_housing_days").cast(pl.Float64).alias("_days"),
        pl.col("housed").cast(pl.Boolean).fill_null(False).alias("_housed"))
    return table_by_stratum(
        frame, by, ["_days", "_housed"],
        lambda rows: _housing(rows["_days"], rows["_housed"], housed_by_days), schema)
