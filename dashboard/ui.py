"""What every dashboard page shares: language, filters, and how numbers, tables and charts are shown.

Pages hold presentation only; they read publishable tables through `data` and format them here,
so a suppressed cell is shown the same way everywhere ("suppressed", never 0), every table can be
downloaded as CSV and every chart as PNG or SVG.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import hashlib
import html
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
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


# Shared, not copied per call (st.cache_data would unpickle ~800 areas each time): immutable.
@st.cache_resource(show_spinner=False)
def _areas(path: str, lang_: str) -> tuple[Area, ...]:
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
    return (*out, *sorted(unit_areas, key=lambda a: (a.country or "", a.label)))


@st.cache_resource(show_spinner=False)
def _areas_by_key(path: str, lang_: str) -> dict[str, Area]:
    return {a.key: a for a in _areas(path, lang_)}


def areas() -> tuple[Area, ...]:
    return _areas(data.db(), lang())


def area() -> Area:
    by_key = _areas_by_key(data.db(), lang())
    return by_key.get(st.session_state.get("area", "all"), by_key["all"])


@st.cache_resource(show_spinner=False)
def _stratum_values(path: str, variable: str) -> tuple[str, ...]:
    if "mart_retention_by_stratum" not in data.tables(path):
        return ()
    df = data.query(path, "select distinct stratum_value from mart_retention_by_stratum "
                          "where stratum_variable = ? order by 1", (variable,))
    return tuple(df["stratum_value"].to_list()) if df.height else ()


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


# ---- details on demand -----------------------------------------------------------------------


def expander(label: str, *, key: str, expanded: bool = False,
             icon: str | None = None) -> Any:
    """An expander whose content is made only while it is open: `if box.open: with box: ...`.

    A closed st.expander still receives and draws everything in it (tables of a few hundred
    rows, the sources file), which readers rarely open; opening it reruns the page instead.
    """
    return st.expander(label, expanded=expanded, key=key, icon=icon, on_change="rerun")


# ---- numbers ---------------------------------------------------------------------------------


def fmt(value: Any, kind: str, lg: str | None = None) -> str:
    """A value as text in `lg` (default: the reader's language)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    lg = lg or lang()
    try:
        return _formatted(value, kind, lg)
    except TypeError:  # an unhashable value: format it without the memo
        return _formatted.__wrapped__(value, kind, lg)


# Babel takes tens of microseconds a number; a national page shows thousands, again at each
# rerun. typed: 1, 1.0 and True are different keys (str() of them differs).
@functools.lru_cache(maxsize=100_000, typed=True)
def _formatted(value: Any, kind: str, lg: str) -> str:
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
        key = f"common.{kind[5:]}.{value}"
        return i18n.t(key, lg) if i18n.has(key, lg) else str(value)
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


def _shown_column(df: pl.DataFrame, c: Col, suppressed_word: str) -> pl.Expr:
    """One column as text, as `cell` shows it: each distinct published value formatted once
    (Babel per cell made a national table take seconds), 'suppressed' where the flag is set."""
    flag = f"{c.name}_suppressed"
    hidden = pl.col(flag).fill_null(False) if flag in df.columns else pl.lit(False)
    if c.name not in df.columns:
        shown = pl.lit("–", pl.String)
    elif c.kind == "text" and df.schema[c.name] == pl.String:
        shown = pl.col(c.name).fill_null("–")  # fmt(value, "text") is the value itself
    else:
        values = df.filter(~hidden).get_column(c.name).drop_nulls()
        if values.dtype.is_float():
            values = values.filter(values.is_not_nan())  # NaN is shown as "–"
        values = values.unique()
        if values.is_empty():
            shown = pl.lit("–", pl.String)
        else:
            lg = lang()  # once: the session lookup costs more than a memoised format
            texts = pl.Series([fmt(v, c.kind, lg) for v in values.to_list()], dtype=pl.String)
            shown = pl.col(c.name).replace_strict(values, texts, default=pl.lit("–"),
                                                  return_dtype=pl.String)
    return pl.when(hidden).then(pl.lit(suppressed_word)).otherwise(shown)


def display_frame(df: pl.DataFrame, cols: list[Col]) -> pl.DataFrame:
    """The table as shown: one text column per Col, headed by its label."""
    word = tr("common.suppressed")
    return df.select(_shown_column(df, c, word).alias(c.label) for c in cols)


def _csv_bytes(df: pl.DataFrame, cols: tuple[Col, ...], suppressed_word: str,
               labels: dict[str, dict[Any, str]]) -> bytes:
    """The table as shown, with unformatted numbers (for spreadsheets) and suppressed cells as the
    word, not blank; formula-like text neutralised (hfeval.export.safe_csv). Runs when the
    reader clicks, outside the script run: codes come translated in `labels` (per column)."""
    out: dict[str, list[str | None]] = {c.label: [] for c in cols}
    for r in df.to_dicts():
        for c in cols:
            v = r.get(c.name)
            if r.get(f"{c.name}_suppressed"):
                v = suppressed_word
            elif c.name in labels and v is not None:
                v = labels[c.name].get(v, v)
            out[c.label].append(None if v is None else str(v))
    frame = pl.DataFrame(out, schema={c.label: pl.String for c in cols})
    return safe_csv(frame).encode("utf-8-sig")  # BOM: Excel opens æ, ø, å correctly


def _code_labels(df: pl.DataFrame, cols: list[Col]) -> dict[str, dict[Any, str]]:
    """Per code column: each code in the frame in the reader's language (for the CSV)."""
    return {c.name: {v: code_label(c.kind[5:], v) for v in df[c.name].unique().to_list()
                     if v is not None}
            for c in cols if c.kind.startswith("code:") and c.name in df.columns}


# A static table drawn like st.table (same borders, spacing and type). st.table renders every
# cell as Markdown, a React component each: a few hundred cells took a second or more to draw.
# Colours follow the theme's text colour, so the table reads in the dark theme too.
_TABLE_CSS = """<style>
.hf-table{border:1px solid var(--hf-line);border-radius:.5rem;overflow:auto;max-width:100%;
 --hf-line:color-mix(in srgb,currentColor 11%,transparent)}
.hf-table table{border-spacing:0;min-width:100%;font-size:.875rem;line-height:1.5;
 color:inherit;margin:0}
.hf-table th,.hf-table td{padding:.25rem .375rem;border:0;border-right:1px solid var(--hf-line);
 border-bottom:1px solid var(--hf-line);white-space:nowrap;vertical-align:middle;
 font-weight:400;text-align:left;background:none}
.hf-table th{color:color-mix(in srgb,currentColor 70%,transparent);padding-left:.5rem}
.hf-table tr>:last-child{border-right:0}
.hf-table tbody tr:last-child>*{border-bottom:0}
.hf-table .w{display:inline-block;width:fit-content;max-width:25rem;white-space:normal;
 overflow-wrap:normal;word-break:normal;vertical-align:top}
</style>"""


def _html_text(text: str | None) -> str:
    # In a box that wraps when the table is squeezed (as st.table's cells do), at most 25rem.
    return f'<span class="w">{html.escape(text) if text else "&nbsp;"}</span>'


def table_html(shown: pl.DataFrame) -> str:
    """A frame of text as a static HTML table (one element, however many cells)."""
    head = "".join(f'<th scope="col">{_html_text(c)}</th>' for c in shown.columns)
    body = "".join("<tr>" + "".join(f"<td>{_html_text(v)}</td>" for v in row) + "</tr>"
                   for row in shown.iter_rows())
    return (f'{_TABLE_CSS}<div class="hf-table"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def show_table(df: pl.DataFrame, cols: list[Col], *, name: str, caption: str | None = None) -> None:
    """A small static table (readable in the meeting room and by the browser tests), a CSV
    download of exactly what is shown, and the suppression footnote when anything is hidden."""
    if df.is_empty():
        st.caption(tr("no_rows"))
        return
    shown = display_frame(df, cols)
    if df.height <= MAX_STATIC_ROWS:
        st.html(table_html(shown))
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
                                                   tr("common.suppressed"),
                                                   _code_labels(df, cols)),
        file_name=f"hfeval-{name}-{lang()}.csv", mime="text/csv", key=f"csv-{name}",
        icon=":material/download:", on_click="ignore", type="tertiary",
    )


