"""About and methods: what hfeval is, how to read the dashboard, every definition, the run's
parameters, disclosure control, sources and caveats.

Definitions are filled in from the run's parameters (manifest), so they always describe the
published numbers. Texts: locales/<lang>/about.yaml.
"""

from pathlib import Path

import data
import polars as pl
import streamlit as st
import ui

from hfeval import i18n
from hfeval.config import PARAMETER_DOCS, get_paths

NS = "about"
m = data.manifest(data.db())
p = ui.params()
threshold = ui.threshold()
base = p.get("disclosure.rounding_base", 5)


def t(key: str, **kw) -> str:
    return ui.tr(f"{NS}.{key}", **kw)


def has(key: str) -> bool:
    return i18n.has(f"{NS}.{key}", ui.lang())


def value_text(value: object) -> str:
    """A parameter value as given to hfeval (`--set name=value`)."""
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def bullets(lines: list[str]) -> None:
    st.markdown("\n".join(f"- {line}" for line in lines))


# ---- what and how -------------------------------------------------------------------------------
st.title(t("title"))
st.write(t("intro"))
st.subheader(t("what_title"))
st.markdown(t("what_text", **{k.replace("-", "_"): ui.tr(f"pages.{k}") for k in (
    "overview", "retention", "pathways", "costs", "fidelity", "data-quality")}))
st.subheader(t("how_title"))
bullets([t(f"how.{k}", suppressed=ui.tr("common.suppressed"), threshold=threshold)
         for k in ("groups", "hover", "ci", "suppressed", "filters", "merged", "share")])

# ---- definitions ----------------------------------------------------------------------------------
definition = p.get("retention.definition", "housing_first")
definition_values = {r["parameter"]: r["value"]
                     for r in data.table("mart_retention_definition").to_dicts()}
move_gap = p.get("retention.move_max_gap_days") or definition_values.get("move_max_gap_days", "–")
long_stay = p.get("retention.long_stay_min_days") \
    or definition_values.get("long_stay_min_days", "–")
returns_unit = p.get("retention.returns.unit") or definition_values.get("returns_unit", "person")
months = ", ".join(str(x) for x in p.get("retention.report_months", [6, 12, 24]))
target = ui.fmt(p.get("retention.home_visits_target_per_week", 1.0), "num1")
discount = "; ".join(
    f"{ui.code_label('country', c)} {ui.fmt(p.get(f'costs.discount_rate.{c}'), 'pct1')}"
    for c in ("NO", "DK") if p.get(f"costs.discount_rate.{c}") is not None)
currency = p.get("costs.currency", "local")

st.header(t("definitions"))
sections = {
    "def_overview": [t("define.participants", base=base), t("define.housed"),
                     t("define.stably_housed"), t("define.targets")],
    "def_retention": [
        t("define.retention", months=months, move_gap=move_gap, definition=definition),
        t("define.competing", long_stay=long_stay),
        t("define.at_risk", threshold=threshold),
        t("define.returns", windows=", ".join(p.get("retention.returns.windows", [])),
          unit=ui.tr("about.unit_" + str(returns_unit)) if has(f"unit_{returns_unit}")
          else returns_unit),
    ],
    "def_pathways": [
        t("define.time_to_housing"),
        t("define.temporary", ceiling=p.get("retention.temporary_stay_max_days", 61)),
        t("define.days_housed", window=p.get("retention.days_housed_window_days", 730)),
    ],
    "def_fidelity": [t("define.fidelity_visits", target=target),
                     t("define.fidelity_target", target=target), t("define.fidelity_lease"),
                     t("define.mansa")],
    "def_costs": [
        t("define.cost_window", currency=currency if currency != "local" else t("local_currency"),
          price_year=p.get("costs.price_year", "–"), window=p.get("costs.window_months", "–"),
          discount=discount, n_resamples=ui.fmt(p.get("costs.bootstrap.n_resamples"), "int"),
          ci_method=p.get("costs.ci_method", "–")),
        *(t(f"define.{k}") for k in ("offset", "programme_cost", "net_saving", "pre_post_rate",
                                     "saved_per_10", "break_even", "offset_arms")),
    ],
    "def_designs": [t("define.prepost"), t("define.did")],
}
for section, lines in sections.items():
    box = ui.expander(t(section), key=f"about-{section}", expanded=section == "def_retention")
    if box.open:
        with box:
            bullets(lines)

