"""Wellbeing and fidelity: MANSA change from baseline; home visits per participant-week.

MANSA (Manchester Short Assessment of Quality of Life): the mean of the 12 satisfaction items
(1-7), computed in stg_quality_of_life when at least 9 items are answered. Change is paired:
for each follow-up wave, only participants with a mean score at both baseline (wave 0) and that
wave count, and the 95 % CI is the paired t interval (mean change +- t(0.975, n-1) * SD / sqrt n),
with the two-sided p-value of scipy.stats.ttest_rel. All strata and waves are computed at once,
in scipy's arithmetic (tests compare paired_change with scipy).

Home visits per participant-week are computed in SQL (mart_fidelity, from mart_person_outcomes):
all home visits / all weeks in the programme (enrolment to extraction or death).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy import special, stats

from hfeval.retention.survival import table_by_stratum

_CHANGE_SCHEMA = {"n_pairs": pl.Int64, "mean_baseline": pl.Float64,
                  "mean_followup": pl.Float64, "mean_change": pl.Float64,
                  "ci_lower": pl.Float64, "ci_upper": pl.Float64, "p_value": pl.Float64}


def _paired_moments(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per (baseline, followup) group: n, the three means, the standard error of the mean
    change and ttest_rel's t statistic (NaN where missing), in numpy's and scipy's arithmetic."""
    size = len(pairs)
    n = np.array([len(b) for b, _ in pairs], dtype=np.int64)
    means = np.full((size, 3), np.nan)
    se = np.full(size, np.nan)
    t_stat = np.full(size, np.nan)
    total = np.add.reduce  # what ndarray.mean, .std and scipy's moments sum with
    for i, (b, f) in enumerate(pairs):
        if not n[i]:
            continue
        diff = f - b
        mean = total(diff) / n[i]
        means[i] = total(b) / n[i], total(f) / n[i], mean
        if n[i] >= 2:
            centred = diff - mean
            squares = total(centred * centred)
            se[i] = np.sqrt(squares / (n[i] - 1)) / np.sqrt(n[i])  # diff.std(ddof=1) / sqrt n
            # scipy.stats.ttest_rel(f, b): mean / sqrt(var / n), var = mean square * n / (n - 1).
            var = squares / n[i] * (n[i] / (n[i] - 1.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                t_stat[i] = mean / np.sqrt(var / n[i])
    return {"n_pairs": n, "mean_baseline": means[:, 0], "mean_followup": means[:, 1],
            "mean_change": means[:, 2], "se": se, "t": t_stat}


def _paired_tests(moments: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The paired-t 95 % CI and two-sided p-value of every group in one call each (NaN where
    fewer than 2 pairs; no p-value when every difference is the same)."""
    n, se, mean = moments["n_pairs"], moments["se"], moments["mean_change"]
    two = n >= 2
    df = np.where(two, n - 1, 1).astype(float)
    half = np.where(two, stats.t.ppf(0.975, df) * se, np.nan)
    p_value = np.where(two & (se > 0), 2 * special.stdtr(df, -np.abs(moments["t"])), np.nan)
    return {**{c: moments[c] for c in ("n_pairs", "mean_baseline", "mean_followup")},
            "mean_change": mean, "ci_lower": mean - half, "ci_upper": mean + half,
            "p_value": p_value}


def paired_change(baseline: Sequence[float], followup: Sequence[float]) -> dict[str, float | None]:
    """Mean of followup - baseline with its paired-t 95 % CI and two-sided p-value."""
    one = _paired_tests(_paired_moments(
        [(np.asarray(baseline, dtype=float), np.asarray(followup, dtype=float))]))
    out: dict[str, float | None] = {
        c: None if np.isnan(v[0]) else float(v[0]) for c, v in one.items() if c != "n_pairs"}
    return {"n_pairs": int(one["n_pairs"][0]), **out}


def mansa_pairs(qol: pl.DataFrame, participants: pl.DataFrame) -> pl.DataFrame:
    """Baseline and follow-up MANSA means side by side: one row per participant and follow-up
    wave, with the participant's strata (stg_quality_of_life + stg_participants rows)."""
    scored = qol.filter(pl.col("mansa_mean_score").is_not_null())
    base = scored.filter(pl.col("wave") == 0).select(
        "participant_id", pl.col("mansa_mean_score").alias("baseline"))
    follow = scored.filter(pl.col("wave") > 0).select(
        "participant_id", "wave", pl.col("mansa_mean_score").alias("followup"))
    # Sorted: a join's output order may vary between runs, and the means are sums in row order
    # (the published numbers must be the same to the last bit on a rerun).
    return (follow.join(base, on="participant_id").join(participants, on="participant_id")
            .sort("participant_id", "wave"))


def _by_wave(rows: dict[str, np.ndarray]) -> dict[str, Any]:
    """One stratum's groups, one per wave in order (pairs kept in their order within a wave)."""
    order = np.argsort(rows["wave"], kind="stable")
    waves, starts = np.unique(rows["wave"][order], return_index=True)
    groups = np.split(order, starts[1:])
    return {"wave": waves, **_paired_moments(
        [(rows["baseline"][g].astype(float), rows["followup"][g].astype(float))
         for g in groups])}


def mansa_change(pairs: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Paired mean change from baseline per arm, stratum and follow-up wave."""
    keys = {"arm": pl.String, "stratum_variable": pl.String, "stratum_value": pl.String,
            "wave": pl.Int64}
    moments = table_by_stratum(pairs, by, ["wave", "baseline", "followup"], _by_wave, {
        **keys, "n_pairs": pl.Int64, "mean_baseline": pl.Float64, "mean_followup": pl.Float64,
        "mean_change": pl.Float64, "se": pl.Float64, "t": pl.Float64})
    tests = _paired_tests({c: moments.get_column(c).to_numpy() for c in (
        "n_pairs", "mean_baseline", "mean_followup", "mean_change", "se", "t")})
    return moments.select(*keys).with_columns(
        pl.DataFrame(tests, schema=_CHANGE_SCHEMA).fill_nan(None))
