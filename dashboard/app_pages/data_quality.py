"""Data quality: the last run, the files it read, validation results and quarantined rows.

Everything here is a count of rows in the input files, never of people with a characteristic,
and never a value from a row: published as it is (pipeline.yaml: mart_data_quality has no
disclosure rule), so the page shows exact counts with kind "int", not "count".
"""

import datetime as dt
import re

import data
import polars as pl
import streamlit as st
import ui
from babel import dates as babel_dates

from hfeval import i18n

NS = "data_quality"
m = data.manifest(data.db())
p = ui.params()


def t(key: str, **kw) -> str:
    return ui.tr(f"{NS}.{key}", **kw)


def known(key: str, fallback: str) -> str:
    """A translated word for a code from the manifest; the code itself if it has none."""
    full = f"{NS}.{key}"
    return ui.tr(full) if i18n.has(full, ui.lang()) else fallback


def table_label(name: str) -> str:
    return known(f"tables.{name}", name)


def short_date(value: str | None, with_time: bool = False) -> str:
    """A date (or UTC time) in the locale's short numeric form: st.table renders cells as
    Markdown, and a long Nordic date ("30. september 2018") would turn into a numbered list."""
    if not value:
        return "–"
    when = dt.datetime.fromisoformat(str(value))
    locale = i18n.LOCALES[ui.lang()]
    if with_time:
        return babel_dates.format_datetime(when, "short", locale=locale) + " UTC"
    return babel_dates.format_date(when.date(), "short", locale=locale)


def yes_no(flag: object) -> str:
    return t("yes") if flag else t("no")


# ---- expectations in plain words ---------------------------------------------------------------


def bound(value: object) -> str:
    if isinstance(value, dict) and value.get("$PARAMETER") == "extraction_date":
        return t("check.extraction_date")
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return short_date(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Years and other whole bounds as they are (1990, not 1 990); others in the locale.
        if float(value).is_integer() and 1000 <= value <= 2999:
            return str(int(value))
        return i18n.fmt_num(value, ui.lang(), 0 if float(value).is_integer() else 2)
    return str(value)


def describe(result: dict) -> str:
    """What an expectation asks for, in the reader's language (GX type + kwargs, no values)."""
    kind, kw = result.get("type", ""), result.get("kwargs") or {}
    col = kw.get("column") or result.get("column") or ""
    if kind == "expect_column_to_exist":
        return t("check.exists", column=col)
    if kind == "expect_table_row_count_to_be_between":
        return t("check.row_count", min=bound(kw.get("min_value") or 1))
    if kind == "expect_column_values_to_not_be_null":
        return t("check.not_null", column=col)
    if kind == "expect_column_values_to_be_of_type":
        type_word = known(f"check.type.{kw.get('type_', '')}", str(kw.get("type_", "")))
        return t("check.of_type", column=col, type=type_word)
    if kind == "expect_column_values_to_be_in_set":
        return t("check.in_set", column=col, n=len(kw.get("value_set") or []))
    if kind == "expect_column_values_to_be_between":
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None and hi is not None:
            return t("check.between", column=col, min=bound(lo), max=bound(hi))
        return t("check.at_least", column=col, min=bound(lo)) if lo is not None else \
            t("check.at_most", column=col, max=bound(hi))
    if kind == "expect_column_values_to_be_unique":
        return t("check.unique", column=col)
    if kind == "expect_compound_columns_to_be_unique":
        return t("check.unique_together", columns=", ".join(kw.get("column_list") or []))
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        key = "check.not_before" if kw.get("or_equal") else "check.after"
        return t(key, a=kw.get("column_A", ""), b=kw.get("column_B", ""))
    if kind == "unexpected_rows_expectation":
        query = kw.get("unexpected_rows_query", "")
        parent = re.search(r"valid_(\w+)", query)
        if parent and "NOT EXISTS" in query.upper():
            return t("check.exists_in", column=col, parent=table_label(parent.group(1)))
        if "_row_id <>" in query:
            return t("check.no_overlap")
    return result.get("description") or kind  # an expectation type this page does not know yet


def expectation_index() -> dict[tuple[str, str, str], dict]:
    """(table, type, column) -> the manifest's result, to describe quarantine reasons fully."""
    out = {}
    for table, v in (m.get("validation") or {}).items():
        for r in v.get("results", []):
            out.setdefault((table, r.get("type", ""), r.get("column") or ""), r)
    return out


# ---- page ----------------------------------------------------------------------------------------

st.title(t("title"))
st.write(t("intro"))
st.info(t("rows_not_people"), icon=":material/info:")

# ---- the last run -----------------------------------------------------------------------------
st.subheader(t("last_run"))
acc = data.table("mart_data_quality")
per_table = acc.unique("table_name", maintain_order=True) if acc.height else acc
total = {c: int(per_table[c].sum()) if per_table.height else None
         for c in ("rows_read", "rows_loaded", "rows_quarantined")}
status = str(m.get("status"))
status_line = t("status_line", status=known(f"status_value.{status}", status),
                when=short_date(m.get("started_at"), with_time=True))
if status == "succeeded":
    st.success(status_line, icon=":material/check_circle:")
else:
    st.warning(status_line, icon=":material/warning:")
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("rows_read"), ui.fmt(total["rows_read"], "int"), help=t("rows_read_help"),
          border=True)
