"""The report's figures: hfeval.charts builders fed with one unit's publishable rows, rendered
to SVG by vl-convert and embedded as data URIs (the HTML needs no network and no script).

Suppressed points (NULL) are left out of the frames, so they are not drawn; the template says so
beside each figure.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import altair as alt
import polars as pl

from hfeval import charts

if TYPE_CHECKING:
    from hfeval.reporting.build import Fmt

# Report figures are smaller than the dashboard's: an A4 page holds a figure and its tables.
WIDTH = 560
HALF_WIDTH = 250
HEIGHT = 190


def data_uri(chart: Any) -> str:
    svg = charts.to_svg(chart)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _for_print(chart: Any, width: int, height: int | None, order: list[str],
               present: set[str] | None = None) -> Any:
    """Fixed colours per group (Housing First blue, comparison orange, whatever the alphabet
    says; a group with nothing to draw keeps its colour and leaves the legend), an untitled
    legend on top and horizontal axis labels: a compact figure for paper."""
    colours = dict(zip(order, charts.PALETTE, strict=False))
    order = [g for g in order if present is None or g in present]
    for layer in getattr(chart, "layer", None) or [chart]:
        color = getattr(layer, "encoding", alt.Undefined)
        color = getattr(color, "color", alt.Undefined) if color is not alt.Undefined else color
        if isinstance(color, alt.Color):
            color.scale = alt.Scale(domain=order, range=[colours[g] for g in order])
            color.title = None
    sized = chart.properties(width=width, **({"height": height} if height else {}))
    return sized.configure_legend(orient="top", direction="horizontal", labelLimit=400) \
        .configure_axisX(labelAngle=0)


def _arm_order(f: Fmt) -> list[str]:
    return [f.t("common.arm.housing_first"), f.t("common.arm.comparison")]


def km_chart(curve: pl.DataFrame, f: Fmt) -> str | None:
    """Tenancy survival by arm, with its 95 % CI band (publishable monthly grid)."""
    shown = curve.filter(pl.col("survival").is_not_null() & ~pl.col("survival_suppressed"))
    if not shown.height:
        return None
    shown = shown.with_columns(
        # No interval where nobody has left yet (S = 1): draw the band as the line itself.
        pl.col("ci_lower").fill_null(pl.col("survival")),
        pl.col("ci_upper").fill_null(pl.col("survival")),
        pl.col("arm").replace_strict({a: f.t(f"common.arm.{a}") for a in
                                      ("housing_first", "comparison")}, default=pl.col("arm"))
        .alias("group"),
    ).select("group", "months", "survival", "ci_lower", "ci_upper").sort("group", "months")
    chart = charts.survival_curves(
        shown, x_title=f.t("report.retention.x_axis"), y_title=f.t("report.retention.y_axis"),
        group_title=f.t("report.retention.group"), lang=f.lang)
    return data_uri(_for_print(chart, WIDTH, 200, _arm_order(f), set(shown["group"])))


def housed_by_days_chart(shares: pl.DataFrame, f: Fmt) -> str | None:
    if not shares.height:
        return None
    order = [str(d) for d in sorted({int(d) for d in shares["days"]})]
    chart = charts.grouped_columns(
        shares, x="days", value="share", group="group", x_title=f.t("report.pathways.x_axis"),
        value_title=f.t("report.pathways.y_axis"), group_title=f.t("report.retention.group"),
        lang=f.lang, value_format="%", x_sort=order)
    return data_uri(_for_print(chart, HALF_WIDTH, 150, _arm_order(f), set(shares["group"])))


def housed_per_year_chart(per_year: pl.DataFrame, f: Fmt) -> str | None:
    """Housed per year (suppressed years not drawn) with the yearly target as a tick."""
    rows = per_year.filter(pl.col("n_housed").is_not_null()
                           | pl.col("target_housed_per_year").is_not_null())
    if not rows.height:
        return None
    frame = rows.select(
        pl.col("year").cast(pl.String),
        pl.col("n_housed").cast(pl.Float64),
        pl.col("target_housed_per_year").cast(pl.Float64),
        pl.lit(f.t("report.pathways.housed_label")).alias("group"),
    ).sort("year")
    chart = charts.grouped_columns(
        frame, x="year", value="n_housed", group="group", x_title=f.t("report.pathways.year"),
        value_title=f.t("report.pathways.people"), group_title="", lang=f.lang,
        target="target_housed_per_year", target_title=f.t("report.pathways.target_label"),
        x_sort=frame["year"].to_list())
    return data_uri(_for_print(chart, HALF_WIDTH, 150, [f.t("report.pathways.housed_label")]))


def payer_chart(payer_rows: list[dict[str, Any]], totals: pl.DataFrame, f: Fmt,
                currency: str) -> str | None:
    """Net saving per participant-year by payer and design, with 95 % CI whiskers."""
    from hfeval.reporting.build import PAYERS

    rows = [{**r, "sector": f.t(f"common.sector.{r['category']}"),
             "design_label": f.t(f"common.design.{r['design']}")} for r in payer_rows]
    for r in totals.filter((pl.col("measure") == "net_saving")
                           & ~pl.col("estimate_suppressed").fill_null(False)
                           & pl.col("estimate").is_not_null()).iter_rows(named=True):
        rows.append({"design": r["design"], "category": "all", "estimate": r["estimate"],
                     "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "sector": f.t("common.sector.all"),
                     "design_label": f.t(f"common.design.{r['design']}")})
    if not rows:
        return None
    frame = pl.DataFrame(rows).select("sector", "design_label", "estimate", "ci_low", "ci_high")
    order = [f.t(f"common.sector.{p}") for p in (*PAYERS, "all")]
    chart = charts.bars_with_ci(
        frame, category="sector", value="estimate", low="ci_low", high="ci_high",
        value_title=f.t("report.costs.axis", currency=currency), category_title="",
        lang=f.lang, color="design_label", color_title=f.t("report.costs.design"),
        sort=[o for o in order if o in set(frame["sector"])], zero_line=True)
    designs = [f.t("common.design.did"), f.t("common.design.prepost")]
    return data_uri(_for_print(chart, WIDTH - 140, None, designs, set(frame["design_label"])))
