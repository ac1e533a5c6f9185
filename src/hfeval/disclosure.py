"""Disclosure control for publishable tables (DOMAIN.md §5; docs/privacy.md, section 6).

Applied by the pipeline's publish step to every publishable model, by the `disclosure` rule of
the model in pipelines/pipeline.yaml:

- **presets** name the agencies' rules (`disclosure.preset`: opensafely, ssb, dst); an explicit
  `disclosure.threshold` or `disclosure.rounding_base` overrides the preset's value;
- **primary suppression**: a count of people between 1 and `threshold` (inclusive) is
  suppressed, and so is a count whose rounded value would fall in that range; every other count
  is rounded to the nearest multiple of `rounding_base`; zero is not disclosive and stays 0;
- **curves** (`curve:`): survival and incidence estimates are cut from the first time the
  number at risk is `threshold` or fewer (or suppressed) onwards, per curve;
- **secondary suppression** (`secondary:`): each entry names a partition of the table's rows
  into groups whose cells add up to a total published in this or another table; while any
  group has exactly one suppressed non-zero cell, the smallest unsuppressed non-zero cell of
  that group is suppressed too (a zero only when no other cell is left), over every partition
  and count column until nothing changes;
- **derived** values (medians, means, CIs, flags computed from exact counts) are suppressed
  whenever a count they derive from is suppressed; **ratios** of two counts are recomputed from
  the published, rounded counts and hidden when either count is suppressed (rates only from
  safe denominators).

Each protected column gets a companion `<column>_suppressed` flag, so a suppressed cell is shown
as suppressed, never as zero, and `protect` returns a note per column saying how it was
protected (the publishable database's `_protection` table).

**Publication units.** A municipality whose programme is too small to publish alone
(`disclosure.min_unit_participants`) is merged before any mart is computed: `publication_units`
maps every municipality to its unit (itself, the small municipalities of its region, or of its
country), the pipeline model `int_publication_units` holds that mapping, and every publishable
mart groups by the unit instead of the municipality (published as `mart_publication_units`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

# ---- presets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    name: str
    threshold: int  # counts 1..threshold are suppressed
    rounding_base: int  # other counts are rounded to a multiple of this (1 = not rounded)
    source: str


PRESETS: dict[str, Preset] = {
    "opensafely": Preset(
        "opensafely", 7, 5,
        "OpenSAFELY output checking: redact any statistic describing 7 or fewer people, then "
        "round counts to the nearest 5",
    ),
    "ssb": Preset(
        "ssb", 2, 3,
        "Statistics Norway: cells of fewer than 3 observations suppressed; small counts rounded "
        "to 0 or 3 (here: every count rounded to a multiple of 3)",
    ),
    "dst": Preset(
        "dst", 4, 1,
        "Statistics Denmark: no cells of fewer than 5 observations (guides say 3 or 5; the "
        "stricter 5 is used); counts not rounded",
    ),
}
DEFAULT_PRESET = "opensafely"
PRESET_PARAMETERS = ("disclosure.threshold", "disclosure.rounding_base")


def apply_preset(params: dict[str, Any], explicit: Iterable[str] = ()) -> dict[str, Any]:
    """Fill `disclosure.threshold` and `disclosure.rounding_base` from `disclosure.preset`,
    except those set explicitly (a parameter file or `--set`), and check them."""
    name = params.get("disclosure.preset") or DEFAULT_PRESET
    if name not in PRESETS:
        raise ValueError(f"unknown disclosure.preset {name!r}; known: {', '.join(PRESETS)}")
    preset, explicit = PRESETS[name], set(explicit)
    out = dict(params)
    out["disclosure.preset"] = name
    if "disclosure.threshold" not in explicit:
        out["disclosure.threshold"] = preset.threshold
    if "disclosure.rounding_base" not in explicit:
        out["disclosure.rounding_base"] = preset.rounding_base
    for key in PRESET_PARAMETERS:
        if int(out[key]) < 1:
            raise ValueError(f"{key} must be at least 1 (disclosure control cannot be turned off)")
    if "disclosure.min_unit_participants" in out and int(out["disclosure.min_unit_participants"]) < 0:
        raise ValueError("disclosure.min_unit_participants must be 0 or more")
    return out


# ---- rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """Rows grouped by `within`; in each group the rows (told apart by `cells`) add up to a
    total published in this table or another (`total` says where, for the notes)."""

    cells: tuple[str, ...]
    within: tuple[str, ...] = ()
    total: str = ""

    def describe(self) -> str:
        where = f" within each {', '.join(self.within)}" if self.within else ""
        total = f" (total: {self.total})" if self.total else ""
        return f"{', '.join(self.cells)}{where}{total}"


@dataclass(frozen=True)
class Curve:
    """Rows sharing `within` are one curve over `time`: cut from the first time the number at
    risk is threshold or fewer (or suppressed); `drop` removes the cut rows from the table."""

    within: tuple[str, ...]
    time: str
    at_risk: str
    drop: bool = False


def _names(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]


RULE_KEYS = {"counts", "derived", "ratios", "secondary", "curve", "notes"}


@dataclass(frozen=True)
class DisclosureRule:
    counts: tuple[str, ...] = ()
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ratios: dict[str, tuple[str, str]] = field(default_factory=dict)  # column: (numerator, denominator)
    enabled: bool = True  # False for tables that describe no person (reference data)
    secondary: tuple[Partition, ...] = ()
    curve: Curve | None = None
    notes: dict[str, str] = field(default_factory=dict)  # replaces a column's generic note

    @classmethod
    def from_spec(cls, spec: object) -> DisclosureRule:
        if spec in (None, "none"):
            return cls(enabled=False)
        if not isinstance(spec, dict):
            raise TypeError(f"disclosure must be 'none' or a mapping, got {spec!r}")
        unknown = set(spec) - RULE_KEYS
        if unknown:
            raise ValueError(f"disclosure rule has unknown keys {sorted(unknown)}; "
                             f"known: {sorted(RULE_KEYS)}")
        derived = {k: _names(v) for k, v in (spec.get("derived") or {}).items()}
        ratios = {k: (v[0], v[1]) for k, v in (spec.get("ratios") or {}).items()}
        secondary = tuple(
            Partition(cells=_names(p["cells"]), within=_names(p.get("within")),
                      total=str(p.get("total") or ""))
            for p in spec.get("secondary") or ()
        )
        c = spec.get("curve")
        curve = Curve(within=_names(c["within"]), time=c["time"], at_risk=c["at_risk"],
                      drop=bool(c.get("drop", False))) if c else None
        return cls(counts=_names(spec.get("counts")), derived=derived, ratios=ratios,
                   secondary=secondary, curve=curve, notes=dict(spec.get("notes") or {}))

    def columns(self, *, partitions: bool = True) -> set[str]:
        """Every column the rule names (a published table must have them all)."""
        cols = {*self.counts, *self.derived, *self.ratios}
        cols |= {b for bases in self.derived.values() for b in bases}
        cols |= {c for pair in self.ratios.values() for c in pair}
        for p in self.secondary if partitions else ():
            cols |= {*p.cells, *p.within}
        if self.curve:
            cols |= {*self.curve.within, self.curve.time, self.curve.at_risk}
        return cols

    def for_table(self, columns: Iterable[str]) -> DisclosureRule:
        """The rule without the partitions a table lacks columns for: a cut of a mart with fewer
        strata (the retention command's table) has no such totals beside it. The publish step
        applies whole rules only (pipeline._publish checks every column exists)."""
        have = set(columns)
        kept = tuple(p for p in self.secondary if {*p.cells, *p.within} <= have)
        return replace(self, secondary=kept)


def is_disclosive(count: int | None, threshold: int) -> bool:
    return count is not None and 0 < count <= threshold


def round_count(count: int, base: int) -> int:
    """Round half up to the nearest multiple of base (8 -> 10, 12 -> 10, 13 -> 15 for base 5)."""
    return int((count + base / 2) // base * base)


# ---- protect ---------------------------------------------------------------------------------

# Column names that hold a publication unit in every mart grouped by municipality.
UNIT_COLUMNS = ("municipality_code", "municipality_name")
UNIT_NOTE = ("publication unit: the municipality itself, or an aggregate of municipalities too "
             "small to publish alone (disclosure.min_unit_participants; see "
             "mart_publication_units)")
STRATUM_NOTE = ("stratum value; for stratum_variable 'municipality' the publication unit's name "
                "(a municipality, or an aggregate of small ones: mart_publication_units)")


def _raw(df: pl.DataFrame, c: str) -> np.ndarray:
    """A count column as float (NaN for null), so comparisons are vectorised."""
    return df.get_column(c).cast(pl.Float64).fill_null(np.nan).to_numpy().copy()


def _groups(df: pl.DataFrame, within: tuple[str, ...], order: tuple[str, ...]) -> list[np.ndarray]:
    """Row indices of each group of `within`, each sorted by the `order` columns (ties of the
    complementary-cell choice are broken in this order, so runs are reproducible)."""
    idx = df.select(*within, *order).with_row_index("_row")
    if order:
        idx = idx.sort([pl.col(c).cast(pl.String) for c in order], nulls_last=True,
                       maintain_order=True)
    if not within:
        return [idx.get_column("_row").to_numpy()]
    grouped = idx.group_by(list(within), maintain_order=True).agg(pl.col("_row"))
    return [np.asarray(g, dtype=np.int64) for g in grouped.get_column("_row").to_list()]


def _check_partition(df: pl.DataFrame, p: Partition) -> None:
    key = [*p.within, *p.cells]
    if df.select(key).is_duplicated().any():
        raise ValueError(
            f"secondary partition {p.describe()}: rows are not told apart by "
            f"{', '.join(key)}; add the missing grouping column to `within`")


def _cut_curves(df: pl.DataFrame, curve: Curve, hidden: np.ndarray, raw: np.ndarray,
                threshold: int) -> np.ndarray:
    """Rows of each curve from the first time at risk is <= threshold or hidden onwards."""
    small = hidden | ~(raw > threshold)  # NaN (no number at risk) counts as small
    frame = df.select(*curve.within, curve.time).with_row_index("_row").with_columns(
        pl.Series("_small", small))
    frame = frame.sort([*curve.within, curve.time], nulls_last=True)
    by = list(curve.within)
    cut = pl.col("_small").cum_max().over(by) if by else pl.col("_small").cum_max()
    frame = frame.with_columns(cut.alias("_cut")).sort("_row")
    return frame.get_column("_cut").to_numpy().astype(bool)


def _complement(rows: np.ndarray, hidden: np.ndarray, raw: np.ndarray) -> int | None:
    """The row to suppress so the group no longer has exactly one suppressed non-zero cell."""
    h, v = hidden[rows], raw[rows]
    cell = ~np.isnan(v)
    if np.sum(h & cell & (v > 0)) != 1:
        return None
    candidates = np.flatnonzero(~h & cell & (v > 0))
    if candidates.size:
        # the smallest unsuppressed non-zero cell; ties: the first in the group's order
        return int(rows[candidates[np.argmin(v[candidates])]])  # argmin: first of ties
    if np.any(h & cell & (v == 0)):
        return None  # a suppressed zero already stands beside it
    zeros = np.flatnonzero(~h & cell & (v == 0))
    return int(rows[zeros[0]]) if zeros.size else None


def suppression_masks(
    df: pl.DataFrame, rule: DisclosureRule, *, threshold: int, rounding_base: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Which count cells are suppressed (primary, curve cut, secondary) and which rows are cut
    from a curve. Counts are the exact ones (before rounding)."""
    raw = {c: _raw(df, c) for c in rule.counts}
    hidden: dict[str, np.ndarray] = {}
    for c, v in raw.items():
        rounded = np.floor((v + rounding_base / 2) / rounding_base) * rounding_base
        with np.errstate(invalid="ignore"):
            hidden[c] = (v > 0) & ((v <= threshold) | (rounded <= threshold))
    cut = np.zeros(df.height, dtype=bool)
    for p in rule.secondary:
        _check_partition(df, p)
    groups = [_groups(df, p.within, p.cells) for p in rule.secondary]
    changed = True
    while changed:
        changed = False
        if rule.curve:
            at = rule.curve.at_risk
            new_cut = _cut_curves(df, rule.curve, hidden[at], raw[at], threshold)
            if np.any(new_cut & ~cut):
                cut |= new_cut
                hidden[at] |= cut
                changed = True
        for partition_groups in groups:
            for c in rule.counts:
                for rows in partition_groups:
                    if rows.size < 2:
                        continue
                    pick = _complement(rows, hidden[c], raw[c])
                    if pick is not None:
                        hidden[c][pick] = True
                        changed = True
    return hidden, cut


def protect(
    df: pl.DataFrame, rule: DisclosureRule, *, threshold: int, rounding_base: int
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Return the protected table and a note per column saying how it was protected."""
    if not rule.enabled:
        return df, {c: rule.notes.get(c, "not protected: describes no person")
                    for c in df.columns}
    missing = sorted(rule.columns(partitions=False) - set(df.columns))
    if missing:
        raise KeyError(f"disclosure rule names columns the table lacks: {missing}")
    rule = rule.for_table(df.columns)
    for c, bases in rule.derived.items():
        unknown = [b for b in bases if b not in rule.counts]
        if unknown:
            raise KeyError(f"derived column {c} refers to non-count columns {unknown}")
    for c, (num, den) in rule.ratios.items():
        if num not in rule.counts or den not in rule.counts:
            raise KeyError(f"ratio column {c} must divide two count columns")
    if "n_at_risk" in df.columns and rule.curve is None:
        raise ValueError("a table publishing n_at_risk needs a `curve` rule (estimates must be "
                         "cut where few are at risk)")

    hidden, cut = suppression_masks(df, rule, threshold=threshold, rounding_base=rounding_base)

    def rounded(c: str) -> pl.Expr:
        return ((pl.col(c) + rounding_base / 2) // rounding_base * rounding_base).cast(pl.Int64)

    flags = {c: pl.Series(f"{c}_suppressed", hidden[c]) for c in rule.counts}
    exprs: list[pl.Expr] = []
    for c in rule.counts:
        exprs.append(pl.when(flags[c]).then(None).otherwise(rounded(c)).alias(c))
        exprs.append(pl.lit(flags[c]).alias(f"{c}_suppressed"))
    for c, bases in rule.derived.items():
        any_hidden = np.zeros(df.height, dtype=bool)
        for b in bases:
            any_hidden |= hidden[b]
        flag = pl.Series(f"{c}_suppressed", any_hidden)
        exprs.append(pl.when(flag).then(None).otherwise(pl.col(c)).alias(c))
        exprs.append(pl.lit(flag).alias(f"{c}_suppressed"))
    out = df.with_columns(exprs)
    ratio_exprs: list[pl.Expr] = []
    for c, (num, den) in rule.ratios.items():
        flag = pl.Series(f"{c}_suppressed", hidden[num] | hidden[den])
        ratio = pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))
        ratio_exprs.append(pl.when(flag).then(None).otherwise(ratio).alias(c))
        ratio_exprs.append(pl.lit(flag).alias(f"{c}_suppressed"))
    out = out.with_columns(ratio_exprs)
    if rule.curve and rule.curve.drop:
        out = out.filter(pl.Series(~cut))
    return out, _notes(df, rule, threshold, rounding_base)


def _notes(df: pl.DataFrame, rule: DisclosureRule, threshold: int, base: int) -> dict[str, str]:
    notes: dict[str, str] = {}
    rounding = f"rounded to the nearest {base}" if base > 1 else "not rounded"
    partitions = "; ".join(p.describe() for p in rule.secondary)
    secondary = (f"; also suppressed as a complement so no suppressed cell can be recovered "
                 f"from a total (secondary suppression over: {partitions})") if partitions else ""
    curve_words = ""
    if rule.curve:
        after = "rows from there on removed" if rule.curve.drop else "suppressed from there on"
        curve_words = (f"; each curve ({', '.join(rule.curve.within)}) is cut from the first "
                       f"{rule.curve.time} with {threshold} or fewer at risk: {after}")
    for c in rule.counts:
        at_risk = curve_words if rule.curve and c == rule.curve.at_risk else ""
        notes[c] = (f"count of people: suppressed when 1-{threshold}{secondary}{at_risk}; "
                    f"otherwise {rounding}")
        notes[f"{c}_suppressed"] = f"true where {c} is suppressed"
    for c, bases in rule.derived.items():
        notes[c] = (f"derived from {', '.join(bases)} (exact counts); suppressed whenever any "
                    f"of them is suppressed")
        notes[f"{c}_suppressed"] = f"true where {c} is suppressed"
    for c, (num, den) in rule.ratios.items():
        notes[c] = (f"{num} / {den}, recomputed from the published ({rounding}) counts; "
                    f"suppressed when either is suppressed")
        notes[f"{c}_suppressed"] = f"true where {c} is suppressed"
    for c in df.columns:
        if c in UNIT_COLUMNS:
            notes.setdefault(c, UNIT_NOTE)
        elif c == "stratum_value":
            notes.setdefault(c, STRATUM_NOTE)
        notes.setdefault(c, "not a count: published as computed (grouping or descriptive column)")
    notes.update({c: text for c, text in rule.notes.items() if c in notes})
    return notes


# ---- publication units -----------------------------------------------------------------------

COUNTRY_NAMES = {"NO": "Norway", "DK": "Denmark"}
UNIT_COLUMNS_OUT = ("country", "region", "municipality_code", "municipality_name", "unit_code",
                    "unit_name", "unit_kind", "unit_region", "n_municipalities_in_unit")


@dataclass
class _Unit:
    kind: str  # municipality | region | country
    members: list[dict[str, Any]]
    region: str | None = None

    @property
    def n(self) -> int:
        return sum(int(m["n_participants"]) for m in self.members)

    @property
    def key(self) -> tuple[int, str]:
        return self.n, min(str(m["municipality_code"]) for m in self.members)


def publication_units(municipalities: pl.DataFrame, min_participants: int) -> pl.DataFrame:
    """Map each municipality (country, region, municipality_code, municipality_name,
    n_participants) to the unit it is published in.

    A municipality with fewer than `min_participants` participants is small. In each country
    with at least two municipalities: the small ones of a region are merged into a region
    aggregate when there are at least two of them and together they reach the minimum; the
    small ones left are merged into a country aggregate; while that aggregate is still below
    the minimum (or holds one municipality), the smallest other unit of the country is merged
    into it, so it can never be worked out as the country total minus published units. A
    country with one municipality publishes it alone (its total is the country's anyway)."""
    out: list[dict[str, Any]] = []
    frame = municipalities.sort("country", "region", "municipality_code", nulls_last=True)
    for (country,), group in frame.group_by(["country"], maintain_order=True):
        rows = group.to_dicts()
        small = [r for r in rows if int(r["n_participants"]) < min_participants]
        units: list[_Unit] = [_Unit("municipality", [r]) for r in rows
                              if int(r["n_participants"]) >= min_participants or len(rows) == 1]
        residual: list[dict[str, Any]] = []
        if len(rows) > 1:
            by_region: dict[Any, list[dict[str, Any]]] = {}
            for r in small:
                by_region.setdefault(r["region"], []).append(r)
            for region, members in by_region.items():
                total = sum(int(m["n_participants"]) for m in members)
                if len(members) >= 2 and total >= min_participants:
                    units.append(_Unit("region", members, region))
                else:
                    residual += members
        if residual:
            aggregate = _Unit("country", residual)
            while (aggregate.n < min_participants or len(aggregate.members) < 2) and units:
                smallest = min(units, key=lambda u: u.key)
                units.remove(smallest)
                aggregate.members += smallest.members
            units.append(aggregate)
        for u in units:
            out += [_unit_row(country, u, m) for m in u.members]
    schema = {"country": pl.String, "region": pl.String, "municipality_code": pl.String,
              "municipality_name": pl.String, "unit_code": pl.String, "unit_name": pl.String,
              "unit_kind": pl.String, "unit_region": pl.String,
              "n_municipalities_in_unit": pl.Int64, "n_participants": pl.Int64,
              "n_participants_in_unit": pl.Int64}
    frame = pl.DataFrame(out, schema=schema, orient="row")
    return _unique_names(frame).sort("country", "region", "municipality_code", nulls_last=True)


def _unique_names(units: pl.DataFrame) -> pl.DataFrame:
    """Unit names tell units apart (they are the municipality strata's values): a name two
    units share gets the country (aggregates) or the code (municipalities) added."""
    for extra in (
        pl.when(pl.col("unit_kind") == "municipality").then(pl.col("unit_code"))
        .otherwise(pl.col("country").replace(COUNTRY_NAMES)),
        pl.col("unit_code"),
    ):
        shared = pl.col("unit_code").n_unique().over("unit_name") > 1
        units = units.with_columns(
            pl.when(shared).then(pl.format("{} ({})", "unit_name", extra))
            .otherwise(pl.col("unit_name")).alias("unit_name"))
    return units


def _unit_row(country: str, unit: _Unit, m: dict[str, Any]) -> dict[str, Any]:
    country_name = COUNTRY_NAMES.get(country, country)
    if unit.kind == "municipality":
        code, name = str(m["municipality_code"]), m["municipality_name"]
    elif unit.kind == "region":
        code, name = f"{country}-agg-{unit.region}", f"Small municipalities, {unit.region}"
    else:
        code, name = f"{country}-agg", f"Small municipalities, {country_name}"
    return {"country": country, "region": m["region"],
            "municipality_code": str(m["municipality_code"]),
            "municipality_name": m["municipality_name"], "unit_code": code, "unit_name": name,
            "unit_kind": unit.kind, "unit_region": unit.region if unit.kind == "region" else None,
            "n_municipalities_in_unit": len(unit.members),
            "n_participants": int(m["n_participants"]), "n_participants_in_unit": unit.n}


def build_publication_units(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Pipeline model int_publication_units (person-level: it holds participant counts; the
    published mapping, mart_publication_units, holds none)."""
    municipalities = inputs.sql(
        "select coalesce(country, 'unknown') as country, "
        "coalesce(region, country, 'unknown') as region, municipality_code, "
        "coalesce(municipality_name, municipality_code) as municipality_name, "
        "count(*) as n_participants "
        "from stg_participants group by all"
    ).pl()
    return publication_units(municipalities, int(params["disclosure.min_unit_participants"]))


def to_units(frame: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """Person-level rows with municipality_code / municipality_name replaced by their
    publication unit's code and name (Python marts group by these columns)."""
    mapping = units.select("municipality_code", "unit_code", "unit_name")
    joined = frame.join(mapping, on="municipality_code", how="left", maintain_order="left")
    replaced = [pl.coalesce("unit_code", "municipality_code").alias("municipality_code")]
    if "municipality_name" in frame.columns:
        replaced.append(pl.coalesce("unit_name", "municipality_name").alias("municipality_name"))
    return joined.with_columns(replaced).drop("unit_code", "unit_name").select(frame.columns)


def with_stratum_country(table: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """Add `stratum_country`: the country of a country or municipality (unit) stratum, else
    null; secondary suppression groups a country's units by it."""
    names = units.select(pl.col("unit_name").alias("_unit"), pl.col("country").alias("_c")
                         ).unique("_unit", keep="first")
    out = table.join(names, left_on="stratum_value", right_on="_unit", how="left",
                     maintain_order="left")
    return out.with_columns(
        pl.when(pl.col("stratum_variable") == "country").then(pl.col("stratum_value"))
        .when(pl.col("stratum_variable") == "municipality").then(pl.col("_c"))
        .otherwise(None).alias("stratum_country")
    ).drop("_c")


def unit_values(units: pl.DataFrame) -> Mapping[str, set[str]]:
    """Codes and names a publishable table may show for a unit (checked at publication)."""
    return {"codes": set(units.get_column("unit_code").to_list()),
            "names": set(units.get_column("unit_name").to_list())}
