"""Fidelity to the Housing First model and quality of life.

Fidelity from administrative data (mart_fidelity): home visits per participant-week against the
target (retention.home_visits_target_per_week), the share of participants meeting it, and the
share whose first flat had an ordinary lease; by area and by support model. Quality of life
(mart_mansa_change): MANSA mean change from baseline at each follow-up wave, with 95 % CI,
Housing First against the comparison group. Suppressed cells show the word, never 0.
"""

from __future__ import annotations

import data
import polars as pl
import streamlit as st
import ui

from hfeval import charts

NS = "fidelity"
MAX_CHART_ROWS = 30  # a national list of areas: table only

p = ui.params()
a = ui.area()
lang = ui.lang()


def t(key: str, **kw) -> str:
    return ui.tr(f"{NS}.{key}", **kw)


def unit_labels() -> dict[str, tuple[str, str | None]]:
    """Any value that names a publication unit in a mart -> (label, country)."""
    return {v: (x.label, x.country) for x in ui.areas() if x.kind == "unit" for v in x.values}


def first(df: pl.DataFrame) -> dict | None:
    return df.row(0, named=True) if df.height else None


def drawable(df: pl.DataFrame, column: str) -> pl.DataFrame:
    return df.filter(~pl.col(f"{column}_suppressed").fill_null(False)
                     & pl.col(column).is_not_null())


target = float(p.get("retention.home_visits_target_per_week", 1.0))
target_text = ui.fmt(target, "num1")

st.title(t("title"))
st.write(t("intro", area=a.label))
if a.members:
    st.info(ui.tr("common.unit.merged_note", name=", ".join(a.members), unit=a.label),
            icon=":material/group_work:")

# ---- fidelity: headline -------------------------------------------------------------------------
st.header(t("fidelity"))
fid = data.table("mart_fidelity")
if fid.is_empty():
    st.info(t("not_published"), icon=":material/info:")
else:
    s = ui.stratum(set(fid["stratum_variable"].unique()))
    ui.show_notice(s)
    row = first(ui.filter_stratum(fid, s))
    if row and row.get("target_home_visits_per_week") is not None:
        target = float(row["target_home_visits_per_week"])
        target_text = ui.fmt(target, "num1")
    st.caption(t("for_whom", stratum=s.label))
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        ui.metric(t("participants"), row, "n_participants", "count",
                  t("participants_help", base=p.get("disclosure.rounding_base", 5),
                    threshold=ui.threshold()))
    with c2:  # the target underneath, where the other metrics show their CI
        st.metric(t("visits"), ui.cell(row, "home_visits_per_participant_week", "num2")
                  if row else "–", delta=t("target_label", target=target_text),
                  delta_color="off", delta_arrow="off", border=True,
                  help=t("visits_help", target=target_text))
    with c3:
        ui.metric(t("meeting_target"), row, "share_meeting_target", "pct",
                  t("meeting_target_help", target=target_text))
    with c4:
        ui.metric(t("ordinary_lease"), row, "share_first_flat_ordinary_lease", "pct",
                  t("ordinary_lease_help"))
    st.info(t("weeks_caveat"), icon=":material/event_busy:")

    labels = unit_labels()
    cols = [
        ui.Col("n_participants", t("col_participants"), "count"),
        ui.Col("home_visits_per_participant_week", t("col_visits"), "num2"),
        ui.Col("n_meeting_target", t("col_n_meeting"), "count"),
        ui.Col("share_meeting_target", t("col_meeting"), "pct"),
        ui.Col("share_first_flat_ordinary_lease", t("col_ordinary"), "pct"),
    ]

    # ---- by area
    st.subheader(t("by_area"))
    by_area = fid.filter(pl.col("stratum_variable") == "municipality")
    by_area = by_area.with_columns(
        pl.col("stratum_value").replace_strict({k: v[0] for k, v in labels.items()},
                                               default=pl.col("stratum_value")).alias("area"),
        pl.col("stratum_value").replace_strict({k: v[1] for k, v in labels.items()},
                                               default=None, return_dtype=pl.String)
        .alias("area_country"))
    if "stratum_country" in by_area.columns:  # published by newer pipelines
        by_area = by_area.with_columns(pl.coalesce("stratum_country", "area_country")
                                       .alias("area_country"))
    if a.country:
        by_area = by_area.filter(pl.col("area_country") == a.country)
    by_area = by_area.sort("area")
    if a.kind == "unit":
        st.caption(t("by_area_country", country=ui.code_label("country", a.country)))
    shown = drawable(by_area, "home_visits_per_participant_week")
    if 0 < shown.height <= MAX_CHART_ROWS:
        chart = ui.chart(charts.bars_with_target,
            shown, category="area", value="home_visits_per_participant_week", target=target,
            category_title=t("col_area"), value_title=t("col_visits"),
            target_title=t("target_label", target=target_text), lang=lang)
        ui.show_chart(chart, name="fidelity-visits-by-area", alt_text=t("by_area_alt"))
        if shown.height < by_area.height:
            st.caption(t("chart_hidden"))
    ui.show_table(by_area, [ui.Col("area", t("col_area")), *cols], name="fidelity-by-area",
                  caption=t("table_caption", target=target_text))

    # ---- by support model
    st.subheader(t("by_model"))
    st.write(t("by_model_intro"))
    by_model = fid.filter(pl.col("stratum_variable") == "support_model").sort("stratum_value")
    shown = drawable(by_model, "home_visits_per_participant_week")
    if 0 < shown.height <= MAX_CHART_ROWS:
        chart = ui.chart(charts.bars_with_target,
            shown, category="stratum_value", value="home_visits_per_participant_week",
            target=target, category_title=t("col_model"), value_title=t("col_visits"),
            target_title=t("target_label", target=target_text), lang=lang)
        ui.show_chart(chart, name="fidelity-visits-by-model", alt_text=t("by_model_alt"))
        if shown.height < by_model.height:
            st.caption(t("chart_hidden"))
    ui.show_table(by_model, [ui.Col("stratum_value", t("col_model")), *cols],
                  name="fidelity-by-model", caption=t("table_caption", target=target_text))

