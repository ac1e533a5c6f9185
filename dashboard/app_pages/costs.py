"""Costs and savings: what Housing First saves society, and whom.

Reads the published cost marts (mart_costs_net, mart_costs_by_payer, mart_costs_by_service,
mart_cost_sensitivity, mart_unpriced_service_use). They are published per municipality (or
aggregate of small ones) and design, in the run's costs.currency and costs.price_year; the
sidebar restates them in another price year or currency with the published CPI and exchange
rates (hfeval.costs.restate). A suppressed estimate shows the word, never 0; an estimate that
does not exist (break-even never reached) says so in words.
"""

from __future__ import annotations

import re

import data
import polars as pl
import streamlit as st
import ui

from hfeval import charts, i18n
from hfeval.costs.prices import COUNTRY_CURRENCY, LOCAL, PriceError, PriceTables
from hfeval.costs.restate import price_years, restate

NS = "costs"
DESIGNS = ("did", "prepost")
MONEY_MEASURES = ("offset", "programme_cost", "net_saving", "pre_cost_rate", "post_cost_rate",
                  "offset_housing_first", "offset_comparison", "offset_undiscounted")
ESTIMATE_COLUMNS = ("estimate", "ci_low", "ci_high", "percentile_low", "percentile_high",
                    "bca_low", "bca_high")
SENSITIVITY_COLUMNS = ("net_saving_low", "net_saving_high", "net_saving_base", "swing")
MAX_CHART_AREAS = 30  # more areas than this (a national view): tables only
# English notes written by hfeval.costs.outputs.estimate, translated here.
NOTES = {"no Housing First participants observed after the anchor": "note_no_hf",
         "no comparison arm: difference-in-differences not possible": "note_no_comparison"}

p = ui.params()
a = ui.area()
lang = ui.lang()


def t(key: str, **kw) -> str:
    return ui.tr(f"{NS}.{key}", **kw)


def url_radio(label: str, options: list[str], key: str, labels: dict[str, str],
              help: str) -> str:
    """A horizontal radio whose code lives in the URL (`?design=prepost`), as ui.url_selectbox
    does for selectboxes: the same link opens the same choice in every language."""
    if st.session_state.get(key) not in options:
        asked = st.query_params.get(key)
        st.session_state[key] = asked if asked in options else options[0]
    value = st.radio(label, options, key=key, horizontal=True, help=help,
                     format_func=lambda k: labels.get(k, str(k)))
    if value == options[0]:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = value
    return value


# ---- reading and restating --------------------------------------------------------------------


def in_area(df: pl.DataFrame) -> pl.DataFrame:
    """Rows of the chosen area: one unit, or every unit of a country, or all of them."""
    if df.is_empty():
        return df
    if a.kind == "unit":
        return df.filter(pl.col("municipality_code").is_in(list(a.values)))
    if a.kind == "country":
        return df.filter(pl.col("country") == a.country)
    return df


