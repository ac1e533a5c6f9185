"""Gather the publishable numbers for one reporting unit into a report context.

Reads only the publishable database (`hfeval_publish.duckdb`: disclosure-controlled marts, the
`_protection` notes and the `_manifest`), never the person-level warehouse. A suppressed cell
(NULL with `<col>_suppressed` true) becomes the word for "suppressed", never 0.

Municipalities too small to publish alone are merged into an aggregate (region or country) by
the publication step; when `mart_publication_units` exists, a requested municipality resolves
through it and its report is the aggregate's, saying so plainly. Without that table every
municipality is its own unit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Self

import duckdb
import polars as pl
from babel.lists import format_list

from hfeval import __version__, i18n
from hfeval.config import default_parameters

HF, COMPARISON = "housing_first", "comparison"
ARMS = (HF, COMPARISON)
PAYERS = ("municipality", "specialist_health", "justice", "welfare")
HOUSED_BY_DAYS = (30, 61, 91, 182, 365)
COST_MEASURES = ("offset", "programme_cost", "net_saving", "saved_per_10_spent",
                 "break_even_participants")
# Shown in the manifest section (the full list is in the run's manifest.json).
KEY_PACKAGES = ("duckdb", "polars", "numpy", "scipy", "lifelines", "great-expectations",
                "altair")


class ReportError(Exception):
    """A report cannot be made; the message names tables and codes, never values."""


class Cell(NamedTuple):
    """One table cell as shown: text, whether it is suppressed, and a small second line."""

    text: str
    suppressed: bool = False
    sub: str = ""


@dataclass(frozen=True)
class Unit:
    """What a report describes: a municipality, or an aggregate of small ones."""

    code: str  # as in the marts' municipality_code
    mart_name: str  # as in the marts' municipality_name / stratum_value
    kind: str = "municipality"  # municipality | region | country
    country: str = ""
    region: str | None = None
    members: tuple[str, ...] = ()  # names of the municipalities in an aggregate

    def name(self, lang: str) -> str:
        if self.kind == "region":
            return i18n.t("common.unit.region", lang, region=self.region or self.mart_name)
        if self.kind == "country":
            return i18n.t("common.unit.country", lang,
                          country=i18n.t(f"common.country.{self.country}", lang))
        return self.mart_name


@dataclass(frozen=True)
class Request:
    """A municipality someone asked a report for, and the unit its numbers are published in."""

    code: str
    name: str
    unit: Unit

    @property
    def merged(self) -> bool:
        return self.unit.kind != "municipality" or self.unit.code != self.code


@dataclass
class Published:
    """The publishable database, opened read-only; refuses any other file."""

    path: Path
    con: duckdb.DuckDBPyConnection = field(init=False)
    tables: set[str] = field(init=False)
    manifest: dict[str, Any] = field(init=False)
    _frames: dict[str, pl.DataFrame] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not self.path.exists():
            raise ReportError(f"no publishable database at {self.path}: run `hfeval run` first")
        self.con = duckdb.connect(str(self.path), read_only=True)
        self.tables = {r[0] for r in self.con.execute(
            "select table_name from information_schema.tables").fetchall()}
        if "_protection" not in self.tables or "_manifest" not in self.tables:
            self.con.close()
            raise ReportError(f"{self.path.name} is not a publishable hfeval database")
        self.manifest = json.loads(
            self.con.execute("select manifest_json from _manifest").fetchall()[0][0])

    def frame(self, table: str) -> pl.DataFrame:
        """A whole publishable table, in a stable row order; empty if it was not published.
        Read once per database: a report asks for the same tables many times."""
        if table not in self.tables:
            return pl.DataFrame()
        if table not in self._frames:
            self._frames[table] = self.con.sql(f'select * from "{table}" order by all').pl()
        return self._frames[table]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- which unit a municipality is reported in -------------------------------------------------


def requests(pub: Published) -> list[Request]:
    """Every municipality with published results, each with the unit it is reported in."""
    units = pub.frame("mart_publication_units")
    overview = pub.frame("mart_overview_by_municipality")
    names = dict(zip(overview["municipality_code"], overview["municipality_name"], strict=True)) \
        if overview.height else {}
    if units.height:
        out = []
        for row in units.sort("country", "municipality_code").iter_rows(named=True):
            kind = row["unit_kind"]
            members = units.filter(pl.col("unit_code") == row["unit_code"])
            mart_name = row.get("unit_name") or names.get(row["unit_code"]) or (
                row["municipality_name"] if kind == "municipality" else str(row["unit_code"]))
            unit = Unit(
                code=str(row["unit_code"]),
                mart_name=mart_name,
                kind=kind, country=row["country"], region=row.get("unit_region"),
                members=tuple(sorted(members["municipality_name"].to_list()))
                if kind != "municipality" else (),
            )
            out.append(Request(str(row["municipality_code"]), row["municipality_name"], unit))
        return out
    if not overview.height:
        raise ReportError("the publishable database has no mart_overview_by_municipality rows")
    rows = overview.select("country", "municipality_code", "municipality_name").unique()
    return [Request(code, name, Unit(code, name, "municipality", country))
            for country, code, name in rows.sort("country", "municipality_code").iter_rows()]


def resolve(pub: Published, wanted: list[str]) -> list[Request]:
    """The requests for codes or names (case-insensitive); `all` means every municipality."""
    known = requests(pub)
    if any(w.lower() == "all" for w in wanted):
        return known
    out = []
    for w in wanted:
        match = [r for r in known if w.strip().lower() in (r.code.lower(), r.name.lower())]
        if not match:
            raise ReportError(f"no published municipality {w!r}; known: "
                              + ", ".join(f"{r.code} ({r.name})" for r in known))
        out.extend(m for m in match if m not in out)
    return out


# ---- formatting --------------------------------------------------------------------------------


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


class Fmt:
    """Locale-aware formatting that shows suppressed values as suppressed, never as 0."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.suppressed = i18n.t("common.suppressed", lang)

    def t(self, key: str, **kw: Any) -> str:
        return i18n.t(key, self.lang, **kw)

    def text(self, value: Any, kind: str, currency: str = "") -> str:
        if _missing(value):
            return "–"
        if isinstance(value, float) and round(value, 2) == 0:
            value = 0.0  # never "-0,00"
        if kind == "pct":
            return i18n.fmt_pct(value, self.lang)
        if kind == "money":
            return i18n.fmt_money(value, self.lang, currency)
        if kind == "num1":
            return i18n.fmt_num(value, self.lang, 1)
        if kind == "num2":
            return i18n.fmt_num(value, self.lang, 2)
        return i18n.fmt_int(value, self.lang)

    def cell(self, row: dict[str, Any] | None, col: str, kind: str = "int", *,
             low: str | None = None, high: str | None = None, currency: str = "",
             sub: str = "") -> Cell:
        """A value with its CI (if named) as a second line; suppressed if its flag says so."""
        if row is None:
            return Cell("–")
        if row.get(f"{col}_suppressed"):
            return Cell(self.suppressed, True)
        text = self.text(row.get(col), kind, currency)
        if low and high and not _missing(row.get(col)):
            if row.get(f"{low}_suppressed") or row.get(f"{high}_suppressed"):
                sub = f"95 % CI: {self.suppressed}" + (f" · {sub}" if sub else "")
            elif not (_missing(row.get(low)) or _missing(row.get(high))):
                ci = self.t("report.range", low=self.text(row[low], kind, currency),
                            high=self.text(row[high], kind, currency))
                sub = f"({ci})" + (f" · {sub}" if sub else "")
        return Cell(text, False, sub)

    def join(self, items: list[str]) -> str:
        """`a, b and c` in the reader's language."""
        return format_list(items, locale=i18n.LOCALES[self.lang]) if items else ""


