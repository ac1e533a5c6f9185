"""Tenancy survival: Kaplan-Meier, cumulative incidence by cause, log-rank, Cox.

Conventions, stated once:
- Time is in days from move-in; months are turned into days with `days_per_month` (default
  30.4375 = 365.25 / 12), so "12 months" is 365.25 days and S(12 months) is the estimate after
  every loss on day 365 or earlier.
- Kaplan-Meier (lifelines `KaplanMeierFitter`): 95 % confidence intervals by the exponential
  Greenwood formula (Greenwood's variance on the log(-log S) scale, "log-log" in R), which keeps
  them inside [0, 1]. Only losses are events; competing events and censoring end follow-up. So
  S(t) is retention *had no one died or gone into a long stay*; the cumulative incidence by cause
  (Aalen-Johansen) beside it gives the probability of each way a tenancy ends.
- Aalen-Johansen (lifelines `AalenJohansenFitter`): cumulative incidence of loss, death and
  long stays; 95 % CI from lifelines' Greenwood-type variance on the log(-log) scale (Collett
  2003, p. 411), evaluated here only at the times asked for (see `cumulative_incidence`).
- Number at risk at t: tenancies still followed at t (duration >= t), as in lifelines.
- S(t) is not estimable beyond the last follow-up (no one at risk): reported as missing. While
  S(t) = 1 (no loss yet) the log-log interval is undefined; lifelines reports [1, 1], which
  would claim certainty, so the interval is reported as missing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import polars as pl
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import inv_normal_cdf, median_survival_times

DAYS_PER_MONTH = 30.4375
KM_CI_METHOD = "exponential Greenwood (log-log), lifelines KaplanMeierFitter"
AJ_CI_METHOD = "Greenwood-type variance on the log(-log) scale, lifelines AalenJohansenFitter"

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

# Causes for cumulative incidence, as integer codes for lifelines (0 = censored).
CAUSES = {"loss": 1, "death": 2, "long_stay": 3}


def months_to_days(months: Sequence[float], days_per_month: float = DAYS_PER_MONTH) -> list[float]:
    return [float(m) * days_per_month for m in months]


def fit_km(durations: Sequence[float], events: Sequence[bool], label: str = "S") -> KaplanMeierFitter:
    """Kaplan-Meier with 95 % exponential-Greenwood confidence intervals."""
    return KaplanMeierFitter(alpha=0.05).fit(
        np.asarray(durations, dtype=float), np.asarray(events, dtype=bool), label=label
    )


def survival_at(
    durations: Sequence[float], events: Sequence[bool], times: Sequence[float]
) -> pl.DataFrame:
    """S(t) with 95 % CI, number at risk and cumulative events at each time (days)."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    t = np.asarray(times, dtype=float)
    order = np.sort(d)
    at_risk = len(d) - np.searchsorted(order, t, side="left")  # duration >= t
    n_events = np.searchsorted(np.sort(d[e]), t, side="right")  # losses on or before t
    s = lo = hi = np.full(len(t), np.nan)
    if len(d):
        kmf = fit_km(d, e)
        # The step in force at t: the last estimate at a time <= t (the first is time 0).
        pos = np.searchsorted(kmf.survival_function_.index.to_numpy(), t, side="right") - 1
        s = kmf.survival_function_.to_numpy()[pos, 0]
        ci = kmf.confidence_interval_survival_function_.to_numpy()[pos]
        lo, hi = ci[:, 0], ci[:, 1]
        # Beyond the last follow-up (no one at risk, curve not at 0): not estimable.
        unknown = (at_risk == 0) & (s > 0)
        s, lo, hi = (np.where(unknown, np.nan, x) for x in (s, lo, hi))
        # Before the first loss S = 1 and the log-log interval is undefined (lifelines shows
        # [1, 1], which would claim certainty): no interval. Likewise once S = 0.
        lo, hi = (np.where((s >= 1) | (s <= 0), np.nan, x) for x in (lo, hi))
    return pl.DataFrame({
        "time_days": t, "survival": s, "ci_lower": lo, "ci_upper": hi,
        "n_at_risk": at_risk.astype(np.int64), "n_events": n_events.astype(np.int64),
    }, schema={"time_days": pl.Float64, "survival": pl.Float64, "ci_lower": pl.Float64,
               "ci_upper": pl.Float64, "n_at_risk": pl.Int64, "n_events": pl.Int64},
    ).with_columns(pl.col("survival", "ci_lower", "ci_upper").fill_nan(None))