def money_restate(df: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """Money measures in the currency and price year chosen in the sidebar; ratios and counts
    of people (saved per 10 spent, break-even participants) keep their values."""
    if df.is_empty():
        return df
    cols = [c for c in columns if c in df.columns]
    is_money = pl.col("measure").is_in(MONEY_MEASURES)
    return pl.concat([
        restate(df.filter(is_money), tables, price_year=chosen_year, currency=chosen_currency,
                columns=cols),
        restate(df.filter(~is_money), tables, price_year=chosen_year, currency=chosen_currency,
                columns=[]),
    ], how="vertical_relaxed")


def with_sensitivity_prices(df: pl.DataFrame) -> pl.DataFrame:
    """The sensitivity mart has no currency columns: it is in the run's settings."""
    if df.is_empty():
        return df
    run_currency = str(p.get("costs.currency", LOCAL))
    cur = pl.col("country").replace_strict(COUNTRY_CURRENCY, default=None) \
        if run_currency == LOCAL else pl.lit(run_currency)
    return df.with_columns(cur.alias("currency"),
                           pl.lit(int(p.get("costs.price_year", 2024))).alias("price_year"))


def currency_words(df: pl.DataFrame) -> str:
    used = sorted({c for c in df["currency"].unique().to_list() if c}) if df.height else []
    return " / ".join(used) if used else "–"


# ---- formatting -------------------------------------------------------------------------------


def money(value: float | None, currency: str | None) -> str:
    return i18n.fmt_money(value, lang, currency or "")


def ci_text(row: dict, kind: str, currency: str | None = None) -> str | None:
    low, high = row.get("ci_low"), row.get("ci_high")
    if ui.is_suppressed(row, "estimate") or (low is None and high is None):
        return None
    fmt = (lambda v: money(v, currency)) if kind == "money" else (lambda v: ui.fmt(v, kind))
    if high is None:
        return t("ci_no_upper", low=fmt(low))
    if low is None:
        return t("ci_no_lower", high=fmt(high))
    return ui.tr("ci", low=fmt(low), high=fmt(high))


def estimate_metric(label: str, row: dict | None, kind: str, help: str,
                    missing: str | None = None) -> None:
    """A headline estimate: money with its currency, 'suppressed' when hidden, the CI below."""
    if row is None:
        st.metric(label, "–", help=help, border=True)
        return
    if ui.is_suppressed(row, "estimate"):
        value = ui.tr("common.suppressed")
    elif row.get("estimate") is None:
        value = missing or ui.tr("common.not_available")
    elif kind == "money":
        value = money(row["estimate"], row.get("currency"))
    else:
        value = ui.fmt(row["estimate"], kind)
    delta = ci_text(row, kind, row.get("currency")) if row.get("estimate") is not None else None
    st.metric(label, value, delta=delta, delta_color="off", delta_arrow="off", help=help,
              border=True)


def pick(df: pl.DataFrame, measure: str, breakdown: str = "total",
         category: str = "all") -> dict | None:
    if df.is_empty():
        return None
    rows = df.filter((pl.col("measure") == measure) & (pl.col("breakdown") == breakdown)
                     & (pl.col("category") == category))
    return rows.row(0, named=True) if rows.height else None


def area_label_of() -> dict[str, str]:
    return {v: x.label for x in ui.areas() if x.kind == "unit" for v in x.codes}


def labelled(df: pl.DataFrame, namespace: str, column: str = "category") -> pl.DataFrame:
    return df.with_columns(translated(df, column, lambda v: ui.code_label(namespace, v))
                           .alias("label"))


def translated(df: pl.DataFrame, column: str, label) -> pl.Expr:
    """`column` through `label`, evaluated here in the script thread (the reader's language is
    in the session; a polars worker thread would not see it)."""
    values = df[column].unique().to_list() if df.height else []
    return pl.col(column).replace_strict({v: label(v) for v in values if v is not None},
                                         default=None, return_dtype=pl.String)


def drawable(df: pl.DataFrame) -> pl.DataFrame:
    """Rows a chart may draw: not suppressed and estimated (the table shows the others)."""
    return df.filter(~pl.col("estimate_suppressed").fill_null(False)
                     & pl.col("estimate").is_not_null())


def hidden_note(df: pl.DataFrame, shown: pl.DataFrame) -> None:
    if shown.height < df.height:
        st.caption(t("chart_hidden"))


# ---- sidebar: currency and price year ---------------------------------------------------------

net_published = data.table("mart_costs_net")
tables = PriceTables.from_frames(data.table("stg_cpi"), data.table("stg_exchange_rates"))
run_currency = str(p.get("costs.currency", LOCAL))
run_year = int(p.get("costs.price_year", 2024))
rate_currencies = sorted({c for (_, c) in tables.per_eur})
currency_options = [LOCAL, *[c for c in ("NOK", "DKK", "EUR") if c in rate_currencies or
                             c == "EUR"]]
if run_currency not in currency_options:
    currency_options.append(run_currency)
sources = [(r["country"], r["currency"], int(r["price_year"])) for r in
           net_published.select("country", "currency", "price_year").unique().iter_rows(
               named=True)] if net_published.height else []

with st.sidebar:
    st.divider()
    # Codes in the URL (?currency=EUR&price_year=2015), the same in every language.
    chosen_currency = ui.url_selectbox(
        t("currency"), currency_options, "currency",
        {c: t("currency_local") if c == LOCAL else c for c in currency_options},
        default=run_currency, help=t("currency_help"))
    year_options = price_years(tables, sources, chosen_currency) if sources else [run_year]
    year_codes = [str(y) for y in sorted({*year_options, run_year})]
    chosen_year = int(ui.url_selectbox(
        t("price_year"), year_codes, "price_year", {}, default=str(run_year),
        help=t("price_year_help", year=run_year,
               currency=t("currency_local") if run_currency == LOCAL else run_currency)))

# ---- page -------------------------------------------------------------------------------------

st.title(t("title"))
st.write(t("intro", area=a.label))
if a.members:
    st.info(ui.tr("common.unit.merged_note", name=", ".join(a.members), unit=a.label),
            icon=":material/group_work:")
ui.show_notice(ui.stratum({"all", "country", "municipality"}))

try:
    net = money_restate(in_area(net_published), ESTIMATE_COLUMNS)
    payer = money_restate(in_area(data.table("mart_costs_by_payer")), ESTIMATE_COLUMNS)
    service = money_restate(in_area(data.table("mart_costs_by_service")), ESTIMATE_COLUMNS)
    sens = restate(with_sensitivity_prices(in_area(data.table("mart_cost_sensitivity"))), tables,
                   price_year=chosen_year, currency=chosen_currency,
                   columns=list(SENSITIVITY_COLUMNS))
except PriceError as e:  # the reference tables lack a year: say which, show nothing wrong
    st.error(str(e), icon=":material/error:")
    net = payer = service = sens = pl.DataFrame()

units = net.select("municipality_code").unique() if net.height else net
currency_shown = currency_words(net)
st.caption(t("prices_note", currency=currency_shown, year=chosen_year))

design = url_radio(t("design"), list(DESIGNS), "design",
                   {d: ui.code_label("design", d) for d in DESIGNS}, help=t("design_help"))
if design == "prepost":
    st.warning(f"**{t('prepost_caveat_title')}** {t('prepost_caveat')}", icon=":material/warning:")
else:
    st.caption(t("did_note"))

net_d = net.filter(pl.col("design") == design) if net.height else net
payer_d = payer.filter(pl.col("design") == design) if payer.height else payer
service_d = service.filter(pl.col("design") == design) if service.height else service
sens_d = sens.filter(pl.col("design") == design) if sens.height else sens


def first_note(df: pl.DataFrame) -> None:
    notes = [n for n in df["note"].unique().to_list() if n] if "note" in df.columns else []
    for n in notes:
        st.info(t(NOTES[n]) if n in NOTES else n, icon=":material/info:")


def method_note() -> None:
    box = ui.expander(t("method_title"), key="costs-method", icon=":material/calculate:")
    if not box.open:
        return
    with box:
        st.markdown(t("method_body", window=p.get("costs.window_months", 24),
                      rate_no=ui.fmt(p.get("costs.discount_rate.NO", 0.04), "pct1"),
                      rate_dk=ui.fmt(p.get("costs.discount_rate.DK", 0.035), "pct1"),
                      n=ui.fmt(p.get("costs.bootstrap.n_resamples", 2000), "int"),
                      method=t(f"ci_method.{p.get('costs.ci_method', 'bca')}")))
        st.markdown(t(f"design_explained.{design}"))


# ---- one area -----------------------------------------------------------------------------------


def one_area() -> None:
    if net_d.is_empty():
        st.info(t("not_published"), icon=":material/info:")
        return
    first_note(net_d)
    total = pick(net_d, "net_saving")
    cur = total.get("currency") if total else None
    st.subheader(t("headline"))
    c1, c2, c3 = st.columns(3)
    with c1:
        estimate_metric(t("net_saving"), total, "money", t("net_saving_help"))
    with c2:
        estimate_metric(t("offset"), pick(net_d, "offset"), "money",
                        t(f"offset_help_{design}"))
    with c3:
        estimate_metric(t("programme_cost"), pick(net_d, "programme_cost"), "money",
                        t("programme_cost_help"))
    if total:
        base = {"hf": ui.cell(total, "n_participants_hf", "count"),
                "years": ui.cell(total, "person_years_hf", "int"),
                "window": total.get("window_months"),
                "level": ui.fmt(total.get("level"), "pct")}
        key = "basis_did" if design == "did" else "basis_prepost"
        st.caption(t(key, comparison=ui.cell(total, "n_participants_comparison", "count"), **base))
    method_note()

    # ---- who pays and who saves
    st.subheader(t("payers"))
    st.write(t("payers_intro"))
    sectors = payer_d.filter(pl.col("breakdown") == "payer_sector")
    net_by = labelled(sectors.filter(pl.col("measure") == "net_saving"), "sector")
    shown = drawable(net_by)
    if shown.height:
        chart = ui.chart(charts.diverging_bars,
            shown, category="label", value="estimate", low="ci_low", high="ci_high",
            category_title=t("col_sector"), value_title=t("axis_net", currency=cur or ""),
            positive_label=t("saves"), negative_label=t("pays_more"), lang=lang)
        ui.show_chart(chart, name="costs-by-payer", alt_text=t("payers_alt"))
        hidden_note(net_by, shown)
    ui.show_table(payer_table(payer_d), [
        ui.Col("category", t("col_sector"), "code:sector"),
        ui.Col("offset", t("col_offset", currency=cur or ""), "money"),
        ui.Col("programme", t("col_programme", currency=cur or ""), "money"),
        ui.Col("estimate", t("col_net", currency=cur or ""), "money"),
        ui.Col("ci_low", t("col_ci_low"), "money"),
        ui.Col("ci_high", t("col_ci_high"), "money"),
    ], name="costs-by-payer", caption=t("payers_caption"))

    # ---- before and after, by service
    st.subheader(t("services"))
    c1, c2 = st.columns(2)
    with c1:
        estimate_metric(t("pre_rate"), pick(net_d, "pre_cost_rate"), "money", t("pre_rate_help"))
    with c2:
        estimate_metric(t("post_rate"), pick(net_d, "post_cost_rate"), "money",
                        t("post_rate_help"))
    by_service = labelled(service_d.filter(pl.col("breakdown") == "service"), "service").filter(
        ~((pl.col("estimate") == 0) & (pl.col("ci_low") == 0) & (pl.col("ci_high") == 0))
        .fill_null(False))  # a service nobody here used, before or after
    shown = drawable(by_service)
    if shown.height:
        chart = ui.chart(charts.bars_with_ci,
            shown, category="label", value="estimate", low="ci_low", high="ci_high",
            value_title=t("axis_offset", currency=cur or ""), category_title=t("col_service"),
            lang=lang, zero_line=True)
        ui.show_chart(chart, name="costs-by-service", alt_text=t("services_alt"))
        hidden_note(by_service, shown)
    ui.show_table(by_service.sort("estimate", descending=True, nulls_last=True), [
        ui.Col("category", t("col_service"), "code:service"),
        ui.Col("estimate", t("col_offset", currency=cur or ""), "money"),
        ui.Col("ci_low", t("col_ci_low"), "money"),
        ui.Col("ci_high", t("col_ci_high"), "money"),
    ], name="costs-by-service", caption=t(f"services_caption_{design}"))

    # ---- return per unit invested and break-even
    st.subheader(t("return"))
    c1, c2 = st.columns(2)
    ret = pick(net_d, "saved_per_10_spent")
    with c1:
        estimate_metric(t("saved_per_10", currency=cur or ""), ret, "num1",
                        t("saved_per_10_help"))
    with c2:
        estimate_metric(t("break_even"), pick(net_d, "break_even_participants"), "int",
                        t("break_even_help"), missing=t("break_even_never"))
    if ret and ret.get("estimate") is not None and not ui.is_suppressed(ret, "estimate"):
        st.write(t("return_sentence", value=ui.fmt(ret["estimate"], "num1"), currency=cur or ""))

    # ---- sensitivity
    st.subheader(t("sensitivity"))
    st.write(t("sensitivity_intro", pct=ui.fmt(p.get("costs.sensitivity.unit_cost_pct", 0.25),
                                               "pct")))
    sensitivity(sens_d, cur)


def payer_table(df: pl.DataFrame) -> pl.DataFrame:
    """Per payer sector: costs avoided, what it pays for the programme, net saving (with CI);
    the programme is paid by the municipality, so its share = costs avoided - net saving."""
    if df.is_empty():
        return df
    keep = df.filter(pl.col("breakdown").is_in(["payer_sector", "total"])
                     & (pl.col("measure") != "programme_cost"))
    offset = keep.filter(pl.col("measure") == "offset").select(
        "category", pl.col("estimate").alias("offset"),
        pl.col("estimate_suppressed").alias("offset_suppressed"))
    net_rows = keep.filter(pl.col("measure") == "net_saving")
    out = net_rows.join(offset, on="category", how="left").with_columns(
        (pl.col("offset") - pl.col("estimate")).alias("programme"),
        (pl.col("offset_suppressed") | pl.col("estimate_suppressed")).alias(
            "programme_suppressed"))
    order = pl.when(pl.col("category") == "all").then(1).otherwise(0)
    return out.sort(order, pl.col("estimate"), descending=[False, True], nulls_last=True)


def sensitivity_label(variable: str, low: str, high: str) -> str:
    m = re.fullmatch(r"unit cost: (\w+)", variable)
    if m:
        name = t("sens.unit_cost", service=ui.code_label("service", m.group(1)))
    else:
        key = {"programme cost": "programme_cost", "window (months)": "window",
               "discount rate": "discount_rate"}.get(variable)
        name = t(f"sens.{key}") if key else variable
    return f"{name} ({setting(low)} / {setting(high)})"


def setting(text: str) -> str:
    """'-25%', '6.0%' and '12' (months) from the sensitivity mart in the reader's format."""
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)%", text or "")
    if m:
        value = float(m.group(1)) / 100
        decimals = len(m.group(1).split(".")[1]) if "." in m.group(1) else 0
        sign = "+" if text.startswith("+") else ""
        return sign + i18n.fmt_pct(value, lang, decimals)
    if (text or "").isdigit():
        return f"{text} {ui.tr('common.months')}"
    return text or "–"