def _first(df: pl.DataFrame, **eq: Any) -> dict[str, Any] | None:
    if not df.height:
        return None
    for col, value in eq.items():
        if col not in df.columns:
            return None
        df = df.filter(pl.col(col) == value)
    return df.row(0, named=True) if df.height else None


def _is_value(row: dict[str, Any] | None, col: str) -> bool:
    return row is not None and not row.get(f"{col}_suppressed") and not _missing(row.get(col))


# ---- the context -------------------------------------------------------------------------------


@dataclass
class Frames:
    """The publishable rows one report uses: the unit's, its country's and all programmes'."""

    unit: Unit
    pub: Published

    def by_code(self, table: str) -> pl.DataFrame:
        df = self.pub.frame(table)
        if not df.height or "municipality_code" not in df.columns:
            return df
        return df.filter(pl.col("municipality_code") == self.unit.code)

    def stratum(self, table: str, level: str = "unit") -> pl.DataFrame:
        df = self.pub.frame(table)
        if not df.height or "stratum_variable" not in df.columns:
            return df
        if level == "country":
            return df.filter((pl.col("stratum_variable") == "country")
                             & (pl.col("stratum_value") == self.unit.country))
        if level == "all":
            return df.filter(pl.col("stratum_variable") == "all")
        return df.filter((pl.col("stratum_variable") == "municipality")
                         & pl.col("stratum_value").is_in([self.unit.code, self.unit.mart_name]))


