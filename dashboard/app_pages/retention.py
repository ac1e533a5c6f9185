"""Retention: do people keep their homes?

Kaplan-Meier curves with CI bands (Housing First against the comparison group, or one curve per
group of a breakdown), the 6/12/24-month table, how tenancies ended (competing events), returns
to homelessness, the share of days stably housed, and the definition set all of it used. Every
number comes from a published row; suppressed cells are shown as suppressed and never drawn.
"""

from pathlib import Path

import altair as alt
import data
import polars as pl
import streamlit as st
import ui

from hfeval import charts, i18n

HF, CMP = "housing_first", "comparison"
BREAKDOWNS = ("municipality", "cohort_year", "support_model", "sex", "age_band")
MAX_CURVES = 8  # the palette has 8 colours; more curves would be unreadable anyway

a = ui.area()
p = ui.params()
lang = ui.lang()
threshold = ui.threshold()
base = int(p.get("disclosure.rounding_base", 5))


# ---- helpers ---------------------------------------------------------------------------------


def definition_values() -> dict[str, str]:
    d = data.table("mart_retention_definition")
    return dict(zip(d["parameter"], d["value"], strict=True)) if d.height else {}


definition = definition_values()
definition_name = definition.get("definition_name") or str(p.get("retention.definition", "?"))


def rules() -> str:
    """What counts as losing the home under the definition set used, in plain words."""
    move_gap = definition.get("move_max_gap_days", "")
    long_stay = definition.get("long_stay_min_days", "")

    def handling(key: str) -> str:
        code = definition.get(key, "")
        return ui.tr(f"retention.handling.{code}") if code else "?"

    parts = [
        ui.tr("retention.rules.move_continues", days=move_gap) if move_gap
        else ui.tr("retention.rules.move_ends"),
        ui.tr("retention.rules.long_stay", days=long_stay, handling=handling("long_stay_handling"))
        if long_stay else ui.tr("retention.rules.any_stay", handling=handling("long_stay_handling")),
        ui.tr("retention.rules.death", handling=handling("death_handling")),
        ui.tr("retention.rules.censored"),
    ]
    if "competing" in (definition.get("long_stay_handling"), definition.get("death_handling")):
        parts.append(ui.tr("retention.rules.competing_note"))
    return " ".join(parts)


def counts_note() -> str:
    key = "retention.counts_rounded" if base > 1 else "retention.counts_exact"
    return ui.tr(key, base=base, threshold=threshold)


def arm_label(code: str) -> str:
    return ui.code_label("arm", code)


ARM_ORDER = [arm_label(HF), arm_label(CMP)]


def first(df: pl.DataFrame, **eq: object) -> dict | None:
    if df.is_empty():
        return None
    rows = df.filter(*[pl.col(k) == v for k, v in eq.items()]).to_dicts()
    return rows[0] if rows else None


def published(row: dict | None, column: str) -> bool:
    return row is not None and not ui.is_suppressed(row, column) and row.get(column) is not None


def with_arm_label(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col("arm").replace_strict(
        {HF: ARM_ORDER[0], CMP: ARM_ORDER[1]}, default=pl.col("arm")).alias("group"))


def unit_labels() -> dict[str, str]:
    """Stratum value (municipality name or code, or unit code) -> the area's label."""
    out: dict[str, str] = {}
    for area in ui.areas():
        if area.kind == "unit":
            out.update(dict.fromkeys(area.values, area.label))
    return out


def value_label(variable: str, value: str) -> str:
    if variable == "municipality":
        return unit_labels().get(value, value)
    if variable == "sex":
        return ui.code_label("sex", value)
    return value


# ---- title and the 12-month sentence ----------------------------------------------------------

st.title(ui.tr("retention.title"))
st.caption(ui.tr("retention.intro"))

