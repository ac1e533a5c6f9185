"""Wellbeing and fidelity: MANSA change from baseline; home visits per participant-week.

MANSA (Manchester Short Assessment of Quality of Life): the mean of the 12 satisfaction items
(1-7), computed in stg_quality_of_life when at least 9 items are answered. Change is paired:
for each follow-up wave, only participants with a mean score at both baseline (wave 0) and that
wave count, and the 95 % CI is the paired t interval (mean change +- t(0.975, n-1) * SD / sqrt n).

Home visits per participant-week are computed in SQL (mart_fidelity, from mart_person_outcomes):
all home visits / all weeks in the programme (enrolment to extraction or death).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from hfeval.retention.survival import strata


def paired_change(baseline: Sequence[float], followup: Sequence[float]) -> dict[str, float | None]:
    """Mean of followup - baseline with its paired-t 95 % CI and two-sided p-value."""
    b = np.asarray(baseline, dtype=float)
    f = np.asarray(followup, dtype=float)
    diff = f - b
    n = len(diff)
    out: dict[str, float | None] = {
        "n_pairs": n, "mean_baseline": float(b.mean()) if n else None,
        "mean_followup": float(f.mean()) if n else None,
        "mean_change": float(diff.mean()) if n else None,
        "ci_lower": None, "ci_upper": None, "p_value": None,
    }
    if n >= 2:
        se = diff.std(ddof=1) / np.sqrt(n)
        half = stats.t.ppf(0.975, n - 1) * se
        out["ci_lower"], out["ci_upper"] = diff.mean() - half, diff.mean() + half
        out["p_value"] = float(stats.ttest_rel(f, b).pvalue) if se > 0 else None
    return out


def mansa_pairs(qol: pl.DataFrame, participants: pl.DataFrame) -> pl.DataFrame:
    """Baseline and follow-up MANSA means side by side: one row per participant and follow-up
    wave, with the participant's strata (stg_quality_of_life + stg_participants rows)."""
    scored = qol.filter(pl.col("mansa_mean_score").is_not_null())
    base = scored.filter(pl.col("wave") == 0).select(
        "participant_id", pl.col("mansa_mean_score").alias("baseline"))
    follow = scored.filter(pl.col("wave") > 0).select(
        "participant_id", "wave", pl.col("mansa_mean_score").alias("followup"))
    return follow.join(base, on="participant_id").join(participants, on="participant_id")


def mansa_change(pairs: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Paired mean change from baseline per arm, stratum and follow-up wave."""
    rows = []
    for arm in sorted(pairs.get_column("arm").unique().to_list()):
        for var, value, group in strata(pairs.filter(pl.col("arm") == arm), by):
            for wave in sorted(group.get_column("wave").unique().to_list()):
                w = group.filter(pl.col("wave") == wave)
                rows.append({"arm": arm, "stratum_variable": var, "stratum_value": value,
                             "wave": wave, **paired_change(w["baseline"], w["followup"])})
    schema = {"arm": pl.String, "stratum_variable": pl.String, "stratum_value": pl.String,
              "wave": pl.Int64, "n_pairs": pl.Int64, "mean_baseline": pl.Float64,
              "mean_followup": pl.Float64, "mean_change": pl.Float64, "ci_lower": pl.Float64,
              "ci_upper": pl.Float64, "p_value": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
