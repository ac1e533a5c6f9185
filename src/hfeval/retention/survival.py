"""Tenancy survival: Kaplan-Meier, cumulative incidence by cause, log-rank, Cox.

Conventions, stated once:
- Time is in days from move-in; months are turned into days with `days_per_month` (default
  30.4375 = 365.25 / 12), so "12 months" is 365.25 days and S(12 months) is the estimate after
  every loss on day 365 or earlier.
- Kaplan-Meier (`kaplan_meier`): the product-limit estimate with 95 % confidence intervals by
  the exponential Greenwood formula (Greenwood's variance on the log(-log S) scale, "log-log" in
  R), which keeps them inside [0, 1]. Only losses are events; competing events and censoring end
  follow-up. So S(t) is retention *had no one died or gone into a long stay*; the cumulative
  incidence by cause (Aalen-Johansen) beside it gives the probability of each way a tenancy ends.
- Aalen-Johansen (`cumulative_incidence`): cumulative incidence of loss, death and long stays;
  95 % CI from a Greenwood-type variance on the log(-log) scale (Collett 2003, p. 411).
- Both are computed here with numpy, in the same arithmetic as lifelines' `KaplanMeierFitter`
  and `AalenJohansenFitter` (event table over every distinct duration, ties, censoring after
  events on the same day, median from the first time S <= 0.5); tests/test_retention_survival*.py
  check that they equal lifelines. Fitting lifelines per stratum costs milliseconds each, which
  at national scale (thousands of strata) is most of a run.
- Strata are grouped once (`stratum_index`), never filtered value by value, so a table by
  stratum costs about the same however many strata there are.
- Number at risk at t: tenancies still followed at t (duration >= t), as in lifelines.
- S(t) is not estimable beyond the last follow-up (no one at risk): reported as missing. While
  S(t) = 1 (no loss yet) the log-log interval is undefined; lifelines reports [1, 1], which
  would claim certainty, so the interval is reported as missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import polars as pl
from lifelines import CoxPHFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import inv_normal_cdf

DAYS_PER_MONTH = 30.4375
KM_CI_METHOD = "exponential Greenwood (log-log), as lifelines KaplanMeierFitter"
AJ_CI_METHOD = "Greenwood-type variance on the log(-log) scale, as lifelines AalenJohansenFitter"
Z_95 = inv_normal_cdf(1 - 0.05 / 2)  # as lifelines computes it for alpha = 0.05

# Strata names -> the mart_tenancies / mart_person_outcomes column holding them.
STRATUM_COLUMNS = {
    "all": None,
    "country": "country",
    "municipality": "municipality_name",
    "cohort_year": "cohort_year",
    "support_model": "support_model",
    "sex": "sex",
    "age_band": "age_band",
    "arm": "arm",
}

# Causes for cumulative incidence, as integer codes (0 = censored).
CAUSES = {"loss": 1, "death": 2, "long_stay": 3}


def months_to_days(months: Sequence[float], days_per_month: float = DAYS_PER_MONTH) -> list[float]:
    return [float(m) * days_per_month for m in months]


# ---- Kaplan-Meier -------------------------------------------------------------------------------


class KaplanMeier(NamedTuple):
    """A Kaplan-Meier fit as arrays, one entry per time of lifelines' timeline (time 0 and every
    distinct duration)."""

    time: np.ndarray
    at_risk: np.ndarray  # durations >= time
    survival: np.ndarray
    ci_lower: np.ndarray  # 95 % exponential Greenwood band; [1, 1] while S = 1, as in lifelines
    ci_upper: np.ndarray


def kaplan_meier(durations: Sequence[float], events: Sequence[bool]) -> KaplanMeier:
    """Product-limit estimate with its 95 % exponential-Greenwood band, in lifelines'
    arithmetic (KaplanMeierFitter: log S summed step by step, Greenwood terms of steps where
    everyone at risk has the event counted as 0), so medians found by comparing with 0.5 agree."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if not len(d):
        empty = np.array([], dtype=float)
        return KaplanMeier(empty, np.array([], dtype=np.int64), empty, empty, empty)
    # lifelines' event table: the entry time min(0, first duration), then each distinct duration.
    time, inverse = np.unique(np.concatenate([[min(0.0, d.min())], d]), return_inverse=True)
    inverse = inverse[1:]
    removed = np.bincount(inverse, minlength=len(time))
    deaths = np.bincount(inverse, weights=e.astype(float), minlength=len(time))
    at_risk = len(d) - np.concatenate([[0], np.cumsum(removed)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.exp(np.cumsum(np.log(at_risk - deaths) - np.log(at_risk)))
        terms = deaths / (at_risk * (at_risk - deaths))
        terms[terms == np.inf] = 0.0
        v = np.log(survival)
        spread = Z_95 * np.sqrt(np.cumsum(terms)) / v
        lower = np.exp(-np.exp(np.log(-v) - spread))
        upper = np.exp(-np.exp(np.log(-v) + spread))
    # Undefined while S = 1 (log(-log 1)): lifelines fills 1.
    lower[np.isnan(lower)] = 1.0
    upper[np.isnan(upper)] = 1.0
    return KaplanMeier(time, at_risk, survival, lower, upper)


def _survival_at(d: np.ndarray, e: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """survival_at as arrays (NaN where missing)."""
    at_risk = len(d) - np.searchsorted(np.sort(d), t, side="left")  # duration >= t
    n_events = np.searchsorted(np.sort(d[e]), t, side="right")  # losses on or before t
    s = lo = hi = np.full(len(t), np.nan)
    if len(d):
        km = kaplan_meier(d, e)
        # The step in force at t: the last estimate at a time <= t (the first is time 0).
        pos = np.searchsorted(km.time, t, side="right") - 1
        s, lo, hi = km.survival[pos], km.ci_lower[pos], km.ci_upper[pos]
        # Beyond the last follow-up (no one at risk, curve not at 0): not estimable.
        unknown = (at_risk == 0) & (s > 0)
        s, lo, hi = (np.where(unknown, np.nan, x) for x in (s, lo, hi))
        # Before the first loss S = 1 and the log-log interval is undefined (lifelines shows
        # [1, 1], which would claim certainty): no interval. Likewise once S = 0.
        lo, hi = (np.where((s >= 1) | (s <= 0), np.nan, x) for x in (lo, hi))
    return {"time_days": t, "survival": s, "ci_lower": lo, "ci_upper": hi,
            "n_at_risk": at_risk.astype(np.int64), "n_events": n_events.astype(np.int64)}


_SURVIVAL_SCHEMA = {"time_days": pl.Float64, "survival": pl.Float64, "ci_lower": pl.Float64,
                    "ci_upper": pl.Float64, "n_at_risk": pl.Int64, "n_events": pl.Int64}


def _frame(columns: dict[str, Any], schema: dict[str, Any]) -> pl.DataFrame:
    """A table of `schema` from equal-length columns; NaN in float columns becomes missing."""
    floats = [c for c, dtype in schema.items() if dtype == pl.Float64]
    return pl.DataFrame({c: columns[c] for c in schema}, schema=schema).with_columns(
        pl.col(floats).fill_nan(None))


def _arrays(durations: Sequence[float], events: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(durations, dtype=float), np.asarray(events, dtype=bool)


def survival_at(
    durations: Sequence[float], events: Sequence[bool], times: Sequence[float]
) -> pl.DataFrame:
    """S(t) with 95 % CI, number at risk and cumulative events at each time (days)."""
    d, e = _arrays(durations, events)
    return _frame(_survival_at(d, e, np.asarray(times, dtype=float)), _SURVIVAL_SCHEMA)


def _cut(columns: dict[str, np.ndarray], min_at_risk: int) -> dict[str, np.ndarray]:
    """Rows before the first with min_at_risk or fewer at risk."""
    keep = np.minimum.accumulate(columns["n_at_risk"]) > min_at_risk
    return {c: v[keep] for c, v in columns.items()}


def km_curve(
    durations: Sequence[float], events: Sequence[bool], *, min_at_risk: int = 0
) -> pl.DataFrame:
    """The Kaplan-Meier step curve at every event time (and 0), with 95 % CI and number at
    risk; cut before the first time at which min_at_risk or fewer are at risk."""
    d, e = _arrays(durations, events)
    times = np.unique(np.concatenate([[0.0], d[e]])) if len(d) else d
    return _frame(_cut(_survival_at(d, e, times), min_at_risk), _SURVIVAL_SCHEMA)


def _km_grid(d: np.ndarray, e: np.ndarray, step_days: float, min_at_risk: int
             ) -> dict[str, np.ndarray]:
    grid = np.arange(0.0, float(d.max()) + step_days, step_days) if len(d) else d
    return _cut(_survival_at(d, e, grid), min_at_risk)


def km_grid(
    durations: Sequence[float], events: Sequence[bool], *, step_days: float,
    min_at_risk: int = 0,
) -> pl.DataFrame:
    """S(t) on a regular grid (e.g. every month) up to the longest follow-up, cut before the
    first grid point with min_at_risk or fewer at risk. A grid hides the exact days of
    individual losses, which a step curve at event times would publish."""
    return _frame(_km_grid(*_arrays(durations, events), step_days, min_at_risk),
                  _SURVIVAL_SCHEMA)


def median_of(km: KaplanMeier) -> tuple[float | None, float | None, float | None]:
    """Median and 95 % CI of a Kaplan-Meier fit: where S and its CI bounds first fall to 0.5
    or below (lifelines' median_survival_times on the curve and on the band); None where not
    reached."""

    def first_at_half(curve: np.ndarray) -> float | None:
        if not len(curve) or curve[-1] > 0.5:
            return None
        # lifelines searches the band as if it fell monotonically; so does this, on equal arrays.
        t = km.time[np.searchsorted(-curve, -0.5)]
        return float(t) if np.isfinite(t) else None

    return (first_at_half(km.survival), first_at_half(km.ci_lower), first_at_half(km.ci_upper))


def median_survival(durations: Sequence[float], events: Sequence[bool]) -> tuple[
    float | None, float | None, float | None
]:
    """Median time (days) with its 95 % CI from the KM confidence band; None where not reached."""
    return median_of(kaplan_meier(durations, events))


# ---- cumulative incidence (Aalen-Johansen) ------------------------------------------------------


def _untie(durations: np.ndarray, causes: np.ndarray) -> np.ndarray:
    """Break ties between different causes on the same day deterministically (cause k moved
    k microdays earlier), as lifelines' Aalen-Johansen would jitter them at random. Events that
    share a day keep the same risk set, so the estimate equals the tied-data formula; censoring
    on that day still comes after them, as in Kaplan-Meier."""
    return durations - np.where(causes > 0, causes * 1e-6, 0.0)


class _AalenJohansen(NamedTuple):
    """lifelines' Aalen-Johansen table: one column per time, one row per cause."""

    time: np.ndarray
    at_risk: np.ndarray
    ended: np.ndarray  # tenancies ended by any cause
    lag_survival: np.ndarray  # S (no cause yet) just before each time
    events: np.ndarray  # (causes, times)
    incidence: np.ndarray  # (causes, times)


def _aalen_johansen(durations: np.ndarray, causes: np.ndarray, codes: Sequence[int]
                    ) -> _AalenJohansen:
    """lifelines' AalenJohansenFitter estimate on days + 1, causes untied: lifelines sets the
    incidence at its first time to 0, which would drop events on day 0 (a loss on the day of
    move-in), so read it at t + 1."""
    shifted = _untie(durations, causes) + 1.0
    time, inverse = np.unique(np.concatenate([[min(0.0, shifted.min())], shifted]),
                              return_inverse=True)
    inverse = inverse[1:]
    removed = np.bincount(inverse, minlength=len(time))
    ended = np.bincount(inverse, weights=(causes != 0).astype(float), minlength=len(time))
    at_risk = (len(durations) - np.concatenate([[0], np.cumsum(removed)[:-1]])).astype(float)
    with np.errstate(divide="ignore"):
        survival = np.exp(np.cumsum(np.log(at_risk - ended) - np.log(at_risk)))
    lag_survival = np.concatenate([[1.0], survival[:-1]])
    events = np.stack([np.bincount(inverse, weights=(causes == k).astype(float),
                                   minlength=len(time)) for k in codes])
    steps = events / at_risk * lag_survival
    steps[:, 0] = 0.0
    return _AalenJohansen(time, at_risk, ended, lag_survival, events, np.cumsum(steps, axis=1))


def _aj_variance(aj: _AalenJohansen, rows: np.ndarray) -> np.ndarray:
    """lifelines' Greenwood-type variance of F (AalenJohansenFitter._bounds) at the times whose
    first `rows` table columns are on or before them; (causes, times)."""
    width = int(rows.max())
    keep = slice(0, width)
    f, events = aj.incidence[:, keep], aj.events[:, keep]
    n, ended, lag_s = aj.at_risk[keep], aj.ended[keep], aj.lag_survival[keep]
    f_t = aj.incidence[:, rows - 1]
    variance = np.empty_like(f_t)
    # Times in chunks so that (causes x times x columns) stays small with many times asked for.
    chunk = max(1, 2**20 // (len(f) * width))
    with np.errstate(divide="ignore", invalid="ignore"):
        share_ended = ended / n / (n - ended)  # 0 / 0 where everyone left ends: skipped
        second_terms = lag_s**2 / n * events / n * (n - events) / n
        for start in range(0, len(rows), chunk):
            cols = slice(start, start + chunk)
            inside = np.arange(width)[None, :] < rows[cols, None]  # (times, columns)
            gap = f_t[:, cols, None] - f[:, None, :]
            first = np.nansum(np.where(inside, gap**2 * share_ended, 0.0), axis=-1)
            second = np.where(inside, second_terms[:, None, :], 0.0).sum(axis=-1)
            third = np.where(inside, gap / n * lag_s * events[:, None, :] / n, 0.0).sum(axis=-1)
            variance[:, cols] = first + second - 2 * third
    return variance


def _cumulative_incidence(
    durations: np.ndarray, causes: np.ndarray, times: np.ndarray, codes: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative incidence F and its 95 % CI, arrays of shape (causes, times), NaN where
    missing. F is 0 (no interval) for a cause that never occurs."""
    shape = (len(codes), len(times))
    f_at, lower, upper = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    if not len(durations) or not len(times):
        return f_at, lower, upper
    occurs = np.array([(causes == k).any() for k in codes], dtype=bool)
    f_at[~occurs] = 0.0
    if not occurs.any():
        return f_at, lower, upper
    aj = _aalen_johansen(durations, causes, [k for k, on in zip(codes, occurs, strict=True)
                                             if on])
    rows = np.searchsorted(aj.time, np.asarray(times, dtype=float) + 1.0, side="right")
    f_t = aj.incidence[:, rows - 1]
    variance = _aj_variance(aj, rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (f_t > 0) & (f_t < 1) & np.isfinite(variance) & (variance >= 0)
        se = np.sqrt(variance) / (f_t * np.abs(np.log(f_t)))  # delta method, log(-log F)
        centre = np.log(-np.log(f_t))
        a, b = np.exp(-np.exp(centre + Z_95 * se)), np.exp(-np.exp(centre - Z_95 * se))
    f_at[occurs] = f_t
    lower[occurs] = np.where(ok, np.minimum(a, b), np.nan)
    upper[occurs] = np.where(ok, np.maximum(a, b), np.nan)
    return f_at, lower, upper


def cumulative_incidence(
    durations: Sequence[float], causes: Sequence[int], times: Sequence[float],
    cause_names: dict[str, int] | None = None,
) -> pl.DataFrame:
    """Aalen-Johansen cumulative incidence of each cause at each time (days), with 95 % CI
    (lifelines' AalenJohansenFitter estimate and variance, at the requested times only).
    `causes`: 0 = censored, else the cause code (see CAUSES)."""
    names = cause_names or CAUSES
    t = np.asarray(times, dtype=float)
    f, lo, hi = _cumulative_incidence(np.asarray(durations, dtype=float),
                                      np.asarray(causes, dtype=int), t, list(names.values()))
    return _frame({"cause": np.repeat(list(names), len(t)), "time_days": np.tile(t, len(names)),
                   "cumulative_incidence": f.ravel(), "ci_lower": lo.ravel(),
                   "ci_upper": hi.ravel()}, _CIF_SCHEMA)


_CIF_SCHEMA = {"cause": pl.String, "time_days": pl.Float64, "cumulative_incidence": pl.Float64,
               "ci_lower": pl.Float64, "ci_upper": pl.Float64}


# ---- tenancies and strata -----------------------------------------------------------------------


def first_tenancies(tenancies: pl.DataFrame) -> pl.DataFrame:
    """The tenancy from each person's first move-in, without tenancies the definition excludes
    (hud_spm drops deaths from the denominator)."""
    return tenancies.filter((pl.col("tenancy_seq") == 1) & (pl.col("event_type") != "excluded"))


def cause_codes(tenancies: pl.DataFrame) -> pl.Series:
    """0 censored, 1 loss, 2 death, 3 long stay (competing events by their code)."""
    return tenancies.select(
        pl.when(pl.col("event_type") == "loss").then(CAUSES["loss"])
        .when((pl.col("event_type") == "competing") & (pl.col("event_code") == "death"))
        .then(CAUSES["death"])
        .when(pl.col("event_type") == "competing").then(CAUSES["long_stay"])
        .otherwise(0).alias("cause")
    ).to_series()


def stratum_index(frame: pl.DataFrame, by: Sequence[str]) -> list[tuple[str, str, np.ndarray]]:
    """(stratum variable, value, positions of its rows in `frame`) for 'all' and each variable
    in `by`; values sorted, missing values as 'unknown'. One sort per variable, however many
    values it has."""
    out = []
    for var in by:
        if var not in STRATUM_COLUMNS:
            raise ValueError(f"unknown stratum {var!r}; known: {', '.join(STRATUM_COLUMNS)}")
        col = STRATUM_COLUMNS[var]
        if col is None:
            out.append(("all", "all", np.arange(frame.height)))
            continue
        ordered = pl.DataFrame({
            "value": frame.get_column(col).cast(pl.String).fill_null("unknown"),
        }).with_row_index("row").sort("value", "row")
        runs = ordered.get_column("value").rle()
        bounds = np.cumsum(runs.struct.field("len").to_numpy())[:-1]
        rows = dict(zip(runs.struct.field("value").to_list(),
                        np.split(ordered.get_column("row").to_numpy(), bounds), strict=True))
        out += [(var, value, rows[value]) for value in sorted(rows)]
    return out


def strata(tenancies: pl.DataFrame, by: Sequence[str]) -> list[tuple[str, str, pl.DataFrame]]:
    """(stratum variable, value, rows) for 'all' and each variable in `by`, values sorted."""
    return [(var, value, tenancies if var == "all" else tenancies[rows])
            for var, value, rows in stratum_index(tenancies, by)]


def table_by_stratum(
    frame: pl.DataFrame, by: Sequence[str], columns: Sequence[str],
    estimate: Callable[[dict[str, np.ndarray]], dict[str, Any]], schema: dict[str, Any],
) -> pl.DataFrame:
    """One block of rows per arm and stratum (arms and values sorted, as `strata`): `estimate`
    gets the stratum's values of `columns` as numpy arrays and returns equal-length columns;
    arm, stratum_variable and stratum_value are added. `schema` lists every output column in
    order; NaN in its float columns becomes missing."""
    keys: dict[str, list[str]] = {"arm": [], "stratum_variable": [], "stratum_value": []}
    blocks: dict[str, list[Any]] = {c: [] for c in schema if c not in keys}
    for arm in sorted(frame.get_column("arm").unique().to_list()):
        rows = frame.filter(pl.col("arm") == arm)
        arrays = {c: rows.get_column(c).to_numpy() for c in columns}
        for var, value, index in stratum_index(rows, by):
            block = estimate({c: a[index] for c, a in arrays.items()})
            size = len(next(iter(block.values())))
            for key, v in zip(keys, (arm, var, value), strict=True):
                keys[key] += [v] * size
            for c, values in blocks.items():
                values.append(np.asarray(block[c]))
    data = {**keys, **{c: np.concatenate(v) if v else [] for c, v in blocks.items()}}
    return _frame(data, schema)


def _loss_columns(tenancies: pl.DataFrame) -> pl.DataFrame:
    """First tenancies with float days and loss as a boolean, as the estimates take them."""
    return first_tenancies(tenancies).with_columns(
        pl.col("duration_days").cast(pl.Float64).alias("_days"),
        (pl.col("event_type") == "loss").fill_null(False).alias("_loss"),
    )


def retention_by_stratum(
    tenancies: pl.DataFrame, by: Sequence[str], months: Sequence[float],
    days_per_month: float = DAYS_PER_MONTH,
) -> pl.DataFrame:
    """S(t) with 95 % CI, n at risk and losses at each month, for each arm and stratum, from
    first tenancies (mart_tenancies rows). One row per arm, stratum and month."""
    times = np.asarray(months_to_days(months, days_per_month))
    month_values = np.asarray([float(m) for m in months])

    def estimate(rows: dict[str, np.ndarray]) -> dict[str, Any]:
        est = _survival_at(rows["_days"], rows["_loss"], times)
        return {**est, "months": month_values,
                "n_people": np.full(len(times), len(rows["_days"]), dtype=np.int64)}

    return table_by_stratum(_loss_columns(tenancies), by, ["_days", "_loss"], estimate,
                            _RETENTION_SCHEMA)


_RETENTION_SCHEMA = {
    "arm": pl.String, "stratum_variable": pl.String, "stratum_value": pl.String,
    "months": pl.Float64, "time_days": pl.Float64, "n_people": pl.Int64, "n_at_risk": pl.Int64,
    "n_events": pl.Int64, "survival": pl.Float64, "ci_lower": pl.Float64, "ci_upper": pl.Float64,
}


def km_grid_by_stratum(
    tenancies: pl.DataFrame, by: Sequence[str], step_days: float, min_at_risk: int = 0
) -> pl.DataFrame:
    """`km_grid` of first tenancies for each arm and stratum, with the grid point as a whole
    number of steps (`months` when the step is a month)."""

    def estimate(rows: dict[str, np.ndarray]) -> dict[str, Any]:
        return _km_grid(rows["_days"], rows["_loss"], step_days, min_at_risk)

    table = table_by_stratum(_loss_columns(tenancies), by, ["_days", "_loss"], estimate, {
        "arm": pl.String, "stratum_variable": pl.String, "stratum_value": pl.String,
        **_SURVIVAL_SCHEMA})
    return table.select(
        "arm", "stratum_variable", "stratum_value",
        (pl.col("time_days") / step_days).round(0).cast(pl.Int32).alias("months"),
        "time_days", "n_at_risk", "survival", "ci_lower", "ci_upper")


def cumulative_incidence_by_stratum(
    tenancies: pl.DataFrame, by: Sequence[str], months: Sequence[float],
    days_per_month: float = DAYS_PER_MONTH,
) -> pl.DataFrame:
    """`cumulative_incidence` of each cause (CAUSES) at each month, with number of people and
    number at risk, for each arm and stratum, from first tenancies. One row per arm, stratum,
    cause and month."""
    times = np.asarray(months_to_days(months, days_per_month))
    month_values = np.asarray([float(m) for m in months])
    k = len(CAUSES)
    first = _loss_columns(tenancies)
    first = first.with_columns(cause_codes(first).alias("_cause"))

    def estimate(rows: dict[str, np.ndarray]) -> dict[str, Any]:
        d = rows["_days"]
        f, lo, hi = _cumulative_incidence(d, rows["_cause"], times, list(CAUSES.values()))
        at_risk = len(d) - np.searchsorted(np.sort(d), times, side="left")
        return {"cause": np.repeat(list(CAUSES), len(times)), "months": np.tile(month_values, k),
                "time_days": np.tile(times, k), "n_people": np.full(k * len(times), len(d)),
                "n_at_risk": np.tile(at_risk, k), "cumulative_incidence": f.ravel(),
                "ci_lower": lo.ravel(), "ci_upper": hi.ravel()}

    return table_by_stratum(first, by, ["_days", "_cause"], estimate, {
        "arm": pl.String, "stratum_variable": pl.String, "stratum_value": pl.String,
        "cause": pl.String, "months": pl.Float64, "time_days": pl.Float64, "n_people": pl.Int64,
        "n_at_risk": pl.Int64, **{c: pl.Float64 for c in _CIF_SCHEMA if c not in (
            "cause", "time_days")}})


# ---- tests and models ---------------------------------------------------------------------------


def logrank(tenancies: pl.DataFrame, by: str) -> dict[str, float]:
    """Log-rank test of equal tenancy survival across the values of one stratum variable
    (first tenancies; losses are events). Returns statistic, degrees of freedom and p."""
    first = first_tenancies(tenancies)
    col = STRATUM_COLUMNS[by]
    groups = first.get_column(col).cast(pl.String).fill_null("unknown").to_numpy()
    res = multivariate_logrank_test(
        first["duration_days"].to_numpy(), groups, (first["event_type"] == "loss").to_numpy()
    )
    return {"statistic": float(res.test_statistic), "df": int(res.degrees_of_freedom),
            "p_value": float(res.p_value)}


COX_COVARIATES = ("age_at_enrolment_years", "sex", "substance_use", "mental_illness_severity")


def cox_model(
    tenancies: pl.DataFrame, covariates: Sequence[str] = COX_COVARIATES, penalizer: float = 0.0
) -> pd.DataFrame:
    """Cox proportional hazards for loss of the first tenancy (competing events censored), for
    researchers: categorical covariates become indicator columns against their most common
    value. Returns lifelines' summary (coef, exp(coef) = hazard ratio, 95 % CI, p)."""
    first = first_tenancies(tenancies).to_pandas()
    data = pd.DataFrame({"duration": first["duration_days"].astype(float),
                         "event": (first["event_type"] == "loss").astype(int)})
    for cov in covariates:
        col = first[cov]
        if pd.api.types.is_numeric_dtype(col):
            data[cov] = col.astype(float)
            continue
        reference = col.value_counts().idxmax()
        dummies = pd.get_dummies(col, prefix=cov, dtype=float)
        data = data.join(dummies.drop(columns=f"{cov}_{reference}"))
    # A category with no variation or no events cannot be estimated: drop it.
    keep = [c for c in data.columns[2:] if data[c].nunique() > 1]
    cph = CoxPHFitter(penalizer=penalizer)
    cph.fit(data[["duration", "event", *keep]], duration_col="duration", event_col="event")
    return cph.summary