c2.metric(t("rows_loaded"), ui.fmt(total["rows_loaded"], "int"), help=t("rows_loaded_help"),
          border=True)
c3.metric(t("rows_quarantined"), ui.fmt(total["rows_quarantined"], "int"),
          help=t("rows_quarantined_help", mostly=ui.fmt(1 - float(p.get("validation.mostly",
                                                                          0.95)), "pct")),
          border=True)
c4.metric(t("n_files"), ui.fmt(len(m.get("inputs") or []), "int"), help=t("n_files_help"),
          border=True)

git = m.get("git") or {}
commit = (git.get("commit") or "")[:12] or "–"
if git.get("dirty"):
    commit = f"{commit} ({t('dirty')})"
seconds = m.get("seconds_total")
facts = [
    (t("run_id"), m.get("run_id", "–")),
    (t("started"), short_date(m.get("started_at"), with_time=True)),
    (t("duration"), t("seconds", n=ui.fmt(seconds, "num1")) if seconds is not None else "–"),
    (t("synthetic"), yes_no(m.get("synthetic_data"))),
    (t("version"), m.get("hfeval_version", "–")),
    (t("commit"), commit),
    (t("n_sources"), ui.fmt(len(m.get("sources") or []), "int")),
]
ui.show_table(pl.DataFrame({"what": [f[0] for f in facts], "value": [str(f[1]) for f in facts]}),
              [ui.Col("what", t("col_item")), ui.Col("value", t("col_value"))],
              name="data-quality-run")
if m.get("data_docs"):
    st.caption(t("data_docs", run_id=m.get("run_id", "")))
if m.get("notes"):
    box = ui.expander(t("run_notes"), key="data-quality-run-notes")
    if box.open:
        with box:
            st.markdown("\n".join(f"- {note}" for note in m["notes"]))

# ---- sources and extraction dates ---------------------------------------------------------
st.subheader(t("sources"))
st.write(t("sources_intro"))
ext = m.get("extraction_dates") or {}


def source_row(s: dict) -> dict[str, str]:
    resolved = ext.get(s.get("source_id"), {})
    how = str(resolved.get("from") or "")
    return {"source": s.get("source_id", ""),
            "extracted": short_date(resolved.get("date") or s.get("extraction_date")),
            "from": known(f"extraction_from.{re.sub(r'[^a-z]+', '_', how).strip('_')}",
                          how or "–"),
            "synthetic": yes_no(s.get("synthetic")),
            "tables": ", ".join(table_label(x) for x in s.get("tables") or [])}


sources = pl.DataFrame([source_row(s) for s in m.get("sources") or []],
                       schema={k: pl.String for k in ("source", "extracted", "from", "synthetic",
                                                      "tables")})
ui.show_table(sources, [
    ui.Col("source", t("col_source")),
    ui.Col("extracted", t("col_extracted")),
    ui.Col("from", t("col_extracted_from")),
    ui.Col("synthetic", t("synthetic")),
    ui.Col("tables", t("col_tables")),
], name="data-quality-sources")

# ---- input files ----------------------------------------------------------------------------
st.subheader(t("inputs"))
st.write(t("inputs_intro"))
inputs = pl.DataFrame(
    [{"table": table_label(i.get("table", "")), "source": i.get("source_id", ""),
      "file": i.get("path", ""), "format": str(i.get("format") or "–"),
      "sha": (i.get("sha256") or "")[:12], "rows_read": i.get("rows_read"),
      "rows_rejected": i.get("rows_rejected"), "rows_blank": i.get("rows_blank"),
      "missing": ", ".join(i.get("missing_optional_columns") or []) or "–"}
     for i in m.get("inputs") or []],
    schema={"table": pl.String, "source": pl.String, "file": pl.String, "format": pl.String,
            "sha": pl.String, "rows_read": pl.Int64, "rows_rejected": pl.Int64,
            "rows_blank": pl.Int64, "missing": pl.String},
)
ui.show_table(inputs, [
    ui.Col("table", t("col_table")),
    ui.Col("source", t("col_source")),
    ui.Col("file", t("col_file")),
    ui.Col("format", t("col_format")),
    ui.Col("sha", t("col_sha")),
    ui.Col("rows_read", t("col_rows_read"), "int"),
    ui.Col("rows_rejected", t("col_rows_rejected"), "int"),
    ui.Col("rows_blank", t("col_rows_blank"), "int"),
    ui.Col("missing", t("col_missing_optional")),
], name="data-quality-inputs", caption=t("inputs_caption"))

