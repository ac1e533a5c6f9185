"""Time to housing, from enrolment to the first move-in to stable housing.

Some participants are never housed before extraction (or die first): their time is censored
there, so the median comes from Kaplan-Meier (lifelines), not from the housed alone, which would
make housing look faster than it is. "Share housed by day t" is 1 - S(t) from the same fit.
At Home/Chez Soi reported 73 days (ACT arm) against 220 (DOMAIN.md §3).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from hfeval.retention.survival import fit_km, median_of, strata

HOUSED_BY_DAYS = (30, 61, 91, 182, 365)


def time_to_housing(
    people: pl.DataFrame, by: Sequence[str], housed_by_days: Sequence[int] = HOUSED_BY_DAYS
) -> pl.DataFrame:
    """Per arm and stratum: people, housed, KM median days to housing with 95 % CI, and the
    share housed within each of `housed_by_days` (mart_person_outcomes rows)."""
    rows = []
    for arm in sorted(people.get_column("arm").unique().to_list()):
        for var, value, group in strata(people.filter(pl.col("arm") == arm), by):
            durations = group["time_to_housing_days"].cast(pl.Float64)
            housed = group["housed"]
            kmf = fit_km(durations, housed) if group.height else None
            median, lo, hi = median_of(kmf) if kmf is not None else (None, None, None)
            row = {"arm": arm, "stratum_variable": var, "stratum_value": value,
                   "n_people": group.height, "n_housed": int(housed.sum()),
                   "median_days_to_housing": median, "median_ci_lower": lo,
                   "median_ci_upper": hi}
            for t in housed_by_days:
                share = None
                # Estimable while someone is still followed at t, or once everyone is housed.
                if kmf is not None and ((durations >= t).any() or housed.all()):
                    share = 1.0 - float(kmf.survival_function_at_times(t).iloc[0])
                row[f"share_housed_by_{t}_days"] = share
            rows.append(row)
    schema = {"arm": pl.String, "stratum_variable": pl.String, "stratum_value": pl.String,
              "n_people": pl.Int64, "n_housed": pl.Int64, "median_days_to_housing": pl.Float64,
              "median_ci_lower": pl.Float64, "median_ci_upper": pl.Float64,
              **{f"share_housed_by_{t}_days": pl.Float64 for t in housed_by_days}}
    return pl.DataFrame(rows, schema=schema)
