"""Plain-text summaries of published results (only the publishable database is read)."""

from __future__ import annotations

import json

import duckdb
from rich.console import Console
from rich.table import Table

from hfeval.config import Paths

SUPPRESSED = "suppr."


def _cell(value: object, suppressed: bool, fmt: str = "{:,}") -> str:
    if suppressed:
        return SUPPRESSED
    if value is None:
        return "–"
    return fmt.format(value)


def print_summary(console: Console, paths: Paths) -> None:
    with duckdb.connect(str(paths.publish_db), read_only=True) as con:
        manifest = json.loads(con.execute("select manifest_json from _manifest").fetchall()[0][0])
        threshold = manifest["parameters"]["disclosure.threshold"]
        base = manifest["parameters"]["disclosure.rounding_base"]
        rows = con.execute(
            "select * from mart_overview_by_municipality order by country, municipality_code, arm"
        ).fetchall()
        cols = [d[0] for d in con.description]
    if manifest.get("synthetic_data"):
        console.print("[bold magenta]SYNTHETIC DATA[/bold magenta] — generated for the demo; "
                      "it describes no real person.")
    t = Table(title=f"Housing First overview · run {manifest['run_id']}", show_edge=False,
              pad_edge=False)
    headers = ("municipality", "arm", "cohorts", "enrolled", "housed", "housed now",
               "% of housed", "median days to housing")
    for c in headers:
        t.add_column(c, justify="left" if c in headers[:3] else "right")
    for r in rows:
        d = dict(zip(cols, r, strict=True))
        t.add_row(
            f"{d['municipality_name']} ({d['country']})",
            "HF" if d["arm"] == "housing_first" else "comparison",
            f"{d['first_cohort_year']}–{str(d['last_cohort_year'])[-2:]}",
            _cell(d["n_participants"], d["n_participants_suppressed"]),
            _cell(d["n_housed"], d["n_housed_suppressed"]),
            _cell(d["n_stably_housed_at_extraction"], d["n_stably_housed_at_extraction_suppressed"]),
            _cell(d["share_of_housed_stably_housed_at_extraction"],
                  d["share_of_housed_stably_housed_at_extraction_suppressed"], "{:.0%}"),
            _cell(d["median_days_to_housing"], d["median_days_to_housing_suppressed"], "{:.0f}"),
        )
    console.print(t)
    console.print(
        f"Counts of people: 1–{threshold} suppressed ({SUPPRESSED}), others rounded to the "
        f"nearest {base}; shares are computed from the rounded counts. 'Housed now' = in own or "
        "supported housing at the extraction date (not yet retention: Kaplan–Meier comes with "
        "the retention analysis)."
    )
