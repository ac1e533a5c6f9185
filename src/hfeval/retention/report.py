"""`hfeval retention`: tenancy survival per stratum from the person-level warehouse, with
disclosure control on what is printed unless it is explicitly switched off (secure zone)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from hfeval import disclosure, export
from hfeval.config import get_paths
from hfeval.retention import survival
from hfeval.retention.definitions import RetentionDefinition, get_definition, resolve_definition
from hfeval.retention.tenancies import is_synthetic, load_tenancies, run_parameters
from hfeval.spec import load_spec

# Same protection as the published mart, from the pipeline spec (one rule, one place).
RULE_MODEL = "mart_retention_by_stratum"


@dataclass
class RetentionReport:
    definition: RetentionDefinition
    table: pl.DataFrame  # long: one row per arm, stratum and month
    by: str
    months: list[float]
    disclosure_control: bool
    threshold: int
    rounding_base: int
    synthetic: bool
    arm: str = "housing_first"
    days_per_month: float = survival.DAYS_PER_MONTH
    logrank: dict[str, float] | None = None
    notes: list[str] = field(default_factory=list)


def retention_report(
    by: str = "all",
    months: list[float] | None = None,
    definition: str | None = None,
    arm: str = "housing_first",
    disclosure_control: bool = True,
    warehouse: Path | None = None,
) -> RetentionReport:
    """Kaplan-Meier retention at `months` per value of `by`, for one arm (or 'all' arms)."""
    if by not in survival.STRATUM_COLUMNS:
        raise ValueError(f"--by must be one of {', '.join(survival.STRATUM_COLUMNS)}")
    params = run_parameters(warehouse)
    if definition:
        get_definition(definition)  # unknown names fail here, naming the known ones
        params["retention.definition"] = definition
    months = months or list(params["retention.report_months"])
    tenancies = load_tenancies(warehouse, params)
    if arm != "all":
        tenancies = tenancies.filter(pl.col("arm") == arm)
    table = survival.retention_by_stratum(
        tenancies, [by], months, float(params["retention.days_per_month"])
    ).drop("n_events")
    threshold = int(params["disclosure.threshold"])
    base = int(params["disclosure.rounding_base"])
    report = RetentionReport(
        definition=resolve_definition(params), table=table, by=by, months=months,
        disclosure_control=disclosure_control, threshold=threshold, rounding_base=base,
        synthetic=is_synthetic(warehouse), arm=arm,
        days_per_month=float(params["retention.days_per_month"]),
    )
    shown = tenancies
    if disclosure_control:
        rule = load_spec(get_paths().pipeline_spec).model(RULE_MODEL).disclosure
        report.table, _ = disclosure.protect(table, rule, threshold=threshold,
                                             rounding_base=base)
        if by != "all":
            small = table.filter(pl.col("n_people") <= threshold)["stratum_value"].unique()
            shown = _without(tenancies, by, small.to_list())
    # A test across strata of one arm (across arms it would mix the arm effect in).
    if by != "all" and (arm != "all" or by == "arm") and shown.height:
        groups = survival.first_tenancies(shown)[survival.STRATUM_COLUMNS[by]].n_unique()
        if groups > 1:
            report.logrank = survival.logrank(shown, by)
    return report


def _without(tenancies: pl.DataFrame, by: str, values: list[str]) -> pl.DataFrame:
    col = survival.STRATUM_COLUMNS[by]
    return tenancies.filter(~pl.col(col).cast(pl.String).fill_null("unknown").is_in(values))


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _months_label(m: float) -> str:
    return f"{m:g}"


def header_lines(report: RetentionReport) -> list[str]:
    lines = [
        f"Definition {report.definition.summary()}",
        f"Arm: {report.arm}.",
        (f"Tenancy survival S(t) from first move-in: Kaplan-Meier, 95 % CI by the "
         f"{survival.KM_CI_METHOD}; 1 month = {report.days_per_month:g} days; at risk = "
         "tenancies still followed at t."),
    ]
    if report.disclosure_control:
        lines.append(
            f"Disclosure control: strata and times with {report.threshold} or fewer people "
            f"(or at risk) suppressed; counts rounded to the nearest {report.rounding_base}."
        )
    if report.logrank:
        lr = report.logrank
        lines.append(f"Log-rank test across the {report.by} values shown: chi2 = "
                     f"{lr['statistic']:.2f}, df = {lr['df']}, p = {lr['p_value']:.3g}.")
    if report.synthetic:
        lines.append("SYNTHETIC DATA: results describe no real person.")
    return lines


def table_rows(report: RetentionReport) -> tuple[list[str], list[list[str]]]:
    """Wide table for the terminal: one row per (arm and) stratum, S(t) [CI] and n at risk per
    t. The arm column is left out when one arm is shown (it is named in the header)."""
    t = report.table
    with_arm = t["arm"].n_unique() > 1
    columns = (["arm"] if with_arm else []) + [
        report.by if report.by != "all" else "stratum", "people"]
    for m in report.months:
        columns += [f"S({_months_label(m)} mo)\n[95% CI]", f"at risk\n{_months_label(m)} mo"]
    rows = []
    keys = t.select("arm", "stratum_value").unique(maintain_order=True).rows()
    for arm, value in keys:
        part = t.filter((pl.col("arm") == arm) & (pl.col("stratum_value") == value))
        row = ([arm] if with_arm else []) + [value, _count(part.row(0, named=True), "n_people")]
        for rec in part.iter_rows(named=True):
            row += [_survival_cell(rec), _count(rec, "n_at_risk")]
        rows.append(row)
    return columns, rows


def _survival_cell(rec: dict[str, Any]) -> str:
    if rec.get("survival_suppressed"):
        return "suppressed"
    s = rec["survival"]
    if s is None:
        return "not estimable"
    if s >= 1:
        return "1.00 no loss"
    ci = "" if rec["ci_lower"] is None else f" [{_fmt(rec['ci_lower'])}-{_fmt(rec['ci_upper'])}]"
    return _fmt(s) + ci


def _count(rec: dict[str, Any], col: str) -> str:
    if rec.get(f"{col}_suppressed"):
        return "suppressed"
    return "-" if rec[col] is None else str(rec[col])


def to_csv(report: RetentionReport) -> str:
    # safe_csv: a stratum label or definition name can never run as a spreadsheet formula
    return export.safe_csv(report.table.with_columns(
        pl.lit(report.definition.name).alias("definition_name")
    ))


def to_json(report: RetentionReport) -> str:
    return json.dumps({
        "definition": report.definition.values(),
        "ci_method": survival.KM_CI_METHOD,
        "disclosure_control": report.disclosure_control,
        "disclosure_threshold": report.threshold if report.disclosure_control else None,
        "rounding_base": report.rounding_base if report.disclosure_control else None,
        "synthetic_data": report.synthetic,
        "logrank": report.logrank,
        "rows": report.table.to_dicts(),
    }, indent=2, default=str)