def km_curve(
    durations: Sequence[float], events: Sequence[bool], *, min_at_risk: int = 0
) -> pl.DataFrame:
    """The Kaplan-Meier step curve at every event time (and 0), with 95 % CI and number at
    risk; cut before the first time at which min_at_risk or fewer are at risk."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if not len(d):
        return survival_at(d, e, [])
    times = np.unique(np.concatenate([[0.0], d[e]]))
    curve = survival_at(d, e, times.tolist())
    return curve.filter(pl.col("n_at_risk").cum_min() > min_at_risk)


def km_grid(
    durations: Sequence[float], events: Sequence[bool], *, step_days: float,
    min_at_risk: int = 0,
) -> pl.DataFrame:
    """S(t) on a regular grid (e.g. every month) up to the longest follow-up, cut before the
    first grid point with min_at_risk or fewer at risk. A grid hides the exact days of
    individual losses, which a step curve at event times would publish."""
    d = np.asarray(durations, dtype=float)
    if not len(d):
        return survival_at(d, events, [])
    grid = np.arange(0.0, float(d.max()) + step_days, step_days)
    curve = survival_at(d, events, grid.tolist())
    return curve.filter(pl.col("n_at_risk").cum_min() > min_at_risk)


def median_survival(durations: Sequence[float], events: Sequence[bool]) -> tuple[
    float | None, float | None, float | None
]:
    """Median time (days) with its 95 % CI from the KM confidence band; None where not reached."""
    if not len(durations):
        return None, None, None
    return median_of(fit_km(durations, events))


def median_of(kmf: KaplanMeierFitter) -> tuple[float | None, float | None, float | None]:
    """Median and 95 % CI of a fitted KM: where S and its CI bounds first fall to 0.5."""

    def finite(x: float) -> float | None:
        return None if x is None or not np.isfinite(x) else float(x)

    ci = median_survival_times(kmf.confidence_interval_)
    return (finite(kmf.median_survival_time_), finite(ci.iloc[0, 0]), finite(ci.iloc[0, 1]))


def _untie(durations: np.ndarray, causes: np.ndarray) -> np.ndarray:
    """Break ties between different causes on the same day deterministically (cause k moved
    k microdays earlier), so lifelines' Aalen-Johansen does not jitter at random. Events that
    share a day keep the same risk set, so the estimate equals the tied-data formula; censoring
    on that day still comes after them, as in Kaplan-Meier."""
    return durations - np.where(causes > 0, causes * 1e-6, 0.0)


def cumulative_incidence(
    durations: Sequence[float], causes: Sequence[int], times: Sequence[float],
    cause_names: dict[str, int] | None = None,
) -> pl.DataFrame:
    """Aalen-Johansen cumulative incidence of each cause at each time (days), with 95 % CI.
    `causes`: 0 = censored, else the cause code (see CAUSES). The estimate is lifelines'
    AalenJohansenFitter; its confidence interval is lifelines' formula evaluated at the
    requested times only (`_aj_interval`), because lifelines evaluates it at every event time
    with a row-by-row loop that takes minutes at national scale."""
    names = cause_names or CAUSES
    d = np.asarray(durations, dtype=float)
    c = np.asarray(causes, dtype=int)
    rows = []
    for name, code in names.items():
        if not len(d) or not (c == code).any():
            rows += [(name, float(t), 0.0 if len(d) else None, None, None) for t in times]
            continue
        # lifelines sets the incidence at its first time to 0, which drops events on day 0 (a
        # loss on the day of move-in): fit on days + 1 and read at t + 1.
        ajf = AalenJohansenFitter(calculate_variance=False).fit(
            _untie(d, c) + 1.0, c, event_of_interest=code
        )
        for t in times:
            value, lo, hi = _aj_interval(ajf, t + 1.0)
            rows.append((name, float(t), value, lo, hi))
    return pl.DataFrame(
        rows,
        schema={"cause": pl.String, "time_days": pl.Float64, "cumulative_incidence": pl.Float64,
                "ci_lower": pl.Float64, "ci_upper": pl.Float64},
        orient="row",
    )


def _aj_interval(ajf: AalenJohansenFitter, t: float) -> tuple[float, float | None, float | None]:
    """F(t) and its 95 % CI exactly as lifelines' AalenJohansenFitter._bounds computes them
    (Greenwood-type variance, delta method on log(-log F)), at one time."""
    table = ajf.event_table
    rows = table.loc[table.index <= t]
    f = ajf.cumulative_density_.iloc[:, 0].loc[rows.index].to_numpy()
    f_t = float(f[-1])
    if f_t <= 0 or f_t >= 1:
        return f_t, None, None
    n = rows["at_risk"].to_numpy(dtype=float)
    d_all = rows["observed"].to_numpy(dtype=float)
    d_k = rows[ajf.label_cmprisk].to_numpy(dtype=float)
    full = table["at_risk"].to_numpy(dtype=float), table["observed"].to_numpy(dtype=float)
    lag_s = np.concatenate([[1.0], np.cumprod(1 - full[1] / full[0])[:-1]])[: len(rows)]
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.nansum((f_t - f) ** 2 * d_all / n / (n - d_all))
        second = np.sum(lag_s**2 / n * d_k / n * (n - d_k) / n)
        third = np.sum((f_t - f) / n * lag_s * d_k / n)
    variance = first + second - 2 * third
    if not np.isfinite(variance) or variance < 0:
        return f_t, None, None
    z = inv_normal_cdf(0.975)
    se = np.sqrt(variance) / (f_t * abs(np.log(f_t)))
    centre = np.log(-np.log(f_t))
    a, b = np.exp(-np.exp(centre + z * se)), np.exp(-np.exp(centre - z * se))
    return f_t, float(min(a, b)), float(max(a, b))


# ---- tenancies ----------------------------------------------------------------------------------


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


def strata(tenancies: pl.DataFrame, by: Sequence[str]) -> list[tuple[str, str, pl.DataFrame]]:
    """(stratum variable, value, rows) for 'all' and each variable in `by`, values sorted."""
    out = []
    for var in by:
        if var not in STRATUM_COLUMNS:
            raise ValueError(f"unknown stratum {var!r}; known: {', '.join(STRATUM_COLUMNS)}")
        col = STRATUM_COLUMNS[var]
        if col is None:
            out.append(("all", "all", tenancies))
            continue
        values = tenancies.get_column(col).cast(pl.String).fill_null("unknown")
        frame = tenancies.with_columns(values.alias("_stratum"))
        for value in sorted(frame.get_column("_stratum").unique().to_list()):
            out.append((var, value, frame.filter(pl.col("_stratum") == value).drop("_stratum")))
    return out


def retention_by_stratum(
    tenancies: pl.DataFrame, by: Sequence[str], months: Sequence[float],
    days_per_month: float = DAYS_PER_MONTH,
) -> pl.DataFrame:
    """S(t) with 95 % CI, n at risk and losses at each month, for each arm and stratum, from
    first tenancies (mart_tenancies rows). One row per arm, stratum and month."""
    first = first_tenancies(tenancies)
    times = months_to_days(months, days_per_month)
    parts = []
    for arm in sorted(first.get_column("arm").unique().to_list()):
        for var, value, rows in strata(first.filter(pl.col("arm") == arm), by):
            est = survival_at(rows["duration_days"], rows["event_type"] == "loss", times)
            parts.append(est.with_columns(
                pl.lit(arm).alias("arm"), pl.lit(var).alias("stratum_variable"),
                pl.lit(value).alias("stratum_value"), pl.Series("months", list(months),
                                                                dtype=pl.Float64),
                pl.lit(rows.height, dtype=pl.Int64).alias("n_people"),
            ))
    columns = ["arm", "stratum_variable", "stratum_value", "months", "time_days", "n_people",
               "n_at_risk", "n_events", "survival", "ci_lower", "ci_upper"]
    if not parts:
        return pl.DataFrame(schema={c: _RETENTION_SCHEMA[c] for c in columns})
    return pl.concat(parts).select(columns)


_RETENTION_SCHEMA = {
    "arm": pl.String, "stratum_variable": pl.String, "stratum_value": pl.String,
    "months": pl.Float64, "time_days": pl.Float64, "n_people": pl.Int64, "n_at_risk": pl.Int64,
    "n_events": pl.Int64, "survival": pl.Float64, "ci_lower": pl.Float64, "ci_upper": pl.Float64,
}


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