def sensitivity(df: pl.DataFrame, cur: str | None) -> None:
    if df.is_empty():
        st.caption(ui.tr("no_rows"))
        return
    rows = df.with_columns(pl.Series("label", [
        sensitivity_label(r["variable"], r["low_setting"], r["high_setting"])
        for r in df.select("variable", "low_setting", "high_setting").iter_rows(named=True)],
        dtype=pl.String))
    shown = rows.filter(~pl.col("net_saving_low_suppressed").fill_null(False)
                        & pl.col("net_saving_low").is_not_null()
                        & pl.col("net_saving_high").is_not_null())
    if shown.height:
        chart = ui.chart(charts.tornado,
            shown, variable="label", base_value=float(shown["net_saving_base"][0]),
            # No axis title: the long labels say what they are, and a title would overlap them.
            variable_title="", value_title=t("axis_net", currency=cur or ""),
            low_title=t("low_setting"), high_title=t("high_setting"), lang=lang)
        ui.show_chart(chart, name="costs-sensitivity", alt_text=t("sensitivity_alt"))
        if shown.height < rows.height:
            st.caption(t("chart_hidden"))
    ui.show_table(rows.sort("swing", descending=True, nulls_last=True), [
        ui.Col("label", t("col_variable")),
        ui.Col("net_saving_low", t("col_at_low", currency=cur or ""), "money"),
        ui.Col("net_saving_high", t("col_at_high", currency=cur or ""), "money"),
        ui.Col("swing", t("col_swing", currency=cur or ""), "money"),
    ], name="costs-sensitivity", caption=t("sensitivity_caption"))


