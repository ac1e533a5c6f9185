"""Pathways: how do people get a home?

Time from enrolment to a home of one's own (Kaplan-Meier median with CI, share housed by day
30/61/91/182/365, Housing First against the comparison group), temporary accommodation against
the 2-month ceiling, and the number housed over the whole project against the municipality's
target. Every number comes from a published row; suppressed cells are shown as suppressed and
never drawn.
"""

import math

import data
import polars as pl
import streamlit as st
import ui

from hfeval import charts

HF, CMP = "housing_first", "comparison"
DAYS = (30, 61, 91, 182, 365)  # the share_housed_by_<d>_days columns of mart_time_to_housing
MAX_BARS = 20  # areas in the target chart; more are listed in the table only

a = ui.area()
p = ui.params()
lang = ui.lang()
threshold = ui.threshold()
base = int(p.get("disclosure.rounding_base", 5))
ARM_ORDER = [ui.code_label("arm", HF), ui.code_label("arm", CMP)]


def counts_note() -> str:
    key = "pathways.counts_rounded" if base > 1 else "pathways.counts_exact"
    return ui.tr(key, base=base, threshold=threshold)


def first(df: pl.DataFrame, **eq: object) -> dict | None:
    if df.is_empty():
        return None
    rows = df.filter(*[pl.col(k) == v for k, v in eq.items()]).to_dicts()
    return rows[0] if rows else None


def published(row: dict | None, column: str) -> bool:
    return row is not None and not ui.is_suppressed(row, column) and row.get(column) is not None


def with_arm_label(df: pl.DataFrame) -> pl.DataFrame:
    if df.is_empty():
        return df
    return df.with_columns(pl.col("arm").replace_strict(
        {HF: ARM_ORDER[0], CMP: ARM_ORDER[1]}, default=pl.col("arm")).alias("group"))


def in_area(df: pl.DataFrame) -> pl.DataFrame:
    """Rows of a by-municipality table that belong to the selected area."""
    if df.is_empty() or a.kind == "all":
        return df
    if a.kind == "country":
        return df.filter(pl.col("country") == a.country)
    return df.filter(pl.col("municipality_code").cast(pl.String).is_in(list(a.values)))


# ---- title and the headline sentence ----------------------------------------------------------

st.title(ui.tr("pathways.title"))
st.caption(ui.tr("pathways.intro"))

tth = data.table("mart_time_to_housing", order="arm desc")
s = ui.stratum(set(tth["stratum_variable"].unique()) if tth.height else {"all"})
rows = ui.filter_stratum(tth, s)
hf, cmp = first(rows, arm=HF), first(rows, arm=CMP)


def days(row: dict, column: str) -> str:
    return ui.fmt(row[column], "int")


def summary() -> str:
    if hf is None:
        return ui.tr("pathways.summary_none", selection=s.label)
    if not published(hf, "median_days_to_housing"):
        if any(ui.is_suppressed(hf, c) for c in ("n_people", "median_days_to_housing")):
            return ui.tr("pathways.summary_suppressed", selection=s.label)
        return ui.tr("pathways.summary_not_reached", selection=s.label)
    if published(hf, "median_ci_lower") and published(hf, "median_ci_upper"):
        text = ui.tr("pathways.summary", selection=s.label,
                     days=days(hf, "median_days_to_housing"), low=days(hf, "median_ci_lower"),
                     high=days(hf, "median_ci_upper"))
    else:
        text = ui.tr("pathways.summary_no_ci", selection=s.label,
                     days=days(hf, "median_days_to_housing"))
    if published(cmp, "median_days_to_housing"):
        if published(cmp, "median_ci_lower") and published(cmp, "median_ci_upper"):
            text += " " + ui.tr("pathways.summary_comparison",
                                days=days(cmp, "median_days_to_housing"),
                                low=days(cmp, "median_ci_lower"), high=days(cmp, "median_ci_upper"))
        else:
            text += " " + ui.tr("pathways.summary_comparison_no_ci",
                                days=days(cmp, "median_days_to_housing"))
    return text


st.markdown(f"**{summary()}**")
if a.members:
    st.info(ui.tr("common.unit.merged_note", name=", ".join(a.members), unit=a.label),
            icon=":material/group_work:")
ui.show_notice(s)

# ---- time to housing --------------------------------------------------------------------------

