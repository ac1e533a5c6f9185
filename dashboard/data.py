"""Data access for the dashboard: the publishable DuckDB file only, opened read-only.

The dashboard process never opens the person-level warehouse: the path comes from
`HFEVAL_PUBLISH_DB` (set by `hfeval dashboard`) or the config default, and this module refuses
any file that is not a publishable database.
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


@st.cache_resource
def connection(path: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path, read_only=True)
    tables = {r[0] for r in con.execute("select table_name from information_schema.tables")
              .fetchall()}
    if "_protection" not in tables:
        con.close()
        raise RuntimeError("this file is not a publishable hfeval database")
    return con


@st.cache_data
def query(path: str, sql: str) -> pl.DataFrame:
    return connection(path).cursor().sql(sql).pl()


@st.cache_data
def manifest(path: str) -> dict:
    return json.loads(connection(path).cursor().execute(
        "select manifest_json from _manifest").fetchall()[0][0])