ret = data.table("mart_retention_by_stratum", order="arm desc, stratum_value, months")
s = ui.stratum(set(ret["stratum_variable"].unique()) if ret.height else {"all"})
rows = ui.filter_stratum(ret, s)
hf12, cmp12 = first(rows, arm=HF, months=12.0), first(rows, arm=CMP, months=12.0)
hf24 = first(rows, arm=HF, months=24.0)
cmp24 = first(rows, arm=CMP, months=24.0)


def summary() -> str:
    if hf12 is None:
        return ui.tr("retention.summary_none", selection=s.label)
    if not published(hf12, "survival"):
        return ui.tr("retention.summary_suppressed", selection=s.label)
    value = ui.fmt(hf12["survival"], "pct")
    if published(hf12, "ci_lower") and published(hf12, "ci_upper"):
        text = ui.tr("retention.summary", selection=s.label, value=value,
                     low=ui.fmt(hf12["ci_lower"], "pct"), high=ui.fmt(hf12["ci_upper"], "pct"))
    else:
        text = ui.tr("retention.summary_no_ci", selection=s.label, value=value)
    if published(cmp12, "survival"):
        cvalue = ui.fmt(cmp12["survival"], "pct")
        if published(cmp12, "ci_lower") and published(cmp12, "ci_upper"):
            text += " " + ui.tr("retention.summary_comparison", value=cvalue,
                                low=ui.fmt(cmp12["ci_lower"], "pct"),
                                high=ui.fmt(cmp12["ci_upper"], "pct"))
        else:
            text += " " + ui.tr("retention.summary_comparison_no_ci", value=cvalue)
    return text


st.markdown(f"**{summary()}**")
if a.members:
    st.info(ui.tr("common.unit.merged_note", name=", ".join(a.members), unit=a.label),
            icon=":material/group_work:")
ui.show_notice(s)


def help_for(arm: str, months: int) -> str:
    return ui.tr("retention.metric_help", group=arm_label(arm), months=months, rules=rules(),
                 definition=definition_name)


c1, c2, c3 = st.columns(3)
with c1:
    ui.metric(ui.tr("retention.metric_housing_first", months=12), hf12, "survival", "pct",
              help_for(HF, 12), ci=("ci_lower", "ci_upper"))
with c2:
    ui.metric(ui.tr("retention.metric_comparison", months=12), cmp12, "survival", "pct",
              help_for(CMP, 12), ci=("ci_lower", "ci_upper"))
with c3:
    ui.metric(ui.tr("retention.metric_housing_first", months=24), hf24, "survival", "pct",
              help_for(HF, 24), ci=("ci_lower", "ci_upper"))

# ---- Kaplan-Meier curves ----------------------------------------------------------------------

