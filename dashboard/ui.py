"""What every dashboard page shares: language, filters, and how numbers, tables and charts are shown.

Pages hold presentation only; they read publishable tables through `data` and format them here,
so a suppressed cell is shown the same way everywhere ("suppressed", never 0), every table can be
downloaded as CSV and every chart as PNG or SVG.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import data
import polars as pl
import streamlit as st

from hfeval import i18n
from hfeval.export import safe_csv

# ---- language ------------------------------------------------------------------------------


def lang() -> str:
    """The reader's language: the `lang` widget (bound to the `?lang=` URL parameter)."""
    value = st.session_state.get("lang")
    return value if value in i18n.LANGS else i18n.DEFAULT_LANG


def tr(key: str, **kwargs: Any) -> str:
    """Translate a key. `common.x`, `retention.x`, ... name their namespace (locale file); a key
    without a known namespace is looked up in `dashboard`."""
    namespace = key.split(".", 1)[0]
    full = key if namespace in i18n.namespaces() else f"dashboard.{key}"
    return i18n.t(full, lang(), **kwargs)


def code_label(namespace: str, code: Any) -> str:
    """A code (arm, sector, service, ...) in the reader's language; unknown codes as they are."""
    if code is None:
        return "–"
    key = f"common.{namespace}.{code}"
    return i18n.t(key, lang()) if i18n.has(key, lang()) else str(code)


def params() -> dict[str, Any]:
    return data.manifest(data.db()).get("parameters", {})


def threshold() -> int:
    return int(params().get("disclosure.threshold", 7))


