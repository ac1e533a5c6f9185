"""Python models of the pipeline (pipeline.yaml `python:` entries): estimates SQL cannot make.

Each is a function (inputs, params) -> polars DataFrame; `inputs` runs SELECTs on the model's
declared inputs only (hfeval.spec.ModelInputs) and the parameters are the run's, so the manifest
records them. Publishable ones are disclosure-controlled when published, by the rule in
pipeline.yaml: there, curves are cut where the number at risk falls to the threshold (the
`curve` rule) and suppressed cells get complements (`secondary`), which needs every row here,
so these tables are not cut themselves. The municipality stratum is the publication unit
(hfeval.disclosure.publication_units: a municipality, or an aggregate of small ones), and
`stratum_country` names the country of a country or unit stratum.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from hfeval.disclosure import to_units, with_stratum_country
from hfeval.retention import fidelity, outcomes, survival
from hfeval.retention.definitions import resolve_definition

# Strata for tables published by municipality and country only (smaller tables).
GEOGRAPHY = ("all", "country", "municipality")


def _strata(params: dict[str, Any]) -> list[str]:
    return ["all", *params["retention.strata"]]


def _label(frame: pl.DataFrame, params: dict[str, Any]) -> pl.DataFrame:
    """Every retention output names the definition set it used, as its first column."""
    name = resolve_definition(params).name
    return frame.select(pl.lit(name).alias("definition_name"), pl.all())


def _units(inputs: Any) -> pl.DataFrame:
    return inputs.sql("select * from int_publication_units").pl()


def _tenancies(inputs: Any, units: pl.DataFrame) -> pl.DataFrame:
    """mart_tenancies with each person's municipality replaced by their publication unit."""
    return to_units(inputs.sql("select * from mart_tenancies").pl(), units)


def build_retention_by_stratum(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """mart_retention_by_stratum: S(t) with 95 % CI and number at risk at the report months,
    per arm and stratum, from each person's first tenancy. Losses by t are not published: with
    S(t) and n they would add nothing, and alone they would be small counts."""
    units = _units(inputs)
    table = survival.retention_by_stratum(
        _tenancies(inputs, units), _strata(params), params["retention.report_months"],
        float(params["retention.days_per_month"]),
    )
    return _label(with_stratum_country(table.drop("n_events"), units), params)


def build_km_curve_by_stratum(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """mart_km_curve_by_stratum: the KM curve on a monthly grid (exact days of single losses
    stay hidden), per arm and stratum, while anyone is at risk. Publication cuts each curve
    before the first month with `disclosure.threshold` or fewer at risk (pipeline.yaml)."""
    units = _units(inputs)
    table = survival.km_grid_by_stratum(
        _tenancies(inputs, units), _strata(params), float(params["retention.days_per_month"]))
    return _label(with_stratum_country(table, units), params)


def build_cumulative_incidence_by_stratum(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """mart_cumulative_incidence_by_stratum: Aalen-Johansen cumulative incidence of loss, death
    and long stays at the report months, per arm and stratum (all, country, municipality)."""
    units = _units(inputs)
    table = survival.cumulative_incidence_by_stratum(
        _tenancies(inputs, units), GEOGRAPHY, params["retention.report_months"],
        float(params["retention.days_per_month"]))
    return _label(with_stratum_country(table, units), params)


def build_time_to_housing(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """mart_time_to_housing: KM median days from enrolment to first move-in (95 % CI; never
    housed censored at extraction or death) and shares housed by day t, per arm and stratum."""
    units = _units(inputs)
    people = to_units(inputs.sql("select * from mart_person_outcomes").pl(), units)
    by = [*GEOGRAPHY, "cohort_year"]
    # Fixed days (61 = Mandal's 2-month ceiling), so the published columns never change.
    table = outcomes.time_to_housing(people, by, outcomes.HOUSED_BY_DAYS)
    return _label(with_stratum_country(table, units), params)


def build_mansa_change(inputs: Any, params: dict[str, Any]) -> pl.DataFrame:
    """mart_mansa_change: paired MANSA mean change from baseline to each follow-up wave, with
    95 % CI, per arm and stratum (all, country, municipality)."""
    qol = inputs.sql(
        "select participant_id, wave, mansa_mean_score from stg_quality_of_life"
    ).pl()
    units = _units(inputs)
    participants = to_units(inputs.sql(
        "select participant_id, arm, country, municipality_code, municipality_name "
        "from stg_participants"
    ).pl(), units)
    table = fidelity.mansa_change(fidelity.mansa_pairs(qol, participants), GEOGRAPHY)
    return with_stratum_country(table, units)