# ---- quality of life -----------------------------------------------------------------------------
st.header(t("qol"))
st.write(t("qol_intro"))
mansa = data.table("mart_mansa_change")
if mansa.is_empty():
    st.info(t("qol_not_published"), icon=":material/info:")
else:
    s = ui.stratum(set(mansa["stratum_variable"].unique()))
    ui.show_notice(s)
    rows = ui.filter_stratum(mansa, s)
    arm_labels = {arm: ui.code_label("arm", arm) for arm in ("housing_first", "comparison")}
    rows = rows.with_columns(
        pl.col("arm").replace_strict(arm_labels, default=pl.col("arm")).alias("group"),
        # Translated here, in the script thread (a polars worker would not see the language).
        pl.col("wave").replace_strict({w: t("wave", n=w) for w in rows["wave"].unique()},
                                      default=None, return_dtype=pl.String).alias("wave_label"),
        pl.col("wave").cast(pl.String).alias("wave_number"),  # short, upright axis labels
    ).sort("wave", pl.col("arm") != "housing_first")
    st.caption(t("for_whom", stratum=s.label))
    shown = rows.filter(~pl.col("mean_change_suppressed").fill_null(False)
                        & ~pl.col("ci_lower_suppressed").fill_null(False)
                        & pl.col("mean_change").is_not_null())
    if shown.height:
        chart = ui.chart(charts.points_with_ci,
            shown, x="wave_number", value="mean_change", low="ci_lower", high="ci_upper",
            group="group", x_title=t("axis_wave"), value_title=t("axis_change"),
            group_title=t("col_group"), lang=lang, value_format=".2f",
            group_order=[arm_labels["housing_first"], arm_labels["comparison"]])
        ui.show_chart(chart.configure_axisX(labelAngle=0), name="mansa-change",
                      alt_text=t("qol_alt"))
        if shown.height < rows.height:
            st.caption(t("chart_hidden"))
    ui.show_table(rows, [
        ui.Col("wave_label", t("col_wave")),
        ui.Col("arm", t("col_group"), "code:arm"),
        ui.Col("n_pairs", t("col_pairs"), "count"),
        ui.Col("mean_baseline", t("col_baseline"), "num2"),
        ui.Col("mean_followup", t("col_followup"), "num2"),
        ui.Col("mean_change", t("col_change"), "num2"),
        ui.Col("ci_lower", t("col_ci_low"), "num2"),
        ui.Col("ci_upper", t("col_ci_high"), "num2"),
    ], name="mansa-change", caption=t("qol_caption"))
