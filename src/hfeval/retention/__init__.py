"""Housing retention analytics: do people keep their homes?

- `definitions`: what counts as a tenancy, a loss, a competing event and a return, as named
  parameter sets (housing_first, hud_spm, strict_any_exit).
- `tenancies`: tenancies and other retention tables from the warehouse, under any definition.
- `survival`: Kaplan-Meier with 95 % CI and numbers at risk, Aalen-Johansen cumulative
  incidence by cause, log-rank test, Cox model.
- `outcomes`: time to housing (KM median, never-housed censored).
- `fidelity`: MANSA change from baseline (paired); home visits are in SQL (mart_fidelity).
- `marts`: the pipeline's Python models; `report`: the `hfeval retention` command.

The SQL side is in pipelines/: int_tenancies, int_returns, int_temporary_stays,
mart_tenancies, mart_person_outcomes and the publishable retention marts.
"""

from hfeval.retention.definitions import (
    DEFINITIONS,
    RetentionDefinition,
    get_definition,
    resolve_definition,
)

__all__ = ["DEFINITIONS", "RetentionDefinition", "get_definition", "resolve_definition"]