st.subheader(ui.tr("pathways.time_title"))
# One column per group, its numbers stacked: wide enough for the word "suppressed".
for column, (arm, row) in zip(st.columns(2), ((HF, hf), (CMP, cmp)), strict=True):
    with column:
        st.markdown(f"**{ui.code_label('arm', arm)}**")
        ui.metric(ui.tr("pathways.metric_median"), row, "median_days_to_housing", "int",
                  ui.tr("pathways.metric_median_help"),
                  ci=("median_ci_lower", "median_ci_upper"))
        ui.metric(ui.tr("pathways.metric_by_61"), row, "share_housed_by_61_days", "pct",
                  ui.tr("pathways.metric_by_61_help"))

labelled = with_arm_label(rows)
if labelled.height:
    long = pl.concat([
        labelled.select(
            "group", pl.lit(str(d)).alias("days"),
            pl.col(f"share_housed_by_{d}_days").alias("share"),
            pl.col(f"share_housed_by_{d}_days_suppressed").alias("suppressed"),
        ) for d in DAYS
    ])
    drawn = long.filter(~pl.col("suppressed") & pl.col("share").is_not_null())
    if drawn.height:
        chart = ui.chart(charts.grouped_columns,
            drawn, x="days", value="share", group="group", x_title=ui.tr("pathways.shares_x"),
            value_title=ui.tr("pathways.shares_y"), group_title=ui.tr("pathways.shares_group"),
            lang=lang, value_format=".0%", x_sort=[str(d) for d in DAYS], group_order=ARM_ORDER,
        ).configure_axisX(labelAngle=0).properties(title=ui.tr("pathways.shares_title"))
        ui.show_chart(chart, name="pathways-housed-by-day", alt_text=ui.tr("pathways.shares_alt"))
        if drawn.height < long.height and long["suppressed"].any():
            st.caption(ui.tr("pathways.shares_not_drawn"))
ui.show_table(labelled, [
    ui.Col("group", ui.tr("pathways.col_group")),
    *[ui.Col(f"share_housed_by_{d}_days", ui.tr("pathways.col_within", days=d), "pct")
      for d in DAYS],
], name="pathways-housed-by-day", caption=ui.tr("pathways.shares_caption"))
ui.show_table(labelled, [
    ui.Col("group", ui.tr("pathways.col_group")),
    ui.Col("n_people", ui.tr("pathways.col_n_people"), "count"),
    ui.Col("n_housed", ui.tr("pathways.col_n_housed"), "count"),
    ui.Col("median_days_to_housing", ui.tr("pathways.col_median"), "int"),
    ui.Col("median_ci_lower", ui.tr("pathways.col_ci_lower"), "int"),
    ui.Col("median_ci_upper", ui.tr("pathways.col_ci_upper"), "int"),
], name="pathways-time-to-housing",
    caption=ui.tr("pathways.medians_caption") + " " + counts_note())

# ---- temporary accommodation against the ceiling ----------------------------------------------

ts = data.table("mart_temporary_stays", order="arm desc")
ceiling = int(ts["ceiling_days"].drop_nulls()[0]) if ts.height and \
    ts["ceiling_days"].drop_nulls().len() else int(p.get("retention.temporary_stay_max_days", 61))
st.subheader(ui.tr("pathways.temp_title"))
st.write(ui.tr("pathways.temp_intro", ceiling=ceiling))
s_ts = ui.section_stratum(ts, s)
ts = with_arm_label(ui.filter_stratum(ts, s_ts))
for column, arm in zip(st.columns(2), (HF, CMP), strict=True):
    row = first(ts, arm=arm)
    with column:
        st.markdown(f"**{ui.code_label('arm', arm)}**")
        ui.metric(ui.tr("pathways.temp_metric_share", ceiling=ceiling), row,
                  "share_episodes_over_ceiling", "pct",
                  ui.tr("pathways.temp_metric_share_help", ceiling=ceiling))
        ui.metric(ui.tr("pathways.temp_metric_median"), row, "median_days_closed_episodes",
                  "int", ui.tr("pathways.temp_metric_median_help"))
bars = ts.filter(~pl.col("median_days_closed_episodes_suppressed")
                 & pl.col("median_days_closed_episodes").is_not_null()) if ts.height else ts
if bars.height:
    chart = ui.chart(charts.grouped_bars_with_reference,
        bars, category="group", value="median_days_closed_episodes", reference=ceiling,
        category_title=ui.tr("pathways.temp_chart_group"),
        value_title=ui.tr("pathways.temp_chart_x"),
        reference_title=ui.tr("pathways.temp_chart_ref", ceiling=ceiling), lang=lang,
        group_order=[g for g in ARM_ORDER if g in set(bars["group"])],
    )
    ui.show_chart(chart, name="pathways-temporary-stays", alt_text=ui.tr("pathways.temp_alt"))