@st.fragment
def curves_and_table() -> None:
    """The curves, their data and the table at 6/12/24 months: choosing another breakdown or the
    bands reruns only this part of the page, not the whole of it."""
    st.subheader(ui.tr("retention.km_title"))
    st.write(ui.tr("retention.km_intro"))
    km_vars = set(data.query(data.db(), "select distinct stratum_variable from "
                                        "mart_km_curve_by_stratum")["stratum_variable"]) \
        if "mart_km_curve_by_stratum" in data.tables(data.db()) else set()
    options = ["arm", *[v for v in BREAKDOWNS if v in km_vars]]
    by_labels = {v: ui.tr("retention.compare_arms") if v == "arm" else ui.tr(f"common.stratum.{v}")
                 for v in options}
    # The choice lives in the URL as its code (?km_by=sex), the same in every language, like the
    # sidebar filters (ui.url_selectbox); labels are looked up here, not in format_func.
    if "km_by" not in st.session_state:
        asked = st.query_params.get("km_by")
        st.session_state["km_by"] = asked if asked in options else "arm"
    elif st.session_state["km_by"] not in options:
        st.session_state["km_by"] = "arm"
    by = st.segmented_control(ui.tr("retention.compare_by"), options, required=True, key="km_by",
                              format_func=lambda v: by_labels.get(v, str(v))) or "arm"
    if by == "arm":
        st.query_params.pop("km_by", None)
    else:
        st.query_params["km_by"] = by

    notes: list[str] = []
    if by == "arm":
        values = sorted(s.values)
        km = data.table("mart_km_curve_by_stratum",
                        "stratum_variable = ? and list_contains(?, stratum_value)",
                        (s.variable, values), order="arm desc, months")
        km = with_arm_label(km) if km.height else km
        order = [g for g in ARM_ORDER if km.height and g in set(km["group"])]
        table = with_arm_label(rows) if rows.height else rows
    else:
        km = data.table("mart_km_curve_by_stratum", "arm = ? and stratum_variable = ?", (HF, by),
                        order="stratum_value, months")
        table = ret.filter((pl.col("arm") == HF) & (pl.col("stratum_variable") == by)) \
            if ret.height else ret
        notes.append(ui.tr("retention.km_breakdown_hf"))
        if by == "municipality" and a.country:
            # The municipalities (publication units) of the selected country only.
            keep = {v for u in ui.areas() if u.kind == "unit" and u.country == a.country
                    for v in u.values}
            km = km.filter(pl.col("stratum_value").is_in(list(keep))) if km.height else km
            table = table.filter(pl.col("stratum_value").is_in(list(keep))) if table.height else table
            notes.append(ui.tr("retention.km_breakdown_country",
                               country=ui.code_label("country", a.country)))
        elif s.variable != "all":
            notes.append(ui.tr("retention.km_breakdown_all_areas",
                               breakdown=ui.tr(f"common.stratum.{by}").lower()))
        labels = {v: value_label(by, v) for v in
                  (km["stratum_value"].unique().to_list() if km.height else [])}
        labels |= {v: value_label(by, v) for v in
                   (table["stratum_value"].unique().to_list() if table.height else [])}
        if km.height:
            km = km.with_columns(pl.col("stratum_value").replace_strict(labels).alias("group"))
        if table.height:
            table = table.with_columns(pl.col("stratum_value").replace_strict(labels).alias("group"))
        # Only groups with a published curve; the largest first (people at the start).
        drawn = km.filter(~pl.col("survival_suppressed") & pl.col("survival").is_not_null()) \
            if km.height else km
        sizes = (drawn.filter(pl.col("months") == 0).sort("n_at_risk", descending=True,
                                                          nulls_last=True)["group"].to_list()
                 if drawn.height else [])
        selected_label = {value_label(by, v) for v in s.values} if s.variable == by else set()
        order = sizes[:MAX_CURVES]
        for label in selected_label:  # the reader's own area stays in view
            if label in sizes and label not in order:
                order = [*order[:-1], label]
        if len(sizes) > MAX_CURVES:
            notes.append(ui.tr("retention.km_capped", n=MAX_CURVES))
        if by in ("cohort_year", "age_band"):  # in their natural order, not by size
            order = sorted(order)

    bands = by == "arm" or st.toggle(ui.tr("retention.show_bands"), value=False, key="km_bands")
    curve = km.filter(~pl.col("survival_suppressed") & pl.col("survival").is_not_null()
                      & pl.col("group").is_in(order)) if km.height else km
    if curve.is_empty():
        st.caption(ui.tr("retention.no_curve"))
    else:
        chart = ui.chart(charts.survival_curves if bands else charts.survival_lines,
            curve.select("group", "months", "survival", "ci_lower", "ci_upper", "n_at_risk"),
            x_title=ui.tr("retention.km_x"), y_title=ui.tr("retention.km_y"),
            group_title=ui.tr("retention.km_group"), lang=lang, group_order=order,
            tooltip_extra=[alt.Tooltip("n_at_risk:Q", title=ui.tr("retention.km_n_at_risk"),
                                       format=",.0f")],
        )
        ui.show_chart(chart, name=f"retention-curves-{by}", alt_text=ui.tr("retention.km_alt"))
        hidden = km.filter(pl.col("survival_suppressed")).height > 0 or (
            table.height > 0 and table.filter(pl.col("survival_suppressed")).height > 0)
        notes.insert(0, ui.tr("retention.km_cut", threshold=threshold))
        if hidden:
            notes.append(ui.tr("retention.km_not_drawn"))
        st.caption(" ".join(notes))
        box = ui.expander(ui.tr("retention.km_data"), key="retention-km-data")
        if box.open:
            with box:
                ui.show_table(km.filter(pl.col("group").is_in(order)), [
                    ui.Col("group", ui.tr("retention.col_group")),
                    ui.Col("months", ui.tr("retention.col_months"), "int"),
                    ui.Col("n_at_risk", ui.tr("retention.km_n_at_risk"), "count"),
                    ui.Col("survival", ui.tr("retention.col_survival"), "pct1"),
                    ui.Col("ci_lower", ui.tr("retention.col_ci_lower"), "pct1"),
                    ui.Col("ci_upper", ui.tr("retention.col_ci_upper"), "pct1"),
                ], name=f"retention-curve-points-{by}",
                    caption=ui.tr("retention.km_data_caption", days_per_month=ui.fmt(
                        float(p.get("retention.days_per_month", 30.4375)), "num2")) + " "
                    + counts_note())

    # ---- the table at 6, 12 and 24 months ---------------------------------------------------------

    st.subheader(ui.tr("retention.table_title"))
    if table.height and by != "arm":
        # Groups in the order of the curves, then the rest (including suppressed ones).
        rank = {g: i for i, g in enumerate(order)}
        table = table.with_columns(pl.col("group").replace_strict(rank, default=len(rank))
                                   .alias("_rank")).sort("_rank", "group", "months")
    ui.show_table(table, [
        ui.Col("group", ui.tr("retention.col_group")),
        ui.Col("months", ui.tr("retention.col_months"), "int"),
        ui.Col("survival", ui.tr("retention.col_survival"), "pct1"),
        ui.Col("ci_lower", ui.tr("retention.col_ci_lower"), "pct1"),
        ui.Col("ci_upper", ui.tr("retention.col_ci_upper"), "pct1"),
        ui.Col("n_people", ui.tr("retention.col_n_people"), "count"),
        ui.Col("n_at_risk", ui.tr("retention.col_n_at_risk"), "count"),
    ], name=f"retention-6-12-24-{by}",
        caption=ui.tr("retention.table_caption") + " " + counts_note())


