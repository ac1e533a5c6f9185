"""Data access for the dashboard: the publishable DuckDB file only, opened read-only.

The dashboard process never opens the person-level warehouse: the path comes from
`HFEVAL_PUBLISH_DB` (set by `hfeval dashboard`) or the config default, and this module refuses
any file that is not a publishable database (one without the `_protection` table the publish
step writes).

Query results, the manifest and the protection notes are cached as shared objects
(`st.cache_resource`), not copied on every read (`st.cache_data` unpickles a fresh copy at each
call, which costs more than the query for a national table): treat them as read-only. The file
is opened read-only and a published file does not change under a running dashboard.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from hfeval.config import get_paths


def publish_db_path() -> Path:
    env = os.environ.get("HFEVAL_PUBLISH_DB")
    return Path(env) if env else get_paths().publish_db


def db() -> str:
    return str(publish_db_path())


@st.cache_resource
def connection(path: str) -> duckdb.DuckDBPyConnection:
    # Refuse the person-level warehouse by path before opening anything.
    if Path(path).resolve() == get_paths().warehouse.resolve():
        raise RuntimeError("the dashboard reads only the publishable database, not the warehouse")
    con = duckdb.connect(path, read_only=True)
    if "_protection" not in tables_of(con):
        con.close()
        raise RuntimeError("this file is not a publishable hfeval database")
    return con


def tables_of(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("select table_name from information_schema.tables")
            .fetchall()}


@st.cache_resource(show_spinner=False)
def tables(path: str) -> frozenset[str]:
    return frozenset(tables_of(connection(path).cursor()))


# Bounded: a query per table and filter (the areas of a national database are ~800).
@st.cache_resource(show_spinner=False, max_entries=2000)
def query(path: str, sql: str, params: tuple = ()) -> pl.DataFrame:
    return connection(path).cursor().sql(sql, params=list(params) or None).pl()


def table(name: str, where: str = "", params: tuple = (), order: str = "") -> pl.DataFrame:
    """A whole publishable table (or the rows matching `where`); empty if it was not published."""
    path = db()
    if name not in tables(path):
        return pl.DataFrame()
    sql = f'select * from "{name}"' + (f" where {where}" if where else "") + \
        (f" order by {order}" if order else "")
    return query(path, sql, params)


@st.cache_resource(show_spinner=False)
def manifest(path: str) -> dict:
    return json.loads(connection(path).cursor().execute(
        "select manifest_json from _manifest").fetchall()[0][0])


@st.cache_resource(show_spinner=False)
def protection(path: str) -> dict[tuple[str, str], str]:
    """How each published column was protected: (table, column) -> note."""
    rows = connection(path).cursor().execute(
        "select table_name, column_name, protection from _protection").fetchall()
    return {(t, c): p for t, c, p in rows}
