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
    Layout,
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


# The columns of int_service_use_priced costing uses: the largest table, so only these are read.
EVENT_COLUMNS = ("participant_id", "country", "service", "unit", "payer_sector", "is_priced",
                 "start_date", "end_date", "start_days_from_anchor", "quantity",
                 "cost_catalogue", "unit_cost_currency", "unit_cost_price_year")


def read_inputs(db: Any) -> CostingInputs:
    def read(table: str, columns: tuple[str, ...] = ("*",)) -> pl.DataFrame:
        return db.sql(f"select {', '.join(columns)} from {table}").pl()

    observation = read("int_cost_observation")
    try:
        observation = disclosure.to_units(observation, read("int_publication_units"))
    except duckdb.CatalogException:
        pass  # a warehouse built before publication units: every municipality stands alone
    return CostingInputs(
        observation=observation,
        priced_events=read("int_service_use_priced", EVENT_COLUMNS),
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


@dataclass(frozen=True)
class Stratum:
    """One stratum's people as rows of a PersonMatrix, each arm in participant order."""

    key: dict[str, Any]
    hf: np.ndarray
    comparison: np.ndarray
    currency: str


@dataclass(frozen=True)
class PersonMatrix:
    """Every included person's row of costs and person-time (designs.person_matrix), built once
    and shared by the strata: building it per stratum would scan every cost row once for each
    of hundreds of municipalities, which grows with rows x strata at national scale."""

    layout: Layout
    x: np.ndarray
    strata: list[Stratum]

    def sums(self, rows: np.ndarray, columns_scale: np.ndarray | None = None) -> np.ndarray:
        s = self.x[rows].sum(axis=0)
        return s if columns_scale is None else s * columns_scale


def person_matrix_by_stratum(costed: Costed, by: str) -> PersonMatrix:
    if by not in BY:
        raise ValueError(f"--by must be one of {', '.join(BY)}, got {by!r}")
    keys = BY[by]
    # Sorted so resamples (and so intervals) do not depend on the order rows arrive in.
    included = costed.people.filter(pl.col("included")).sort("participant_id")
    if not keys and costed.settings.currency == LOCAL and included["country"].n_unique() > 1:
        raise PriceError("pooling Norway and Denmark needs one currency: set "
                         "costs.currency (--currency) to NOK, DKK or EUR")
    layout = layout_for(costed.person_costs)
    x = person_matrix(included, costed.person_costs, layout)
    arm = included["arm"].to_numpy()
    currency = included["currency"].to_numpy()
    if keys:
        groups = (included.with_row_index("_row").group_by(keys).agg(pl.col("_row"))
                  .iter_rows())
        members = [(dict(zip(keys, g[:-1], strict=True)), np.sort(np.asarray(g[-1], int)))
                   for g in groups]
    else:
        members = [({}, np.arange(included.height))]
    strata = []
    for key, rows in sorted(members, key=lambda kv: tuple(str(v) for v in kv[0].values())):
        cur = np.unique(currency[rows])
        strata.append(Stratum(key, rows[arm[rows] == "housing_first"],
                              rows[arm[rows] == "comparison"],
                              str(cur[0]) if len(cur) == 1 else "mixed"))
    return PersonMatrix(layout, x, strata)


def estimate(costed: Costed, *, design: str, by: str = "municipality") -> pl.DataFrame:
    """Long table: one row per stratum x statistic, with estimate and both bootstrap CIs.

    Measures: offset (costs avoided per participant-year; total, by payer, by service),
    programme_cost, net_saving (total and by payer: offsets minus the programme's cost to the
    municipality), saved_per_10_spent, offset_undiscounted, pre/post cost rates, and for DiD
    the offset of each arm. Positive offset / net saving = money saved."""
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}, got {design!r}")
    s = costed.settings
    pm = person_matrix_by_stratum(costed, by)
    statistic = make_statistic(design, pm.layout)
    names = pm.layout.names(design)
    rows = []
    for st in pm.strata:
        note = None
        if len(st.hf) == 0:
            note = "no Housing First participants observed after the anchor"
        elif design == "did" and len(st.comparison) == 0:
            note = "no comparison arm: difference-in-differences not possible"
        base = {**st.key, "design": design, "n_participants_hf": len(st.hf),
                "n_participants_comparison": len(st.comparison) if design == "did" else None,
                "person_years_hf": float(pm.x[st.hf, 1].sum()),
                "person_years_comparison": float(pm.x[st.comparison, 1].sum())
                if design == "did" else None,
                "currency": st.currency, "price_year": s.price_year,
                "window_months": s.window_months, "ci_method": s.ci_method,
                "n_resamples": s.n_resamples, "seed": s.seed, "level": s.level, "note": note}
        if note:
            rows.append({**base, "measure": "offset", "breakdown": "total", "category": "all",
                         "estimate": None, "ci_low": None, "ci_high": None,
                         "percentile_low": None, "percentile_high": None,
                         "bca_low": None, "bca_high": None})
            continue
        samples = [pm.x[st.hf]]
        if design == "did":
            samples.append(pm.x[st.comparison])
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


