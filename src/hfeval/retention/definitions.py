"""Retention definitions as named, documented parameter sets.

Real evaluations disagree on what "keeping one's home" means (DOMAIN.md §3), so every choice is
a named value here, and every retention output records the set it used and its values (the
`int_retention_parameters` table, copied into each mart's `definition_name`).

A **tenancy** starts at a move-in to stable housing (own lease, municipal flat, supported housing)
on or after enrolment and is followed, in the person's housing spells, until one of:

- **censoring**: the flat is still lived in at the data extraction date (also a spell closed *on*
  the extraction date with no known reason: exports often close open spells that day); or the
  person is in a short institution/prison/hospital stay at extraction, or left for one that was
  never recorded, so whether it turns out short or long is unknown (censored on the day they
  left the flat);
- **loss of housing**: eviction, abandonment, return to homelessness, an unknown exit, a move to
  anything but another own flat, or not being rehoused after a short stay;
- **competing events**: death, and a stay in an institution, prison or hospital longer than
  `long_stay_min_days` (dated on the day the person left the flat).

A move to another own flat starting within `move_max_gap_days` of leaving the last one, with an
end reason in `move_reasons`, continues the same tenancy (moving flat is not a loss); so does a
stay of at most `long_stay_min_days` in an institution, prison or hospital followed by a return
to stable housing within `move_max_gap_days`. Losses recorded as eviction, abandonment or return
to homelessness stay losses even when the person is rehoused quickly: the rehousing starts a new
tenancy (and a new placement for returns to homelessness).

How deaths and long stays are then counted is what distinguishes the sets:

| set | deaths | long stays | moves | returns: unit, min gap |
|---|---|---|---|---|
| housing_first | competing | competing | continue | person, 0 days |
| hud_spm | dropped from the denominator | loss | continue | person, 15 days |
| strict_any_exit | loss | loss | loss | placement, 0 days |
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from hfeval import contract

Handling = Literal["competing", "loss", "censor", "exclude"]
HANDLINGS = ("competing", "loss", "censor", "exclude")
RETURN_UNITS = ("person", "placement")

# Parameter names that override single values of the named set (config.PARAMETER_DOCS).
OVERRIDES = {
    "retention.move_max_gap_days": "move_max_gap_days",
    "retention.long_stay_min_days": "long_stay_min_days",
    "retention.returns.min_gap_days": "returns_min_gap_days",
    "retention.returns.unit": "returns_unit",
}


@dataclass(frozen=True)
class RetentionDefinition:
    name: str
    description: str
    source: str
    # Moves: None = no move ever continues a tenancy (every exit from a flat ends it).
    move_max_gap_days: int | None
    move_reasons: tuple[str, ...]
    # Stays in these places longer than long_stay_min_days end a tenancy; None = every stay does.
    long_stay_min_days: int | None
    long_stay_handling: Handling
    death_handling: Handling
    returns_min_gap_days: int
    returns_unit: Literal["person", "placement"]
    long_stay_types: tuple[str, ...] = ("institution", "prison", "hospital")
    stable_types: tuple[str, ...] = contract.STABLE_HOUSING_TYPES
    homeless_types: tuple[str, ...] = contract.HOMELESS_HOUSING_TYPES

    def __post_init__(self) -> None:
        for field_name in ("long_stay_handling", "death_handling"):
            if getattr(self, field_name) not in HANDLINGS:
                raise ValueError(f"retention definition {self.name}: {field_name} must be one "
                                 f"of {HANDLINGS}")
        if self.long_stay_handling == "exclude":
            raise ValueError(f"retention definition {self.name}: long stays cannot be excluded")
        if self.returns_unit not in RETURN_UNITS:
            raise ValueError(f"retention definition {self.name}: returns unit must be one of "
                             f"{RETURN_UNITS}")
        for field_name in ("move_max_gap_days", "long_stay_min_days"):
            value = getattr(self, field_name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"retention definition {self.name}: {field_name} must be a "
                                 "whole number of days >= 0, or empty")
        if not isinstance(self.returns_min_gap_days, int) or self.returns_min_gap_days < 0:
            raise ValueError(f"retention definition {self.name}: returns min gap must be >= 0")
        unknown = set(self.move_reasons) - set(contract.END_REASON)
        if unknown:
            raise ValueError(f"retention definition {self.name}: unknown move reasons "
                             f"{sorted(unknown)}")

    def values(self) -> dict[str, Any]:
        """Every value of the set, for manifests, tables and the CLI header."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def summary(self) -> str:
        """One line saying what the set counts, for the top of a printed table."""
        moves = ("any move ends a tenancy" if self.move_max_gap_days is None else
                 f"a move to another own flat within {self.move_max_gap_days} days continues "
                 "the tenancy")
        stays = ("any institution/prison/hospital stay ends it" if self.long_stay_min_days is None
                 else f"institution/prison/hospital stays over {self.long_stay_min_days} days "
                 "end it")
        return (f"{self.name}: {moves}; {stays} ({_HANDLING_WORDS[self.long_stay_handling]}); "
                f"deaths: {_HANDLING_WORDS[self.death_handling]}; ongoing tenancies censored "
                "at extraction")