curves_and_table()

# ---- competing events -------------------------------------------------------------------------

st.subheader(ui.tr("retention.competing_title"))
st.write(ui.tr("retention.competing_intro"))
cif = data.table("mart_cumulative_incidence_by_stratum", order="arm desc, cause, months")
s_cif = ui.section_stratum(cif, s)
cif = ui.filter_stratum(cif, s_cif)
if cif.height:
    causes = ["loss", "death", "long_stay"]
    cif = with_arm_label(cif).with_columns(
        pl.col("cause").replace_strict({c: ui.code_label("cause", c) for c in causes},
                                       default=pl.col("cause")).alias("cause_label"),
        pl.col("cause").replace_strict({c: i for i, c in enumerate(causes)}, default=9)
        .alias("_rank"),
    ).sort(pl.col("arm"), "_rank", "months", descending=[True, False, False])
    last = cif["months"].max()
    shown = cif.filter((pl.col("months") == last) & ~pl.col("cumulative_incidence_suppressed")
                       & pl.col("cumulative_incidence").is_not_null())
    if shown.height:
        chart = ui.chart(charts.bars_with_ci,
            shown, category="cause_label", value="cumulative_incidence", low="ci_lower",
            high="ci_upper", value_title=ui.tr("retention.competing_x"),
            category_title="", lang=lang, value_format=".0%",  # the labels say it all
            color="group", color_title=ui.tr("retention.km_group"), group_order=ARM_ORDER,
            sort=[ui.code_label("cause", c) for c in causes],
        ).properties(title=ui.tr("retention.competing_chart_title", months=ui.fmt(last, "int")))
        ui.show_chart(chart, name="retention-competing", alt_text=ui.tr("retention.competing_alt"))
    if cif.filter(pl.col("months") == last)["cumulative_incidence_suppressed"].any():
        st.caption(ui.tr("retention.km_not_drawn"))
