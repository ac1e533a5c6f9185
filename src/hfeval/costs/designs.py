"""Costing people over windows around an anchor, and the two designs: pre/post and DiD.

**Windows.** Each participant has an anchor (first move-in for Housing First participants;
enrolment for the comparison arm and for Housing First participants never housed;
int_cost_observation). The window before is [anchor - W, anchor), the window after is
[anchor, anchor + W), cut at the last day observed (extraction or death). A stay that crosses
a window edge is split in proportion to its days in each window; a single event belongs where
it starts. The window before is assumed fully covered by the registers.

**Rates per participant-year.** For a group of people, the cost rate of a window is the sum of
their costs divided by the sum of their person-years observed in it (a pooled rate), so people
followed for less than the window count for the time they were observed. People with no time
observed after the anchor are left out (counted in the output).

**Pre/post** (Housing First arm): costs avoided per participant-year after the anchor =
D x (rate before) - (discounted rate after), where D is the mean discount factor over the
person-time after (1 when nothing is discounted): the rate before stands for what would have
been spent after, discounted like the costs after. Positive = costs avoided.

**Difference-in-differences**: the pre/post difference of the Housing First arm minus that of
the comparison arm (each with its own anchor and person-time). It removes what both arms share
(regression to the mean, secular trends), not differences between the arms themselves.

Programme cost per participant-year is the municipality's (programme.py) times D, paid by the
municipality; net saving = costs avoided - programme cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from hfeval.costs import catalogue as cat
from hfeval.costs.prices import (
    DAYS_PER_YEAR,
    PriceTables,
    discounted_years,
    price_factor,
    target_currency,
    window_days,
)

DESIGNS = ("prepost", "did")
PREPOST_CAVEAT = (
    "Pre/post caveat (regression to the mean): people enter Housing First at a peak of crisis, "
    "so their costs would have fallen anyway; reviews find pre/post studies reporting net "
    "savings where randomised studies find a net cost (Ly & Latimer 2015). Read a pre/post "
    "saving as an upper bound; prefer the difference-in-differences against a comparison arm."
)
OBSERVATION_NOTE = (
    "Per participant-year = pooled rate: sum of costs / sum of person-years observed in the "
    "window. People followed for less than the window (extraction or death) count for the time "
    "observed; people with no time observed after the anchor are left out. The window before "
    "the anchor is assumed fully covered by the registers."
)


@dataclass(frozen=True)
class CostSettings:
    """Costing parameters (config.PARAMETER_DOCS `costs.*`)."""

    price_year: int = 2024
    currency: str = "local"
    window_months: int = 24
    discount_rates: dict[str, float] = field(default_factory=lambda: {"NO": 0.04, "DK": 0.035})
    n_resamples: int = 2000
    seed: int = 20240101
    level: float = 0.95
    ci_method: str = "bca"

    @classmethod
    def from_params(cls, params: dict, **overrides: object) -> CostSettings:
        values = {
            "price_year": int(params.get("costs.price_year", 2024)),
            "currency": str(params.get("costs.currency", "local")),
            "window_months": int(params.get("costs.window_months", 24)),
            "discount_rates": {"NO": float(params.get("costs.discount_rate.NO", 0.04)),
                            "DK": float(params.get("costs.discount_rate.DK", 0.035))},
            "n_resamples": int(params.get("costs.bootstrap.n_resamples", 2000)),
            "seed": int(params.get("costs.bootstrap.seed", 20240101)),
            "level": float(params.get("costs.bootstrap.level", 0.95)),
            "ci_method": str(params.get("costs.ci_method", "bca")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        if self.currency not in ("NOK", "DKK", "EUR", "local"):
            raise ValueError(f"costs.currency must be NOK, DKK, EUR or local, got {self.currency}")
        if self.ci_method not in ("bca", "percentile"):
            raise ValueError(f"costs.ci_method must be bca or percentile, got {self.ci_method}")
        if any(r < 0 for r in self.discount_rates.values()):
            raise ValueError("discount rates must not be negative")
        window_days(self.window_months)


# ---- people over windows -------------------------------------------------------------------


def cost_people(
    observation: pl.DataFrame,
    priced_events: pl.DataFrame,
    tables: PriceTables,
    settings: CostSettings,
    programme_per_py: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """People with their windows and person-time, and their costs by period, service and payer.

    `observation` is int_cost_observation, `priced_events` int_service_use_priced,
    `programme_per_py` (municipality_code, programme_cost_per_py) from programme.py.
    Returns (people, person_costs); costs are in the price year and currency of `settings`."""
    w = window_days(settings.window_months)
    people = observation.with_columns(
        pl.lit(w).alias("window_days"),
        pl.min_horizontal(
            pl.lit(w),
            (pl.col("observed_until_date") - pl.col("anchor_date")).dt.total_days() + 1,
        ).clip(lower_bound=0).alias("post_days"),
    )
    rate = pl.col("country").replace_strict(settings.discount_rates, default=0.0)
    people = people.with_columns(rate.alias("discount_rate"))
    disc = np.zeros(people.height)
    for country, r in settings.discount_rates.items():
        mask = (people["country"] == country).to_numpy()
        disc[mask] = discounted_years(people["post_days"].to_numpy()[mask], r)
    people = people.with_columns(
        (pl.col("window_days") / DAYS_PER_YEAR).alias("pre_years"),
        (pl.col("post_days") / DAYS_PER_YEAR).alias("post_years"),
        pl.Series("post_discounted_years", disc),
        (pl.col("post_days") == pl.col("window_days")).alias("full_post_observation"),
        (pl.col("post_days") > 0).alias("included"),
        pl.when(pl.col("post_days") > 0).then(None)
        .otherwise(pl.lit("no time observed after the anchor")).alias("exclusion_reason"),
        pl.col("country").map_elements(
            lambda c: target_currency(c, settings.currency), return_dtype=pl.String
        ).alias("currency"),
        pl.lit(settings.price_year).alias("price_year"),
        pl.lit(settings.window_months).alias("window_months"),
    )
    if programme_per_py is not None and programme_per_py.height:
        people = people.join(
            programme_per_py.select("municipality_code", "programme_cost_per_py"),
            on="municipality_code", how="left",
        )
    else:
        people = people.with_columns(pl.lit(None, pl.Float64).alias("programme_cost_per_py"))
    people = people.with_columns(
        pl.when(pl.col("arm") == "housing_first").then(pl.col("programme_cost_per_py"))
        .otherwise(None).alias("programme_cost_per_py")
    )
    return people, _cost_events(people, priced_events, tables, settings)


# Sums of money and quantity are taken in integer steps of 1/scale, so they do not depend on
# the order the engine adds rows in: polars adds partial sums in parallel in an order that
# varies from run to run, and the last bits of a float sum would move the BCa intervals
# visibly (they jump where replicates tie with the estimate).
MONEY_SCALE = 10_000  # steps of 1/10,000 of a currency unit
QUANTITY_SCALE = 1_000_000  # steps of a millionth of a day, night or contact


def _exact_sum(values: pl.Expr, scale: int) -> pl.Expr:
    return (values * scale).round().cast(pl.Int64).sum() / scale


def _cost_events(
    people: pl.DataFrame, events: pl.DataFrame, tables: PriceTables, settings: CostSettings
) -> pl.DataFrame:
    factors = {
        (r["country"], r["unit_cost_currency"], r["unit_cost_price_year"]): price_factor(
            tables, country=r["country"], currency=r["unit_cost_currency"],
            year=int(r["unit_cost_price_year"]), price_year=settings.price_year,
            to_currency=settings.currency)
        for r in events.filter(pl.col("is_priced").cast(pl.Boolean))
        .select("country", "unit_cost_currency", "unit_cost_price_year").unique()
        .iter_rows(named=True)
    }
    factor_frame = pl.DataFrame(
        [{"country": k[0], "unit_cost_currency": k[1], "unit_cost_price_year": k[2],
          "price_factor": v} for k, v in factors.items()],
        schema={"country": pl.String, "unit_cost_currency": pl.String,
                "unit_cost_price_year": pl.Int64,
                "price_factor": pl.Float64},
    )
    # One lazy pass over the events (the largest table): both windows at once, so polars
    # reads each event once and never materialises the intermediate columns.
    ev = (
        events.lazy()
        .select("participant_id", "country", "service", "unit", "payer_sector", "is_priced",
                "start_date", "end_date", "start_days_from_anchor", "quantity",
                "cost_catalogue", "unit_cost_currency", "unit_cost_price_year")
        .with_columns(pl.col("start_date", "end_date").cast(pl.Date),
                      pl.col("unit_cost_price_year").cast(pl.Int64),
                      pl.col("cost_catalogue", "quantity").cast(pl.Float64))
        .join(people.lazy().select("participant_id", "window_days", "post_days",
                                   "discount_rate"), on="participant_id", how="inner")
        .join(factor_frame.lazy(), on=["country", "unit_cost_currency", "unit_cost_price_year"],
              how="left")
        .with_columns(
            pl.col("start_days_from_anchor").cast(pl.Float64).alias("s"),
            pl.when(pl.col("end_date").is_not_null())
            .then((pl.col("end_date") - pl.col("start_date")).dt.total_days())
            .otherwise(0).cast(pl.Float64).alias("duration"),
            (pl.col("cost_catalogue") * pl.col("price_factor")).alias("cost_full"),
        )
        .with_columns((pl.col("s") + pl.col("duration")).alias("e"))
    )
    stay = pl.col("duration") > 0

    def share(lo: pl.Expr, hi: pl.Expr) -> pl.Expr:
        overlap = (pl.min_horizontal(pl.col("e"), hi) - pl.max_horizontal(pl.col("s"), lo))
        point = ((pl.col("s") >= lo) & (pl.col("s") < hi)).cast(pl.Float64)
        return pl.when(stay).then(overlap.clip(lower_bound=0) / pl.col("duration")) \
            .otherwise(point)

    pre_lo, zero = -pl.col("window_days").cast(pl.Float64), pl.lit(0.0)
    post_hi = pl.col("post_days").cast(pl.Float64)
    mid_post = pl.when(stay).then(
        (pl.max_horizontal(pl.col("s"), zero) + pl.min_horizontal(pl.col("e"), post_hi)) / 2
    ).otherwise(pl.col("s"))
    year_k = (mid_post / DAYS_PER_YEAR).floor().clip(lower_bound=0)
    post_discount = (1 + pl.col("discount_rate")).pow(-year_k)
    keys = ["participant_id", "service", "unit", "payer_sector", "is_priced"]
    # An event counts in a window where its fraction there is positive (a stay across the
    # anchor counts in both).
    agg = []
    for period, frac, disc in (("pre", share(pre_lo, zero), pl.lit(1.0)),
                               ("post", share(zero, post_hi), post_discount)):
        f = pl.when(frac > 0).then(frac).otherwise(None)
        agg += [
            f.count().alias(f"{period}:n_events"),
            _exact_sum(pl.col("quantity") * f, QUANTITY_SCALE).alias(f"{period}:quantity"),
            _exact_sum(pl.col("cost_full") * f, MONEY_SCALE).alias(f"{period}:cost"),
            _exact_sum(pl.col("cost_full") * f * disc, MONEY_SCALE)
            .alias(f"{period}:cost_discounted"),
        ]
    sums = ev.group_by(keys).agg(agg).collect()
    measures = ("n_events", "quantity", "cost", "cost_discounted")
    out = pl.concat([
        sums.filter(pl.col(f"{period}:n_events") > 0).select(
            *keys, pl.lit(period).alias("period"),
            *(pl.col(f"{period}:{m}").alias(m) for m in measures))
        for period in ("pre", "post")
    ]).with_columns(
        pl.col("n_events").cast(pl.UInt32),
        pl.when(pl.col("is_priced")).then(pl.col("cost")).otherwise(None).alias("cost"),
        pl.when(pl.col("is_priced")).then(pl.col("cost_discounted")).otherwise(None)
        .alias("cost_discounted"),
    )
    return out.select("participant_id", "period", "service", "unit", "payer_sector",
                      "is_priced", "n_events", "quantity", "cost", "cost_discounted"
                      ).sort("participant_id", "period", "service", "unit")


# ---- estimators as functions of sums ----------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Columns of the per-person matrix: person-time, programme cost, then one cost column per
    (service, payer) cell for the window before, the discounted window after and the
    undiscounted window after."""

    cells: tuple[tuple[str, str], ...]

    @property
    def n_cells(self) -> int:
        return len(self.cells)

    @property
    def width(self) -> int:
        return 4 + 3 * self.n_cells

    @property
    def payers(self) -> tuple[str, ...]:
        return tuple(p for p in cat.PAYER_SECTORS if any(c[1] == p for c in self.cells)
                     ) or (cat.PROGRAMME_PAYER,)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(sorted({c[0] for c in self.cells}))

    def names(self, design: str) -> list[tuple[str, str, str]]:
        """(measure, breakdown, category) of each statistic, in order."""
        out = [("offset", "total", "all")]
        out += [("offset", "payer_sector", p) for p in self.all_payers]
        out += [("offset", "service", s) for s in self.services]
        out += [("programme_cost", "total", "all"), ("net_saving", "total", "all")]
        out += [("net_saving", "payer_sector", p) for p in self.all_payers]
        out += [("saved_per_10_spent", "total", "all"),
                ("offset_undiscounted", "total", "all"),
                ("pre_cost_rate", "total", "all"), ("post_cost_rate", "total", "all")]
        if design == "did":
            out += [("offset_housing_first", "total", "all"),
                    ("offset_comparison", "total", "all")]
        return out

    @property
    def all_payers(self) -> tuple[str, ...]:
        payers = set(self.payers) | {cat.PROGRAMME_PAYER}
        return tuple(p for p in cat.PAYER_SECTORS if p in payers)