def build_context(pub: Published, request: Request, lang: str) -> dict[str, Any]:
    """Everything the template shows for one municipality in one language, as display text."""
    from hfeval.reporting import figures

    f = Fmt(lang)
    m = pub.manifest
    params = m.get("parameters", {})
    unit = request.unit
    frames = Frames(unit, pub)
    unit_name = unit.name(lang)
    threshold = params.get("disclosure.threshold", 7)
    ctx: dict[str, Any] = {
        "lang": lang,
        "t": f.t,
        "title": f.t("report.doc_title", unit=unit_name),
        "unit_name": unit_name,
        "synthetic": bool(m.get("synthetic_data")),
        "version": __version__,
        "run_id": m.get("run_id", ""),
        # The publishable database is written before the run ends: its start time is the run's.
        "published": i18n.fmt_date(m.get("started_at"), lang),
        "extraction": _extraction(m, lang),
        "merged_note": f.t("common.unit.merged_note", name=request.name, unit=unit_name)
        if request.merged else "",
        "members": f.t("report.members", n=len(unit.members), names=", ".join(unit.members))
        if unit.members else "",
        "suppressed_word": f.suppressed,
        "threshold": threshold,
    }
    ctx["retention"] = _retention(frames, f, params, unit_name, figures)
    ctx["pathways"] = _pathways(frames, f, params, unit_name, figures)
    ctx["costs"] = _costs(frames, f, unit_name, figures)
    ctx["fidelity"] = _fidelity(frames, f, params, unit)
    ctx["summary"] = _summary(frames, f, params, unit_name, ctx)
    ctx["annex"] = _annex(pub, f, params)
    return ctx


def _extraction(m: dict[str, Any], lang: str) -> str:
    dates = sorted({v["date"] for v in m.get("extraction_dates", {}).values() if v.get("date")})
    if not dates:
        return "–"
    if len(dates) == 1:
        return i18n.fmt_date(dates[0], lang)
    return f"{i18n.fmt_date(dates[0], lang)} – {i18n.fmt_date(dates[-1], lang)}"


# ---- summary -----------------------------------------------------------------------------------


