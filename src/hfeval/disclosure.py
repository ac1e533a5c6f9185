"""Disclosure control for publishable tables (primary suppression and rounding).

Rules (DOMAIN.md §5, OpenSAFELY defaults): a count of people between 1 and `threshold`
(inclusive) is suppressed; every other count is rounded to the nearest multiple of
`rounding_base`; a value derived from counts (a median, a mean) is suppressed whenever any count
it derives from is suppressed; a ratio of two counts (a share) is recomputed from the published,
rounded counts, so it cannot reveal the exact counts behind them. Zero is not disclosive and
stays 0.

Each protected count column gets a companion `<column>_suppressed` flag so a suppressed cell is
shown as suppressed, never as zero, and `protection_notes` says how every column was protected.

Secondary suppression (cells recoverable from totals or other tables) is added by the
disclosure-control issue; until then publishable marts publish no totals beside their cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True)
class DisclosureRule:
    counts: tuple[str, ...] = ()
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ratios: dict[str, tuple[str, str]] = field(default_factory=dict)  # column: (numerator, denominator)
    enabled: bool = True  # False for tables that describe no person (reference data)

    @classmethod
    def from_spec(cls, spec: object) -> DisclosureRule:
        if spec in (None, "none"):
            return cls(enabled=False)
        if not isinstance(spec, dict):
            raise TypeError(f"disclosure must be 'none' or a mapping, got {spec!r}")
        derived = {k: tuple([v] if isinstance(v, str) else v) for k, v in
                   (spec.get("derived") or {}).items()}
        ratios = {k: (v[0], v[1]) for k, v in (spec.get("ratios") or {}).items()}
        return cls(counts=tuple(spec.get("counts") or ()), derived=derived, ratios=ratios)


def is_disclosive(count: int | None, threshold: int) -> bool:
    return count is not None and 0 < count <= threshold


def round_count(count: int, base: int) -> int:
    """Round half up to the nearest multiple of base (8 -> 10, 12 -> 10, 13 -> 15 for base 5)."""
    return int((count + base / 2) // base * base)


def protect(
    df: pl.DataFrame, rule: DisclosureRule, *, threshold: int, rounding_base: int
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Return the protected table and a note per column saying how it was protected."""
    if not rule.enabled:
        return df, {c: "not protected: describes no person" for c in df.columns}
    missing = [c for c in (*rule.counts, *rule.derived, *rule.ratios) if c not in df.columns]
    if missing:
        raise KeyError(f"disclosure rule names columns the table lacks: {missing}")

    def rounded(c: str) -> pl.Expr:
        return ((pl.col(c) + rounding_base / 2) // rounding_base * rounding_base).cast(pl.Int64)

    # Suppressed: 1..threshold, and any count whose rounded value would fall in that range
    # (threshold 10, base 5: 11 rounds to 10).
    suppressed = {
        c: pl.col(c).is_not_null() & (pl.col(c) > 0)
        & ((pl.col(c) <= threshold) | (rounded(c) <= threshold))
        for c in rule.counts
    }
    exprs: list[pl.Expr] = []
    notes: dict[str, str] = {}
    for c in rule.counts:
        exprs.append(pl.when(suppressed[c]).then(None).otherwise(rounded(c)).alias(c))
        exprs.append(suppressed[c].fill_null(False).alias(f"{c}_suppressed"))
        notes[c] = (
            f"count of people: suppressed when 1-{threshold}, "
            f"otherwise rounded to the nearest {rounding_base}"
        )
        notes[f"{c}_suppressed"] = f"true where {c} is suppressed"
    for c, bases in rule.derived.items():
        unknown = [b for b in bases if b not in suppressed]
        if unknown:
            raise KeyError(f"derived column {c} refers to non-count columns {unknown}")
        any_small = pl.any_horizontal([suppressed[b] for b in bases]).fill_null(False)
        exprs.append(pl.when(any_small).then(None).otherwise(pl.col(c)).alias(c))
        exprs.append(any_small.alias(f"{c}_suppressed"))
        notes[c] = (
            f"derived from {', '.join(bases)} (unrounded); suppressed when any of them is "
            f"1-{threshold}"
        )
        notes[f"{c}_suppressed"] = f"true where {c} is suppressed"
    out = df.with_columns(exprs)
    ratio_exprs: list[pl.Expr] = []
    for c, (num, den) in rule.ratios.items():
        if num not in suppressed or den not in suppressed:
            raise KeyError(f"ratio column {c} must divide two count columns")
        hidden = (pl.col(f"{num}_suppressed") | pl.col(f"{den}_suppressed")).fill_null(False)
        ratio = pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))
        ratio_exprs.append(pl.when(hidden).then(None).otherwise(ratio).alias(c))
        ratio_exprs.append(hidden.alias(f"{c}_suppressed"))
        notes[c] = f"{num} / {den}, recomputed from the published (rounded) counts"
        notes[f"{c}_suppressed"] = f"true where {c} is suppressed"
    out = out.with_columns(ratio_exprs)
    for c in df.columns:
        notes.setdefault(c, "not a count: published as computed (grouping or descriptive column)")
    return out, notes