# ---- validation per table -------------------------------------------------------------------
st.subheader(t("validation"))
st.write(t("validation_intro", mostly=ui.fmt(float(p.get("validation.mostly", 0.95)), "pct")))
validation = m.get("validation") or {}
if per_table.height:
    # Labels translated here, in the script run (polars may map on a thread without the session).
    names = per_table["table_name"].to_list()
    labels = {n: table_label(n) for n in names}
    results = {n: t("passed") if (validation.get(n) or {}).get("success", True) else t("failed")
               for n in names}
    shown = per_table.with_columns(
        pl.col("table_name").replace_strict(labels, return_dtype=pl.String).alias("label"),
        pl.col("table_name").replace_strict(results, return_dtype=pl.String).alias("result"),
    )
    ui.show_table(shown, [
        ui.Col("label", t("col_table")),
        ui.Col("rows_read", t("col_rows_read"), "int"),
        ui.Col("rows_loaded", t("col_rows_loaded"), "int"),
        ui.Col("rows_quarantined", t("col_rows_quarantined"), "int"),
        ui.Col("rows_replaced_by_override", t("col_rows_replaced"), "int"),
        ui.Col("result", t("col_result")),
    ], name="data-quality-tables", caption=t("tables_caption"))
else:
    st.caption(ui.tr("no_rows"))

# ---- quarantined rows by reason -------------------------------------------------------------
st.subheader(t("quarantine"))
index = expectation_index()
reasons = acc.filter(pl.col("expectation_type").is_not_null()) if acc.height else acc
if reasons.is_empty():
    st.success(t("no_quarantine"), icon=":material/check_circle:")
else:
    rows = []
    for r in reasons.iter_rows(named=True):
        res = index.get((r["table_name"], r["expectation_type"], r["column_name"] or ""),
                        {"type": r["expectation_type"], "column": r["column_name"]})
        rows.append({"table": table_label(r["table_name"]), "check": describe(res),
                     "rows": r["rows_failing_expectation"]})
    ui.show_table(pl.DataFrame(rows, schema={"table": pl.String, "check": pl.String,
                                             "rows": pl.Int64}), [
        ui.Col("table", t("col_table")),
        ui.Col("check", t("col_check")),
        ui.Col("rows", t("col_rows_quarantined"), "int"),
    ], name="data-quality-quarantine", caption=t("quarantine_caption"))

# ---- every check ----------------------------------------------------------------------------
st.subheader(t("checks"))

def result_word(r: dict) -> str:
    if not r.get("success"):
        return t("failed")
    return t("set_aside") if (r.get("unexpected_count") or 0) > 0 else t("passed")


checks = [
    {"table": table_label(name), "check": describe(r),
     "level": t("level_table") if r.get("level") == "table" else t("level_row"),
     "checked": r.get("element_count"), "failing": r.get("unexpected_count"),
     "result": result_word(r), "ok": bool(r.get("success"))}
    for name, v in validation.items() for r in v.get("results", [])
]
frame = pl.DataFrame(checks, schema={"table": pl.String, "check": pl.String, "level": pl.String,
                                     "checked": pl.Int64, "failing": pl.Int64,
                                     "result": pl.String, "ok": pl.Boolean})
n_rows_found = frame.filter(pl.col("failing") > 0).height if frame.height else 0
n_failed = frame.filter(~pl.col("ok")).height if frame.height else 0
st.write(t("checks_summary", n=ui.fmt(frame.height, "int"),
           tables=ui.fmt(len(validation), "int"), found=ui.fmt(n_rows_found, "int"),
           failed=ui.fmt(n_failed, "int")))
check_cols = [
    ui.Col("table", t("col_table")),
    ui.Col("check", t("col_check")),
    ui.Col("level", t("col_level")),
    ui.Col("checked", t("col_rows_checked"), "int"),
    ui.Col("failing", t("col_rows_failing"), "int"),
    ui.Col("result", t("col_result")),
]
if n_failed:  # only a failed run has these, and its results were not published
    ui.show_table(frame.filter(~pl.col("ok")), check_cols, name="data-quality-failed-checks")
box = ui.expander(t("all_checks"), key="data-quality-all-checks")
if box.open:
    with box:
        ui.show_table(frame, check_cols, name="data-quality-checks", caption=t("checks_caption"))