def _summary(fr: Frames, f: Fmt, params: dict[str, Any], unit_name: str,
             ctx: dict[str, Any]) -> dict[str, Any]:
    overview = fr.by_code("mart_overview_by_municipality")
    hf = _first(overview, arm=HF)
    ret = fr.stratum("mart_retention_by_stratum")
    r12 = _first(ret, arm=HF, months=12.0)
    c12 = _first(ret, arm=COMPARISON, months=12.0)
    tth = fr.stratum("mart_time_to_housing")
    t_hf, t_cmp = _first(tth, arm=HF), _first(tth, arm=COMPARISON)
    cost = ctx["costs"]
    years = ""
    if hf and hf.get("first_cohort_year"):
        years = f"{hf['first_cohort_year']}–{hf['last_cohort_year']}" \
            if hf["last_cohort_year"] != hf["first_cohort_year"] else str(hf["first_cohort_year"])

    keys = [
        {"label": f.t("report.summary.enrolled"), "cell": f.cell(hf, "n_participants"),
         "note": f.t("report.summary.enrolled_note", years=years) if years else ""},
        {"label": f.t("report.summary.housed"), "cell": f.cell(hf, "n_housed"),
         "note": f.t("report.summary.housed_note")},
        {"label": f.t("report.summary.retained_12"), "cell": f.cell(r12, "survival", "pct"),
         "note": f.t("report.summary.retained_note",
                     low=f.text(r12["ci_lower"], "pct"), high=f.text(r12["ci_upper"], "pct"))
         if _is_value(r12, "ci_lower") and _is_value(r12, "ci_upper") else ""},
        {"label": f.t("report.summary.days_to_housing"),
         "cell": f.cell(t_hf, "median_days_to_housing"), "note": f.t("report.summary.days_note")},
    ]
    head = cost.get("headline")
    if head is not None:
        keys.append({"label": f.t("report.summary.net_saving"),
                     "cell": f.cell(head, "estimate", "money", currency=head["currency"]),
                     "note": f.t("report.summary.net_saving_note",
                                 low=f.text(head["ci_low"], "money", head["currency"]),
                                 high=f.text(head["ci_high"], "money", head["currency"]))
                     if _is_value(head, "ci_low") and head["design"] == "did" else
                     f.t("common.design.prepost")})

    s: list[str] = []
    if _is_value(hf, "n_participants"):
        s.append(f.t("report.summary.sentence.enrolled", n=f.text(hf["n_participants"], "int"),
                     unit=unit_name, years=years,
                     housed=f.cell(hf, "n_housed").text))
    else:
        s.append(f.t("report.summary.sentence.enrolled_hidden", unit=unit_name))
    if _is_value(r12, "survival"):
        share = f.text(r12["survival"], "pct")
        line = f.t("report.summary.sentence.retained", share=share,
                   low=f.text(r12["ci_lower"], "pct"), high=f.text(r12["ci_upper"], "pct")) \
            if _is_value(r12, "ci_lower") and _is_value(r12, "ci_upper") else \
            f.t("report.summary.sentence.retained_no_ci", share=share)
        if _is_value(c12, "survival"):
            line += " " + f.t("report.summary.sentence.retained_compare",
                              share=f.text(c12["survival"], "pct"))
        s.append(line)
    else:
        s.append(f.t("report.summary.sentence.retained_hidden"))
    if _is_value(t_hf, "median_days_to_housing"):
        line = f.t("report.summary.sentence.days",
                   days=f.text(t_hf["median_days_to_housing"], "int"))
        if _is_value(t_cmp, "median_days_to_housing"):
            line += " " + f.t("report.summary.sentence.days_compare",
                              days=f.text(t_cmp["median_days_to_housing"], "int"))
        s.append(line)
    s.extend(_cost_sentences(f, cost))
    fid = ctx["fidelity"].get("unit_row")
    if _is_value(fid, "home_visits_per_participant_week"):
        s.append(f.t("report.summary.sentence.fidelity",
                     visits=f.text(fid["home_visits_per_participant_week"], "num1"),
                     target=f.text(fid["target_home_visits_per_week"], "num1")))
    return {"keys": keys, "sentences": s}


def _cost_sentences(f: Fmt, cost: dict[str, Any]) -> list[str]:
    head = cost.get("headline")
    if head is None:
        return [f.t("report.summary.sentence.cost_hidden")] if cost.get("hidden") else []
    cur = head["currency"]
    amount = f.text(round(abs(head["estimate"]), -3), "money", cur)
    key = "saving" if head["estimate"] >= 0 else "net_cost"
    if head["design"] == "prepost":
        key += "_prepost"
    out = [f.t(f"report.summary.sentence.{key}", amount=amount)]
    if _is_value(head, "ci_low") and _is_value(head, "ci_high"):
        rng = {"low": f.text(head["ci_low"], "money", cur),
               "high": f.text(head["ci_high"], "money", cur)}
        spans_zero = head["ci_low"] < 0 < head["ci_high"]
        out.append(f.t("report.summary.sentence.uncertain" if spans_zero
                       else "report.summary.sentence.certain", **rng))
    if head["design"] == "prepost":
        out.append(f.t("report.summary.sentence.prepost_only"))
    payers = [r for r in cost.get("payer_rows", []) if r["design"] == head["design"]]
    if payers:
        pay = [_in_sentence(f.t(f"common.sector.{r['category']}")) for r in payers
               if r["estimate"] < 0]
        best = max(payers, key=lambda r: r["estimate"])
        if best["estimate"] > 0:
            save = _in_sentence(f.t(f"common.sector.{best['category']}"))
            out.append(f.t("report.summary.sentence.payers", payers_pay=f.join(pay),
                           payer_save=save) if pay else
                       f.t("report.summary.sentence.payers_all_save", payer_save=save))
    return out


