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

from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from hfeval.costs.designs import CostSettings, layout_for, make_statistic, person_matrix
from hfeval.costs.outputs import BY, Costed, CostingInputs, _strata, cost

DEFAULTS = {"costs.sensitivity.unit_cost_pct": 0.25,
            "costs.sensitivity.programme_cost_pct": 0.25,
            "costs.sensitivity.window_months": [12, 24],
            "costs.sensitivity.discount_rates": [0.0, 0.06]}


def point_estimates(costed: Costed, *, design: str, by: str,
                    service_scale: dict[str, float] | None = None,
                    programme_scale: float = 1.0) -> dict[tuple, float]:
    """Net saving per participant-year per stratum (point estimate)."""
    person_costs = costed.person_costs
    if service_scale:
        scale = pl.col("service").replace_strict(service_scale, default=1.0,
                                                 return_dtype=pl.Float64)
        person_costs = person_costs.with_columns(pl.col("cost") * scale,
                                                 pl.col("cost_discounted") * scale)
    layout = layout_for(costed.person_costs)
    stat = make_statistic(design, layout)
    net_index = layout.names(design).index(("net_saving", "total", "all"))
    prog_index = layout.names(design).index(("programme_cost", "total", "all"))
    out = {}
    for key, group in _strata(costed.people, by, costed.settings):
        arms = [group.filter(pl.col("arm") == "housing_first")]
        if design == "did":
            arms.append(group.filter(pl.col("arm") == "comparison"))
        if any(a.height == 0 for a in arms):
            continue
        sums = [person_matrix(a, person_costs, layout).sum(axis=0) for a in arms]
        values = np.asarray(stat(sums))
        net = values[net_index] - (programme_scale - 1.0) * values[prog_index]
        out[tuple(key.values())] = float(net)
    return out


def tornado(inputs: CostingInputs, settings: CostSettings, *, design: str,
            by: str = "municipality", params: dict[str, Any] | None = None) -> pl.DataFrame:
    """Rows: stratum, variable, low/high settings, net saving at each, the base, the swing."""
    p = {**DEFAULTS, **{k: v for k, v in (params or {}).items() if k in DEFAULTS}}
    base_costed = cost(inputs, settings)
    base = point_estimates(base_costed, design=design, by=by)
    runs: list[tuple[str, str, str, dict, dict]] = []
    pct = float(p["costs.sensitivity.unit_cost_pct"])
    services = sorted({s for s, _ in layout_for(base_costed.person_costs).cells})
    for s in services:
        runs.append((f"unit cost: {s}", f"-{pct:.0%}", f"+{pct:.0%}",
                     point_estimates(base_costed, design=design, by=by,
                                     service_scale={s: 1 - pct}),
                     point_estimates(base_costed, design=design, by=by,
                                     service_scale={s: 1 + pct})))
    ppct = float(p["costs.sensitivity.programme_cost_pct"])
    runs.append(("programme cost", f"-{ppct:.0%}", f"+{ppct:.0%}",
                 point_estimates(base_costed, design=design, by=by, programme_scale=1 - ppct),
                 point_estimates(base_costed, design=design, by=by, programme_scale=1 + ppct)))
    windows = sorted(int(w) for w in p["costs.sensitivity.window_months"])
    rates = sorted(float(r) for r in p["costs.sensitivity.discount_rates"])
    for label, lo_s, hi_s, lo_set, hi_set in (
        ("window (months)", str(windows[0]), str(windows[-1]),
         replace(settings, window_months=windows[0]), replace(settings, window_months=windows[-1])),
        ("discount rate", f"{rates[0]:.1%}", f"{rates[-1]:.1%}",
         replace(settings, discount_rates=dict.fromkeys(settings.discount_rates, rates[0])),
         replace(settings, discount_rates=dict.fromkeys(settings.discount_rates, rates[-1]))),
    ):
        runs.append((label, lo_s, hi_s,
                     point_estimates(cost(inputs, lo_set), design=design, by=by),
                     point_estimates(cost(inputs, hi_set), design=design, by=by)))
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
