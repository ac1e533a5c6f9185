"""One-way sensitivity of the net saving per participant-year (tornado chart data).

Each variable is moved to a low and a high setting with everything else at its base value,
and the point estimate (no bootstrap) recomputed:

- the unit cost of each priced service, x (1 - p) and x (1 + p), p = costs.sensitivity.
  unit_cost_pct (only the cost avoided of that service changes);
- the programme cost, x (1 - p) and x (1 + p), p = costs.sensitivity.programme_cost_pct;
- the window, each length in costs.sensitivity.window_months;
- the discount rate of both countries, each rate in costs.sensitivity.discount_rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from hfeval.costs.designs import CostSettings, make_statistic
from hfeval.costs.outputs import (
    BY,
    Costed,
    CostingInputs,
    PersonMatrix,
    cost,
    person_matrix_by_stratum,
)

DEFAULTS = {"costs.sensitivity.unit_cost_pct": 0.25,
            "costs.sensitivity.programme_cost_pct": 0.25,
            "costs.sensitivity.window_months": [12, 24],
            "costs.sensitivity.discount_rates": [0.0, 0.06]}


def _service_scale(pm: PersonMatrix, service_scale: dict[str, float]) -> np.ndarray:
    """Multipliers of a person-matrix row that scale the cost columns of some services (the
    statistic is a function of column sums, so scaling the sums scales the unit cost)."""
    scale = np.ones(pm.layout.width)
    c = pm.layout.n_cells
    for j, (service, _payer) in enumerate(pm.layout.cells):
        scale[[4 + j, 4 + c + j, 4 + 2 * c + j]] = service_scale.get(service, 1.0)
    return scale


def point_estimates(costed: Costed, *, design: str, by: str,
                    service_scale: dict[str, float] | None = None,
                    programme_scale: float = 1.0,
                    matrix: PersonMatrix | None = None) -> dict[tuple, float]:
    """Net saving per participant-year per stratum (point estimate). Strata without people in
    an arm the design needs are left out. `matrix`: the costed people's matrix, if built."""
    pm = matrix if matrix is not None else person_matrix_by_stratum(costed, by)
    arms = ["hf", "comparison"] if design == "did" else ["hf"]
    strata = [st for st in pm.strata if all(len(getattr(st, a)) for a in arms)]
    if not strata:
        return {}
    scale = _service_scale(pm, service_scale) if service_scale else np.ones(pm.layout.width)
    # One (strata x columns) array of sums per arm: the statistic is evaluated for every
    # stratum at once.
    sums = [np.stack([pm.x[getattr(st, a)].sum(axis=0) for st in strata]) * scale
            for a in arms]
    names = pm.layout.names(design)
    values = np.asarray(make_statistic(design, pm.layout)(sums))
    net = (values[:, names.index(("net_saving", "total", "all"))]
           - (programme_scale - 1.0) * values[:, names.index(("programme_cost", "total", "all"))])
    return {tuple(st.key.values()): float(v) for st, v in zip(strata, net, strict=True)}