def _in_sentence(label: str) -> str:
    """A label used mid-sentence: `Kommunen` -> `kommunen` (labels start with a common noun)."""
    return label[:1].lower() + label[1:]


# ---- retention ---------------------------------------------------------------------------------


def _retention(fr: Frames, f: Fmt, params: dict[str, Any], unit_name: str,
               figures: Any) -> dict[str, Any]:
    ret_unit = fr.stratum("mart_retention_by_stratum")
    months = [float(x) for x in params.get("retention.report_months", [6, 12, 24])]
    rows = []
    levels = [("unit", HF, f"{f.t('common.arm.housing_first')}"),
              ("unit", COMPARISON, f.t("common.arm.comparison"))]
    if fr.unit.kind != "country":
        levels.append(("country", HF, f"{f.t('common.arm.housing_first')}, "
                       + f.t("report.retention.area_country",
                             country=f.t(f"common.country.{fr.unit.country}"))))
    levels.append(("all", HF, f"{f.t('common.arm.housing_first')}, "
                   + f.t("report.retention.area_all")))
    for level, arm, label in levels:
        df = fr.stratum("mart_retention_by_stratum", level)
        cells = []
        for mo in months:
            r = _first(df, arm=arm, months=mo)
            at_risk = f.t("report.retention.at_risk", n=f.cell(r, "n_at_risk").text) if r else ""
            cells.append(f.cell(r, "survival", "pct", low="ci_lower", high="ci_upper",
                                sub=at_risk))
        if any(c.text != "–" for c in cells):
            rows.append({"label": label, "cells": cells})
    curve = fr.stratum("mart_km_curve_by_stratum")
    chart = figures.km_chart(curve, f) if curve.height else None
    horizon = max(months) if months else 24.0
    cif = fr.stratum("mart_cumulative_incidence_by_stratum")
    causes = []
    for cause in ("loss", "death", "long_stay"):
        r = _first(cif, arm=HF, cause=cause, months=horizon)
        if r is not None:
            causes.append({"label": f.t(f"common.cause.{cause}"),
                           "cell": f.cell(r, "cumulative_incidence", "pct", low="ci_lower",
                                          high="ci_upper")})
    returns = []
    ret = fr.stratum("mart_returns_by_window")
    windows = params.get("retention.returns.windows") or []
    for w in windows:
        r = _first(ret, arm=HF, window_days=w)
        if r is not None:
            returns.append({"label": w.replace("-", "–"), "eligible": f.cell(r, "n_eligible"),
                            "returned": f.cell(r, "n_returned"),
                            "share": f.cell(r, "share_returned", "pct")})
    return {
        "months": [f.t("report.retention.col_at", months=f.text(mo, "int")) for mo in months],
        "rows": rows, "chart": chart, "causes": causes, "returns": returns,
        "horizon": f.text(horizon, "int"), "empty": not ret_unit.height,
    }


# ---- pathways ----------------------------------------------------------------------------------


