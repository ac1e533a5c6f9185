"""Overview: participants, housed, retention at 12 months, and progress against targets."""

import data
import polars as pl
import streamlit as st
import ui

from hfeval import charts

a = ui.area()
p = ui.params()
# Translated here, in the script run: polars may call a mapping function on another thread,
# where Streamlit's session (and so the reader's language) is not visible.
ARM_LABELS = {arm: ui.code_label("arm", arm) for arm in ("housing_first", "comparison")}
st.title(ui.tr("overview.title"))
st.write(ui.tr("overview.intro", area=a.label))
if a.members:
    st.info(ui.tr("common.unit.merged_note", name=", ".join(a.members), unit=a.label),
            icon=":material/group_work:")

# ---- headline numbers (Housing First arm) ---------------------------------------------------
tth = data.table("mart_time_to_housing")
ret = data.table("mart_retention_by_stratum", "months = 12")
s = ui.stratum(set(tth["stratum_variable"].unique()) if tth.height else {"all"})
ui.show_notice(s)


def first_row(df: pl.DataFrame) -> dict | None:
    rows = ui.filter_stratum(df, s).filter(pl.col("arm") == "housing_first").to_dicts() \
        if df.height else []
    return rows[0] if rows else None


t_row, r_row = first_row(tth), first_row(ret)
definition = p.get("retention.definition", "housing_first")
c1, c2, c3, c4 = st.columns(4)
with c1:
    ui.metric(ui.tr("overview.participants"), t_row, "n_people", "count",
              ui.tr("overview.participants_help", base=p.get("disclosure.rounding_base", 5),
                    threshold=ui.threshold()))
with c2:
    ui.metric(ui.tr("overview.housed"), t_row, "n_housed", "count", ui.tr("overview.housed_help"))
with c3:
    ui.metric(ui.tr("overview.retention_12"), r_row, "survival", "pct",
              ui.tr("overview.retention_12_help", definition=definition),
              ci=("ci_lower", "ci_upper"))
with c4:
    ui.metric(ui.tr("overview.median_days"), t_row, "median_days_to_housing", "int",
              ui.tr("overview.median_days_help"), ci=("median_ci_lower", "median_ci_upper"))

# ---- by municipality ------------------------------------------------------------------------
st.subheader(ui.tr("overview.by_municipality"))
ov = data.table("mart_overview_by_municipality", order="country, municipality_name, arm desc")
if a.kind == "country":
    ov = ov.filter(pl.col("country") == a.country)
elif a.kind == "unit":
    ov = ov.filter(pl.col("municipality_code").is_in(list(a.values)))
ui.show_table(ov, [
    ui.Col("municipality_name", ui.tr("overview.col_area")),
    ui.Col("arm", ui.tr("overview.col_arm"), "code:arm"),
    ui.Col("n_participants", ui.tr("overview.col_participants"), "count"),
    ui.Col("n_housed", ui.tr("overview.col_housed"), "count"),
    ui.Col("n_stably_housed_at_extraction", ui.tr("overview.col_stably_housed"), "count"),
    ui.Col("share_of_housed_stably_housed_at_extraction", ui.tr("overview.col_share_stably"), "pct"),
    ui.Col("median_days_to_housing", ui.tr("overview.col_median_days"), "int"),
], name="overview-by-municipality", caption=ui.tr("overview.by_municipality_caption"))

# ---- progress against targets ---------------------------------------------------------------
st.subheader(ui.tr("overview.targets"))
tg = data.table("mart_housed_per_year_vs_target", order="country, municipality_name, year")
if a.kind == "country":
    tg = tg.filter(pl.col("country") == a.country)
elif a.kind == "unit":
    tg = tg.filter(pl.col("municipality_code").is_in(list(a.values)))
tg = tg.filter(pl.col("target_housed_per_year").is_not_null()) if tg.height else tg
if tg.is_empty():
    st.caption(ui.tr("overview.no_targets"))
