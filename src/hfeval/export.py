"""CSV exports that are safe to open in a spreadsheet (no formula injection).

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula
by Excel, LibreOffice and Google Sheets (`=HYPERLINK(...)` can send data away). Following the
OWASP advice on CSV injection, such text cells are prefixed with a single quote, which the
spreadsheet shows as text. Numbers are left alone: a negative number cannot carry a formula and
a quote would turn it into text. Every CSV hfeval writes for people (dashboard downloads, CLI
`--format csv`) goes through `safe_csv`.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def safe_cell(value: str | None) -> str | None:
    """`value`, prefixed with a single quote if a spreadsheet would run it as a formula."""
    if value is None or not value.startswith(FORMULA_START) or _NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_frame(df: Any) -> pl.DataFrame:
    """A polars copy of `df` (polars or pandas) with every text cell made safe."""
    frame = df if isinstance(df, pl.DataFrame) else pl.from_pandas(df)
    text = [n for n, t in frame.schema.items() if t in (pl.String, pl.Categorical, pl.Enum)]
    return frame.with_columns(_safe_expr(pl.col(n).cast(pl.String)).alias(n) for n in text)


def _safe_expr(c: pl.Expr) -> pl.Expr:
    risky = c.str.contains(r"^[=+\-@\t\r]") & ~c.str.contains(f"^(?:{_NUMBER.pattern})$")
    return pl.when(risky).then(pl.lit("'") + c).otherwise(c)


def safe_csv(df: Any) -> str:
    """CSV text (UTF-8, comma, header) of a polars or pandas frame, safe against formulas."""
    return safe_frame(df).write_csv()