_HANDLING_WORDS = {"competing": "competing event", "loss": "counted as loss",
                   "censor": "censored", "exclude": "dropped from the denominator"}


HOUSING_FIRST = RetentionDefinition(
    name="housing_first",
    description=(
        "Housing First retention (DOMAIN.md §3): from the first move-in to an own flat until "
        "loss of housing; moving flat is not a loss; death and long institution, prison or "
        "hospital stays are competing events; ongoing tenancies are censored at extraction."
    ),
    source=(
        "DOMAIN.md §3. 30-day move gap: assumption. 90 days for a long stay: HUD's definition of "
        "chronic homelessness (24 CFR 578.3), where institutional stays under 90 days do not "
        "break an episode; an assumption here, override with retention.long_stay_min_days."
    ),
    move_max_gap_days=30,
    move_reasons=("moved_within_programme", "voluntary_move", "unknown"),
    long_stay_min_days=90,
    long_stay_handling="competing",
    death_handling="competing",
    returns_min_gap_days=0,
    returns_unit="person",
)

HUD_SPM = RetentionDefinition(
    name="hud_spm",
    description=(
        "HUD System Performance Measures style: deaths are dropped from the denominator "
        "(SPM 7b.2); leaving for an institution, prison or hospital for longer than the "
        "threshold is not a permanent destination, so it counts as a loss; returns count each "
        "person's first placement and ignore re-entries within 14 days (SPM 2)."
    ),
    source=(
        "DOMAIN.md §3 (SPM 7b.2, SPM 2). SPM 2 applies its 14-day rule to re-entries into "
        "transitional or permanent housing projects; here it is applied to every homeless spell."
    ),
    move_max_gap_days=30,
    move_reasons=("moved_within_programme", "voluntary_move", "unknown"),
    long_stay_min_days=90,
    long_stay_handling="loss",
    death_handling="exclude",
    returns_min_gap_days=15,
    returns_unit="person",
)

STRICT_ANY_EXIT = RetentionDefinition(
    name="strict_any_exit",
    description=(
        "Strict: time in the first flat. Any exit from it - a move, a stay anywhere, death - "
        "is a loss; only flats still lived in at extraction are censored."
    ),
    source="A lower bound for retention; useful to show how much the definition matters.",
    move_max_gap_days=None,
    move_reasons=(),
    long_stay_min_days=None,
    long_stay_handling="loss",
    death_handling="loss",
    returns_min_gap_days=0,
    returns_unit="placement",
)

DEFINITIONS: dict[str, RetentionDefinition] = {
    d.name: d for d in (HOUSING_FIRST, HUD_SPM, STRICT_ANY_EXIT)
}
DEFAULT = HOUSING_FIRST.name


def get_definition(name: str) -> RetentionDefinition:
    try:
        return DEFINITIONS[name]
    except KeyError:
        raise KeyError(f"unknown retention definition {name!r}; known: "
                       f"{', '.join(DEFINITIONS)}") from None