def _pathways(fr: Frames, f: Fmt, params: dict[str, Any], unit_name: str,
              figures: Any) -> dict[str, Any]:
    tth = fr.stratum("mart_time_to_housing")
    days = fr.stratum("mart_days_stably_housed")
    temp = fr.stratum("mart_temporary_stays")
    window_days = int(params.get("retention.days_housed_window_days", 730))
    ceiling = int(params.get("retention.temporary_stay_max_days", 61))
    per_arm = {arm: (_first(tth, arm=arm), _first(days, arm=arm), _first(temp, arm=arm))
               for arm in ARMS}
    arms = [a for a in ARMS if any(x is not None for x in per_arm[a])]
    table = []

    def add(label: str, cells: list[Cell]) -> None:
        table.append({"label": label, "cells": cells})

    add(f.t("report.pathways.median_days"),
        [f.cell(per_arm[a][0], "median_days_to_housing", low="median_ci_lower",
                high="median_ci_upper") for a in arms])
    add(f.t("report.pathways.days_housed", months=f.text(window_days / 30.4375, "int")),
        [f.cell(per_arm[a][1], "mean_share_days_stably_housed", "pct", low="mean_share_ci_lower",
                high="mean_share_ci_upper") for a in arms])
    add(f.t("report.pathways.temporary", days=ceiling),
        [_share_of(f, per_arm[a][2], "share_episodes_over_ceiling", "n_episodes_over_ceiling",
                   "n_episodes") for a in arms])  # the ratio's own denominator (pipeline.yaml)
    add(f.t("report.pathways.temporary_median"),
        [f.cell(per_arm[a][2], "median_days_closed_episodes") for a in arms])
    shares = []
    for a in arms:
        r = per_arm[a][0]
        for d in HOUSED_BY_DAYS:
            col = f"share_housed_by_{d}_days"
            if _is_value(r, col):
                shares.append({"days": str(d), "share": r[col],
                               "group": f.t(f"common.arm.{a}")})
    chart = figures.housed_by_days_chart(pl.DataFrame(shares), f) if shares else None
    per_year = fr.by_code("mart_housed_per_year_vs_target")
    target_row = _first(fr.by_code("mart_housed_vs_target"))
    target_chart, target_text = None, ""
    if per_year.height and per_year["target_housed_per_year"].is_not_null().any():
        target_chart = figures.housed_per_year_chart(per_year, f)
    elif target_row and target_row.get("target_housed_total") is not None:
        target_text = f.t("report.pathways.total_target",
                          target=f.text(target_row["target_housed_total"], "int"),
                          housed=f.cell(target_row, "n_housed").text)
    else:
        target_text = f.t("report.pathways.no_target", unit=unit_name)
    return {"arms": [f.t(f"common.arm.{a}") for a in arms], "table": table if arms else [],
            "chart": chart, "empty": not arms,
            "target_chart": target_chart, "target_text": target_text}


def _share_of(f: Fmt, row: dict[str, Any] | None, share: str, num: str, den: str) -> Cell:
    c = f.cell(row, share, "pct")
    if row is None or c.suppressed or _missing(row.get(share)):
        return c
    return Cell(c.text, False, f"({f.cell(row, num).text} / {f.cell(row, den).text})")


# ---- costs -------------------------------------------------------------------------------------


def _costs(fr: Frames, f: Fmt, unit_name: str, figures: Any) -> dict[str, Any]:
    net = fr.by_code("mart_costs_net")
    payer = fr.by_code("mart_costs_by_payer")
    if not net.height:
        return {"empty": True, "hidden": False, "text": f.t("report.costs.none"),
                "headline": None, "payer_rows": [], "prepost_caveat": False}
    totals = net.filter(pl.col("breakdown") == "total")
    designs = [d for d in ("did", "prepost") if totals.filter(pl.col("design") == d).height]
    first = totals.row(0, named=True)
    currency, price_year = first["currency"], first["price_year"]
    headline = None
    for d in designs:
        r = _first(totals, design=d, measure="net_saving")
        if _is_value(r, "estimate"):
            headline = r
            break
    hidden = headline is None
    table = []
    for measure in COST_MEASURES:
        cells = []
        for d in ("did", "prepost"):
            r = _first(totals, design=d, measure=measure)
            kind = "num1" if measure == "saved_per_10_spent" else (
                "int" if measure == "break_even_participants" else "money")
            cells.append(f.cell(r, "estimate", kind, low="ci_low", high="ci_high",
                                currency=currency))
        if any(c.text != "–" for c in cells):
            table.append({"label": f.t(f"common.measure.{measure}"), "cells": cells})
    payer_rows = []
    if payer.height:
        ps = payer.filter((pl.col("measure") == "net_saving")
                          & (pl.col("breakdown") == "payer_sector")
                          & pl.col("category").is_in(PAYERS)
                          & ~pl.col("estimate_suppressed").fill_null(False)
                          & pl.col("estimate").is_not_null())
        payer_rows = ps.select("design", "category", "estimate", "ci_low", "ci_high").to_dicts()
    chart = figures.payer_chart(payer_rows, totals, f, currency) if payer_rows else None
    sens = fr.by_code("mart_cost_sensitivity")
    sensitivity = []
    if sens.height:
        top = sens.filter((pl.col("design") == "did") & pl.col("swing").is_not_null()
                          & ~pl.col("swing_suppressed").fill_null(False)) \
            .sort(["swing", "variable"], descending=[True, False]).head(4)
        for r in top.iter_rows(named=True):
            sensitivity.append({
                "label": _variable_label(f, r["variable"]),
                "low": f"{r['low_setting']}: {f.text(r['net_saving_low'], 'money', currency)}",
                "high": f"{r['high_setting']}: {f.text(r['net_saving_high'], 'money', currency)}",
            })
    return {
        "empty": False, "hidden": hidden, "headline": headline, "currency": currency,
        "price_year": price_year, "table": table, "payer_rows": payer_rows, "chart": chart,
        "designs": [f.t("common.design.did"), f.t("common.design.prepost")],
        "prepost_caveat": any(r.get("caveat") for r in totals.iter_rows(named=True)),
        "sensitivity": sensitivity,
        "text": f.t("report.costs.hidden", unit=unit_name) if hidden else "",
    }


