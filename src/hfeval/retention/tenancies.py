"""Reading tenancies and other retention tables from the person-level warehouse, under the run's
definition set or another one.

The warehouse holds the tenancies of the definition the run used. For another definition the
retention models of the pipeline spec (int_retention_parameters -> int_tenancies ->
mart_tenancies, ...) are rebuilt in memory from the warehouse's staging tables with the new
parameters, by the runner's own `build_model`: the same SQL, never a second implementation.
Person-level: for the secure zone only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from hfeval.config import default_parameters, get_paths
from hfeval.retention.definitions import resolve_definition
from hfeval.spec import PipelineSpec, load_spec

PARAMETERS_MODEL = "int_retention_parameters"


def _warehouse(warehouse: Path | None) -> Path:
    path = Path(warehouse) if warehouse else get_paths().warehouse
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `hfeval run --data DIR` first")
    return path


def run_parameters(warehouse: Path | None = None) -> dict[str, Any]:
    """The parameters of the run that built the warehouse (from its manifest), on top of the
    current defaults (so parameters added since that run have values)."""
    with duckdb.connect(str(_warehouse(warehouse)), read_only=True) as con:
        stored = json.loads(con.execute("select manifest_json from _manifest").fetchall()[0][0])
    return {**default_parameters(), **stored.get("parameters", {})}


def is_synthetic(warehouse: Path | None = None) -> bool:
    with duckdb.connect(str(_warehouse(warehouse)), read_only=True) as con:
        return bool(con.execute("select synthetic_data from _manifest").fetchall()[0][0])


def read_table(name: str, warehouse: Path | None = None) -> pl.DataFrame:
    """A table of the person-level warehouse as polars (secure zone only)."""
    with duckdb.connect(str(_warehouse(warehouse)), read_only=True) as con:
        try:
            return con.sql(f"select * from {name}").pl()
        except duckdb.CatalogException:
            raise FileNotFoundError(f"the warehouse has no table {name}: it was built by an "
                                    "older version; rerun `hfeval run`") from None


def _models_to_rebuild(spec: PipelineSpec, targets: list[str]) -> list[str]:
    """Models downstream of the parameters model that the targets depend on, in spec order."""
    names = [m.name for m in spec.models]
    depends = {PARAMETERS_MODEL}
    for m in spec.models:
        if depends & set(m.inputs):
            depends.add(m.name)
    needed = set(targets)
    for m in reversed(spec.models):
        if m.name in needed:
            needed |= set(m.inputs)
    return [n for n in names if n in depends and n in needed]


def rebuild(
    params: dict[str, Any], targets: list[str], warehouse: Path | None = None,
    spec: PipelineSpec | None = None,
) -> dict[str, pl.DataFrame]:
    """Rebuild `targets` (and the retention models they need) with `params`, in memory, from
    the warehouse's other tables; return them as polars frames."""
    from hfeval.pipeline import build_model  # the runner's own model builder

    spec = spec or load_spec(get_paths().pipeline_spec)
    rebuild_names = _models_to_rebuild(spec, targets)
    con = duckdb.connect()
    try:
        path = str(_warehouse(warehouse)).replace("'", "''")
        con.execute(f"attach '{path}' as wh (read_only)")
        for name in rebuild_names:
            model = spec.model(name)
            for source in model.inputs:
                if source not in rebuild_names:
                    con.execute(f"create or replace view {source} as "
                                f"select * from wh.main.{source}")
            build_model(con, model, params)
        return {t: con.sql(f"select * from {t}").pl() for t in targets}
    finally:
        con.close()


def load_tenancies(
    warehouse: Path | None = None, params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """mart_tenancies under the definition in `params` (default: the run's own). Rebuilt in
    memory when that definition differs from the one the warehouse was built with."""
    run = run_parameters(warehouse)
    wanted = resolve_definition(params or run)
    if wanted.name == resolve_definition(run).name:
        return read_table("mart_tenancies", warehouse)
    full = {**run, **(params or {})}
    return rebuild(full, ["mart_tenancies"], warehouse)["mart_tenancies"]