else:
    shown = tg.with_columns(
        pl.col("year").cast(pl.String),
        pl.col("n_housed").alias("moved_in"),
    )
    chart = ui.chart(charts.grouped_columns,
        shown.filter(~pl.col("n_housed_suppressed")), x="year", value="n_housed",
        group="municipality_name", x_title=ui.tr("overview.col_year"),
        value_title=ui.tr("overview.col_n_housed"), group_title=ui.tr("overview.col_area"),
        lang=ui.lang(), target="target_housed_per_year", target_title=ui.tr("overview.col_target"),
    )
    ui.show_chart(chart, name="housed-vs-target", alt_text=ui.tr("overview.targets"))
    ui.show_table(tg, [
        ui.Col("municipality_name", ui.tr("overview.col_area")),
        ui.Col("year", ui.tr("overview.col_year"), "text"),
        ui.Col("n_housed", ui.tr("overview.col_n_housed"), "count"),
        ui.Col("target_housed_per_year", ui.tr("overview.col_target"), "int"),
    ], name="housed-vs-target", caption=ui.tr("overview.targets_caption"))

# ---- enrolment by year ----------------------------------------------------------------------
st.subheader(ui.tr("overview.enrolment"))
if a.kind == "all":
    # Pooled over all areas, from the cohort-year breakdown (its own disclosure-controlled cells).
    by_year = tth.filter(pl.col("stratum_variable") == "cohort_year") if tth.height else tth
    labelled = by_year.filter(~pl.col("n_people_suppressed")).with_columns(
        pl.col("stratum_value").alias("cohort_year"),
        pl.col("arm").replace_strict(ARM_LABELS, default=pl.col("arm")).alias("group"),
    )
    if labelled.height:
        chart = ui.chart(charts.grouped_columns,
            labelled, x="cohort_year", value="n_people", group="group",
            x_title=ui.tr("common.stratum.cohort_year"),
            value_title=ui.tr("overview.enrolment_chart_y"), group_title=ui.tr("overview.col_arm"),
            lang=ui.lang(),
            group_order=list(ARM_LABELS.values()),
        )
        ui.show_chart(chart, name="enrolment-by-year", alt_text=ui.tr("overview.enrolment"))
    ui.show_table(by_year.sort("stratum_value", "arm", descending=[False, True]), [
        ui.Col("stratum_value", ui.tr("common.stratum.cohort_year")),
        ui.Col("arm", ui.tr("overview.col_arm"), "code:arm"),
        ui.Col("n_people", ui.tr("overview.col_participants"), "count"),
        ui.Col("n_housed", ui.tr("overview.col_housed"), "count"),
    ], name="enrolment-by-year")
else:
    en = data.table("mart_enrolment_by_municipality_year",
                    order="municipality_name, cohort_year, arm desc")
    if a.kind == "country":
        en = en.filter(pl.col("country") == a.country)
    else:
        en = en.filter(pl.col("municipality_code").is_in(list(a.values)))
    if a.kind == "unit" and en.height:
        labelled = en.filter(~pl.col("n_participants_suppressed")).with_columns(
            pl.col("cohort_year").cast(pl.String),
            pl.col("arm").replace_strict(ARM_LABELS, default=pl.col("arm")).alias("group"),
        )
        chart = ui.chart(charts.grouped_columns,
            labelled, x="cohort_year", value="n_participants", group="group",
            x_title=ui.tr("common.stratum.cohort_year"),
            value_title=ui.tr("overview.enrolment_chart_y"), group_title=ui.tr("overview.col_arm"),
            lang=ui.lang(),
            group_order=list(ARM_LABELS.values()),
        )
        ui.show_chart(chart, name="enrolment-by-year", alt_text=ui.tr("overview.enrolment"))
    ui.show_table(en, [
        ui.Col("municipality_name", ui.tr("overview.col_area")),
        ui.Col("cohort_year", ui.tr("common.stratum.cohort_year"), "text"),
        ui.Col("arm", ui.tr("overview.col_arm"), "code:arm"),
        ui.Col("n_participants", ui.tr("overview.col_participants"), "count"),
        ui.Col("n_housed", ui.tr("overview.col_housed"), "count"),
    ], name="enrolment-by-year")