def _variable_label(f: Fmt, variable: str) -> str:
    if variable.startswith("unit cost: "):
        service = variable.removeprefix("unit cost: ")
        key = f"common.service.{service}"
        return f.t("report.costs.variable.unit_cost",
                   service=f.t(key) if i18n.has(key, f.lang) else service)
    key = {"programme cost": "programme_cost", "window (months)": "window",
           "discount rate": "discount_rate"}.get(variable)
    return f.t(f"report.costs.variable.{key}") if key else variable


# ---- fidelity ----------------------------------------------------------------------------------


def _fidelity(fr: Frames, f: Fmt, params: dict[str, Any], unit: Unit) -> dict[str, Any]:
    levels = [("unit", unit.name(f.lang))]
    if unit.kind != "country":
        levels.append(("country", f.t(f"common.country.{unit.country}")))
    levels.append(("all", f.t("report.retention.area_all")))
    rows_by_level = {lvl: _first(fr.stratum("mart_fidelity", lvl)) for lvl, _ in levels}
    unit_row = rows_by_level["unit"]
    target = params.get("retention.home_visits_target_per_week", 1.0)
    spec = [
        (f.t("report.fidelity.visits"), "home_visits_per_participant_week", "num2",
         f.t("report.fidelity.target", target=f.text(target, "num1"))),
        (f.t("report.fidelity.meeting_target"), "share_meeting_target", "pct", ""),
        (f.t("report.fidelity.ordinary_lease"), "share_first_flat_ordinary_lease", "pct", ""),
        (f.t("report.fidelity.participants"), "n_participants", "int", ""),
    ]
    table = [{"label": label, "note": note,
              "cells": [f.cell(rows_by_level[lvl], col, kind) for lvl, _ in levels]}
             for label, col, kind, note in spec]
    mansa = []
    qol = fr.stratum("mart_mansa_change")
    arms = [a for a in ARMS if qol.height and qol.filter(pl.col("arm") == a).height]
    for wave in sorted(set(qol["wave"].to_list())) if qol.height else []:
        rows = [_first(qol, arm=a, wave=wave) for a in arms]
        mansa.append({"wave": f.t("report.fidelity.wave", wave=wave), "cells": [
            c for r in rows for c in (f.cell(r, "mean_change", "num2", low="ci_lower",
                                             high="ci_upper"), f.cell(r, "n_pairs"))]})
    return {"levels": [name for _, name in levels], "table": table, "mansa": mansa,
            "mansa_arms": [f.t(f"common.arm.{a}") for a in arms],
            "unit_row": unit_row, "empty": unit_row is None}


# ---- annex -------------------------------------------------------------------------------------