# ---- areas and filters ---------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """Where the reader is looking: all, a country, or a publication unit (a municipality, or the
    aggregate of small municipalities it was merged into by disclosure control)."""

    key: str  # "all", "country:NO", "unit:<code>"
    kind: str  # all | country | unit
    label: str
    country: str | None = None
    values: frozenset[str] = field(default_factory=frozenset)  # stratum values that mean it
    codes: frozenset[str] = field(default_factory=frozenset)  # municipality codes in the marts
    members: tuple[str, ...] = ()  # municipality names merged into an aggregate unit


@st.cache_data(show_spinner=False)
def _areas(path: str, lang_: str) -> list[Area]:
    units = data.table("mart_publication_units")
    if units.is_empty():
        # Before aggregation existed every municipality was its own unit.
        units = data.table("stg_municipalities").select(
            "country", "region", "municipality_code", "municipality_name",
            pl.col("municipality_code").alias("unit_code"),
            pl.lit("municipality").alias("unit_kind"), pl.lit(None, pl.String).alias("unit_region"),
        )
    out = [Area("all", "all", i18n.t("dashboard.filters.all_areas", lang_), values=frozenset({"all"}))]
    for country in sorted(units["country"].unique().to_list()):
        out.append(Area(f"country:{country}", "country", i18n.t(f"common.country.{country}", lang_),
                        country=country, values=frozenset({country})))
    if "unit_name" not in units.columns:
        units = units.with_columns(pl.col("municipality_name").alias("unit_name"))
    groups = units.group_by("unit_code", "unit_kind", "country", maintain_order=True).agg(
        pl.col("municipality_code"), pl.col("municipality_name"), pl.col("unit_region").first(),
        pl.col("unit_name").first())
    unit_areas = []
    for row in groups.iter_rows(named=True):
        names = sorted(row["municipality_name"])
        if row["unit_kind"] == "municipality":
            label = names[0]
        elif row["unit_kind"] == "region":
            label = i18n.t("common.unit.region", lang_, region=row["unit_region"])
        else:
            label = i18n.t("common.unit.country", lang_,
                           country=i18n.t(f"common.country.{row['country']}", lang_))
        # Marts name a unit by its code (municipality_code) or its name (stratum_value).
        values = {row["unit_code"], row["unit_name"]}
        if row["unit_kind"] == "municipality":
            values |= set(names) | set(row["municipality_code"])
        unit_areas.append(Area(f"unit:{row['unit_code']}", "unit", label, country=row["country"],
                               values=frozenset(values), codes=frozenset({row["unit_code"]}),
                               members=tuple(names) if row["unit_kind"] != "municipality" else ()))
    return out + sorted(unit_areas, key=lambda a: (a.country or "", a.label))


def areas() -> list[Area]:
    return _areas(data.db(), lang())


def area() -> Area:
    by_key = {a.key: a for a in areas()}
    return by_key.get(st.session_state.get("area", "all"), by_key["all"])


@st.cache_data(show_spinner=False)
def _stratum_values(path: str, variable: str) -> list[str]:
    if "mart_retention_by_stratum" not in data.tables(path):
        return []
    df = data.query(path, "select distinct stratum_value from mart_retention_by_stratum "
                          "where stratum_variable = ? order by 1", (variable,))
    return df["stratum_value"].to_list() if df.height else []


def url_selectbox(label: str, options: list[str], key: str, labels: dict[str, str],
                  default: str | None = None, help: str | None = None,
                  always_in_url: bool = False) -> str:
    """A selectbox whose value (a code, the same in every language) lives in the URL as `?key=`.

    Streamlit's own `bind="query-params"` writes the displayed label, which differs per language,
    so a link shared from the Danish view would not open the same area in Norwegian. Labels are
    looked up beforehand so `format_func` does not translate outside the script run.
    """
    default = default if default in options else options[0]
    if key not in st.session_state:
        asked = st.query_params.get(key)
        st.session_state[key] = asked if asked in options else default
    elif st.session_state[key] not in options:  # e.g. a new database without that area
        st.session_state[key] = default
    value = st.selectbox(label, options, key=key, format_func=lambda k: labels.get(k, str(k)),
                         help=help)
    if value == default and not always_in_url:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = value
    return value


def sidebar_filters() -> None:
    """Area, cohort year and support model, kept in the URL so a view can be shared."""
    area_list = areas()
    years = ["all", *_stratum_values(data.db(), "cohort_year")]
    models = ["all", *_stratum_values(data.db(), "support_model")]
    with st.sidebar:
        url_selectbox(tr("filters.area"), [a.key for a in area_list], "area",
                      {a.key: a.label for a in area_list}, help=tr("filters.area_help"))
        url_selectbox(tr("filters.cohort_year"), years, "cohort",
                      {"all": tr("filters.all_years")})
        url_selectbox(tr("filters.support_model"), models, "model",
                      {"all": tr("filters.all_models")})


@dataclass(frozen=True)
class Stratum:
    variable: str
    values: frozenset[str]
    label: str
    notice: str | None = None


def stratum(available: set[str] | list[str]) -> Stratum:
    """The one published breakdown that matches the filters.

    Publishable tables are broken down one characteristic at a time (a municipality, or a cohort
    year, or a support model), because crossing them would leave most cells too small to publish.
    With several filters set, the area wins and the page says which filter it could not apply.
    """
    available = set(available)
    a = area()
    chosen: list[Stratum] = []
    if a.kind == "country":
        chosen.append(Stratum("country", a.values, a.label))
    elif a.kind == "unit":
        chosen.append(Stratum("municipality", a.values, a.label))
    cohort = st.session_state.get("cohort", "all")
    if cohort not in (None, "all"):
        chosen.append(Stratum("cohort_year", frozenset({str(cohort)}),
                              f"{tr('common.stratum.cohort_year')} {cohort}"))
    model = st.session_state.get("model", "all")
    if model not in (None, "all"):
        chosen.append(Stratum("support_model", frozenset({str(model)}), str(model)))
    everyone = Stratum("all", frozenset({"all"}), tr("common.stratum.all"))
    if not chosen:
        return everyone
    usable = [s for s in chosen if s.variable in available]
    if not usable:
        return Stratum(everyone.variable, everyone.values, everyone.label,
                       tr("filters.not_published", shown=everyone.label))
    pick = usable[0]
    ignored = [s.label for s in chosen if s is not pick]
    notice = tr("filters.one_breakdown", shown=pick.label, ignored=", ".join(ignored)) \
        if ignored else None
    return Stratum(pick.variable, pick.values, pick.label, notice)


def filter_stratum(df: pl.DataFrame, s: Stratum) -> pl.DataFrame:
    if df.is_empty():
        return df
    return df.filter((pl.col("stratum_variable") == s.variable)
                     & pl.col("stratum_value").cast(pl.String).is_in(list(s.values)))


def show_notice(s: Stratum) -> None:
    if s.notice:
        st.info(s.notice, icon=":material/filter_alt:")


def section_stratum(df: pl.DataFrame, page: Stratum) -> Stratum:
    """The stratum for a table published for fewer breakdowns than the page's headline table;
    its notice only when it differs from the page's (not repeated under every heading)."""
    s = stratum(set(df["stratum_variable"].unique()) if df.height else {"all"})
    if (s.variable, s.values) != (page.variable, page.values):
        show_notice(s)
    return s


