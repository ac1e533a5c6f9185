"""Altair charts of publishable tables, shared by the dashboard and the reports.

Every builder takes a polars frame that is already disclosure-controlled and labelled (the caller
translates codes into the reader's language) and returns an Altair chart. Suppressed values are
NULL in the frame and are simply not drawn; the caller says so beside the chart. `localise`
applies the reader's number format (decimal comma, thousands separator) to axes and tooltips.

`to_png` / `to_svg` render a chart to a static image with vl-convert (no browser needed), for
chart downloads in the dashboard and the figures of the PDF/HTML reports.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from hfeval import i18n

# Colour-blind-safe (Okabe-Ito): Housing First blue, comparison orange, then the rest.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
WIDTH = 640
HEIGHT = 320


def localise(chart: alt.TopLevelMixin, lang: str) -> alt.TopLevelMixin:
    """Number formats of the reader's locale (Vega's d3-format locale) and a readable font size."""
    # One configure call: each one copies the chart (a third of a small chart's making).
    return chart.configure(
        locale={"number": i18n.number_format(lang)},
        font="Source Sans Pro, Helvetica, Arial, sans-serif",
        axis={"labelFontSize": 12, "titleFontSize": 13},
        legend={"labelFontSize": 12, "titleFontSize": 13, "labelLimit": 360,
                "orient": "bottom", "direction": "vertical"},
    )


def _scale(order: list[str] | None) -> alt.Scale:
    """Colours in a fixed order (Housing First first), so a group keeps its colour across charts."""
    if order:
        return alt.Scale(domain=order, range=PALETTE[: len(order)])
    return alt.Scale(range=PALETTE)


def _data(df: pl.DataFrame) -> dict[str, Any]:
    # Plain records keep the chart spec self-contained (no pandas dependency on the way). A plain
    # dict, not alt.Data(values=...): Altair validates alt.Data's rows against the Vega-Lite
    # schema when it is made (~40 ms for a 300-point curve, at every dashboard rerun).
    return {"values": df.to_dicts()}


def survival_curves(
    df: pl.DataFrame, *, x: str = "months", y: str = "survival", low: str = "ci_lower",
    high: str = "ci_upper", group: str = "group", x_title: str, y_title: str,
    group_title: str, lang: str, y_domain: tuple[float, float] = (0.0, 1.0),
    tooltip_extra: list[alt.Tooltip] | None = None, group_order: list[str] | None = None,
) -> alt.TopLevelMixin:
    """Kaplan-Meier (or cumulative incidence) step curves with 95 % CI bands, one per group."""
    base = alt.Chart(_data(df)).encode(
        x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(tickMinStep=6)),
        color=alt.Color(f"{group}:N", title=group_title, scale=_scale(group_order)),
    )
    band = base.mark_area(interpolate="step-after", opacity=0.18).encode(
        y=alt.Y(f"{low}:Q", title=y_title, scale=alt.Scale(domain=list(y_domain)),
                axis=alt.Axis(format="%")),
        y2=f"{high}:Q",
    )
    tooltips = [
        alt.Tooltip(f"{group}:N", title=group_title),
        alt.Tooltip(f"{x}:Q", title=x_title, format=".0f"),
        alt.Tooltip(f"{y}:Q", title=y_title, format=".1%"),
        alt.Tooltip(f"{low}:Q", title="95 % CI –", format=".1%"),
        alt.Tooltip(f"{high}:Q", title="95 % CI +", format=".1%"),
        *(tooltip_extra or []),
    ]
    line = base.mark_line(interpolate="step-after", strokeWidth=2.5).encode(
        y=alt.Y(f"{y}:Q", scale=alt.Scale(domain=list(y_domain))), tooltip=tooltips
    )
    return localise(alt.layer(band, line).properties(width=WIDTH, height=HEIGHT), lang)


def bars_with_ci(
    df: pl.DataFrame, *, category: str, value: str, low: str | None = None,
    high: str | None = None, value_title: str, category_title: str, lang: str,
    value_format: str = ",.0f", color: str | None = None, color_title: str | None = None,
    sort: list[str] | None = None, zero_line: bool = False, group_order: list[str] | None = None,
) -> alt.TopLevelMixin:
    """Horizontal bars with 95 % CI whiskers; negative values allowed (costs that rose)."""
    y = alt.Y(f"{category}:N", title=category_title, sort=sort or "-x",
              axis=alt.Axis(labelLimit=320))
    enc: dict[str, Any] = {
        "y": y,
        "x": alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
        "tooltip": [alt.Tooltip(f"{category}:N", title=category_title),
                    alt.Tooltip(f"{value}:Q", title=value_title, format=value_format)]
        + ([alt.Tooltip(f"{low}:Q", title="95 % CI –", format=value_format),
            alt.Tooltip(f"{high}:Q", title="95 % CI +", format=value_format)] if low else []),
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title, scale=_scale(group_order))
        enc["yOffset"] = alt.YOffset(f"{color}:N", sort=group_order)
    else:
        enc["color"] = alt.value(PALETTE[0])
    layers: list[alt.Chart] = [alt.Chart(_data(df)).mark_bar(height={"band": 0.7}).encode(**enc)]
    if low and high:
        err: dict[str, Any] = {"y": y, "x": f"{low}:Q", "x2": f"{high}:Q"}
        if color:
            err["yOffset"] = alt.YOffset(f"{color}:N", sort=group_order)
        layers.append(alt.Chart(_data(df)).mark_rule(color="#333", strokeWidth=1.5).encode(**err))
    if zero_line:
        layers.append(alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#555")
                      .encode(x="zero:Q"))
    n_rows = max(1, df.select(pl.col(category).n_unique()).item() if df.height else 1)
    n_colors = max(1, df.select(pl.col(color).n_unique()).item() if color and df.height else 1)
    height = min(520, max(120, 28 * n_rows * (1 + 0.6 * (n_colors - 1))))
    return localise(alt.layer(*layers).properties(width=WIDTH, height=height), lang)


def grouped_columns(
    df: pl.DataFrame, *, x: str, value: str, group: str, x_title: str, value_title: str,
    group_title: str, lang: str, value_format: str = ",.0f", target: str | None = None,
    target_title: str | None = None, x_sort: list[str] | None = None,
    group_order: list[str] | None = None,
) -> alt.TopLevelMixin:
    """Vertical bars per x (year, window), side by side per group; an optional target tick."""
    base = alt.Chart(_data(df))
    bars = base.mark_bar().encode(
        x=alt.X(f"{x}:O", title=x_title, sort=x_sort),
        xOffset=alt.XOffset(f"{group}:N", sort=group_order),
        y=alt.Y(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
        color=alt.Color(f"{group}:N", title=group_title, scale=_scale(group_order)),
        tooltip=[alt.Tooltip(f"{x}:O", title=x_title), alt.Tooltip(f"{group}:N", title=group_title),
                 alt.Tooltip(f"{value}:Q", title=value_title, format=value_format)],
    )
    layers = [bars]
    if target:
        layers.append(base.mark_tick(color="#D55E00", thickness=3, size=40).encode(
            x=alt.X(f"{x}:O", sort=x_sort), y=f"{target}:Q",
            tooltip=[alt.Tooltip(f"{target}:Q", title=target_title or target)]))
    return localise(alt.layer(*layers).properties(width=WIDTH, height=HEIGHT), lang)


def points_with_ci(
    df: pl.DataFrame, *, x: str, value: str, low: str, high: str, group: str, x_title: str,
    value_title: str, group_title: str, lang: str, value_format: str = ".1f",
    zero_line: bool = True, group_order: list[str] | None = None,
) -> alt.TopLevelMixin:
    """Estimates with 95 % CI per x (e.g. MANSA change per follow-up wave), one colour per group."""
    base = alt.Chart(_data(df)).encode(
        x=alt.X(f"{x}:O", title=x_title), xOffset=alt.XOffset(f"{group}:N", sort=group_order),
        color=alt.Color(f"{group}:N", title=group_title, scale=_scale(group_order)),
    )
    layers = [
        base.mark_rule(strokeWidth=2).encode(y=alt.Y(f"{low}:Q", title=value_title), y2=f"{high}:Q"),
        base.mark_point(filled=True, size=90).encode(
            y=f"{value}:Q",
            tooltip=[alt.Tooltip(f"{group}:N", title=group_title),
                     alt.Tooltip(f"{x}:O", title=x_title),
                     alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
                     alt.Tooltip(f"{low}:Q", title="95 % CI –", format=value_format),
                     alt.Tooltip(f"{high}:Q", title="95 % CI +", format=value_format)]),
    ]
    if zero_line:
        layers.append(alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#555")
                      .encode(y="zero:Q"))
    return localise(alt.layer(*layers).properties(width=WIDTH, height=HEIGHT), lang)


def tornado(
    df: pl.DataFrame, *, variable: str = "variable", low: str = "net_saving_low",
    high: str = "net_saving_high", base_value: float, variable_title: str, value_title: str,
    low_title: str, high_title: str, lang: str, value_format: str = ",.0f",
) -> alt.TopLevelMixin:
    """One-way sensitivity: the range of the result as each input moves from low to high."""
    order = (df.with_columns((pl.col(high) - pl.col(low)).abs().alias("_swing"))
             .sort("_swing", descending=True)[variable].to_list())
    long = pl.concat([
        df.select(pl.col(variable), pl.col(low).alias("value"), pl.lit(low_title).alias("setting")),
        df.select(pl.col(variable), pl.col(high).alias("value"), pl.lit(high_title).alias("setting")),
    ]).with_columns(pl.lit(base_value).alias("base"))
    bars = alt.Chart(_data(long)).mark_bar(opacity=0.85).encode(
        y=alt.Y(f"{variable}:N", sort=order, title=variable_title, axis=alt.Axis(labelLimit=320)),
        x=alt.X("base:Q", title=value_title, axis=alt.Axis(format=value_format)),
        x2="value:Q",
        color=alt.Color("setting:N", title=None, scale=alt.Scale(range=PALETTE[:2])),
        tooltip=[alt.Tooltip(f"{variable}:N", title=variable_title),
                 alt.Tooltip("setting:N"),
                 alt.Tooltip("value:Q", title=value_title, format=value_format)],
    )
    rule = alt.Chart(alt.Data(values=[{"base": base_value}])).mark_rule(color="#333").encode(
        x="base:Q")
    height = max(160, 30 * len(order))
    return localise(alt.layer(bars, rule).properties(width=WIDTH, height=height), lang)


def to_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)


def to_svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())


# The width fits the container and `height` is the plot's own height: Streamlit otherwise fits
# the whole chart (axes and legend too) into `height`, which squeezes short bar charts flat.
FIT_X = alt.AutoSizeParams(type="fit-x", contains="padding")


def diverging_bars(
    df: pl.DataFrame, *, category: str, value: str, low: str | None = None,
    high: str | None = None, category_title: str, value_title: str, positive_label: str,
    negative_label: str, lang: str, value_format: str = ",.0f", sort: list[str] | None = None,
) -> alt.TopLevelMixin:
    """Horizontal bars either side of zero, coloured by sign (e.g. a payer sector that saves
    vs one that pays more than it saves), with 95 % CI whiskers and a zero line."""
    signed = df.with_columns(
        pl.when(pl.col(value) >= 0).then(pl.lit(positive_label)).otherwise(pl.lit(negative_label))
        .alias("_sign"))
    order = sort or signed.sort(value, descending=True)[category].to_list()
    # No axis title: long category labels would run into it (the tooltip names the axis).
    y = alt.Y(f"{category}:N", title=None, sort=order, axis=alt.Axis(labelLimit=320))
    tooltip = [alt.Tooltip(f"{category}:N", title=category_title),
               alt.Tooltip(f"{value}:Q", title=value_title, format=value_format)]
    if low and high:
        tooltip += [alt.Tooltip(f"{low}:Q", title="95 % CI –", format=value_format),
                    alt.Tooltip(f"{high}:Q", title="95 % CI +", format=value_format)]
    bars = alt.Chart(_data(signed)).mark_bar(height={"band": 0.7}).encode(
        y=y, x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
        color=alt.Color("_sign:N", title=None, scale=alt.Scale(
            domain=[positive_label, negative_label], range=[PALETTE[0], PALETTE[5]])),
        tooltip=tooltip,
    )
    layers: list[alt.Chart] = [bars]
    if low and high:
        layers.append(alt.Chart(_data(signed)).mark_rule(color="#333", strokeWidth=1.5)
                      .encode(y=y, x=f"{low}:Q", x2=f"{high}:Q"))
    layers.append(alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#555")
                  .encode(x="zero:Q"))
    height = min(520, max(120, 40 * max(1, signed.height)))
    return localise(alt.layer(*layers).properties(width=WIDTH, height=height, autosize=FIT_X),
                    lang)


def bars_with_target(
    df: pl.DataFrame, *, category: str, value: str, target: float, category_title: str,
    value_title: str, target_title: str, lang: str, value_format: str = ",.2f",
    sort: list[str] | None = None,
) -> alt.TopLevelMixin:
    """Horizontal bars per category against one target, drawn as a dashed vertical line
    (e.g. home visits per participant-week against the fidelity target)."""
    order = sort or df.sort(value, descending=True)[category].to_list()
    # No axis title: long category labels would run into it (the tooltip names the axis).
    y = alt.Y(f"{category}:N", title=None, sort=order, axis=alt.Axis(labelLimit=320))
    bars = alt.Chart(_data(df)).mark_bar(height={"band": 0.7}, color=PALETTE[0]).encode(
        y=y, x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
        tooltip=[alt.Tooltip(f"{category}:N", title=category_title),
                 alt.Tooltip(f"{value}:Q", title=value_title, format=value_format)],
    )
    goal = alt.Chart(alt.Data(values=[{"target": target, "label": target_title}]))
    rule = goal.mark_rule(color=PALETTE[5], strokeDash=[6, 4], strokeWidth=2.5).encode(
        x="target:Q", tooltip=[alt.Tooltip("label:N", title=target_title),
                               alt.Tooltip("target:Q", title=value_title, format=value_format)])
    text = goal.mark_text(align="left", dx=4, dy=-6, color=PALETTE[5], baseline="bottom",
                          y=0).encode(x="target:Q", text="label:N")
    height = min(520, max(120, 30 * max(1, df.height)))
    return localise(alt.layer(bars, rule, text).properties(width=WIDTH, height=height,
                                                           autosize=FIT_X), lang)


def grouped_bars_with_reference(
    df: pl.DataFrame, *, category: str, value: str, reference: float, category_title: str,
    value_title: str, reference_title: str, lang: str, value_format: str = ",.0f",
    group_order: list[str] | None = None,
) -> alt.TopLevelMixin:
    """Horizontal bars, one colour per category in `group_order` (Housing First blue), against
    a reference drawn as a labelled dashed line (e.g. days in temporary accommodation against
    the 2-month ceiling)."""
    y = alt.Y(f"{category}:N", title=category_title, sort=group_order,
              axis=alt.Axis(labelLimit=320))
    bars = alt.Chart(_data(df)).mark_bar(height={"band": 0.6}).encode(
        y=y, x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
        color=alt.Color(f"{category}:N", title=category_title, scale=_scale(group_order),
                        legend=None),
        tooltip=[alt.Tooltip(f"{category}:N", title=category_title),
                 alt.Tooltip(f"{value}:Q", title=value_title, format=value_format)],
    )
    mark = alt.Chart(alt.Data(values=[{"reference": reference, "label": reference_title}]))
    rule = mark.mark_rule(color="#333", strokeDash=[6, 4], strokeWidth=2).encode(
        x="reference:Q", tooltip=[alt.Tooltip("label:N", title=reference_title),
                                  alt.Tooltip("reference:Q", title=value_title,
                                              format=value_format)])
    text = mark.mark_text(align="left", dx=4, dy=-4, color="#333", baseline="bottom",
                          y=0).encode(x="reference:Q", text="label:N")
    height = min(520, max(110, 44 * max(1, df.height)))
    return localise(alt.layer(bars, rule, text).properties(width=WIDTH, height=height), lang)


def survival_lines(
    df: pl.DataFrame, *, x: str = "months", y: str = "survival", low: str = "ci_lower",
    high: str = "ci_upper", group: str = "group", x_title: str, y_title: str,
    group_title: str, lang: str, y_domain: tuple[float, float] = (0.0, 1.0),
    tooltip_extra: list[alt.Tooltip] | None = None, group_order: list[str] | None = None,
) -> alt.TopLevelMixin:
    """Kaplan-Meier step curves without CI bands (the CI stays in the tooltip): for comparing
    many groups at once, where overlapping bands would hide the lines."""
    tooltips = [
        alt.Tooltip(f"{group}:N", title=group_title),
        alt.Tooltip(f"{x}:Q", title=x_title, format=".0f"),
        alt.Tooltip(f"{y}:Q", title=y_title, format=".1%"),
        alt.Tooltip(f"{low}:Q", title="95 % CI –", format=".1%"),
        alt.Tooltip(f"{high}:Q", title="95 % CI +", format=".1%"),
        *(tooltip_extra or []),
    ]
    line = alt.Chart(_data(df)).mark_line(interpolate="step-after", strokeWidth=2.5).encode(
        x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(tickMinStep=6)),
        y=alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(domain=list(y_domain)),
                axis=alt.Axis(format="%")),
        color=alt.Color(f"{group}:N", title=group_title, scale=_scale(group_order)),
        tooltip=tooltips,
    )
    return localise(line.properties(width=WIDTH, height=HEIGHT), lang)
