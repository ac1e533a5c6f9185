"""Compare two runs: order-independent content hashes of every table of a database, and report
HTML with the run-specific parts removed.

Two runs of the same inputs and parameters must give hash-equal publishable databases and equal
report content. What differs by design, and is left out of the comparison:

- `_manifest`: the run id, `started_at`, `finished_at`, `seconds_total`, the seconds of each
  step and the Data Docs path (it holds the run id). Everything else in the manifest (inputs'
  SHA-256, parameters, package versions, git commit, row counts) must match.
- reports: text in `data-volatile` spans (run id, run time) and run ids anywhere else (the page
  footer).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import duckdb

VOLATILE_MANIFEST_KEYS = ("run_id", "started_at", "finished_at", "seconds_total", "data_docs")
VOLATILE_STEP_KEYS = ("seconds",)
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")  # pipeline.new_run_id()
VOLATILE_SPAN = re.compile(r"<span data-volatile>.*?</span>", re.DOTALL)


def normalise_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in manifest.items() if k not in VOLATILE_MANIFEST_KEYS}
    out["steps"] = [{k: v for k, v in s.items() if k not in VOLATILE_STEP_KEYS}
                    for s in manifest.get("steps", [])]
    return out


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """SHA-256 of a table's column names, types and rows, independent of row order.

    Floats are hashed by their exact repr, so any change in the last bit shows.
    """
    res = con.execute(f'select * from "{table}"')
    schema = [(d[0], str(d[1])) for d in res.description]
    rows = res.fetchall()
    if table == "_manifest":
        cols = [c for c, _ in schema]
        rows = [tuple(None if c == "run_id" else
                      json.dumps(normalise_manifest(json.loads(v)), sort_keys=True, default=str)
                      if c == "manifest_json" else v for c, v in zip(cols, r, strict=True))
                for r in rows]
    h = hashlib.sha256(repr(schema).encode())
    for line in sorted(repr(r) for r in rows):
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()


def database_digests(db: Path, prefix: str = "") -> dict[str, str]:
    """Content hash of every table (whose name starts with `prefix`) in a DuckDB file."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [n for (n,) in con.execute(
            "select table_name from information_schema.tables order by table_name").fetchall()
            if n.startswith(prefix)]
        return {n: table_digest(con, n) for n in names}


def differing_tables(a: Path, b: Path, prefix: str = "") -> list[str]:
    """Tables whose content differs between two databases, or that only one of them has."""
    da, db = database_digests(a, prefix), database_digests(b, prefix)
    return sorted(n for n in set(da) | set(db) if da.get(n) != db.get(n))


def normalise_html(html: str) -> str:
    return RUN_ID.sub("RUN-ID", VOLATILE_SPAN.sub("<span data-volatile></span>", html))


def html_digest(html: str) -> str:
    return hashlib.sha256(normalise_html(html).encode("utf-8")).hexdigest()