ui.show_table(ts, [
    ui.Col("group", ui.tr("pathways.col_group")),
    ui.Col("n_people", ui.tr("pathways.col_n_people_stays"), "count"),
    ui.Col("n_episodes", ui.tr("pathways.col_n_episodes"), "count"),
    ui.Col("n_episodes_closed", ui.tr("pathways.col_n_closed"), "count"),
    ui.Col("n_episodes_over_ceiling", ui.tr("pathways.col_n_over", ceiling=ceiling), "count"),
    ui.Col("share_episodes_over_ceiling", ui.tr("pathways.col_share_over", ceiling=ceiling),
           "pct"),
    ui.Col("median_days_closed_episodes", ui.tr("pathways.col_median_days"), "int"),
], name="pathways-temporary-stays",
    caption=ui.tr("pathways.temp_caption", ceiling=ceiling) + " " + counts_note())

# ---- housed over the whole project against the target -----------------------------------------

st.subheader(ui.tr("pathways.targets_title"))
st.write(ui.tr("pathways.targets_intro"))
tg = in_area(data.table("mart_housed_vs_target", order="country, municipality_name"))


def rounding_interval(published_count: float) -> tuple[int, int]:
    """The whole numbers that round to a published count (nearest multiple of `base`, halves
    up, as in hfeval.disclosure)."""
    return (math.ceil(published_count - base / 2), math.ceil(published_count + base / 2) - 1)


def with_target(df: pl.DataFrame) -> pl.DataFrame:
    """The target (total, or yearly x years with move-ins), how it was set, and the status."""
    out = []
    for r in df.to_dicts():
        if r.get("target_housed_total") is not None:
            target, target_hidden = r["target_housed_total"], False
            basis = ui.tr("pathways.basis_total")
        elif r.get("target_housed_per_year") is not None:
            target = r.get("target_housed_over_years_with_move_ins")
            target_hidden = bool(r.get("target_housed_over_years_with_move_ins_suppressed"))
            years = "–" if r.get("years_with_move_ins_suppressed") else \
                ui.fmt(r.get("years_with_move_ins"), "int")
            basis = ui.tr("pathways.basis_per_year",
                          per_year=ui.fmt(r["target_housed_per_year"], "int"), years=years)
        else:
            continue
        if r.get("n_housed_suppressed") or target_hidden or r.get("n_housed") is None \
                or target is None:
            status = ui.tr("common.suppressed")
        else:
            low, high = rounding_interval(r["n_housed"])
            status = ui.tr("pathways.status_met") if low >= target else (
                ui.tr("pathways.status_below") if high < target
                else ui.tr("pathways.status_unclear"))
        out.append({**r, "target": target, "target_suppressed": target_hidden,
                    "basis": basis, "status": status})
    return pl.DataFrame(out) if out else pl.DataFrame()


targets = with_target(tg) if tg.height else tg
if targets.is_empty():
    st.caption(ui.tr("pathways.no_targets"))
else:
    drawn = targets.filter(~pl.col("n_housed_suppressed") & ~pl.col("target_suppressed"))
    if drawn.height > MAX_BARS:  # a national table: the chart would be unreadable
        st.caption(ui.tr("pathways.targets_too_many", n=MAX_BARS))
    elif drawn.height:
        chart = ui.chart(charts.grouped_columns,
            drawn.with_columns(pl.lit(ARM_ORDER[0]).alias("group")), x="municipality_name",
            value="n_housed", group="group", x_title=ui.tr("pathways.targets_chart_x"),
            value_title=ui.tr("pathways.targets_chart_y"), group_title=ui.tr("pathways.col_group"),
            lang=lang, target="target", target_title=ui.tr("pathways.col_target"),
            group_order=ARM_ORDER[:1],
        ).configure_axisX(labelAngle=0)
        ui.show_chart(chart, name="pathways-housed-vs-target", alt_text=ui.tr("pathways.targets_alt"))
    ui.show_table(targets, [
        ui.Col("municipality_name", ui.tr("pathways.col_area")),
        ui.Col("first_move_in_year", ui.tr("pathways.col_first_year"), "text"),
        ui.Col("last_move_in_year", ui.tr("pathways.col_last_year"), "text"),
        ui.Col("n_housed", ui.tr("pathways.col_housed"), "count"),
        ui.Col("target", ui.tr("pathways.col_target"), "int"),
        ui.Col("basis", ui.tr("pathways.col_basis")),
        ui.Col("status", ui.tr("pathways.col_status")),
    ], name="pathways-housed-vs-target",
        caption=ui.tr("pathways.targets_caption") + " " + counts_note())