# ---- charts ----------------------------------------------------------------------------------


# Charts already built, by builder, data and arguments: a rerun that shows the same numbers (a
# widget elsewhere on the page, an expander opened, another reader of the same area) reuses
# them. Altair makes and copies a dozen schema objects per layer (~20-30 ms a chart).
_CHARTS: OrderedDict[tuple, alt.TopLevelMixin] = OrderedDict()
_CHARTS_LOCK = threading.Lock()
MAX_CHARTS = 200


def _frame_key(df: pl.DataFrame) -> tuple:
    rows = df.hash_rows(seed=0).to_numpy().tobytes() if df.height else b""
    return (tuple((n, str(t)) for n, t in df.schema.items()), df.height,
            hashlib.blake2b(rows, digest_size=16).hexdigest())


def chart(builder: Callable[..., alt.TopLevelMixin], df: pl.DataFrame,
          **kwargs: Any) -> alt.TopLevelMixin:
    """`builder(df, **kwargs)` (an hfeval.charts builder), made once for the same data and
    arguments. Charts are not changed in place (Altair's methods return copies)."""
    key = (builder.__module__, builder.__qualname__, _frame_key(df),
           repr(sorted(kwargs.items())))
    with _CHARTS_LOCK:
        found = _CHARTS.get(key)
        if found is not None:
            _CHARTS.move_to_end(key)
            return found
    made = builder(df, **kwargs)
    with _CHARTS_LOCK:
        _CHARTS[key] = made
        while len(_CHARTS) > MAX_CHARTS:
            _CHARTS.popitem(last=False)
    return made


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite spec of a chart, fitted to the column's width.

    Converted once and not validated: st.altair_chart converts (and validates against the
    JSON schema) on every rerun, and the downloads converted it a second time. The builders in
    hfeval.charts are fixed; the browser tests draw every chart of every page.
    """
    # fit-x: the plot takes the column's width and keeps its height (legend and titles are added
    # around it rather than squeezed into it).
    chart = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    spec = chart.to_dict(validate=False)
    # Altair's default theme adds a 300 px view size; st.altair_chart draws without it.
    view = spec.get("config", {}).get("view")
    if isinstance(view, dict):
        for k in ("continuousWidth", "continuousHeight"):
            view.pop(k, None)
        if not view:
            del spec["config"]["view"]
    return spec


def show_chart(chart: alt.TopLevelMixin, *, name: str, alt_text: str) -> None:
    """The chart, and PNG/SVG downloads rendered on click by vl-convert (not on every rerun)."""
    spec = chart_spec(chart)
    text = json.dumps(spec)  # before st.vega_lite_chart moves the data out of the spec
    st.vega_lite_chart(spec, width="stretch", alt=alt_text)
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(tr("download_png"), data=functools.partial(_png, text),
                       file_name=f"hfeval-{name}-{lang()}.png", mime="image/png",
                       key=f"png-{name}", icon=":material/image:", on_click="ignore",
                       type="tertiary")
    c2.download_button(tr("download_svg"), data=functools.partial(_svg, text),
                       file_name=f"hfeval-{name}-{lang()}.svg", mime="image/svg+xml",
                       key=f"svg-{name}", icon=":material/image:", on_click="ignore",
                       type="tertiary")


def _png(spec: str) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(spec, scale=2)


def _svg(spec: str) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec)


# ---- once per server process -----------------------------------------------------------------


def _settle() -> None:
    """Load what every page needs at start-up, then exempt it from garbage collection.

    Streamlit collects garbage after every script run (runner.postScriptGC). A full collection
    walks every live container object, and the libraries alone are ~280 000 of them (Altair's
    Vega-Lite schema most): 0.2-0.7 s after each run and each filter change, holding the GIL
    while the end of the run waits to be sent. Objects that live as long as the process are
    frozen (gc.freeze) so that a collection walks only what the runs create.

    hfeval.costs is imported here rather than on the first visit of the Costs page: its package
    __init__ imports the bootstrap and with it SciPy (~0.7 s), although the page needs only
    hfeval.costs.prices and .restate.
    """
    import pandas  # noqa: F401  (Streamlit converts tables and chart data with it)
    import pyarrow  # noqa: F401

    # A broken hfeval.costs stays the Costs page's error (it imports the module again).
    with contextlib.suppress(Exception):
        import hfeval.costs.restate  # noqa: F401

    gc.freeze()
    # Frozen objects are never freed: give them back at exit, so that extension modules
    # (duckdb's nanobind types) are torn down as usual instead of reported as leaked.
    atexit.register(gc.unfreeze)


_settle()