# ---- the retention definition set -------------------------------------------------------------
st.subheader(t("definition_set"))
set_name = str(definition).split("+")[0]
st.markdown(t("definition_set_intro", name=definition) + " "
            + (t(f"definition_sets.{set_name}") if has(f"definition_sets.{set_name}") else ""))
changed = {k: v for k, v in p.items()
           if k.startswith("retention.") and k in PARAMETER_DOCS and v != PARAMETER_DOCS[k][0]
           and k != "retention.definition"}
if changed:
    st.caption(t("definition_sets.changed", changes="; ".join(
        f"{k} = {value_text(v)}" for k, v in changed.items())))
box = ui.expander(t("definition_table"), key="about-definition-table")
if box.open:
    with box:
        ui.show_table(data.table("mart_retention_definition"), [
            ui.Col("parameter", t("col_parameter")),
            ui.Col("value", t("col_value")),
        ], name="retention-definition")

# ---- every parameter --------------------------------------------------------------------------
st.subheader(t("parameters"))
st.write(t("parameters_intro"))


def parameter_row(name: str, value: object) -> dict[str, str]:
    default = PARAMETER_DOCS.get(name, (None, ""))[0]
    if has(f"param.{name}"):
        meaning = t(f"param.{name}")
    elif name in PARAMETER_DOCS:  # a parameter added since this page was translated
        meaning = PARAMETER_DOCS[name][1] + ("" if ui.lang() == "en" else " " + t("doc_english"))
    else:
        meaning = "–"
    mark = f" {t('changed_mark')}" if name in PARAMETER_DOCS and value != default else ""
    return {"name": name + mark, "value": value_text(value),
            "default": value_text(default) if name in PARAMETER_DOCS else "–",
            "meaning": meaning}


# One table per group, each short enough to show in full with wrapped text.
groups: dict[str, list[str]] = {}
for name in p:
    prefix = name.split(".", 1)[0] if "." in name else "run"
    groups.setdefault(prefix if prefix in ("disclosure", "retention", "costs") else "run",
                      []).append(name)
for group in ("run", "disclosure", "retention", "costs"):
    if group not in groups:
        continue
    st.markdown(f"**{t(f'parameter_group.{group}')}**")
    ui.show_table(pl.DataFrame([parameter_row(k, p[k]) for k in groups[group]],
                               schema={c: pl.String for c in ("name", "value", "default",
                                                              "meaning")}), [
        ui.Col("name", t("col_parameter")),
        ui.Col("value", t("col_value")),
        ui.Col("default", t("col_default")),
        ui.Col("meaning", t("col_meaning")),
    ], name=f"parameters-{group}")

# ---- disclosure control -------------------------------------------------------------------------
st.header(t("disclosure"))
st.write(t("disclosure_intro"))
bullets([t(f"disclosure_rules.{k}", threshold=threshold, base=base,
           suppressed=ui.tr("common.suppressed"))
         for k in ("threshold", "rounding", "derived", "secondary", "curves", "units")])
st.caption(t("disclosure_source"))

st.subheader(t("disclosure_tables"))
st.write(t("disclosure_tables_intro"))


def protection_summary(notes: dict[tuple[str, str], str]) -> pl.DataFrame:
    """One row per published table: its columns grouped by how they were protected (the
    publish step's notes in `_protection`, read by their fixed opening words)."""
    tables: dict[str, dict[str, list[str]]] = {}
    for (table, column), note in sorted(notes.items()):
        row = tables.setdefault(table, {"counts": [], "derived": [], "other": []})
        if note.startswith("count of people"):
            row["counts"].append(column)
            if "secondary suppression" in note:
                row["other"].append(t("extra_secondary"))
            if "each curve" in note:
                row["other"].append(t("extra_curve"))
        elif note.startswith("derived from"):
            row["derived"].append(column)
        elif "recomputed from the published" in note:
            row["other"].append(t("extra_ratio", column=column))
        elif note.startswith("publication unit"):
            row["other"].append(t("extra_units"))
    rows = []
    for table, row in sorted(tables.items()):
        other = ([t("hidden_with_counts", columns=", ".join(row["derived"]))]
                 if row["derived"] else []) + list(dict.fromkeys(row["other"]))
        rows.append({
            "table": table,
            "counts": ", ".join(row["counts"]) or t("not_protected"),
            "other": "; ".join(other) or "–",
        })
    return pl.DataFrame(rows, schema={c: pl.String for c in ("table", "counts", "other")})


