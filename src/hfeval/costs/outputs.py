"""Cost results: estimates with bootstrap CIs per stratum and design, the pipeline's Python
marts, and what the CLI prints.

Reading: `read_inputs(db)` takes anything with `.sql(query)` returning a DuckDB relation (a
connection to the warehouse, or the pipeline's `ModelInputs`) and reads the parameter-free
tables the SQL models built. People are placed in their publication unit (a municipality, or
an aggregate of small ones: hfeval.disclosure.publication_units), as mart_programme_costs is,
so every result "by municipality" is by unit. Everything parameterised (window, price year, currency,
discounting, bootstrap) happens here, so the CLI and notebooks can recompute with other
settings from the same warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import polars as pl

from hfeval import disclosure
from hfeval.costs import catalogue as cat
from hfeval.costs.bootstrap import bootstrap
from hfeval.costs.designs import (
    DESIGNS,
    OBSERVATION_NOTE,
    PREPOST_CAVEAT,
    CostSettings,
    cost_people,
    layout_for,
    make_statistic,
    person_matrix,
)
from hfeval.costs.prices import LOCAL, PriceError, PriceTables
from hfeval.costs.programme import (
    break_even_participants,
    programme_cost_per_participant_year,
    real_programme_costs,
)

BY = {"municipality": ["country", "municipality_code", "municipality_name"],
      "country": ["country"], "all": []}
INPUT_TABLES = ("int_cost_observation", "int_service_use_priced", "mart_programme_costs",
                "stg_cpi", "stg_exchange_rates", "int_publication_units")


@dataclass(frozen=True)
class CostingInputs:
    observation: pl.DataFrame
    priced_events: pl.DataFrame
    programme_costs: pl.DataFrame
    tables: PriceTables


@dataclass(frozen=True)
class Costed:
    """People and their costs under one set of settings."""

    settings: CostSettings
    people: pl.DataFrame
    person_costs: pl.DataFrame
    programme: pl.DataFrame  # per municipality (programme.py)
    programme_years: pl.DataFrame  # per municipality and year, real


def read_inputs(db: Any) -> CostingInputs:
    def read(table: str) -> pl.DataFrame:
        return db.sql(f"select * from {table}").pl()

    observation = read("int_cost_observation")
    try:
        observation = disclosure.to_units(observation, read("int_publication_units"))
    except duckdb.CatalogException:
        pass  # a warehouse built before publication units: every municipality stands alone
    return CostingInputs(
        observation=observation,
        priced_events=read("int_service_use_priced"),
        programme_costs=read("mart_programme_costs"),
        tables=PriceTables.from_frames(read("stg_cpi"), read("stg_exchange_rates")),
    )


def cost(inputs: CostingInputs, settings: CostSettings) -> Costed:
    real = real_programme_costs(inputs.programme_costs, inputs.tables, settings)
    per_py = programme_cost_per_participant_year(real)
    people, person_costs = cost_people(inputs.observation, inputs.priced_events, inputs.tables,
                                       settings, per_py)
    return Costed(settings, people, person_costs, per_py, real)


# ---- estimates -------------------------------------------------------------------------------


def _strata(people: pl.DataFrame, by: str, settings: CostSettings) -> list[tuple[dict, pl.DataFrame]]:
    if by not in BY:
        raise ValueError(f"--by must be one of {', '.join(BY)}, got {by!r}")
    keys = BY[by]
    # Sorted so resamples (and so intervals) do not depend on the order rows arrive in.
    included = people.filter(pl.col("included")).sort("participant_id")
    if not keys:
        if settings.currency == LOCAL and included["country"].n_unique() > 1:
            raise PriceError("pooling Norway and Denmark needs one currency: set "
                             "costs.currency (--currency) to NOK, DKK or EUR")
        return [({}, included)]
    out = []
    for key, group in included.group_by(keys, maintain_order=True):
        out.append((dict(zip(keys, key, strict=True)), group.sort("participant_id")))
    return sorted(out, key=lambda kv: tuple(str(v) for v in kv[0].values()))


def estimate(costed: Costed, *, design: str, by: str = "municipality") -> pl.DataFrame:
    """Long table: one row per stratum x statistic, with estimate and both bootstrap CIs.

    Measures: offset (costs avoided per participant-year; total, by payer, by service),
    programme_cost, net_saving (total and by payer: offsets minus the programme's cost to the
    municipality), saved_per_10_spent, offset_undiscounted, pre/post cost rates, and for DiD
    the offset of each arm. Positive offset / net saving = money saved."""
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}, got {design!r}")
    s = costed.settings
    layout = layout_for(costed.person_costs)
    statistic = make_statistic(design, layout)
    names = layout.names(design)
    rows = []
    for key, group in _strata(costed.people, by, s):
        hf = group.filter(pl.col("arm") == "housing_first")
        comp = group.filter(pl.col("arm") == "comparison")
        note = None
        if hf.height == 0:
            note = "no Housing First participants observed after the anchor"
        elif design == "did" and comp.height == 0:
            note = "no comparison arm: difference-in-differences not possible"
        base = {**key, "design": design, "n_participants_hf": hf.height,
                "n_participants_comparison": comp.height if design == "did" else None,
                "person_years_hf": float(hf["post_years"].sum()),
                "person_years_comparison": float(comp["post_years"].sum())
                if design == "did" else None,
                "currency": _one(group["currency"]), "price_year": s.price_year,
                "window_months": s.window_months, "ci_method": s.ci_method,
                "n_resamples": s.n_resamples, "seed": s.seed, "level": s.level, "note": note}
        if note:
            rows.append({**base, "measure": "offset", "breakdown": "total", "category": "all",
                         "estimate": None, "ci_low": None, "ci_high": None,
                         "percentile_low": None, "percentile_high": None,
                         "bca_low": None, "bca_high": None})
            continue
        samples = [person_matrix(hf, costed.person_costs, layout)]
        if design == "did":
            samples.append(person_matrix(comp, costed.person_costs, layout))
        res = bootstrap(samples, statistic, n_resamples=s.n_resamples, seed=s.seed,
                        level=s.level)
        ci = res.bca if s.ci_method == "bca" else res.percentile
        for i, (measure, breakdown, category) in enumerate(names):
            rows.append({**base, "measure": measure, "breakdown": breakdown,
                         "category": category, "estimate": _f(res.estimate[i]),
                         "ci_low": _f(ci[i, 0]), "ci_high": _f(ci[i, 1]),
                         "percentile_low": _f(res.percentile[i, 0]),
                         "percentile_high": _f(res.percentile[i, 1]),
                         "bca_low": _f(res.bca[i, 0]), "bca_high": _f(res.bca[i, 1])})
    out = pl.DataFrame(rows, infer_schema_length=None)
    return _with_break_even(out, costed)


def _f(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _one(values: pl.Series) -> str:
    u = values.unique().to_list()
    return u[0] if len(u) == 1 else "mixed"


def _with_break_even(est: pl.DataFrame, costed: Costed) -> pl.DataFrame:
    """Break-even participants per municipality: the team's fixed cost a year over
    (undiscounted costs avoided - variable programme cost) per participant-year; its interval
    maps the offset's interval (a monotone transformation)."""
    if "municipality_code" not in est.columns or costed.programme.height == 0:
        return est
    prog = {r["municipality_code"]: r for r in costed.programme.iter_rows(named=True)}
    extra = []
    offsets = est.filter(pl.col("measure") == "offset_undiscounted")
    for r in offsets.iter_rows(named=True):
        p = prog.get(r["municipality_code"])
        if p is None or r["estimate"] is None:
            continue
        f, v = p["fixed_cost_per_year"], p["variable_cost_per_py"]
        n = break_even_participants(f, r["estimate"], v)
        lo = break_even_participants(f, r["ci_high"], v) if r["ci_high"] is not None else None
        hi = break_even_participants(f, r["ci_low"], v) if r["ci_low"] is not None else None
        extra.append({**r, "measure": "break_even_participants", "estimate": n,
                      "ci_low": lo, "ci_high": hi, "percentile_low": None,
                      "percentile_high": None, "bca_low": None, "bca_high": None})
    if not extra:
        return est
    return pl.concat([est, pl.DataFrame(extra, schema=est.schema)], how="vertical")