PERSON_COLUMNS = ("participant_id", "country", "municipality_code", "municipality_name", "arm",
                  "anchor_kind", "anchor_date", "window_months", "pre_years", "post_years",
                  "post_discounted_years", "full_post_observation", "included",
                  "exclusion_reason", "programme_cost_per_py", "currency", "price_year")
COST_COLUMNS = ("participant_id", "period", "service", "unit", "payer_sector", "is_priced",
                "n_events", "quantity", "cost", "cost_discounted")


def mart_costs_by_person_period(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Person-level: one row per participant, period (pre/post), service, unit and payer, with
    events, quantity and cost (real, discounted after the anchor); plus one `observation` row
    per participant with person-time, so people without service use are kept. The estimates
    are computed from it (`costed_from_person_period`), so people are costed once per run."""
    c = _costed_from(inputs, params)
    people = c.people.select(PERSON_COLUMNS)
    costs = c.person_costs.join(people.select("participant_id", "country",
                                              "municipality_code", "municipality_name", "arm",
                                              "currency", "price_year"), on="participant_id")
    return pl.concat([people.with_columns(pl.lit("observation").alias("period")), costs],
                     how="diagonal_relaxed").sort("participant_id", "period", "service",
                                                  nulls_last=True)


def costed_from_person_period(db: Any, params: dict[str, Any]) -> Costed:
    """The Costed that mart_costs_by_person_period was made from (same run, same settings),
    read back instead of costing every service event again."""
    settings = CostSettings.from_params(params)
    rows = db.sql("select * from mart_costs_by_person_period").pl()
    people = rows.filter(pl.col("period") == "observation").select(PERSON_COLUMNS)
    person_costs = rows.filter(pl.col("period") != "observation").select(COST_COLUMNS)
    tables = PriceTables.from_frames(db.sql("select * from stg_cpi").pl(),
                                     db.sql("select * from stg_exchange_rates").pl())
    real = real_programme_costs(db.sql("select * from mart_programme_costs").pl(), tables,
                                settings)
    return Costed(settings, people, person_costs, programme_cost_per_participant_year(real), real)


def int_cost_estimates(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Person-level (not disclosure-controlled): every estimate of `estimate` per publication
    unit and design, with both intervals. The published cost marts are slices of it, so the
    bootstrap runs once per run, not once per mart."""
    c = costed_from_person_period(inputs, params)
    out = pl.concat([estimate(c, design=d, by="municipality") for d in DESIGNS],
                    how="diagonal_relaxed")
    return out.with_columns(
        pl.when(pl.col("design") == "prepost").then(pl.lit(PREPOST_CAVEAT))
        .otherwise(None).alias("caveat"),
        pl.lit(OBSERVATION_NOTE).alias("method_note"),
    )


def _published(inputs: Any, breakdown: set[str], measures: set[str]) -> pl.DataFrame:
    return inputs.sql("select * from int_cost_estimates").pl().filter(
        pl.col("breakdown").is_in(list(breakdown)) & pl.col("measure").is_in(list(measures)))


def mart_costs_by_payer(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Publishable: costs avoided, programme cost and net saving per participant-year by payer
    sector ("who pays, who saves"), per municipality and design, with 95 % CIs."""
    return _published(inputs, {"total", "payer_sector"},
                      {"offset", "programme_cost", "net_saving"})


def mart_costs_by_service(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Publishable: costs avoided per participant-year by service, per municipality and design."""
    return _published(inputs, {"total", "service"}, {"offset"})


def mart_costs_net(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Publishable: the headline per municipality and design: costs avoided, programme cost,
    net saving, saved per 10 spent, break-even participants, cost rates before and after."""
    return _published(inputs, {"total"}, {
        "offset", "programme_cost", "net_saving", "saved_per_10_spent",
        "break_even_participants", "pre_cost_rate", "post_cost_rate",
        "offset_housing_first", "offset_comparison"})


def mart_cost_sensitivity(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Publishable: one-way sensitivity (tornado data) of the net saving per participant-year,
    per municipality and design."""
    from hfeval.costs.sensitivity import tornado

    return tornado(read_inputs(inputs), CostSettings.from_params(params), design=DESIGNS,
                   by="municipality", params=params,
                   base=costed_from_person_period(inputs, params))


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