# ---- several areas --------------------------------------------------------------------------------


def many_areas() -> None:
    if net_d.is_empty():
        st.info(t("not_published"), icon=":material/info:")
        return
    st.info(t("choose_area"), icon=":material/pin_drop:")
    labels = area_label_of()
    with_area = net_d.with_columns(pl.col("municipality_code").replace_strict(
        labels, default=pl.col("municipality_name")).alias("area"))
    net_rows = with_area.filter((pl.col("measure") == "net_saving")
                                & (pl.col("breakdown") == "total"))
    wide = net_rows.join(
        with_area.filter(pl.col("measure") == "saved_per_10_spent").select(
            "municipality_code", pl.col("estimate").alias("per_10"),
            pl.col("estimate_suppressed").alias("per_10_suppressed")),
        on="municipality_code", how="left").join(
        with_area.filter(pl.col("measure") == "break_even_participants").select(
            "municipality_code", pl.col("estimate").alias("break_even"),
            pl.col("estimate_suppressed").alias("break_even_suppressed")),
        on="municipality_code", how="left").sort("country", "area")
    st.subheader(t("by_area"))
    if chosen_currency == LOCAL and wide["currency"].n_unique() > 1:
        st.caption(t("local_currencies"))
    for (currency,), group in wide.group_by(["currency"], maintain_order=True):
        shown = drawable(group)
        if 0 < shown.height <= MAX_CHART_AREAS:
            chart = ui.chart(charts.bars_with_ci,
                shown, category="area", value="estimate", low="ci_low", high="ci_high",
                value_title=t("axis_net", currency=currency), category_title=t("col_area"),
                lang=lang, zero_line=True)
            ui.show_chart(chart, name=f"costs-net-by-area-{str(currency).lower()}",
                          alt_text=t("by_area_alt"))
            hidden_note(group, shown)
    ui.show_table(wide, [
        ui.Col("area", t("col_area")),
        ui.Col("currency", t("col_currency")),
        ui.Col("n_participants_hf", t("col_n_hf"), "count"),
        *([ui.Col("n_participants_comparison", t("col_n_comparison"), "count")]
          if design == "did" else []),
        ui.Col("estimate", t("col_net_plain"), "money"),
        ui.Col("ci_low", t("col_ci_low"), "money"),
        ui.Col("ci_high", t("col_ci_high"), "money"),
        ui.Col("per_10", t("col_per_10"), "num1"),
        ui.Col("break_even", t("col_break_even"), "int"),
    ], name="costs-by-area", caption=t("by_area_caption"))
    first_note(net_d)
    method_note()

    st.subheader(t("payers"))
    st.write(t("payers_intro"))
    sectors = labelled(payer_d.filter((pl.col("breakdown") == "payer_sector")
                                      & (pl.col("measure") == "net_saving")), "sector")
    sectors = sectors.with_columns(pl.col("municipality_code").replace_strict(
        labels, default=pl.col("municipality_name")).alias("area")).sort("country", "area")
    for (currency,), group in sectors.group_by(["currency"], maintain_order=True):
        shown = drawable(group)
        n_areas = shown["area"].n_unique() if shown.height else 0
        if 0 < n_areas <= 8:
            order = [ui.code_label("sector", s) for s in
                     ("municipality", "specialist_health", "justice", "welfare", "other")]
            chart = ui.chart(charts.bars_with_ci,
                shown, category="area", value="estimate", low="ci_low", high="ci_high",
                value_title=t("axis_net", currency=currency), category_title=t("col_area"),
                lang=lang, color="label", color_title=t("col_sector"), zero_line=True,
                group_order=[o for o in order if o in set(shown["label"].to_list())] or None,
                sort=sorted(set(shown["area"].to_list())))
            ui.show_chart(chart, name=f"costs-by-payer-{str(currency).lower()}",
                          alt_text=t("payers_alt"))
            hidden_note(group, shown)
    ui.show_table(sectors, [
        ui.Col("area", t("col_area")),
        ui.Col("category", t("col_sector"), "code:sector"),
        ui.Col("currency", t("col_currency")),
        ui.Col("estimate", t("col_net_plain"), "money"),
        ui.Col("ci_low", t("col_ci_low"), "money"),
        ui.Col("ci_high", t("col_ci_high"), "money"),
    ], name="costs-by-payer-and-area", caption=t("payers_caption"))


# ---- unpriced service use -------------------------------------------------------------------------


def unpriced() -> None:
    st.subheader(t("unpriced"))
    use = data.table("mart_unpriced_service_use", order="country, service, unit")
    if a.country and use.height:
        use = use.filter(pl.col("country") == a.country)
    if use.is_empty():
        st.success(t("unpriced_none"), icon=":material/check_circle:")
        return
    st.warning(t("unpriced_warning"), icon=":material/money_off:")
    use = use.with_columns(translated(use, "unit", lambda u: t(f"unit.{u}")
                                      if i18n.has(f"costs.unit.{u}", lang) else u)
                           .alias("unit_label"))
    ui.show_table(use, [
        ui.Col("country", t("col_country"), "code:country"),
        ui.Col("service", t("col_service"), "code:service"),
        ui.Col("unit_label", t("col_unit")),
        ui.Col("n_events", t("col_events"), "int"),
        ui.Col("total_quantity", t("col_quantity"), "int"),
        ui.Col("n_participants", t("col_people"), "count"),
    ], name="costs-unpriced", caption=t("unpriced_caption"))


if a.kind == "unit" and units.height <= 1:
    one_area()
else:
    many_areas()
unpriced()
