"""The unit-cost catalogue: one cost per country, service and unit, with payer and source.

The defaults are `data/reference/unit_costs.csv` (every row cited in SOURCES.md); a user's
`DATA/reference/unit_costs.csv` replaces rows by key (country, service, unit) when the pipeline
loads it. This module adds what costing needs on top: which payer a sector is called in each
country, the day/night equivalence for stays, and the report of service use that cannot be
priced.
"""

from __future__ import annotations

import polars as pl

from hfeval import contract

# A stay recorded in days matches a catalogue row in nights and the other way round.
EQUIVALENT_UNITS = {"day": "night", "night": "day"}

# Payer sectors (contract codes) in the words each country uses (DOMAIN.md §4).
PAYER_LABELS: dict[str, dict[str, str]] = {
    "NO": {
        "municipality": "municipality (kommune)",
        "specialist_health": "specialist health (state trusts)",
        "justice": "justice (state)",
        "welfare": "welfare (NAV, state)",
        "citizen": "citizen",
        "other": "other",
    },
    "DK": {
        "municipality": "municipality (kommune)",
        "specialist_health": "region (hospitals, psychiatry)",
        "justice": "state (justice)",
        "welfare": "state (welfare)",
        "citizen": "citizen",
        "other": "other",
    },
}
PAYER_SECTORS: tuple[str, ...] = contract.PAYER_SECTOR
# The programme itself is paid by the municipality (contract: programme_costs).
PROGRAMME_PAYER = "municipality"


def payer_label(payer: str, country: str | None) -> str:
    if country in PAYER_LABELS:
        return PAYER_LABELS[country].get(payer, payer)
    return payer


def check_catalogue(catalogue: pl.DataFrame) -> list[str]:
    """Problems that make a catalogue unusable for costing (the GX suite checks types and
    codes at load time; this guards frames built in code). Messages name columns and counts."""
    problems = []
    amount = "amount_per_unit" if "amount_per_unit" in catalogue.columns else "amount"
    negative = catalogue.filter(pl.col(amount) < 0).height
    if negative:
        problems.append(f"unit_costs: {negative} row(s) with a negative {amount}")
    keys = catalogue.select("country", "service", "unit")
    duplicated = keys.height - keys.unique().height
    if duplicated:
        problems.append(f"unit_costs: {duplicated} duplicated (country, service, unit) key(s)")
    return problems


def unpriced_summary(priced_events: pl.DataFrame) -> pl.DataFrame:
    """Service use the catalogue cannot price: events, quantity and people by country,
    service and unit (from int_service_use_priced rows)."""
    return (
        priced_events.filter(~pl.col("is_priced"))
        .group_by("country", "service", "unit")
        .agg(
            pl.len().alias("n_events"),
            pl.col("quantity").sum().alias("total_quantity"),
            pl.col("participant_id").n_unique().alias("n_participants"),
        )
        .sort("country", "service", "unit")
    )