# ---- numbers ---------------------------------------------------------------------------------


def fmt(value: Any, kind: str) -> str:
    lg = lang()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "count" or kind == "int":
        return i18n.fmt_int(value, lg)
    if kind == "pct":
        return i18n.fmt_pct(value, lg)
    if kind == "pct1":
        return i18n.fmt_pct(value, lg, 1)
    if kind.startswith("num"):
        return i18n.fmt_num(value, lg, int(kind[3:] or 1))
    if kind.startswith("money"):
        return i18n.fmt_num(value, lg, 0)
    if kind.startswith("code:"):
        return code_label(kind[5:], value)
    return str(value)


def cell(row: dict[str, Any], column: str, kind: str) -> str:
    """One published value as text: 'suppressed' when its flag is set, never 0."""
    if row.get(f"{column}_suppressed"):
        return tr("common.suppressed")
    return fmt(row.get(column), kind)


def is_suppressed(row: dict[str, Any] | None, column: str) -> bool:
    return bool(row) and bool(row.get(f"{column}_suppressed"))


def metric(label: str, row: dict[str, Any] | None, column: str, kind: str, help: str,
           ci: tuple[str, str] | None = None) -> None:
    """A headline number with its definition on hover, and its CI underneath."""
    if row is None:
        st.metric(label, "–", help=help, border=True)
        return
    value = cell(row, column, kind)
    delta = None
    if ci and not is_suppressed(row, column) and row.get(ci[0]) is not None:
        delta = tr("ci", low=fmt(row.get(ci[0]), kind), high=fmt(row.get(ci[1]), kind))
    st.metric(label, value, delta=delta, delta_color="off", delta_arrow="off", help=help,
              border=True)


# ---- tables ----------------------------------------------------------------------------------


MAX_STATIC_ROWS = 30  # larger tables (all municipalities of a country) scroll instead


@dataclass(frozen=True)
class Col:
    name: str  # column in the publishable frame
    label: str  # header shown
    kind: str = "text"  # text | count | int | pct | pct1 | num1 | num2 | money | code:<namespace>


# Underscores inside words (parameter names like costs.ci_method) never start emphasis in GFM.
_MD_INLINE = re.compile(r"([\\`*\[\]])")
_MD_BLOCK_START = re.compile(r"^(\d+)([.)])(\s|$)|^([-+*#>])(\s|$)")


def md_escape(text: str | None) -> str | None:
    """Text shown literally by Markdown: emphasis and link characters escaped, and a leading
    "30. " or "- " that would start a list. Numbers ("1.234", "-4 000") are left as they are."""
    if text is None:
        return None
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_BLOCK_START.sub(lambda m: (f"{m[1]}\\{m[2]}{m[3]}" if m[1] else
                                          f"\\{m[4]}{m[5]}"), text, count=1)