ui.show_table(cif, [
    ui.Col("group", ui.tr("retention.col_group")),
    ui.Col("cause_label", ui.tr("retention.col_cause")),
    ui.Col("months", ui.tr("retention.col_months"), "int"),
    ui.Col("cumulative_incidence", ui.tr("retention.col_incidence"), "pct1"),
    ui.Col("ci_lower", ui.tr("retention.col_ci_lower"), "pct1"),
    ui.Col("ci_upper", ui.tr("retention.col_ci_upper"), "pct1"),
    ui.Col("n_people", ui.tr("retention.col_n_people"), "count"),
    ui.Col("n_at_risk", ui.tr("retention.col_n_at_risk"), "count"),
], name="retention-competing-events",
    caption=ui.tr("retention.competing_caption", long_stay=ui.tr(
        "retention.competing_long_stay", days=definition["long_stay_min_days"])
        if definition.get("long_stay_min_days") else ui.tr("retention.competing_any_stay"))
    + " " + counts_note())

# ---- returns to homelessness ------------------------------------------------------------------

st.subheader(ui.tr("retention.returns_title"))
st.write(ui.tr("retention.returns_intro"))
rt = data.table("mart_returns_by_window", order="arm desc, first_day, last_day")
s_rt = ui.section_stratum(rt, s)
rt = ui.filter_stratum(rt, s_rt)
if rt.height:
    windows = [str(w) for w in p.get("retention.returns.windows", [])]
    rank = {w: i for i, w in enumerate(windows)}
    # Labels made here, in the script run (polars may map on a thread without the session).
    window_labels = {
        f"{a}-{b}": ui.tr("retention.window", first=ui.fmt(a, "int"), last=ui.fmt(b, "int"))
        for a, b in rt.select("first_day", "last_day").unique().iter_rows()}
    rt = with_arm_label(rt).with_columns(
        pl.format("{}-{}", "first_day", "last_day").replace_strict(
            window_labels, return_dtype=pl.String).alias("window_label"),
        pl.format("{}–{}", "first_day", "last_day").alias("window_short"),
        pl.col("window_days").replace_strict(rank, default=len(rank)).alias("_rank"),
    ).sort(pl.col("arm"), "_rank", "first_day", "last_day", descending=[True, False, False,
                                                                        False])
    window_order = rt.sort("_rank", "first_day", "last_day")["window_short"].unique(
        maintain_order=True).to_list()
    shown = rt.filter(~pl.col("share_returned_suppressed") & pl.col("share_returned").is_not_null())
    if shown.height:
        chart = ui.chart(charts.grouped_columns,
            shown, x="window_short", value="share_returned", group="group",
            x_title=ui.tr("retention.returns_x"), value_title=ui.tr("retention.returns_y"),
            group_title=ui.tr("retention.km_group"), lang=lang, value_format=".0%",
            x_sort=window_order, group_order=ARM_ORDER,
        ).configure_axisX(labelAngle=0)
        ui.show_chart(chart, name="retention-returns", alt_text=ui.tr("retention.returns_alt"))
    if rt["share_returned_suppressed"].any():
        st.caption(ui.tr("retention.km_not_drawn"))
    unit = str(rt["counting_unit"][0])
    gap = int(definition.get("returns_min_gap_days") or 0)
    ui.show_table(rt, [
        ui.Col("window_label", ui.tr("retention.col_window")),
        ui.Col("group", ui.tr("retention.col_group")),
        ui.Col("n_eligible", ui.tr("retention.col_n_eligible"), "count"),
        ui.Col("n_returned", ui.tr("retention.col_n_returned"), "count"),
        ui.Col("share_returned", ui.tr("retention.col_share_returned"), "pct1"),
    ], name="retention-returns", caption=ui.tr(
        "retention.returns_caption",
        unit=ui.tr(f"retention.unit.{unit}") if i18n.has(f"retention.unit.{unit}", lang) else unit,
        gap=ui.tr("retention.returns_gap", days=gap) if gap else "") + " " + counts_note())