# ---- pipeline marts (Python models; see pipelines/pipeline.yaml) -------------------------------


def _costed_from(inputs: Any, params: dict[str, Any]) -> Costed:
    return cost(read_inputs(inputs), CostSettings.from_params(params))


def mart_costs_by_person_period(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Person-level: one row per participant, period (pre/post), service, unit and payer, with
    events, quantity and cost (real, discounted after the anchor); plus one `observation` row
    per participant with person-time, so people without service use are kept."""
    c = _costed_from(inputs, params)
    people = c.people.select(
        "participant_id", "country", "municipality_code", "arm", "anchor_kind", "anchor_date",
        "window_months", "pre_years", "post_years", "post_discounted_years",
        "full_post_observation", "included", "exclusion_reason", "programme_cost_per_py",
        "currency", "price_year")
    costs = c.person_costs.join(people.select("participant_id", "country",
                                              "municipality_code", "arm", "currency",
                                              "price_year"), on="participant_id")
    return pl.concat([people.with_columns(pl.lit("observation").alias("period")), costs],
                     how="diagonal_relaxed").sort("participant_id", "period", "service",
                                                  nulls_last=True)


def _published(inputs: Any, params: dict[str, Any], breakdown: set[str], measures: set[str]
               ) -> pl.DataFrame:
    c = _costed_from(inputs, params)
    frames = [estimate(c, design=d, by="municipality") for d in DESIGNS]
    out = pl.concat(frames, how="diagonal_relaxed").filter(
        pl.col("breakdown").is_in(list(breakdown)) & pl.col("measure").is_in(list(measures)))
    return out.with_columns(
        pl.when(pl.col("design") == "prepost").then(pl.lit(PREPOST_CAVEAT))
        .otherwise(None).alias("caveat"),
        pl.lit(OBSERVATION_NOTE).alias("method_note"),
    )


def mart_costs_by_payer(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Publishable: costs avoided, programme cost and net saving per participant-year by payer
    sector ("who pays, who saves"), per municipality and design, with 95 % CIs."""
    return _published(inputs, params, {"total", "payer_sector"},
                      {"offset", "programme_cost", "net_saving"})


def mart_costs_by_service(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Publishable: costs avoided per participant-year by service, per municipality and design."""
    return _published(inputs, params, {"total", "service"}, {"offset"})


def mart_costs_net(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Publishable: the headline per municipality and design: costs avoided, programme cost,
    net saving, saved per 10 spent, break-even participants, cost rates before and after."""
    return _published(inputs, params, {"total"}, {
        "offset", "programme_cost", "net_saving", "saved_per_10_spent",
        "break_even_participants", "pre_cost_rate", "post_cost_rate",
        "offset_housing_first", "offset_comparison"})


def mart_cost_sensitivity(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Publishable: one-way sensitivity (tornado data) of the net saving per participant-year,
    per municipality and design."""
    from hfeval.costs.sensitivity import tornado

    data = read_inputs(inputs)
    settings = CostSettings.from_params(params)
    return pl.concat([tornado(data, settings, design=d, by="municipality", params=params)
                      for d in DESIGNS], how="diagonal_relaxed")


# ---- what the CLI prints ---------------------------------------------------------------------


ARM_COUNTS = ("n_participants_hf", "n_participants_comparison")
ESTIMATE_RULE = disclosure.DisclosureRule(
    counts=ARM_COUNTS,
    derived={c: ARM_COUNTS for c in (
        "person_years_hf", "person_years_comparison", "estimate", "ci_low", "ci_high",
        "percentile_low", "percentile_high", "bca_low", "bca_high")},
)


def suppress_small(est: pl.DataFrame, threshold: int, rounding_base: int = 5) -> pl.DataFrame:
    """Disclosure-control estimates as the publish step does (the numbers of strata with
    `threshold` people or fewer in an arm used are blanked, the people counted are rounded);
    `suppressed` is true where the estimate is."""
    out, _ = disclosure.protect(est, ESTIMATE_RULE, threshold=threshold,
                                rounding_base=rounding_base)
    return out.with_columns(pl.col("estimate_suppressed").alias("suppressed"))


def _n(v: int | None) -> str:
    return "suppressed" if v is None else str(v)


def format_money(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _pick(g: pl.DataFrame, measure: str, breakdown: str = "total", category: str = "all"
          ) -> dict | None:
    sel = g.filter((pl.col("measure") == measure) & (pl.col("breakdown") == breakdown)
                   & (pl.col("category") == category))
    return sel.row(0, named=True) if sel.height else None


def _with_ci(r: dict | None) -> str:
    if r is None or r["estimate"] is None:
        return "not available"
    level = round(r["level"] * 100)
    method = "BCa" if r["ci_method"] == "bca" else "percentile"
    return (f"{format_money(r['estimate']):>12}  ({level} % {method} CI "
            f"{format_money(r['ci_low'])} to {format_money(r['ci_high'])})")


def result_lines(est: pl.DataFrame, *, threshold: int) -> list[str]:
    """Plain-text lines per stratum: net saving with CI, then by payer sector."""
    lines: list[str] = []
    keys = [k for k in ("country", "municipality_code", "municipality_name") if k in est.columns]
    for (design,), by_design in est.group_by(["design"], maintain_order=True):
        for _, g in by_design.group_by(keys or ["design"], maintain_order=True):
            first = g.row(0, named=True)
            where = " ".join(str(first[k]) for k in keys) or "all municipalities"
            # Protected tables (suppress_small) hold rounded counts.
            n = f"n {'≈' if 'suppressed' in est.columns else '='} "
            n += f"{_n(first['n_participants_hf'])} Housing First"
            if design == "did":
                n += f", {_n(first['n_participants_comparison'])} comparison"
            lines.append(f"{where} · {design} · {first['window_months']} months · "
                         f"{first['currency']} {first['price_year']} prices · {n}")
            if first["note"]:
                lines.append(f"  {first['note']}")
                continue
            if first.get("suppressed"):
                lines.append(f"  suppressed: {threshold} or fewer people in an arm "
                             "(disclosure control)")
                continue
            lines.append(f"  net saving per participant-year  {_with_ci(_pick(g, 'net_saving'))}")
            lines.append(f"    costs avoided (offsets)        {_with_ci(_pick(g, 'offset'))}")
            lines.append("    programme cost                 "
                         f"{_with_ci(_pick(g, 'programme_cost'))}")
            lines.append("    by payer sector (net):")
            for r in g.filter((pl.col("measure") == "net_saving")
                              & (pl.col("breakdown") == "payer_sector")).iter_rows(named=True):
                label = cat.payer_label(r["category"], first.get("country"))
                lines.append(f"      {label[:32]:<32} {_with_ci(r)}")
            if design == "prepost":
                lines.append(f"  ! {PREPOST_CAVEAT}")
    return lines