def layout_for(person_costs: pl.DataFrame) -> Layout:
    cells = (person_costs.filter(pl.col("is_priced")).select("service", "payer_sector")
             .unique().sort("service", "payer_sector").rows())
    return Layout(tuple((s, p) for s, p in cells))


def person_matrix(
    people: pl.DataFrame, person_costs: pl.DataFrame, layout: Layout
) -> np.ndarray:
    """(n, layout.width) matrix in the order of `people` rows."""
    n = people.height
    x = np.zeros((n, layout.width))
    x[:, 0] = people["pre_years"].to_numpy()
    x[:, 1] = people["post_years"].to_numpy()
    x[:, 2] = people["post_discounted_years"].to_numpy()
    prog = people["programme_cost_per_py"].cast(pl.Float64).to_numpy()
    x[:, 3] = np.where(np.isnan(prog), np.nan, np.nan_to_num(prog) * x[:, 2])
    if not layout.n_cells or person_costs.height == 0:
        return x
    rows = people.select("participant_id").with_row_index("row")
    cells = pl.DataFrame({"service": [c[0] for c in layout.cells],
                          "payer_sector": [c[1] for c in layout.cells],
                          "col": list(range(layout.n_cells))},
                         schema={"service": pl.String, "payer_sector": pl.String,
                                 "col": pl.Int64})
    priced = (person_costs.filter(pl.col("is_priced"))
              .join(rows, on="participant_id", how="inner")
              .join(cells, on=["service", "payer_sector"], how="inner"))
    c = layout.n_cells
    pre = priced.filter(pl.col("period") == "pre")
    post = priced.filter(pl.col("period") == "post")
    np.add.at(x, (pre["row"].to_numpy(), 4 + pre["col"].to_numpy()), pre["cost"].to_numpy())
    post_rows, post_cols = post["row"].to_numpy(), post["col"].to_numpy()
    np.add.at(x, (post_rows, 4 + c + post_cols), post["cost_discounted"].to_numpy())
    np.add.at(x, (post_rows, 4 + 2 * c + post_cols), post["cost"].to_numpy())
    return x