notes = data.protection(data.db())
ui.show_table(protection_summary(notes), [
    ui.Col("table", t("col_table")),
    ui.Col("counts", t("col_counts", threshold=threshold)),
    ui.Col("other", t("col_extra")),
], name="disclosure-by-table")
box = ui.expander(t("disclosure_notes"), key="about-disclosure-notes")
if box.open:
    with box:
        ui.show_table(pl.DataFrame(
            [{"table": k[0], "column": k[1], "note": v} for k, v in sorted(notes.items())
             if not k[1].endswith("_suppressed")],
            schema={"table": pl.String, "column": pl.String, "note": pl.String}), [
            ui.Col("table", t("col_table")),
            ui.Col("column", t("col_parameter")),
            ui.Col("note", t("col_meaning")),
        ], name="disclosure-notes")

# ---- sources ------------------------------------------------------------------------------------
st.header(t("sources"))
st.subheader(t("sources_research"))
bullets([t(f"research.{k}") for k in
         ("at_home", "pathways", "france", "denmark", "bergen", "review", "disclosure")])
st.subheader(t("sources_seeds"))
bullets([t(f"seeds.{k}") for k in ("mandal", "sandnes", "hamar", "randers", "odense")])
st.subheader(t("sources_reference"))
st.write(t("sources_reference_intro"))
ui.show_table(data.table("stg_unit_costs", order="country desc, service, unit"), [
    ui.Col("country", t("col_country"), "code:country"),
    ui.Col("service", t("col_service"), "code:service"),
    ui.Col("unit", t("col_unit")),
    ui.Col("amount_per_unit", t("col_amount"), "money"),
    ui.Col("currency", t("col_currency")),
    ui.Col("price_year", t("col_price_year")),
    ui.Col("payer_sector", t("col_payer"), "code:sector"),
    ui.Col("citation", t("col_citation")),
], name="unit-costs")
cpi = data.table("stg_cpi")
if cpi.height:
    st.caption(t("cpi_sources", sources="; ".join(
        f"{ui.code_label('country', r['country'])}: {r['citation']}"
        for r in cpi.unique(["country", "citation"]).sort("country", descending=True)
        .iter_rows(named=True))))
fx = data.table("stg_exchange_rates")
if fx.height:
    st.caption(t("fx_sources", sources="; ".join(
        sorted(fx.filter(pl.col("currency") != "EUR")["citation"].unique().to_list()))))
sources_md = get_paths().reference / "SOURCES.md"
if Path(sources_md).exists():
    box = ui.expander(t("sources_file"), key="about-sources-file")
    if box.open:
        with box:
            st.markdown(sources_md.read_text(encoding="utf-8"))

# ---- caveats ------------------------------------------------------------------------------------
st.header(t("caveats"))
lines = [t("caveat.synthetic") if m.get("synthetic_data") else t("caveat.synthetic_general")]
lines += [t(f"caveat.{k}") for k in ("regression", "unpriced", "lower_bound", "fidelity_weeks",
                                     "retention_definition")]
bullets(lines)
unpriced = data.table("mart_unpriced_service_use", order="country desc, service, unit")
if unpriced.height:
    st.subheader(t("unpriced_title"))
    ui.show_table(unpriced, [
        ui.Col("country", t("col_country"), "code:country"),
        ui.Col("service", t("col_service"), "code:service"),
        ui.Col("unit", t("col_unit")),
        ui.Col("n_events", t("col_events"), "int"),
        ui.Col("total_quantity", t("col_quantity"), "int"),
        ui.Col("n_participants", t("col_people"), "count"),
    ], name="unpriced-services")
