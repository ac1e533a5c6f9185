"""Tiny inline warehouses for the retention tests: validated input tables from CSV text, then
exactly the pipeline's own models (SQL and Python, via the runner's build_model) up to the
tables a test reads. No files, no loaders, no validation: fast, and the SQL under test is the
SQL the pipeline runs."""

from __future__ import annotations

import io
from typing import Any

import duckdb
import polars as pl

from hfeval import contract
from hfeval.config import default_parameters, get_paths
from hfeval.pipeline import build_model
from hfeval.spec import load_spec

SPEC = load_spec(get_paths().pipeline_spec)
EXTRACTION = "2020-12-31"

MUNICIPALITIES = """municipality_code,name,country,region,target_housed_per_year,target_housed_total
4205,Lindesnes,NO,Agder,10,
461,Odense,DK,Syddanmark,,
"""


def participants_for(spells: str, enrolment: str = "2019-01-01", municipality: str = "4205",
                     arm: str = "housing_first") -> str:
    """One participant per id in `spells`, all alike, unless a test needs them to differ."""
    ids = sorted({line.split(",")[0] for line in spells.strip().splitlines()[1:]})
    rows = [f"{pid},{municipality},1980,male,{enrolment},{arm},HF-team" for pid in ids]
    return ("participant_id,municipality_code,birth_year,sex,enrolment_date,arm,support_model\n"
            + "\n".join(rows) + "\n")


def _create_valid(con: duckdb.DuckDBPyConnection, table: contract.Table, csv: str | None,
                  extraction: str) -> None:
    cols = ", ".join(f"{c.name} {c.dtype}" for c in table.columns)
    con.execute(
        f"create table valid_{table.name} (_row_id bigint, _source_id varchar, "
        f"_source_file varchar, _source_row bigint, _extraction_date date, {cols})"
    )
    if not csv:
        return
    frame = pl.read_csv(io.StringIO(csv), infer_schema=False)
    con.register("_rows", frame.to_arrow())
    con.execute(
        f"insert into valid_{table.name} by name select *, 'test' as _source_id, "
        f"date '{extraction}' as _extraction_date from _rows"
    )
    con.unregister("_rows")


def needed_models(targets: list[str]) -> list[str]:
    needed = set(targets)
    for m in reversed(SPEC.models):
        if m.name in needed:
            needed |= set(m.inputs)
    return [m.name for m in SPEC.models if m.name in needed]


def build(
    spells: str,
    participants: str | None = None,
    *,
    targets: tuple[str, ...] = ("mart_tenancies",),
    params: dict[str, Any] | None = None,
    extraction: str = EXTRACTION,
    contacts: str | None = None,
    quality_of_life: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding `targets` built from the inline tables."""
    con = duckdb.connect()
    inputs = {
        "municipalities": MUNICIPALITIES,
        "participants": participants or participants_for(spells),
        "housing_spells": spells,
        "support_contacts": contacts,
        "quality_of_life": quality_of_life,
    }
    for name, table in contract.TABLES.items():
        _create_valid(con, table, inputs.get(name), extraction)
    con.execute("create table load_accounting (table_name varchar)")
    con.execute("create table quarantine (table_name varchar)")
    run_params = {**default_parameters(), **(params or {})}
    for name in needed_models(list(targets)):
        build_model(con, SPEC.model(name), run_params)
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()