def tornado(inputs: CostingInputs, settings: CostSettings, *, design: str | Sequence[str],
            by: str = "municipality", params: dict[str, Any] | None = None,
            base: Costed | None = None) -> pl.DataFrame:
    """Rows: stratum, design, variable, low/high settings, net saving at each, the base, the
    swing. `design` may name several designs: people are costed once for all of them.
    `base`: `inputs` already costed at `settings`, if at hand."""
    designs = [design] if isinstance(design, str) else list(design)
    p = {**DEFAULTS, **{k: v for k, v in (params or {}).items() if k in DEFAULTS}}
    base_costed = base if base is not None else cost(inputs, settings)
    base_pm = person_matrix_by_stratum(base_costed, by)
    pct = float(p["costs.sensitivity.unit_cost_pct"])
    ppct = float(p["costs.sensitivity.programme_cost_pct"])
    windows = sorted(int(w) for w in p["costs.sensitivity.window_months"])
    rates = sorted(float(r) for r in p["costs.sensitivity.discount_rates"])
    # Settings that change who is costed how: cost again (once, for every design; a setting
    # equal to the base, such as the default 24-month window, reuses the base).
    costed_at: list[tuple[CostSettings, tuple[Costed, PersonMatrix]]] = [
        (settings, (base_costed, base_pm))]

    def costed_for(s: CostSettings) -> tuple[Costed, PersonMatrix]:
        for known, pair in costed_at:
            if known == s:
                return pair
        c = cost(inputs, s)
        pm = person_matrix_by_stratum(c, by)
        # Only the matrix is used from here on: drop the cost rows (at national scale each
        # costing's rows take hundreds of MB).
        costed_at.append((s, (replace(c, person_costs=c.person_costs.clear()), pm)))
        return costed_at[-1][1]

    recosted = {}
    for label, lo_s, hi_s, lo_set, hi_set in (
        ("window (months)", str(windows[0]), str(windows[-1]),
         replace(settings, window_months=windows[0]), replace(settings, window_months=windows[-1])),
        ("discount rate", f"{rates[0]:.1%}", f"{rates[-1]:.1%}",
         replace(settings, discount_rates=dict.fromkeys(settings.discount_rates, rates[0])),
         replace(settings, discount_rates=dict.fromkeys(settings.discount_rates, rates[-1]))),
    ):
        recosted[label] = (lo_s, hi_s, costed_for(lo_set), costed_for(hi_set))
    services = sorted({s for s, _ in base_pm.layout.cells})
    frames = []
    for d in designs:
        def at(costed: Costed = base_costed, pm: PersonMatrix = base_pm, d: str = d,
               **kw: Any) -> dict[tuple, float]:
            return point_estimates(costed, design=d, by=by, matrix=pm, **kw)

        runs: list[tuple[str, str, str, dict, dict]] = []
        for s in services:
            runs.append((f"unit cost: {s}", f"-{pct:.0%}", f"+{pct:.0%}",
                         at(service_scale={s: 1 - pct}), at(service_scale={s: 1 + pct})))
        runs.append(("programme cost", f"-{ppct:.0%}", f"+{ppct:.0%}",
                     at(programme_scale=1 - ppct), at(programme_scale=1 + ppct)))
        for label, (lo_s, hi_s, lo, hi) in recosted.items():
            runs.append((label, lo_s, hi_s, at(*lo), at(*hi)))
        frames.append(_tornado_rows(at(), runs, base_costed, by, d))
    return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]


def _tornado_rows(base: dict[tuple, float], runs: list[tuple[str, str, str, dict, dict]],
                  base_costed: Costed, by: str, design: str) -> pl.DataFrame:
    keys = BY[by]
    rows = []
    for stratum, b in base.items():
        for variable, lo_s, hi_s, lo, hi in runs:
            lo_v, hi_v = lo.get(stratum), hi.get(stratum)
            swing = abs(hi_v - lo_v) if lo_v is not None and hi_v is not None else None
            if variable.startswith("unit cost") and swing == 0:
                continue  # a service this stratum does not use (e.g. the other country's)
            rows.append({**dict(zip(keys, stratum, strict=True)), "design": design,
                         "variable": variable, "low_setting": lo_s, "high_setting": hi_s,
                         "net_saving_low": lo_v, "net_saving_high": hi_v,
                         "net_saving_base": b, "swing": swing})
    counts = _counts(base_costed, by, design)
    out = pl.DataFrame(rows, infer_schema_length=None)
    if out.height == 0:
        # No stratum to vary (e.g. no Housing First participant): an empty table that still has
        # its columns, so the pipeline can write it.
        schema = {**dict.fromkeys(keys, pl.String), "design": pl.String, "variable": pl.String,
                  "low_setting": pl.String, "high_setting": pl.String,
                  "net_saving_low": pl.Float64, "net_saving_high": pl.Float64,
                  "net_saving_base": pl.Float64, "swing": pl.Float64}
        schema.update({k: v for k, v in counts.schema.items() if k not in schema})
        return pl.DataFrame(schema=schema)
    if keys:
        out = out.join(counts, on=keys, how="left")
    else:
        out = out.with_columns(*(pl.lit(v).alias(k) for k, v in counts.row(0, named=True).items()))
    return out.sort([*keys, "swing"], descending=[False] * len(keys) + [True], nulls_last=True)


def _counts(costed: Costed, by: str, design: str) -> pl.DataFrame:
    included = costed.people.filter(pl.col("included"))
    keys = BY[by]
    agg = [pl.col("participant_id").filter(pl.col("arm") == "housing_first").count()
           .alias("n_participants_hf")]
    if design == "did":
        agg.append(pl.col("participant_id").filter(pl.col("arm") == "comparison").count()
                   .alias("n_participants_comparison"))
    else:
        agg.append(pl.lit(None, pl.UInt32).alias("n_participants_comparison"))
    return included.group_by(keys).agg(agg) if keys else included.select(agg)