def resolve_definition(params: dict[str, Any]) -> RetentionDefinition:
    """The named set from `retention.definition`, with any single-value overrides applied.
    An overridden set is renamed `<name>+<field>=<value>`, so outputs never carry the plain name
    of a set whose values they do not use."""
    base = get_definition(str(params.get("retention.definition") or DEFAULT))
    changes = {}
    for key, field_name in OVERRIDES.items():
        value = params.get(key)
        if value is not None and value != getattr(base, field_name):
            changes[field_name] = value
    if not changes:
        return base
    suffix = "+".join(f"{k}={v}" for k, v in changes.items())
    return dataclasses.replace(base, name=f"{base.name}+{suffix}", **changes)


def parse_windows(windows: list[str] | tuple[str, ...]) -> list[tuple[str, int, int]]:
    """'0-180' -> ('0-180', 0, 180); windows are inclusive day ranges after the placement."""
    out = []
    for w in windows:
        lo, sep, hi = str(w).partition("-")
        if not sep or not lo.strip().isdigit() or not hi.strip().isdigit() or int(lo) > int(hi):
            raise ValueError(f"retention.returns.windows: {w!r} is not a day range like 0-180")
        out.append((f"{int(lo)}-{int(hi)}", int(lo), int(hi)))
    return out


def parameters_frame(params: dict[str, Any]) -> pl.DataFrame:
    """One row: the resolved definition and the analysis parameters the retention SQL reads."""
    d = resolve_definition(params)
    windows = parse_windows(params["retention.returns.windows"])
    row = {
        "definition_name": d.name,
        "definition_description": d.description,
        "move_max_gap_days": d.move_max_gap_days,
        "move_reasons": list(d.move_reasons),
        "long_stay_types": list(d.long_stay_types),
        "long_stay_min_days": d.long_stay_min_days,
        "long_stay_handling": d.long_stay_handling,
        "death_handling": d.death_handling,
        "returns_min_gap_days": d.returns_min_gap_days,
        "returns_unit": d.returns_unit,
        "returns_windows": [w[0] for w in windows],
        "days_per_month": float(params["retention.days_per_month"]),
        "days_housed_window_days": int(params["retention.days_housed_window_days"]),
        "temporary_stay_max_days": int(params["retention.temporary_stay_max_days"]),
        "home_visits_target_per_week": float(params["retention.home_visits_target_per_week"]),
    }
    schema = {
        "definition_name": pl.String, "definition_description": pl.String,
        "move_max_gap_days": pl.Int32, "move_reasons": pl.List(pl.String),
        "long_stay_types": pl.List(pl.String), "long_stay_min_days": pl.Int32,
        "long_stay_handling": pl.String, "death_handling": pl.String,
        "returns_min_gap_days": pl.Int32, "returns_unit": pl.String,
        "returns_windows": pl.List(pl.String), "days_per_month": pl.Float64,
        "days_housed_window_days": pl.Int32, "temporary_stay_max_days": pl.Int32,
        "home_visits_target_per_week": pl.Float64,
    }
    return pl.DataFrame([row], schema=schema)


def build_parameters(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Python model `int_retention_parameters` (reads no table)."""
    return parameters_frame(params)


def build_definition_table(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """Python model `mart_retention_definition`: the definition and parameters used, one row per
    value, readable beside every published retention table (describes no person)."""
    d = resolve_definition(params)
    rows = [("definition_name", d.name, "Name of the definition set (with any overrides)."),
            ("definition_description", d.description, "What the set counts."),
            ("definition_source", d.source, "Where its values come from.")]
    for name, value in d.values().items():
        if name not in ("name", "description", "source"):
            shown = ", ".join(value) if isinstance(value, tuple) else value
            rows.append((name, "" if shown is None else str(shown), "Definition value."))
    for key in ("retention.report_months", "retention.days_per_month",
                "retention.returns.windows", "retention.days_housed_window_days",
                "retention.temporary_stay_max_days", "retention.home_visits_target_per_week",
                "disclosure.threshold", "disclosure.rounding_base"):
        value = params[key]
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        rows.append((key, shown, "Run parameter."))
    return pl.DataFrame(rows, schema={"parameter": pl.String, "value": pl.String,
                                      "note": pl.String}, orient="row")