def display_frame(df: pl.DataFrame, cols: list[Col]) -> pl.DataFrame:
    rows = df.to_dicts()
    return pl.DataFrame({c.label: [cell(r, c.name, c.kind) for r in rows] for c in cols},
                        schema={c.label: pl.String for c in cols})


def _csv_bytes(df: pl.DataFrame, cols: tuple[Col, ...], suppressed_word: str) -> bytes:
    """The table as shown, with unformatted numbers (for spreadsheets) and suppressed cells as the
    word, not blank; formula-like text neutralised (hfeval.export.safe_csv)."""
    out: dict[str, list[str | None]] = {c.label: [] for c in cols}
    for r in df.to_dicts():
        for c in cols:
            v = r.get(c.name)
            if r.get(f"{c.name}_suppressed"):
                v = suppressed_word
            elif c.kind.startswith("code:") and v is not None:
                v = code_label(c.kind[5:], v)
            out[c.label].append(None if v is None else str(v))
    frame = pl.DataFrame(out, schema={c.label: pl.String for c in cols})
    return safe_csv(frame).encode("utf-8-sig")  # BOM: Excel opens æ, ø, å correctly


def show_table(df: pl.DataFrame, cols: list[Col], *, name: str, caption: str | None = None) -> None:
    """A small static table (readable in the meeting room and by the browser tests), a CSV
    download of exactly what is shown, and the suppression footnote when anything is hidden."""
    if df.is_empty():
        st.caption(tr("no_rows"))
        return
    shown = display_frame(df, cols)
    if df.height <= MAX_STATIC_ROWS:
        # st.table renders Markdown: "30. september" would become a list, "-4 000" a bullet.
        st.table(shown.select(pl.col(c).map_elements(md_escape, return_dtype=pl.String)
                              .alias(md_escape(c)) for c in shown.columns), hide_index=True)
    else:  # a national table: scrollable, sortable, searchable
        st.dataframe(shown, hide_index=True, column_config={
            c.label: st.column_config.TextColumn(alignment="left" if c.kind == "text"
                                                 or c.kind.startswith("code:") else "right")
            for c in cols})
    hidden = any(df[f"{c.name}_suppressed"].any() for c in cols
                 if f"{c.name}_suppressed" in df.columns)
    notes = [caption] if caption else []
    if hidden:
        notes.append(tr("common.suppressed_help", threshold=threshold()))
    if notes:
        st.caption(" ".join(notes))
    st.download_button(
        tr("download_csv"), data=functools.partial(_csv_bytes, df, tuple(cols),
                                                   tr("common.suppressed")),
        file_name=f"hfeval-{name}-{lang()}.csv", mime="text/csv", key=f"csv-{name}",
        icon=":material/download:", on_click="ignore", type="tertiary",
    )


# ---- charts ----------------------------------------------------------------------------------


def show_chart(chart: alt.TopLevelMixin, *, name: str, alt_text: str) -> None:
    """The chart, and PNG/SVG downloads rendered on click by vl-convert (not on every rerun)."""
    # fit-x: the plot takes the column's width and keeps its height (legend and titles are added
    # around it rather than squeezed into it).
    chart = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    st.altair_chart(chart, width="stretch", alt=alt_text)
    c1, c2, _ = st.columns([1, 1, 4])
    spec = json.dumps(chart.to_dict(validate=False))  # validated once, by st.altair_chart
    c1.download_button(tr("download_png"), data=functools.partial(_png, spec),
                       file_name=f"hfeval-{name}-{lang()}.png", mime="image/png",
                       key=f"png-{name}", icon=":material/image:", on_click="ignore",
                       type="tertiary")
    c2.download_button(tr("download_svg"), data=functools.partial(_svg, spec),
                       file_name=f"hfeval-{name}-{lang()}.svg", mime="image/svg+xml",
                       key=f"svg-{name}", icon=":material/image:", on_click="ignore",
                       type="tertiary")


def _png(spec: str) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(spec, scale=2)


def _svg(spec: str) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec)