else:
    st.caption(ui.tr("no_rows"))

# ---- share of days stably housed --------------------------------------------------------------

st.subheader(ui.tr("retention.days_housed_title"))
st.write(ui.tr("retention.days_housed_intro"))
dsh = data.table("mart_days_stably_housed", order="arm desc")
s_dsh = ui.section_stratum(dsh, s)
dsh = ui.filter_stratum(dsh, s_dsh)
window = int(dsh["window_days"][0]) if dsh.height else int(
    p.get("retention.days_housed_window_days", 730))
d1, d2, _ = st.columns(3)
for col, arm in ((d1, HF), (d2, CMP)):
    with col:
        ui.metric(ui.tr("retention.days_housed_metric", group=arm_label(arm)), first(dsh, arm=arm),
                  "mean_share_days_stably_housed", "pct",
                  ui.tr("retention.days_housed_help", days=ui.fmt(window, "int")),
                  ci=("mean_share_ci_lower", "mean_share_ci_upper"))
ui.show_table(with_arm_label(dsh) if dsh.height else dsh, [
    ui.Col("group", ui.tr("retention.col_group")),
    ui.Col("n_participants", ui.tr("retention.col_n_participants"), "count"),
    ui.Col("n_full_window_observed",
           ui.tr("retention.col_n_full_window", days=ui.fmt(window, "int")), "count"),
    ui.Col("mean_share_days_stably_housed", ui.tr("retention.col_mean_share"), "pct1"),
    ui.Col("mean_share_ci_lower", ui.tr("retention.col_ci_lower"), "pct1"),
    ui.Col("mean_share_ci_upper", ui.tr("retention.col_ci_upper"), "pct1"),
    ui.Col("median_share_days_stably_housed", ui.tr("retention.col_median_share"), "pct1"),
], name="retention-days-stably-housed",
    caption=ui.tr("retention.days_housed_caption", days=ui.fmt(window, "int")) + " "
    + counts_note())

# ---- the definition used ----------------------------------------------------------------------

st.subheader(ui.tr("retention.definition_title"))
st.write(ui.tr("retention.definition_intro"))
set_name = definition_name.split("+", 1)[0]
key = f"retention.definition_sets.{set_name}"
description = ui.tr(key) if i18n.has(key, lang) else definition.get("definition_description", "")
st.markdown(f"**{definition_name}**: {description}")
if "+" in definition_name:
    st.caption(ui.tr("retention.definition_overridden"))
st.write(rules())
if definition:
    box = ui.expander(ui.tr("retention.definition_values"), key="retention-definition-values")
    if box.open:
        with box:
            values = pl.DataFrame({"parameter": list(definition),
                                   "value": list(definition.values())})
            ui.show_table(values, [ui.Col("parameter", ui.tr("retention.col_parameter")),
                                   ui.Col("value", ui.tr("retention.col_value"))],
                          name="retention-definition",
                          caption=ui.tr("retention.definition_values_caption"))
if (Path(__file__).parent / "about.py").exists():
    st.page_link("app_pages/about.py", label=ui.tr("retention.about_link"),
                 icon=":material/menu_book:")
else:
    st.caption(ui.tr("retention.about_pointer"))