def _arm(s: np.ndarray, c: int) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        d = s[..., 2] / s[..., 1]
        pre = s[..., 4:4 + c] / s[..., 0:1]
        post_disc = s[..., 4 + c:4 + 2 * c] / s[..., 1:2]
        post = s[..., 4 + 2 * c:4 + 3 * c] / s[..., 1:2]
        prog = s[..., 3] / s[..., 1]
    return {"offset": d[..., None] * pre - post_disc, "offset_undisc": pre - post,
            "pre": pre, "post": post_disc, "programme": prog}


def make_statistic(design: str, layout: Layout):
    """The statistic (list of column sums per arm -> every named statistic) for a design."""
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}, got {design!r}")
    c = layout.n_cells
    payers = layout.all_payers
    services = layout.services
    to_payer = np.array([[cell[1] == p for p in payers] for cell in layout.cells], float
                        ).reshape(c, len(payers))
    to_service = np.array([[cell[0] == s for s in services] for cell in layout.cells], float
                          ).reshape(c, len(services))
    prog_col = np.array([p == cat.PROGRAMME_PAYER for p in payers], float)

    def statistic(sums: Sequence[np.ndarray]) -> np.ndarray:
        hf = _arm(sums[0], c)
        offset_c, undisc_c = hf["offset"], hf["offset_undisc"]
        extra: list[np.ndarray] = []
        if design == "did":
            comp = _arm(sums[1], c)
            offset_c = hf["offset"] - comp["offset"]
            undisc_c = hf["offset_undisc"] - comp["offset_undisc"]
            extra = [hf["offset"].sum(-1), comp["offset"].sum(-1)]
        total = offset_c.sum(-1)
        by_payer = offset_c @ to_payer
        programme = hf["programme"]
        with np.errstate(divide="ignore", invalid="ignore"):
            per_10 = np.where(programme > 0, 10 * total / programme, np.nan)
        cols = [total[..., None], by_payer, offset_c @ to_service, programme[..., None],
                (total - programme)[..., None], by_payer - programme[..., None] * prog_col,
                per_10[..., None], undisc_c.sum(-1)[..., None],
                hf["pre"].sum(-1)[..., None], hf["post"].sum(-1)[..., None]]
        cols += [e[..., None] for e in extra]
        return np.concatenate(cols, axis=-1)

    return statistic