def _returns_unit(f: Fmt, unit: str | None) -> str:
    key = f"report.returns_unit.{unit}"
    return f.t(key) if unit and i18n.has(key, f.lang) else (unit or "–")


def _pv(value: Any) -> str:
    """A parameter value as written on the command line."""
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _annex(pub: Published, f: Fmt, params: dict[str, Any]) -> dict[str, Any]:
    m = pub.manifest
    definition = {r["parameter"]: r["value"] for r in
                  pub.frame("mart_retention_definition").iter_rows(named=True)} \
        if "mart_retention_definition" in pub.tables else {}

    def p(key: str, default: Any = "–") -> Any:
        return params.get(key, default)

    pct = lambda v: i18n.fmt_pct(float(v), f.lang, 1)
    defs = {
        "participants": {}, "housed": {},
        "retention": {"move_gap": definition.get("move_max_gap_days", "–"),
                      "definition": definition.get("definition_name",
                                                   p("retention.definition"))},
        "competing": {"long_stay": definition.get("long_stay_min_days", "–")},
        "ci": {"ci_method": str(p("costs.ci_method")).upper(),
               "n_resamples": f.text(p("costs.bootstrap.n_resamples", None), "int"),
               "seed": p("costs.bootstrap.seed")},
        "returns": {"returns_unit": _returns_unit(f, definition.get("returns_unit"))},
        "time_to_housing": {},
        "days_housed": {"window_days": p("retention.days_housed_window_days")},
        "temporary": {"ceiling": p("retention.temporary_stay_max_days")},
        "visits": {"target": f.text(p("retention.home_visits_target_per_week", None), "num1")},
        "lease": {}, "mansa": {},
        "costs": {"window": p("costs.window_months"), "price_year": p("costs.price_year"),
                  "rate_no": pct(p("costs.discount_rate.NO", 0)),
                  "rate_dk": pct(p("costs.discount_rate.DK", 0))},
        "designs": {}, "payers": {},
    }
    definitions = [f.t(f"report.define.{k}", **kw) for k, kw in defs.items()]
    parameters = [(k, _pv(v)) for k, v in sorted(params.items())]
    defaults = default_parameters()
    overrides = [f"--set {k}={_pv(v).replace(', ', ',')}" for k, v in sorted(params.items())
                 if k in defaults and v != defaults[k]]
    git = m.get("git") or {}
    commit = git.get("commit") or "–"
    if git.get("dirty"):
        commit += f" ({f.t('report.annex.dirty')})"
    packages = m.get("packages") or {}
    sources = [{"id": s["source_id"],
                "extracted": (m.get("extraction_dates", {}).get(s["source_id"]) or {})
                .get("date") or "–",
                "synthetic": f.t("report.annex.answer_yes" if s.get("synthetic")
                               else "report.annex.answer_no")}
               for s in m.get("sources", [])]
    inputs = [{"table": i["table"],
               "file": i["path"] if i.get("source_id") == "hfeval-default"
               else f"{i['path']}" + (f" [{i['sheet']}]" if i.get("sheet") else ""),
               "rows": f.text(i.get("rows_read"), "int"), "sha": i.get("sha256", "–")}
              for i in m.get("inputs", [])]
    return {
        "definitions": definitions,
        "disclosure": f.t("report.annex.disclosure", threshold=p("disclosure.threshold"),
                          base=p("disclosure.rounding_base"), suppressed=f.suppressed),
        "parameters": parameters,
        "run_id": m.get("run_id", "–"),
        "started": i18n.fmt_datetime(m.get("started_at"), f.lang) + " UTC",
        "version": m.get("hfeval_version", __version__),
        "commit": commit,
        "python": m.get("python", "–"),
        "packages": " · ".join(f"{k} {packages[k]}" for k in KEY_PACKAGES if packages.get(k)),
        "data_dir": m.get("data_dir", "–"),
        "synthetic": f.t("report.annex.answer_yes" if m.get("synthetic_data")
                       else "report.annex.answer_no"),
        "sources": sources,
        "inputs": inputs,
        "rerun": " ".join(["hfeval run --data", _quote(m.get("data_dir", "DATA")), *overrides]),
    }


def _quote(path: str) -> str:
    return f"'{path}'" if any(c in path for c in " '\"$") else path
