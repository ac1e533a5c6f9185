"""Synthetic demo data: five municipal Housing First programmes, deterministic by seed.

The data are SYNTHETIC. Cohort sizes, start dates, support methods, retention and costs are
calibrated to the facts of the five municipalities in the source documents (see `CALIBRATION`,
where every fact carries its source); everything else is a documented assumption
(`ASSUMPTIONS`). No real person is described.

Two layouts:
- `style="municipal"` (demo): one folder per municipality, shaped like that municipality's own
  export (Norwegian or Danish column names and codes, semicolons, cp1252 or UTF-8 with BOM,
  local date formats, decimal commas, one Excel file) with a `source.yaml` mapping it onto
  the contract.
- `style="contract"` (benchmarks): one folder with one file per contract table.

`participants=N` up to the demo size (721) scales the five cohorts proportionally. Above it the
five keep their demo size and data (the same rows as with N unset) and SYNTHETIC municipalities
(codes 'S0001', ...; region 'Synthetic') make up the rest, each with a skewed cohort of 20-400,
in Norway or Denmark, following the calibrated facts of one of the five in its country
(`ASSUMPTIONS["synthetic_municipalities"]`); contract style then also writes
reference/municipalities.csv with their rows, since participants and programme costs refer to
them. Municipal style exists for the five only. Generation is vectorised (numpy/polars) so
N = 10^5 (about 1.1 * 10^7 service_use rows) takes seconds. Service use and support contacts are
built, and in contract style written, in blocks of participants, which keeps memory under 1 GB.
Shelter and temporary accommodation are recorded as stays (one row per stay with from, to and
nights), as the registers do. Same seed and config give byte-identical files.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import openpyxl
import polars as pl
import pyarrow.parquet as pq
import yaml

from hfeval import contract as c

# ---- calibration facts --------------------------------------------------------------------------

_DOMAIN = "DOMAIN.md §2"
_S_MANDAL = "seeds/000_3cd0f6f4a1ad4174.txt (Mandal slides)"
_S_SANDNES = "seeds/001_aae82d4316d80f0f.txt (Sandnes case description)"
_S_HAMAR = "seeds/002_3d8cf76764fa1548.txt (Hamar slides)"
_S_RANDERS = "seeds/003_a954251154599e68.txt (Randers slides)"
_S_ODENSE = "seeds/004_14809f966a912989.txt (Odense strategy) and DOMAIN.md §2"
_ASSUMED = "assumption (plausible value; not stated in the seeds)"


def _fact(value: Any, source: str) -> dict[str, Any]:
    return {"value": value, "source": source}


# Per municipality code. Enrolment waves: (first day, last day, HF participants enrolled).
CALIBRATION: dict[str, dict[str, dict[str, Any]]] = {
    "4205": {
        "name": _fact("Lindesnes (Mandal until 2020)", _DOMAIN),
        "former_code": _fact("1002", f"{_DOMAIN} (Mandal was 1002 before 2020)"),
        "country": _fact("NO", _DOMAIN),
        "hf_enrolment": _fact(
            [("2014-01-02", "2014-01-31", 8), ("2014-02-01", "2014-12-31", 2),
             ("2015-01-01", "2015-12-31", 10), ("2016-01-01", "2016-12-31", 10)],
            f"{_S_MANDAL}: start January 2014 with 8 participants; target 10 housed per year",
        ),
        "comparison_cohort": _fact(15, f"{_ASSUMED}: about half the HF cohort"),
        "extraction_date": _fact("2019-12-31", f"{_ASSUMED}: >= 24 months after the last move-in"),
        "support_models": _fact({"HF-team": 1.0}, f"{_S_MANDAL}: HF follow-up team"),
        "retention_12m_hf": _fact(0.80, f"{_S_MANDAL}: '80 % housing stability' (Pathways)"),
        "retention_12m_comparison": _fact(0.60, _ASSUMED),
        "median_days_to_housing_hf": _fact(
            35, f"{_S_MANDAL}: temporary housing to be used at most 2 months"),
        "mean_age": _fact(34, f"{_S_MANDAL}: mean age 34"),
        "substance_use": _fact(
            {"alcohol": 0.2, "drugs": 0.35, "alcohol_and_drugs": 0.45},
            f"{_S_MANDAL}: all 8 with substance use (split between substances assumed)"),
        "mental_illness": _fact(
            {"none": 0.1, "mild": 0.4, "moderate": 0.4, "severe": 0.1},
            f"{_S_MANDAL}: few severe, most mild to moderate mental illness"),
        "staff_fte": _fact(6.0, f"{_S_MANDAL}: HF follow-up team of 6 FTE"),
        "own_lease_share_hf": _fact(0.4, f"{_S_MANDAL}: few municipal flats, purchases; assumed"),
    },
    "1108": {
        "name": _fact("Sandnes", _DOMAIN),
        "country": _fact("NO", _DOMAIN),
        "hf_enrolment": _fact(
            [("2013-06-01", "2016-12-31", 14)],
            f"{_S_SANDNES}: 14 housed (target 15); project extended through 2016"),
        "comparison_cohort": _fact(7, f"{_ASSUMED}: about half the HF cohort"),
        "extraction_date": _fact("2019-09-30", f"{_ASSUMED}: >= 24 months after the last move-in"),
        "support_models": _fact(
            {"HF-team": 0.6, "ICM": 0.4}, f"{_S_SANDNES}: HF team (split with ICM assumed)"),
        "retention_12m_hf": _fact(0.85, f"{_ASSUMED} (brief: ~85 %)"),
        "retention_12m_comparison": _fact(0.60, _ASSUMED),
        "median_days_to_housing_hf": _fact(60, _ASSUMED),
        "mean_age": _fact(38, _ASSUMED),
        "substance_use": _fact(
            {"none": 0.2, "alcohol": 0.2, "drugs": 0.3, "alcohol_and_drugs": 0.28, "unknown": 0.02},
            f"{_S_SANDNES}: 54 % of homeless with substance use; HF target group higher (assumed)"),
        "mental_illness": _fact(
            {"none": 0.15, "mild": 0.25, "moderate": 0.35, "severe": 0.2, "unknown": 0.05},
            _ASSUMED),
        "staff_fte": _fact(4.0, _ASSUMED),
        "own_lease_share_hf": _fact(0.3, f"{_S_SANDNES}: Husbanken grants for municipal purchases"),
    },
    "3403": {
        "name": _fact("Hamar", _DOMAIN),
        "country": _fact("NO", _DOMAIN),
        "hf_enrolment": _fact(
            [("2011-10-01", "2015-12-31", 40)],
            f"{_S_HAMAR}: housing-social department from 1 Oct 2011; cohort size assumed"),
        "comparison_cohort": _fact(20, f"{_ASSUMED}: about half the HF cohort"),
        "extraction_date": _fact("2018-09-30", f"{_ASSUMED}: >= 24 months after the last move-in"),
        "support_models": _fact(
            {"CTI": 0.4, "ICM": 0.35, "ACT": 0.25},
            f"{_S_HAMAR}: CTI (6-9 months), case management and ACT; shares assumed"),
        "cti_months": _fact((6, 9), f"{_S_HAMAR}: CTI 6-9 months"),
        "retention_12m_hf": _fact(0.85, f"{_ASSUMED} (brief: ~85 %)"),
        "retention_12m_comparison": _fact(0.60, _ASSUMED),
        "median_days_to_housing_hf": _fact(60, _ASSUMED),
        "mean_age": _fact(38, _ASSUMED),
        "substance_use": _fact(
            {"none": 0.15, "alcohol": 0.2, "drugs": 0.3, "alcohol_and_drugs": 0.33, "unknown": 0.02},
            f"{_S_HAMAR}: ROP (co-occurring disorders) focus; shares assumed"),
        "mental_illness": _fact(
            {"none": 0.1, "mild": 0.25, "moderate": 0.35, "severe": 0.25, "unknown": 0.05},
            _ASSUMED),
        "staff_fte": _fact(5.2, f"{_S_HAMAR}: ~4.1 MNOK/year operations (incl. administration)"),
        "own_lease_share_hf": _fact(0.2, f"{_S_HAMAR}: decision-based allocation of municipal flats"),
    },
    "730": {
        "name": _fact("Randers", _DOMAIN),
        "country": _fact("DK", _DOMAIN),
        "hf_enrolment": _fact(
            [("2010-01-01", "2014-12-31", 80)],
            f"{_S_RANDERS}: first homelessness strategy with HF, CTI and ICM; cohort assumed"),
        "comparison_cohort": _fact(40, f"{_ASSUMED}: about half the HF cohort"),
        "extraction_date": _fact("2017-09-30", f"{_ASSUMED}: >= 24 months after the last move-in"),
        "support_models": _fact({"CTI": 0.5, "ICM": 0.5}, f"{_S_RANDERS}: CTI and ICM"),
        "cti_months": _fact((9, 9), "DOMAIN.md §1: CTI 9 months in Odense/Randers"),
        "retention_12m_hf": _fact(0.90, f"{_S_RANDERS}: '90 % keep their home afterwards'"),
        "retention_12m_comparison": _fact(0.65, _ASSUMED),
        "median_days_to_housing_hf": _fact(75, _ASSUMED),
        "mean_age": _fact(37, _ASSUMED),
        "substance_use": _fact(
            {"none": 0.15, "alcohol": 0.25, "drugs": 0.25, "alcohol_and_drugs": 0.33, "unknown": 0.02},
            _ASSUMED),
        "mental_illness": _fact(
            {"none": 0.15, "mild": 0.25, "moderate": 0.35, "severe": 0.2, "unknown": 0.05},
            _ASSUMED),
        "staff_fte": _fact(8.0, _ASSUMED),
        "own_lease_share_hf": _fact(0.75, f"{_ASSUMED}: mostly flats in social housing (almen bolig)"),
    },
    "461": {
        "name": _fact("Odense", _DOMAIN),
        "country": _fact("DK", _DOMAIN),
        "hf_enrolment": _fact(
            [("2011-01-01", "2016-12-31", 317)],
            f"{_S_ODENSE}: 317 housed 2011-2016 (municipal official, second-hand)"),
        "comparison_cohort": _fact(158, f"{_ASSUMED}: about half the HF cohort"),
        "extraction_date": _fact("2019-09-30", f"{_ASSUMED}: >= 24 months after the last move-in"),
        "support_models": _fact(
            {"CTI": 0.55, "ICM": 0.45}, f"{_S_ODENSE}: CTI 9 months, ICM open-ended"),
        "cti_months": _fact((9, 9), f"{_S_ODENSE}: CTI 9 months"),
        "retention_12m_hf": _fact(0.92, f"{_S_ODENSE}: 92 % of 317 still in own home"),
        "retention_12m_comparison": _fact(0.65, _ASSUMED),
        "median_days_to_housing_hf": _fact(60, _ASSUMED),
        "mean_age": _fact(40, _ASSUMED),
        "substance_use": _fact(
            {"none": 0.15, "alcohol": 0.25, "drugs": 0.25, "alcohol_and_drugs": 0.33, "unknown": 0.02},
            _ASSUMED),
        "mental_illness": _fact(
            {"none": 0.15, "mild": 0.25, "moderate": 0.35, "severe": 0.2, "unknown": 0.05},
            _ASSUMED),
        "staff_fte": _fact(18.0, f"{_ASSUMED}: caseload ~1:8 for about 150 active participants"),
        "own_lease_share_hf": _fact(0.8, f"{_S_ODENSE}: flats from the social housing associations"),
    },
}

# Cross-cutting assumptions, with where they come from.
ASSUMPTIONS: dict[str, dict[str, Any]] = {
    "comparison_median_days_to_housing": _fact(
        220, "At Home/Chez Soi: 73 (HF) vs 220 days (TAU) to housing (DOMAIN.md §3)"),
    "comparison_never_housed_share": _fact(0.25, _ASSUMED),
    "hf_never_housed_share": _fact(
        0.0, "the seeds count people housed (Sandnes 14, Odense 317), so all HF participants "
        "are housed"),
    "max_days_to_housing_hf": _fact(180, _ASSUMED),
    "loss_weibull_shape": _fact(0.7, f"{_ASSUMED}: losses concentrate early after move-in"),
    "salary_per_fte": _fact(
        {"NOK": 700_000, "DKK": 500_000},
        "brief; cf. KS nurse salary NOK 661,000 + social costs (DOMAIN.md §4)"),
    "wage_growth_per_year": _fact(0.025, f"{_ASSUMED}: from 2015 levels"),
    "administration_share_of_staff": _fact(0.12, f"{_ASSUMED}; Hamar total ~4.1 MNOK"),
    "housing_subsidy_per_housed_year": _fact({"NOK": 36_000, "DKK": 24_000}, _ASSUMED),
    "male_share": _fact(0.78, _ASSUMED),
    "mansa_change_hf": _fact(0.5, "brief: HF improves ~0.5 points on average; comparison less"),
    "service_rates": _fact(
        "see _EVENT_SERVICES", f"{_ASSUMED}: heavy-tailed (gamma-Poisson) annual rates, "
        "lower after move-in for HF and somewhat lower for the comparison (regression to the mean)"),
    "single_event_rates": _fact(
        {"emergency_department": 4.0, "emergency_primary_care": 7.0,
         "outpatient_mental_health": 7.0, "police_arrest": 3.0},
        f"{_ASSUMED}: events a year in the 24 months before the anchor at frailty 1, raised "
        "from 2.5, 3.5, 4.0 and 2.0 so that about 115 service rows per participant (1.1 * 10^7 "
        "at 10^5 participants) remain once shelter nights are recorded as stays. ED: At Home/Chez "
        "Soi Vancouver had 3.32 ED visits a year (SD 6.21) 12 months after enrolment, after "
        "the pre-enrolment peak; legevakt/laegevagt is the first line for acute care and "
        "counts phone contacts; outpatient mental health and substance-use contacts about "
        "every 7 weeks (co-occurring disorders); arrests heavy-tailed around 3 a year. The "
        "four still fall after move-in for HF except outpatient care, which rises"),
    "synthetic_municipalities": _fact(
        {"participants_median": 100, "participants_sigma": 0.8, "participants_range": (20, 400),
         "norway_share": 0.6, "comparison_share": (0.28, 0.38),
         "participants_per_fte": (7.0, 9.0), "fte_range": (1.0, 50.0),
         "enrolment_start": ("2009-01-01", "2015-12-31"), "enrolment_years": (1.0, 5.0),
         "last_enrolment": "2017-03-31", "months_to_extraction": 33,
         "participants_per_1000_inhabitants": (0.3, 3.0)},
        f"{_ASSUMED}: for national-scale benchmarks only. Cohorts skewed (lognormal, median "
        "100) within 20-400, around the five's 21-475; 60 % Norwegian (Norway has 357 "
        "municipalities to Denmark's 98, at similar populations); profile (support models, "
        "retention, ages, ...) one of the five of the same country; one FTE per 7-9 HF "
        "participants as Husbanken reports (DOMAIN.md §4); enrolment within 2009-2017 and "
        "extraction at the first quarter end >= 33 months after the last enrolment, like the "
        "five (so never after their latest extraction date); participants per 1,000 "
        "inhabitants 0.3-3 like the five (0.25-3; Sandnes 3.6 homeless per 1,000)"),
    "shelter_stays": _fact(
        "one row per stay", "municipal shelter and temporary-accommodation registers record a "
        "stay (from, to, nights), not one row a night: consecutive nights of one person in one "
        "service form one stay ending the morning after its last night"),
}

PRICE_BASE_YEAR = 2015
_COUNTRY_CURRENCY = {"NO": "NOK", "DK": "DKK"}
_CODES = list(CALIBRATION)
_EPOCH = np.datetime64("1970-01-01", "D")
_INF = 10**9  # "no date yet" in day arithmetic


# ---- public API ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthConfig:
    seed: int = 20140101
    participants: int | None = None  # None = the calibrated demo size
    style: Literal["municipal", "contract"] = "municipal"
    file_format: Literal["csv", "parquet"] = "csv"  # contract style only; municipal is CSV/xlsx


@dataclass(frozen=True)
class SynthSummary:
    rows: dict[str, int]
    participants: dict[str, dict[str, int]]  # municipality code -> arm -> count
    files: tuple[str, ...] = field(default_factory=tuple)  # paths relative to out_dir

    @property
    def files_written(self) -> int:
        return len(self.files)


def demo_cohort_sizes() -> dict[str, dict[str, int]]:
    """Calibrated (demo) participants per municipality and arm."""
    return {
        code: {
            "housing_first": sum(w[2] for w in f["hf_enrolment"]["value"]),
            "comparison": f["comparison_cohort"]["value"],
        }
        for code, f in CALIBRATION.items()
    }


def generate_tables(config: SynthConfig = SynthConfig()) -> dict[str, pl.DataFrame]:
    """All six input tables with contract column names, codes and types."""
    return _whole(_generate(config))


def generate(out_dir: Path, config: SynthConfig = SynthConfig()) -> SynthSummary:
    """Write the synthetic data set to `out_dir` and return counts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if config.style not in ("contract", "municipal"):
        raise ValueError(f"unknown style {config.style!r}")
    gen = _generate(config)
    if config.style == "contract":  # the large tables are streamed to disk block by block
        files, rows = _write_contract(out_dir, gen, config)
    else:
        tables = _whole(gen)
        files = _write_municipal(out_dir, tables, gen.extraction)
        rows = {name: df.height for name, df in tables.items()}
    synthetic = sum(m.code not in CALIBRATION for m in gen.municipalities)
    (out_dir / "README.txt").write_text(_readme(config, rows, synthetic), encoding="utf-8")
    files.append("README.txt")
    parts = gen.tables["participants"].group_by("municipality_code", "arm").len()
    counts: dict[str, dict[str, int]] = {m.code: {a: 0 for a in c.ARM}
                                         for m in gen.municipalities}
    for code, arm, n in parts.iter_rows():
        counts[code][arm] = n
    return SynthSummary(rows=rows, participants=counts, files=tuple(sorted(files)))


# ---- small helpers ------------------------------------------------------------------------------


def _day(iso: str) -> int:
    return int((np.datetime64(iso, "D") - _EPOCH).astype(np.int64))


def _year(days: np.ndarray) -> np.ndarray:
    return (days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to `weights` that sum to `total` (ties go to the earlier cell)."""
    exact = weights / weights.sum() * total
    out = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - out), kind="stable")
    out[order[: total - out.sum()]] += 1
    return out


def _pick(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One category index per row, drawn from the probability row `probs[group]`."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(group.size)
    out = np.zeros(group.size, dtype=np.int64)
    for g in range(probs.shape[0]):  # loop over groups, not rows
        rows = group == g
        out[rows] = np.minimum(np.searchsorted(cum[g], u[rows], side="right"),
                               probs.shape[1] - 1)
    return out


def _probs(codes: tuple[str, ...], shares: dict[str, float]) -> np.ndarray:
    return np.array([shares.get(code, 0.0) for code in codes], dtype=np.float64)


def _cell_quantile(cell: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Evenly spaced quantile (rank + 0.5) / n of `key` within each cell: exact calibration."""
    order = np.lexsort((key, cell))
    sorted_cell = cell[order]
    first = np.searchsorted(sorted_cell, sorted_cell, side="left")
    counts = np.bincount(cell)
    q = np.empty(cell.size)
    q[order] = (np.arange(cell.size) - first + 0.5) / counts[sorted_cell]
    return q


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float,
               size: int) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(size))


def _idx(codes: tuple[str, ...], *names: str) -> list[int]:
    return [codes.index(n) for n in names]


# ---- the person-level model ---------------------------------------------------------------------


class _Muni(NamedTuple):
    """A municipality in the data: who it is, its cohort, and whose calibrated facts it follows."""

    code: str
    name: str
    country: str  # NO or DK
    profile: int  # index into _CODES: support models, retention, ages, ... follow this one
    waves: tuple[tuple[str, str, int], ...]  # HF enrolment: first day, last day, weight
    hf: int  # participants per arm
    comparison: int
    extraction: str  # ISO date
    staff_fte: float
    population: int | None = None  # synthetic municipalities only (the five: reference data)


_Blocks = Callable[[], Iterator[pl.DataFrame]]  # yields a table's rows block by block


class _Gen(NamedTuple):
    tables: dict[str, pl.DataFrame]  # the tables built whole
    blocks: dict[str, _Blocks]  # built per block of participants
    extraction: dict[str, date]  # per municipality code
    municipalities: list[_Muni]  # the five, then any synthetic ones


class _People(NamedTuple):
    n: int
    muni: np.ndarray  # index into the list of municipalities generated together
    hf: np.ndarray  # bool
    enrol: np.ndarray  # day number
    extraction: np.ndarray  # day number, per person
    model: np.ndarray  # index into SUPPORT_MODEL
    frailty: np.ndarray
    country_dk: np.ndarray  # bool
    prof: np.ndarray  # index into _CODES: the calibrated profile the person's municipality follows


def _demo_total() -> int:
    return sum(sum(arms.values()) for arms in demo_cohort_sizes().values())


def _cohort_sizes(config: SynthConfig) -> tuple[np.ndarray, np.ndarray]:
    """HF and comparison sizes of the five (rows follow _CODES): scaled down below the demo
    size, the demo size above it (synthetic municipalities make up the rest)."""
    demo = demo_cohort_sizes()
    base = np.array([[demo[k]["housing_first"], demo[k]["comparison"]] for k in _CODES])
    if config.participants is None or config.participants > base.sum():
        return base[:, 0], base[:, 1]
    if config.participants < 0:
        raise ValueError("participants must be >= 0")
    sizes = _largest_remainder(base.ravel().astype(np.float64), config.participants)
    sizes = sizes.reshape(base.shape)
    return sizes[:, 0], sizes[:, 1]


def _calibrated_municipalities(config: SynthConfig) -> list[_Muni]:
    hf_n, comp_n = _cohort_sizes(config)
    demo = demo_cohort_sizes()
    out = []
    for i, code in enumerate(_CODES):
        f = CALIBRATION[code]
        scale = (hf_n[i] + comp_n[i]) / sum(demo[code].values())
        out.append(_Muni(
            code, f["name"]["value"], f["country"]["value"], i,
            tuple(tuple(w) for w in f["hf_enrolment"]["value"]), int(hf_n[i]), int(comp_n[i]),
            f["extraction_date"]["value"], round(f["staff_fte"]["value"] * scale, 1)))
    return out


_SYN = ASSUMPTIONS["synthetic_municipalities"]["value"]


def _synthetic_sizes(rng: np.random.Generator, total: int) -> np.ndarray:
    """Skewed cohort sizes within the range that add up to `total` (a single cohort below the
    minimum only when fewer than that many participants remain in all)."""
    lo, hi = _SYN["participants_range"]
    draws = np.clip(np.round(_lognormal(rng, _SYN["participants_median"],
                                        _SYN["participants_sigma"], total // lo + 1)), lo, hi)
    draws = draws.astype(np.int64)  # total // lo + 1 draws of >= lo always exceed total
    sizes = draws[: int(np.searchsorted(np.cumsum(draws), total)) + 1]
    sizes[-1] -= sizes.sum() - total
    if sizes[-1] < lo and sizes.size > 1:  # the remainder: topped up from the largest
        donor, need = int(np.argmax(sizes[:-1])), lo - sizes[-1]
        if sizes[donor] - need >= lo:
            sizes[donor] -= need
            sizes[-1] = lo
        else:
            sizes[donor] += sizes[-1]
            sizes = sizes[:-1]
    return sizes


def _quarter_end_after(day: date, months: int) -> date:
    """Last day of the first quarter ending at least `months` months after `day`."""
    m = day.year * 12 + day.month - 1 + months
    m += 2 - m % 3  # the quarter's last month
    nxt = m + 1
    return date(nxt // 12, nxt % 12 + 1, 1) - timedelta(days=1)


def _synthetic_municipalities(rng: np.random.Generator, total: int) -> list[_Muni]:
    """Municipalities 'S0001', ... with `total` participants, each following the calibrated
    facts of one of the five in its country."""
    sizes = _synthetic_sizes(rng, total)
    k = sizes.size
    norway = rng.random(k) < _SYN["norway_share"]
    by_country = {country: [i for i, code in enumerate(_CODES)
                            if CALIBRATION[code]["country"]["value"] == country]
                  for country in ("NO", "DK")}
    pick = rng.random(k)
    comparison = np.round(sizes * rng.uniform(*_SYN["comparison_share"], k)).astype(np.int64)
    hf = sizes - comparison
    first_lo, first_hi = (_day(d) for d in _SYN["enrolment_start"])
    first = first_lo + np.floor(rng.random(k) * (first_hi - first_lo + 1)).astype(np.int64)
    length = np.round(365.25 * rng.uniform(*_SYN["enrolment_years"], k)).astype(np.int64)
    last = np.minimum(first + length, _day(_SYN["last_enrolment"]))
    fte = np.clip(np.round(hf / rng.uniform(*_SYN["participants_per_fte"], k), 1),
                  *_SYN["fte_range"])
    per_1000 = rng.uniform(*_SYN["participants_per_1000_inhabitants"], k)
    population = np.round(sizes / per_1000 * 1000, -1).astype(np.int64)
    out = []
    for i in range(k):
        country = "NO" if norway[i] else "DK"
        profiles = by_country[country]
        last_day = _to_date(int(last[i]))
        out.append(_Muni(
            f"S{i + 1:04d}", f"Synthetic municipality {i + 1}", country,
            profiles[int(pick[i] * len(profiles))],
            ((_to_date(int(first[i])).isoformat(), last_day.isoformat(), int(hf[i])),),
            int(hf[i]), int(comparison[i]),
            _quarter_end_after(last_day, _SYN["months_to_extraction"]).isoformat(),
            float(fte[i]), int(population[i])))
    return out


def _enrolment(rng: np.random.Generator, munis: list[_Muni]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Municipality index, HF flag and enrolment day of every participant."""
    muni, hf, lo, hi = [], [], [], []
    for m, spec in enumerate(munis):
        waves = spec.waves
        counts = _largest_remainder(np.array([w[2] for w in waves], float), spec.hf)
        for (first, last, _), k in zip(waves, counts, strict=True):
            muni.append(np.full(k, m))
            hf.append(np.ones(k, bool))
            lo.append(np.full(k, _day(first)))
            hi.append(np.full(k, _day(last)))
        muni.append(np.full(spec.comparison, m))
        hf.append(np.zeros(spec.comparison, bool))
        lo.append(np.full(spec.comparison, _day(waves[0][0])))
        hi.append(np.full(spec.comparison, _day(waves[-1][1])))
    lo_a, hi_a = np.concatenate(lo), np.concatenate(hi)
    enrol = lo_a + np.floor(rng.random(lo_a.size) * (hi_a - lo_a + 1)).astype(np.int64)
    return np.concatenate(muni).astype(np.int64), np.concatenate(hf), enrol


def _participants(rng: np.random.Generator, munis: list[_Muni], common_extraction: int | None
                  ) -> tuple[_People, pl.DataFrame]:
    muni, hf, enrol = _enrolment(rng, munis)
    # Serial numbers follow enrolment order within each municipality.
    order = np.lexsort((rng.random(muni.size), enrol, muni))
    muni, hf, enrol = muni[order], hf[order], enrol[order]
    n = muni.size
    first_of_muni = np.searchsorted(muni, muni, side="left")
    serial = np.arange(n) - first_of_muni + 1

    countries = np.array([m.country for m in munis])
    dk = countries[muni] == "DK"
    ext_by_muni = np.array([_day(m.extraction) for m in munis])
    if common_extraction is not None:
        ext_by_muni[:] = common_extraction
    extraction = ext_by_muni[muni]
    prof = np.array([m.profile for m in munis], dtype=np.int64)[muni]

    # Support model: the profile's shares for HF, TAU for the comparison group.
    model_p = np.array([_probs(c.SUPPORT_MODEL, CALIBRATION[k]["support_models"]["value"])
                        for k in _CODES] + [_probs(c.SUPPORT_MODEL, {"TAU": 1.0})])
    model = _pick(rng, model_p, np.where(hf, prof, len(_CODES)))

    ages = np.array([CALIBRATION[k]["mean_age"]["value"] for k in _CODES], float)
    age = np.clip(np.round(ages[prof] + 9 * rng.standard_normal(n)), 19, 70).astype(np.int64)
    birth_year = _year(enrol) - age
    male = rng.random(n) < ASSUMPTIONS["male_share"]["value"]
    subst_p = np.array([_probs(c.SUBSTANCE_USE, CALIBRATION[k]["substance_use"]["value"])
                        for k in _CODES])
    substance = _pick(rng, subst_p, prof)
    mental_p = np.array([_probs(c.MENTAL_ILLNESS_SEVERITY,
                                CALIBRATION[k]["mental_illness"]["value"]) for k in _CODES])
    mental = _pick(rng, mental_p, prof)
    severe = mental == c.MENTAL_ILLNESS_SEVERITY.index("severe")
    act = model == c.SUPPORT_MODEL.index("ACT")
    moderate = mental == c.MENTAL_ILLNESS_SEVERITY.index("moderate")
    p_high = np.where(severe | act, 0.9, np.where(moderate, 0.5, 0.25))
    needs = np.where(rng.random(n) < p_high, 0, 1)
    needs = np.where(rng.random(n) < 0.08, -1, needs)  # not assessed
    months_homeless = np.clip(np.round(_lognormal(rng, 18.0, 1.0, n)), 1, 360).astype(np.int64)
    referral_p = np.array([[0.35, 0.2, 0.1, 0.18, 0.08, 0.04, 0.03, 0.02]])
    referral = _pick(rng, referral_p, np.zeros(n, np.int64))
    # Person-level need for services: heavy-tailed, higher for high needs.
    frailty = rng.gamma(1.5, 1 / 1.5, n) * np.where(needs == 0, 1.3, 0.9)

    prefix = pl.Series([f"SYN-{m.country}{m.code}-" for m in munis])
    pid = (prefix.gather(pl.Series(muni)) + pl.Series(serial).cast(pl.String).str.zfill(6))
    df = pl.DataFrame({
        "participant_id": pid,
        "municipality_code": pl.Series([m.code for m in munis]).gather(pl.Series(muni)),
        "birth_year": pl.Series(birth_year, dtype=pl.Int32),
        "sex": np.where(male, "male", "female"),
        "enrolment_date": _dates(enrol),
        "arm": np.where(hf, "housing_first", "comparison"),
        "support_model": _codes(c.SUPPORT_MODEL, model),
        "substance_use": _codes(c.SUBSTANCE_USE, substance),
        "mental_illness_severity": _codes(c.MENTAL_ILLNESS_SEVERITY, mental),
        "needs_level": _codes(c.NEEDS_LEVEL, needs),
        "months_homeless_before": pl.Series(months_homeless, dtype=pl.Int32),
        "referral_source": _codes(c.REFERRAL_SOURCE, referral),
    })
    people = _People(n, muni, hf, enrol, extraction, model, frailty, dk, prof)
    return people, df


def _codes(codes: tuple[str, ...], idx: np.ndarray) -> pl.Series:
    """Code strings for indices; -1 gives null."""
    ix = pl.Series(np.asarray(idx, dtype=np.int64))
    ix = pl.select(pl.when(ix >= 0).then(ix)).to_series()
    return pl.Series(list(codes), dtype=pl.String).gather(ix)


def _dates(days: np.ndarray) -> pl.Series:
    """Day numbers to a Date series; _INF (open) gives null."""
    d = pl.Series(np.asarray(days, dtype=np.int64))
    return pl.select(pl.when(d < _INF).then(d).cast(pl.Int32).cast(pl.Date)).to_series()


# ---- housing spells -----------------------------------------------------------------------------

_HT = c.HOUSING_TYPE
_OWN, _MUNI_FLAT, _SUPPORTED, _TEMP, _SHELTER, _INST, _PRISON, _HOSP, _ROUGH, _FAMILY = (
    _HT.index(t) for t in (
        "own_lease", "municipal_flat", "supported_housing", "temporary_accommodation", "shelter",
        "institution", "prison", "hospital", "rough_sleeping", "family_friends"))
_ER = c.END_REASON
_LOSS_REASONS = ("eviction", "abandoned", "returned_to_homelessness", "institution", "prison",
                 "hospital", "death")
_LOSS_P = np.array([[0.22, 0.18, 0.22, 0.13, 0.12, 0.04, 0.09]])


class _Housing(NamedTuple):
    housed: np.ndarray  # bool
    move_in: np.ndarray  # first move-in day (_INF if never)
    death: np.ndarray  # day of death if before extraction, else _INF
    spells: pl.DataFrame  # the contract table
    person: np.ndarray  # person index per spell row (same order as `spells`)
    start: np.ndarray
    end: np.ndarray  # _INF while open
    htype: np.ndarray


def _stable_type(rng: np.random.Generator, p: _People) -> np.ndarray:
    """A dwelling per person: HF mostly ordinary flats; comparison often supported housing."""
    own = np.array([CALIBRATION[k]["own_lease_share_hf"]["value"] for k in _CODES])[p.prof]
    u = rng.random(p.n)
    hf_type = np.where(u < own, _OWN, _MUNI_FLAT)
    comp_type = np.where(u < 0.35, _SUPPORTED, np.where(u < 0.8, _MUNI_FLAT, _OWN))
    return np.where(p.hf, hf_type, comp_type)


def _homeless_type(rng: np.random.Generator, n: int, with_institutions: bool) -> np.ndarray:
    if with_institutions:
        types = np.array([_TEMP, _SHELTER, _INST, _FAMILY, _ROUGH, _PRISON])
        probs = np.array([[0.24, 0.18, 0.16, 0.22, 0.13, 0.07]])
    else:
        types = np.array([_TEMP, _SHELTER, _FAMILY, _ROUGH])
        probs = np.array([[0.4, 0.35, 0.15, 0.1]])
    return types[_pick(rng, probs, np.zeros(n, np.int64))]


def _lease(rng: np.random.Generator, htype: np.ndarray, hf: np.ndarray) -> np.ndarray:
    ordinary, time_limited, sublet, no_lease = _idx(
        c.LEASE_TYPE, "ordinary", "time_limited", "sublet", "no_lease")
    u = rng.random(htype.shape)
    muni_flat = np.where(u < np.where(hf, 0.75, 0.4), ordinary, time_limited)
    supported = np.where(u < 0.5, sublet, np.where(u < 0.7, no_lease, time_limited))
    out = np.full(htype.shape, -1)
    out = np.where(htype == _OWN, ordinary, out)
    out = np.where(htype == _MUNI_FLAT, muni_flat, out)
    out = np.where(htype == _SUPPORTED, supported, out)
    return np.where((htype == _TEMP) | (htype == _SHELTER), no_lease, out)


def _housing(rng: np.random.Generator, p: _People, pid: pl.Series) -> _Housing:
    """Spells per person in 8 slots: 3 before housing, 3 in the first tenancy chain (moves
    within the programme), 1 after losing it, 1 final open spell; then clipped and flattened."""
    n, hf, e, x = p.n, p.hf, p.enrol, p.extraction
    cell = p.muni * 2 + (~hf)
    # Never housed: an exact share per municipality and arm.
    never_share = np.where(hf, ASSUMPTIONS["hf_never_housed_share"]["value"],
                           ASSUMPTIONS["comparison_never_housed_share"]["value"])
    q_never = _cell_quantile(cell, rng.random(n))
    cell_n = np.bincount(cell)[cell]
    housed = q_never >= np.floor(never_share * cell_n) / cell_n
    med = np.array([CALIBRATION[k]["median_days_to_housing_hf"]["value"] for k in _CODES])
    tth_hf = np.clip(_lognormal(rng, med[p.prof], 0.6, n), 3,
                     ASSUMPTIONS["max_days_to_housing_hf"]["value"])
    tth_comp = np.maximum(_lognormal(
        rng, ASSUMPTIONS["comparison_median_days_to_housing"]["value"], 0.8, n), 14)
    m = np.where(housed, e + np.round(np.where(hf, tth_hf, tth_comp)).astype(np.int64), _INF)
    housed &= m <= x

    # Time to losing the first tenancy: Weibull through exact within-cell quantiles, so the
    # 12-month retention equals the calibrated value; frailer people tend to lose it earlier.
    r12 = np.array([[CALIBRATION[k]["retention_12m_hf"]["value"],
                     CALIBRATION[k]["retention_12m_comparison"]["value"]] for k in _CODES])
    r12 = r12[p.prof, (~hf).astype(int)]
    key = 0.5 * np.log(p.frailty) + rng.standard_normal(n)
    q = _cell_quantile(cell * 2 + housed, key)
    shape = ASSUMPTIONS["loss_weibull_shape"]["value"]
    t_loss = 365.0 * (np.log(q) / np.log(r12)) ** (1 / shape)
    loss_at = m + np.maximum(np.round(t_loss).astype(np.int64), 1)
    loss_reason = np.array(_idx(_ER, *_LOSS_REASONS))[_pick(rng, _LOSS_P, np.zeros(n, np.int64))]
    dies = housed & (loss_reason == _ER.index("death"))

    S = 8
    start = np.full((n, S), _INF, np.int64)
    end = np.full((n, S), _INF, np.int64)
    htype = np.full((n, S), -1, np.int64)
    reason = np.full((n, S), -1, np.int64)
    valid = np.zeros((n, S), bool)

    # Slots 0-2: homeless or institution spells from enrolment until move-in.
    dur = np.maximum(np.round(_lognormal(rng, 150.0, 0.8, n * 3)).reshape(n, 3), 7)
    dur = np.where(hf[:, None], _INF, dur).astype(np.int64)
    pre_start = np.minimum(e[:, None] + np.concatenate(
        [np.zeros((n, 1), np.int64), np.cumsum(dur[:, :2], axis=1)], axis=1), _INF)
    start[:, :3] = pre_start
    end[:, :3] = np.minimum(np.concatenate([pre_start[:, 1:], np.full((n, 1), _INF)], 1),
                            m[:, None])
    valid[:, :3] = pre_start < m[:, None]
    hf_pre = np.array([_TEMP, _SHELTER, _FAMILY])[_pick(
        rng, np.array([[0.7, 0.2, 0.1]]), np.zeros(n, np.int64))]
    comp_pre = _homeless_type(rng, n * 3, True).reshape(n, 3)
    htype[:, :3] = np.where(hf[:, None], hf_pre[:, None], comp_pre)

    # Slots 3-5: the first tenancy, split by up to two moves.
    chain_end_obs = np.minimum(loss_at, x)
    length = chain_end_obs - m
    moves = _pick(rng, np.array([[0.7, 0.22, 0.08], [0.75, 0.2, 0.05]]), (~hf).astype(int))
    moves = np.where(housed & (length >= 60), moves, 0)
    t1 = m + np.floor(length * rng.uniform(0.15, 0.45, n)).astype(np.int64)
    t2 = m + np.floor(length * rng.uniform(0.55, 0.85, n)).astype(np.int64)
    gaps = np.array([0, 0, 0, 1, 2, 3, 5])[rng.integers(0, 7, (n, 2))]
    move_reason = np.where(hf, _ER.index("moved_within_programme"), _ER.index("voluntary_move"))
    start[:, 3] = m
    end[:, 3] = np.where(moves >= 1, t1, loss_at)
    start[:, 4] = t1 + gaps[:, 0]
    end[:, 4] = np.where(moves >= 2, t2, loss_at)
    start[:, 5] = t2 + gaps[:, 1]
    end[:, 5] = loss_at
    valid[:, 3] = housed
    valid[:, 4] = housed & (moves >= 1)
    valid[:, 5] = housed & (moves >= 2)
    for s in range(3, 6):
        htype[:, s] = _stable_type(rng, p)
        reason[:, s] = np.where((s - 3) < moves, move_reason, loss_reason)

    # Slot 6: where the tenancy loss led; slot 7: rehoused or still homeless, open-ended.
    post_type = np.select(
        [loss_reason == _ER.index("institution"), loss_reason == _ER.index("prison"),
         loss_reason == _ER.index("hospital")], [_INST, _PRISON, _HOSP],
        _homeless_type(rng, n, False))
    post_median = np.select([post_type == _INST, post_type == _PRISON, post_type == _HOSP],
                            [120.0, 90.0, 40.0], 90.0)
    post_dur = np.maximum(np.round(_lognormal(rng, post_median, 0.8, n)), 3).astype(np.int64)
    after = housed & ~dies
    start[:, 6] = loss_at
    end[:, 6] = loss_at + post_dur
    htype[:, 6] = post_type
    valid[:, 6] = after
    rehoused = rng.random(n) < np.where(hf, 0.65, 0.4)
    start[:, 7] = loss_at + post_dur
    htype[:, 7] = np.where(rehoused, _stable_type(rng, p),
                           _homeless_type(rng, n, False))
    valid[:, 7] = after

    # End reasons of spells that are not tenancy losses follow from where the person went.
    nxt = np.concatenate([htype[:, 1:], np.full((n, 1), -1)], axis=1)
    nxt_valid = np.concatenate([valid[:, 1:], np.zeros((n, 1), bool)], axis=1)
    nxt[:, 2] = np.where(nxt_valid[:, 2], nxt[:, 2], htype[:, 3])  # pre -> first tenancy
    nxt[:, 1] = np.where(valid[:, 2], htype[:, 2], htype[:, 3])
    nxt[:, 0] = np.where(valid[:, 1], htype[:, 1], htype[:, 3])
    stable_next = np.isin(nxt, [_OWN, _MUNI_FLAT, _SUPPORTED])
    derived = np.select(
        [nxt == _INST, nxt == _PRISON, nxt == _HOSP, stable_next],
        [_ER.index("institution"), _ER.index("prison"), _ER.index("hospital"),
         np.broadcast_to(move_reason[:, None], nxt.shape)],
        np.where(rng.random(nxt.shape) < 0.6, _ER.index("voluntary_move"), _ER.index("unknown")))
    for s in (0, 1, 2, 6, 7):
        reason[:, s] = derived[:, s]

    # Deaths of people never housed: a few, at a random time before extraction.
    p_die = np.where(housed, 0.0, 0.04)
    death = np.where(dies, loss_at, _INF)
    nh_death = e + 30 + np.floor(rng.random(n) * np.maximum(x - e - 30, 1)).astype(np.int64)
    death = np.where(rng.random(n) < p_die, nh_death, death)
    valid &= start < death[:, None]
    cut = valid & (end > death[:, None])
    end = np.where(cut, death[:, None], end)
    reason = np.where(cut, _ER.index("death"), reason)

    # Censor at the extraction date: later spells vanish, spells running past it are open.
    valid &= start <= x[:, None]
    open_ = end > x[:, None]
    end = np.where(open_, _INF, end)
    reason = np.where(open_, -1, reason)
    death = np.where(death <= x, death, _INF)

    person, slot = np.nonzero(valid)
    st, en, ht = start[person, slot], end[person, slot], htype[person, slot]
    lease = _lease(rng, ht, hf[person])
    spells = pl.DataFrame({
        "participant_id": pid.gather(pl.Series(person)),
        "start_date": _dates(st),
        "end_date": _dates(en),
        "housing_type": _codes(_HT, ht),
        "lease_type": _codes(c.LEASE_TYPE, lease),
        "end_reason": _codes(_ER, reason[person, slot]),
    })
    return _Housing(housed, np.where(housed, m, _INF), death, spells, person, st, en, ht)


# ---- service use --------------------------------------------------------------------------------


class _Svc(NamedTuple):
    unit: str
    source: str
    rate: float  # events per person-year before (frailty 1)
    stay_median: float  # days per stay; 0 = single event
    hf_after: float  # rate multiplier after move-in, HF
    comp_after: float  # rate multiplier after enrolment, comparison


_RATE = ASSUMPTIONS["single_event_rates"]["value"]
_EVENT_SERVICES: dict[str, _Svc] = {
    "somatic_inpatient": _Svc("day", "patient_register", 0.8, 4, 0.75, 0.9),
    "psychiatric_inpatient": _Svc("day", "patient_register", 0.5, 12, 0.6, 0.9),
    "emergency_department": _Svc("contact", "patient_register",
                                   _RATE["emergency_department"], 0, 0.6, 0.85),
    "emergency_primary_care": _Svc("contact", "municipal_record",
                                     _RATE["emergency_primary_care"], 0, 0.65, 0.85),
    "outpatient_mental_health": _Svc("contact", "patient_register",
                                       _RATE["outpatient_mental_health"], 0, 1.3, 0.95),
    "substance_treatment_inpatient": _Svc("day", "patient_register", 0.3, 30, 0.9, 0.9),
    "detox": _Svc("day", "patient_register", 0.8, 6, 0.7, 0.9),
    "police_arrest": _Svc("episode", "police_register",
                            _RATE["police_arrest"], 0, 0.6, 0.85),
    "police_custody": _Svc("day", "police_register", 1.2, 0, 0.6, 0.85),
    "court_case": _Svc("case", "court_register", 0.6, 0, 0.7, 0.9),
    "prison": _Svc("day", "prison_register", 0.25, 45, 0.6, 0.85),
    "remand": _Svc("day", "prison_register", 0.2, 20, 0.6, 0.85),
}
# Shelter / temporary accommodation before enrolment: nights per stay and days between stays.
_NIGHTS_PER_STAY_MEDIAN = 12.0
_GAP_DAYS_MEAN = 40.0  # between stays, at frailty 1: ~30 % of nights in shelters before
_MAX_STAYS_BEFORE = 48
_WINDOW = 730  # days before and after the anchor (move-in for HF, else enrolment)


class _Events(NamedTuple):
    person: np.ndarray
    service: np.ndarray  # index into SERVICE
    start: np.ndarray
    end: np.ndarray  # _INF = single event
    quantity: np.ndarray


def _random_events(rng: np.random.Generator, p: _People, anchor: np.ndarray,
                   limit: np.ndarray) -> _Events:
    """Gamma-Poisson events in the 24 months before and after the anchor."""
    names = list(_EVENT_SERVICES)
    svcs = list(_EVENT_SERVICES.values())
    k = len(svcs)
    rate = np.array([s.rate for s in svcs])
    noise = rng.gamma(2.0, 0.5, (p.n, k))
    post_len = np.clip(limit - anchor + 1, 0, _WINDOW)
    mult = np.where(p.hf[:, None], [s.hf_after for s in svcs], [s.comp_after for s in svcs])
    lam_pre = rate * p.frailty[:, None] * noise * (_WINDOW / 365)
    lam_post = rate * p.frailty[:, None] * noise * mult * (post_len[:, None] / 365)
    parts = []
    for lam, before in ((lam_pre, True), (lam_post, False)):
        counts = rng.poisson(lam)
        person = np.repeat(np.repeat(np.arange(p.n), k), counts.ravel())
        service = np.repeat(np.tile(np.arange(k), p.n), counts.ravel())
        u = rng.random(person.size)
        if before:  # people are enrolled at a peak: events crowd towards the anchor
            st = anchor[person] - 1 - np.floor(_WINDOW * u**1.4).astype(np.int64)
            stop = anchor[person] - 1
        else:
            st = anchor[person] + np.floor(post_len[person] * u).astype(np.int64)
            stop = limit[person]
        med = np.array([s.stay_median for s in svcs])[service]
        stay = med > 0
        los = np.maximum(np.round(_lognormal(rng, np.where(stay, med, 1.0), 0.8, person.size)), 1)
        en = np.where(stay, np.minimum(st + los.astype(np.int64), stop), _INF)
        qty = np.where(stay, np.maximum(en - st, 1), 1).astype(np.float64)
        parts.append((person, service, st, en, qty))
    ev = _Events(*(np.concatenate([pt[i] for pt in parts]) for i in range(5)))
    return ev._replace(service=np.array(_idx(c.SERVICE, *names))[ev.service])


def _night_stays(person: np.ndarray, first: np.ndarray, last: np.ndarray,
                 service: np.ndarray) -> _Events:
    """One row per stay covering nights first..last (inclusive), as registers record them.

    Runs of consecutive nights of one person in one service merge into a single stay; it ends
    on the morning after its last night, so `quantity` = end - start = nights (>= 1)."""
    order = np.lexsort((first, service, person))
    person, service, first, last = (
        a[order].astype(np.int32) for a in (person, service, first, last))
    new = np.ones(person.size, bool)
    # Inputs never overlap, so comparing with the previous stay is enough.
    new[1:] = ((person[1:] != person[:-1]) | (service[1:] != service[:-1])
               | (first[1:] > last[:-1] + 1))
    heads = np.flatnonzero(new)
    last = np.maximum.reduceat(last, heads) if heads.size else last
    start, end = first[heads], last + 1
    return _Events(person[heads], service[heads], start, end, (end - start).astype(np.float64))


def _pre_enrolment_nights(rng: np.random.Generator, p: _People, w0: np.ndarray
                          ) -> tuple[np.ndarray, ...]:
    """Shelter / temporary nights before enrolment (no spells there): person, first night,
    last night and service of each stay.

    Stays alternate with gaps of at least one night, walking back from enrolment, so stays
    never touch; gaps are shorter for frailer people and just before enrolment (enrolled at a
    peak)."""
    k = _MAX_STAYS_BEFORE
    stay = np.clip(np.round(_lognormal(rng, _NIGHTS_PER_STAY_MEDIAN, 0.9, p.n * k)), 1, 180)
    peak = 0.6 + 0.4 * np.minimum(np.arange(k) / 8, 1.0)
    gap_mean = np.clip(_GAP_DAYS_MEAN / p.frailty, 3, 365)[:, None] * peak
    gap = np.ceil(rng.exponential(1.0, (p.n, k)) * gap_mean)
    first = p.enrol[:, None] - np.cumsum(gap + stay.reshape(p.n, k), axis=1).astype(np.int64)
    last = first + stay.reshape(p.n, k).astype(np.int64) - 1
    keep = last >= w0[:, None]
    person = np.broadcast_to(np.arange(p.n)[:, None], (p.n, k))[keep]
    first = np.maximum(first, w0[:, None])[keep]
    p_shelter = np.where(p.country_dk[person], 0.8, 0.3)
    kind = np.where(rng.random(person.size) < p_shelter, c.SERVICE.index("shelter"),
                    c.SERVICE.index("temporary_accommodation"))
    return person, first, last[keep], kind


def _spell_services(p: _People, h: _Housing, w0: np.ndarray, limit: np.ndarray
                    ) -> tuple[tuple[np.ndarray, ...], _Events]:
    """After enrolment, shelter nights and institutional days follow the housing spells.

    Nights come back as (person, first night, last night, service) for `_night_stays`. A night
    counts once the morning after it is observed: before extraction, death and the window end."""
    sp = h.person
    lo = np.maximum(h.start, w0[sp])
    stop = np.where(h.end >= _INF, p.extraction[sp], h.end)  # <= extraction and death
    hi = np.minimum(stop, limit[sp])
    kind = np.where(h.htype == _SHELTER, c.SERVICE.index("shelter"),
                    c.SERVICE.index("temporary_accommodation"))
    last_night = np.minimum(stop, limit[sp] + 1) - 1
    sel = np.isin(h.htype, [_TEMP, _SHELTER]) & (last_night >= lo)
    nights = (sp[sel], lo[sel], last_night[sel], kind[sel])
    stay_map = {_PRISON: "prison", _INST: "substance_treatment_inpatient",
                _HOSP: "psychiatric_inpatient"}
    stay = np.isin(h.htype, list(stay_map)) & (hi >= lo)
    svc = np.select([h.htype == t for t in stay_map],
                    [c.SERVICE.index(s) for s in stay_map.values()], -1)
    stays = _Events(sp[stay], svc[stay], lo[stay], hi[stay],
                    np.maximum(hi[stay] - lo[stay], 1).astype(np.float64))
    return nights, stays


def _concat(parts: list[_Events]) -> _Events:
    dtypes = (np.int32, np.int8, np.int32, np.int32, np.float64)
    return _Events(*(np.concatenate([pt[i].astype(dt, copy=False) for pt in parts])
                     for i, dt in enumerate(dtypes)))


def _service_use(rng: np.random.Generator, p: _People, h: _Housing, pid: pl.Series
                 ) -> pl.DataFrame:
    anchor = np.where(p.hf & h.housed, h.move_in, p.enrol)
    limit = np.minimum(np.minimum(anchor + _WINDOW - 1, p.extraction), h.death)
    w0 = anchor - _WINDOW
    events = _random_events(rng, p, anchor, limit)
    pre = _pre_enrolment_nights(rng, p, w0)
    spell_nights, spell_stays = _spell_services(p, h, w0, limit)
    nights = _night_stays(*(np.concatenate([a, b]) for a, b in zip(pre, spell_nights,
                                                                     strict=True)))
    ev = _concat([events, nights, spell_stays])
    # Every part is generated inside [w0, limit] already, so no filtering pass is needed.
    # One sort on a combined key (person, date, service); stable, so ties keep their order.
    base = int(ev.start.min()) if ev.start.size else 0
    span = int(ev.start.max()) - base + 1 if ev.start.size else 1
    key = (ev.person.astype(np.int64) * span + (ev.start - base)) * len(c.SERVICE) + ev.service
    order = np.argsort(key, kind="stable")
    ev = _Events(*(a[order] for a in ev))

    unit = {name: s.unit for name, s in _EVENT_SERVICES.items()}
    unit |= {"shelter": "night", "temporary_accommodation": "night"}
    source = {name: s.source for name, s in _EVENT_SERVICES.items()}
    source |= {"shelter": "municipal_record", "temporary_accommodation": "municipal_record"}
    unit_of = np.array([c.SERVICE_UNIT.index(unit[s]) for s in c.SERVICE])
    source_of = np.array([c.SOURCE_SYSTEM.index(source[s]) for s in c.SERVICE])
    src = source_of[ev.service]
    # Some police and court events are known only from follow-up interviews.
    police_court = np.isin(ev.service, _idx(c.SERVICE, "police_arrest", "court_case"))
    src = np.where(police_court & (rng.random(src.size) < 0.08),
                   c.SOURCE_SYSTEM.index("self_report"), src)
    return pl.DataFrame({
        "participant_id": pid.gather(pl.Series(ev.person)),
        "service": _codes(c.SERVICE, ev.service),
        "start_date": _dates(ev.start),
        "end_date": _dates(ev.end),
        "quantity": pl.Series(ev.quantity, dtype=pl.Float64),
        "unit": _codes(c.SERVICE_UNIT, unit_of[ev.service]),
        "source_system": _codes(c.SOURCE_SYSTEM, src),
    })


# ---- support contacts ---------------------------------------------------------------------------

# Contacts per week by support model; period multipliers (before move-in, months 0-3, 3-6,
# 6-12, 12-36, later) make CTI taper and end, and open-ended models settle at a lower level.
_CONTACTS_PER_WEEK = {"HF-team": 3.0, "ACT": 3.0, "ICM": 1.8, "CTI": 2.8, "FACT": 2.5}
_PERIOD_DAYS = (0, 91, 182, 365, 1096)  # period starts, days after move-in
_PERIOD_MULT = {"CTI": (1.0, 1.0, 0.6, 0.35, 0.0, 0.0),
                "other": (1.0, 1.0, 0.9, 0.8, 0.6, 0.35)}
_CONTACT_MIX = {  # home, office, phone, digital, accompaniment, network meeting, other
    "HF-team": (0.42, 0.05, 0.38, 0.05, 0.05, 0.04, 0.01),
    "ACT": (0.45, 0.05, 0.32, 0.05, 0.07, 0.05, 0.01),
    "FACT": (0.42, 0.07, 0.33, 0.05, 0.07, 0.05, 0.01),
    "ICM": (0.35, 0.10, 0.38, 0.07, 0.05, 0.04, 0.01),
    "CTI": (0.40, 0.08, 0.33, 0.05, 0.07, 0.06, 0.01),
}
_MINUTES_MEDIAN = (60, 45, 10, 10, 120, 90, 30)


def _support_contacts(rng: np.random.Generator, p: _People, h: _Housing, pid: pl.Series
                      ) -> pl.DataFrame:
    """Follow-up contacts for HF participants from enrolment until extraction or death."""
    models = list(_CONTACT_MIX)
    model_name = np.array(c.SUPPORT_MODEL)[p.model]
    hf = np.nonzero(p.hf)[0]
    stop = np.minimum(p.extraction, h.death)[hf] + 1  # exclusive
    m = np.where(h.housed[hf], h.move_in[hf], stop)
    cti = model_name[hf] == "CTI"
    cti_range = np.array([CALIBRATION[k].get("cti_months", {"value": (9, 9)})["value"]
                          for k in _CODES])[p.prof[hf]]
    cti_days = np.round(30.44 * rng.uniform(cti_range[:, 0], cti_range[:, 1] + 1e-9))
    # CTI runs from move-in (or, for the few never housed, from about three months in).
    cti_from = np.where(h.housed[hf], m, p.enrol[hf] + 91)
    stop = np.where(cti, np.minimum(stop, cti_from + cti_days.astype(np.int64)), stop)
    k = len(_PERIOD_DAYS) + 1
    bounds = np.column_stack([p.enrol[hf], m[:, None] + np.array(_PERIOD_DAYS),
                              np.maximum(stop, m + _PERIOD_DAYS[-1])])
    bounds = np.minimum(bounds, stop[:, None])
    weeks = np.maximum(np.diff(bounds, axis=1), 0) / 7
    base = np.array([_CONTACTS_PER_WEEK.get(s, 0.0) for s in model_name[hf]])
    mult = np.where(cti[:, None], _PERIOD_MULT["CTI"], _PERIOD_MULT["other"])
    engagement = rng.gamma(4.0, 0.25, hf.size)
    counts = rng.poisson(base[:, None] * mult * weeks * engagement[:, None])
    rows = np.repeat(np.arange(hf.size * k, dtype=np.int32), counts.ravel())
    who, period = rows // k, rows % k
    lo = bounds[who, period]
    day = lo + np.floor(rng.random(rows.size) * (bounds[who, period + 1] - lo)).astype(np.int64)
    mix = np.array([_CONTACT_MIX[s] for s in models])
    model_idx = np.array([models.index(s) if s in models else 0 for s in model_name[hf]])
    ctype = _pick(rng, mix, model_idx[who])
    minutes = np.clip(np.round(_lognormal(rng, np.array(_MINUTES_MEDIAN)[ctype], 0.5,
                                          rows.size)), 1, 480)
    minutes = np.where(rng.random(rows.size) < 0.05, -1, minutes)  # not recorded
    # `who` is already sorted; order within a person by date and type.
    span = int(day.max() - day.min() + 1) if day.size else 1
    key = (who.astype(np.int64) * span + (day - (day.min() if day.size else 0))) * 8 + ctype
    order = np.argsort(key, kind="stable")
    minutes_s = pl.Series(minutes[order].astype(np.int32))
    return pl.DataFrame({
        "participant_id": pid.gather(pl.Series(hf[who[order]])),
        "contact_date": _dates(day[order]),
        "contact_type": _codes(c.CONTACT_TYPE, ctype[order]),
        "minutes": pl.select(pl.when(minutes_s >= 0).then(minutes_s)).to_series(),
    })


# ---- quality of life (MANSA) --------------------------------------------------------------------

_WAVE_DAYS = (0, 182, 365, 730)
_WAVE_RESPONSE = (0.92, 0.78, 0.72, 0.62)
_ITEM_OFFSET = np.array([0.0, -0.6, -0.5, -0.2, -0.1, -0.9, -0.3, 0.0, -0.3, -0.1, -0.2, -0.3])
_ACCOM = 5  # mansa_06_accommodation


def _quality_of_life(rng: np.random.Generator, p: _People, h: _Housing, pid: pl.Series
                     ) -> pl.DataFrame:
    n, w = p.n, len(_WAVE_DAYS)
    when = p.enrol[:, None] + np.array(_WAVE_DAYS) + rng.integers(0, 22, (n, w))
    observed = (rng.random((n, w)) < np.array(_WAVE_RESPONSE)) & (
        when <= np.minimum(p.extraction, h.death)[:, None])
    gain = np.where(p.hf[:, None], [0.0, 0.3, 0.4, 0.45], [0.0, 0.1, 0.12, 0.15])
    accom_gain = np.where(p.hf[:, None], [0.0, 1.4, 1.5, 1.5], [0.0, 0.3, 0.4, 0.5])
    person_level = 3.7 + 0.6 * rng.standard_normal(n)
    person_change = 0.4 * rng.standard_normal(n)
    person, wave = np.nonzero(observed)
    k = person.size
    mean = (person_level[person, None] + _ITEM_OFFSET
            + (gain[person, wave] + person_change[person] * (wave > 0))[:, None])
    mean[:, _ACCOM] += accom_gain[person, wave]
    items = np.clip(np.round(mean + 0.8 * rng.standard_normal((k, 12))), 1, 7).astype(np.int64)
    missing = rng.random((k, 12)) < 0.04
    cols: dict[str, Any] = {
        "participant_id": pid.gather(pl.Series(person)),
        "wave": pl.Series(wave, dtype=pl.Int32),
        "assessment_date": _dates(when[person, wave]),
    }
    for j, (name, _) in enumerate(c.MANSA_ITEMS):
        s = pl.Series(items[:, j], dtype=pl.Int32)
        cols[name] = pl.select(pl.when(pl.Series(~missing[:, j])).then(s)).to_series()
    return pl.DataFrame(cols)


# ---- programme costs ----------------------------------------------------------------------------


def _programme_costs(p: _People, h: _Housing, munis: list[_Muni]) -> pl.DataFrame:
    salary = ASSUMPTIONS["salary_per_fte"]["value"]
    subsidy = ASSUMPTIONS["housing_subsidy_per_housed_year"]["value"]
    growth = 1 + ASSUMPTIONS["wage_growth_per_year"]["value"]
    admin = ASSUMPTIONS["administration_share_of_staff"]["value"]
    rows: list[dict[str, Any]] = []
    for mi, muni in enumerate(munis):  # a handful of rows per municipality
        currency = _COUNTRY_CURRENCY[muni.country]
        first = int(muni.waves[0][0][:4])
        # Complete budget years up to the extraction date.
        ext = p.extraction[p.muni == mi][:1]
        last = int(_year(ext + 1)[0]) - 1 if ext.size else first - 1
        years = np.arange(first, last + 1)
        sel = (p.muni == mi) & p.hf & h.housed
        y_start = (np.array([f"{y}-01-01" for y in years], "datetime64[D]") - _EPOCH).astype(int)
        y_end = y_start + 364
        housed_in_year = ((h.move_in[sel][:, None] <= y_end)
                          & (h.death[sel][:, None] >= y_start)).sum(axis=0)
        fte = muni.staff_fte
        for y, housed_n in zip(years, housed_in_year, strict=True):
            g = growth ** (int(y) - PRICE_BASE_YEAR)
            staff = round(fte * salary[currency] * g, -3)
            for item, amount, fte_v, note in (
                ("staff", staff, fte, f"SYNTHETIC: {fte} FTE x {salary[currency]} {currency}"),
                ("housing_subsidy", round(housed_n * subsidy[currency] * g, -3), None,
                 f"SYNTHETIC: {housed_n} participants housed during the year"),
                ("administration", round(staff * admin, -3), None, "SYNTHETIC"),
            ):
                rows.append({"municipality_code": muni.code, "year": int(y), "cost_item": item,
                             "amount": float(amount), "currency": currency, "fte": fte_v,
                             "note": note})
    return pl.DataFrame(rows, schema=_schema("programme_costs"))


# ---- assembly -----------------------------------------------------------------------------------

_POLARS_TYPE = {"VARCHAR": pl.String, "INTEGER": pl.Int32, "DOUBLE": pl.Float64,
                "DATE": pl.Date, "BOOLEAN": pl.Boolean}


def _schema(table: str) -> dict[str, Any]:
    return {col.name: _POLARS_TYPE[col.dtype] for col in c.table(table).columns}


def _cast(name: str, df: pl.DataFrame) -> pl.DataFrame:
    return df.select(pl.col(k).cast(t) for k, t in _schema(name).items())


def _generate(config: SynthConfig) -> _Gen:
    munis = _calibrated_municipalities(config)
    root = np.random.SeedSequence(config.seed)
    parts = [(munis, root.spawn(5))]
    extra = (config.participants or 0) - _demo_total()
    if extra > 0:
        if config.style != "contract":
            raise ValueError(
                f"municipal style covers the five calibrated municipalities only (at most "
                f"{_demo_total()} participants); use --style contract for national scale")
        # Their own seeds, so the five get exactly the rows they get at the demo size.
        seqs = np.random.SeedSequence(config.seed, spawn_key=(len(parts[0][1]),)).spawn(6)
        parts.append((_synthetic_municipalities(np.random.default_rng(seqs[0]), extra),
                      seqs[1:]))
    everyone = [m for part, _ in parts for m in part]
    # Contract style: one extraction date for all (synthetic ones never exceed the five's).
    common = max(_day(m.extraction) for m in everyone) if config.style == "contract" else None
    built = [_generate_part(part, seqs, common) for part, seqs in parts]
    tables = {name: pl.concat([b[0][name] for b in built], rechunk=True) for name in built[0][0]}
    blocks = {name: _chained([b[1][name] for b in built]) for name in built[0][1]}
    extraction = {m.code: _to_date(common if common is not None else _day(m.extraction))
                  for m in everyone}
    return _Gen(tables, blocks, extraction, everyone)


def _generate_part(munis: list[_Muni], seqs: list[np.random.SeedSequence], common: int | None
                   ) -> tuple[dict[str, pl.DataFrame], dict[str, _Blocks]]:
    """The tables of some municipalities, drawn from their own five seed sequences."""
    streams = [np.random.default_rng(s) for s in seqs]
    people, participants = _participants(streams[0], munis, common)
    pid = participants["participant_id"]
    housing = _housing(streams[1], people, pid)
    tables = {
        "participants": participants,
        "housing_spells": housing.spells,
        "quality_of_life": _quality_of_life(streams[4], people, housing, pid),
        "programme_costs": _programme_costs(people, housing, munis),
    }
    tables = {name: _cast(name, df) for name, df in tables.items()}
    blocks = {
        "service_use": _in_blocks("service_use", _service_use, seqs[2], people, housing, pid),
        "support_contacts": _in_blocks("support_contacts", _support_contacts, seqs[3], people,
                                       housing, pid),
    }
    return tables, blocks


def _chained(makers: list[_Blocks]) -> _Blocks:
    def blocks() -> Iterator[pl.DataFrame]:
        for make in makers:
            yield from make()

    return blocks


# Participants per block of the two large person-level tables (about 1.1 million service rows
# and 1.5 million contacts): generating and writing them a block at a time bounds memory.
_BLOCK = 10_000

_PersonTable = Callable[[np.random.Generator, _People, _Housing, pl.Series], pl.DataFrame]


def _in_blocks(name: str, make: _PersonTable, seq: np.random.SeedSequence, p: _People,
               h: _Housing, pid: pl.Series) -> _Blocks:
    """Rows of `make` for consecutive blocks of participants, in participant order.

    Each block draws from its own stream spawned from `seq`, so the rows depend only on the
    seed and the number of participants, and every pass yields the same rows."""
    n_blocks = max(1, -(-p.n // _BLOCK))

    def blocks() -> Iterator[pl.DataFrame]:
        for i in range(n_blocks):
            lo, hi = i * _BLOCK, min((i + 1) * _BLOCK, p.n)
            rng = np.random.default_rng(
                np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, i)))
            df = make(rng, _people_block(p, lo, hi), _housing_block(h, lo, hi),
                      pid.slice(lo, hi - lo))
            yield _cast(name, df)

    return blocks


def _people_block(p: _People, lo: int, hi: int) -> _People:
    return _People(hi - lo, *(a[lo:hi] for a in p[1:]))


def _housing_block(h: _Housing, lo: int, hi: int) -> _Housing:
    a, b = (int(i) for i in np.searchsorted(h.person, [lo, hi]))  # spells are person-sorted
    return _Housing(h.housed[lo:hi], h.move_in[lo:hi], h.death[lo:hi],
                    h.spells.slice(a, b - a), h.person[a:b] - lo, h.start[a:b], h.end[a:b],
                    h.htype[a:b])


def _whole(gen: _Gen) -> dict[str, pl.DataFrame]:
    """Every table in contract order, the block-built ones concatenated."""
    return {name: gen.tables[name] if name in gen.tables
            else pl.concat(list(gen.blocks[name]()), rechunk=True)
            for name in c.INPUT_TABLES}


def _to_date(day: int) -> date:
    return date.fromisoformat(str(_EPOCH + np.timedelta64(day, "D")))


# ---- writers: contract style --------------------------------------------------------------------


def _write_contract(out_dir: Path, gen: _Gen, config: SynthConfig
                    ) -> tuple[list[str], dict[str, int]]:
    files, rows = [], {}
    for name in c.INPUT_TABLES:
        fname = f"{name}.{config.file_format}"
        parts = gen.blocks[name]() if name in gen.blocks else iter([gen.tables[name]])
        rows[name] = _write_parts(out_dir / fname, name, parts, config.file_format)
        files.append(fname)
    meta = {
        "source_id": "synthetic-national",
        "description": "SYNTHETIC data in contract layout (hfeval.synth), for benchmarks and tests",
        "extraction_date": max(gen.extraction.values()),
        "synthetic": True,
    }
    (out_dir / "source.yaml").write_text(
        yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8")
    files.append("source.yaml")
    synthetic = _synthetic_reference(gen.municipalities, config.seed)
    if synthetic.height:  # the pipeline adds these rows to its default municipalities by key
        (out_dir / "reference").mkdir(exist_ok=True)
        synthetic.write_csv(out_dir / _REFERENCE_FILE)
        files.append(_REFERENCE_FILE)
    return files, rows


_REFERENCE_FILE = "reference/municipalities.csv"


def _synthetic_reference(munis: list[_Muni], seed: int) -> pl.DataFrame:
    """Rows of the municipalities reference table for the synthetic municipalities only."""
    rows = [{
        "municipality_code": m.code, "name": m.name, "country": m.country,
        "region": "Synthetic", "population": m.population,
        "hf_start_year": int(m.waves[0][0][:4]),
        "source": f"SYNTHETIC municipality generated by hfeval.synth (seed {seed}) for "
                  f"national-scale benchmarks; not a real municipality; follows the calibrated "
                  f"facts of {CALIBRATION[_CODES[m.profile]]['name']['value']}",
    } for m in munis if m.code not in CALIBRATION]
    return pl.DataFrame(rows, schema=_schema("municipalities"))  # missing keys: null


def _write_parts(path: Path, name: str, parts: Iterable[pl.DataFrame],
                 file_format: Literal["csv", "parquet"]) -> int:
    """Append data frames to one file (a parquet row group, or CSV lines, at a time);
    returns the number of rows written."""
    rows = 0
    if file_format == "parquet":
        schema = pl.DataFrame(schema=_schema(name)).to_arrow().schema
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for df in parts:
                writer.write_table(df.to_arrow())
                rows += df.height
    else:
        with path.open("wb") as f:
            for i, df in enumerate(parts):
                df.write_csv(f, include_header=i == 0)
                rows += df.height
    return rows


# ---- writers: municipal style -------------------------------------------------------------------

# Contract code -> code in the export, by language.
_NB_CODES: dict[str, dict[str, str]] = {
    "sex": {"female": "K", "male": "M", "unknown": "U"},
    "arm": {"housing_first": "HF", "comparison": "Kontroll"},
    "support_model": {"HF-team": "HF-team", "ICM": "Case management", "CTI": "CTI",
                      "ACT": "ACT-team", "FACT": "FACT-team", "TAU": "Ordinær oppfølging"},
    "substance_use": {"none": "Ingen", "alcohol": "Alkohol", "drugs": "Narkotika",
                      "alcohol_and_drugs": "Alkohol og narkotika", "unknown": "Ukjent"},
    "mental_illness_severity": {"none": "Ingen", "mild": "Lett", "moderate": "Moderat",
                                "severe": "Alvorlig", "unknown": "Ukjent"},
    "needs_level": {"high": "Høyt", "moderate": "Moderat"},
    "referral_source": {
        "social_services": "NAV", "specialist_health": "Spesialisthelsetjenesten",
        "prison_probation": "Kriminalomsorgen", "shelter": "Akuttovernatting",
        "housing_office": "Boligkontoret", "self_or_family": "Selv/familie", "other": "Annet",
        "unknown": "Ukjent"},
    "housing_type": {
        "own_lease": "Egen leiekontrakt", "municipal_flat": "Kommunal bolig",
        "supported_housing": "Bofellesskap med bemanning",
        "temporary_accommodation": "Midlertidig botilbud", "shelter": "Akuttovernatting",
        "institution": "Institusjon", "prison": "Fengsel", "hospital": "Sykehus",
        "rough_sleeping": "Uteliggende", "family_friends": "Hos familie/venner"},
    "lease_type": {"ordinary": "Ordinær", "time_limited": "Tidsbestemt", "sublet": "Fremleie",
                   "no_lease": "Ingen kontrakt", "unknown": "Ukjent"},
    "end_reason": {
        "moved_within_programme": "Flyttet innen prosjektet", "voluntary_move": "Flyttet selv",
        "eviction": "Utkastelse", "abandoned": "Forlatt boligen",
        "returned_to_homelessness": "Tilbake til bostedsløshet", "institution": "Institusjon",
        "prison": "Fengsel", "hospital": "Sykehus", "death": "Død", "unknown": "Ukjent"},
    "service": {
        "somatic_inpatient": "Somatisk innleggelse",
        "psychiatric_inpatient": "Psykiatrisk innleggelse",
        "emergency_department": "Akuttmottak", "emergency_primary_care": "Legevakt",
        "outpatient_mental_health": "Poliklinikk psykisk helse",
        "substance_treatment_inpatient": "TSB døgnbehandling", "detox": "Avrusning",
        "police_custody": "Politiarrest", "police_arrest": "Pågripelse",
        "court_case": "Rettssak", "prison": "Fengsel", "remand": "Varetekt",
        "shelter": "Akuttovernatting", "temporary_accommodation": "Midlertidig botilbud"},
    "unit": {"day": "døgn", "night": "natt", "contact": "kontakt", "visit": "besøk",
             "episode": "episode", "case": "sak", "hour": "time", "drg_point": "DRG-poeng"},
    "source_system": {
        "patient_register": "NPR", "municipal_record": "Fagsystem",
        "prison_register": "Kriminalomsorgen", "police_register": "Politiet",
        "court_register": "Domstol", "self_report": "Selvrapportert", "other": "Annet"},
    "contact_type": {
        "home_visit": "Hjemmebesøk", "office_visit": "Kontorbesøk", "phone": "Telefon",
        "digital": "Digital", "accompaniment": "Følge", "network_meeting": "Nettverksmøte",
        "other": "Annet"},
    "cost_item": {"staff": "Lønn team", "housing_subsidy": "Bostøtte",
                  "rent_guarantee": "Husleiegaranti", "administration": "Administrasjon",
                  "other": "Annet"},
}
_DA_CODES: dict[str, dict[str, str]] = {
    "sex": {"female": "K", "male": "M", "unknown": "U"},
    "arm": {"housing_first": "HF", "comparison": "Sammenligning"},
    "support_model": {"HF-team": "HF-team", "ICM": "ICM", "CTI": "CTI", "ACT": "ACT",
                      "FACT": "FACT", "TAU": "Sædvanlig indsats"},
    "substance_use": {"none": "Intet", "alcohol": "Alkohol", "drugs": "Stoffer",
                      "alcohol_and_drugs": "Alkohol og stoffer", "unknown": "Ukendt"},
    "mental_illness_severity": {"none": "Ingen", "mild": "Let", "moderate": "Moderat",
                                "severe": "Svær", "unknown": "Ukendt"},
    "needs_level": {"high": "Højt", "moderate": "Moderat"},
    "referral_source": {
        "social_services": "Socialforvaltningen", "specialist_health": "Psykiatrien",
        "prison_probation": "Kriminalforsorgen", "shelter": "Herberg/forsorgshjem",
        "housing_office": "Boliganvisningen", "self_or_family": "Selv/familie",
        "other": "Andet", "unknown": "Ukendt"},
    "housing_type": {
        "own_lease": "Egen lejebolig", "municipal_flat": "Kommunalt anvist bolig",
        "supported_housing": "Botilbud", "temporary_accommodation": "Akutbolig",
        "shelter": "Herberg/forsorgshjem", "institution": "Behandlingsinstitution",
        "prison": "Fængsel", "hospital": "Hospital", "rough_sleeping": "Gadesovende",
        "family_friends": "Hos familie/venner"},
    "lease_type": {"ordinary": "Almindelig", "time_limited": "Tidsbegrænset",
                   "sublet": "Fremleje", "no_lease": "Ingen kontrakt", "unknown": "Ukendt"},
    "end_reason": {
        "moved_within_programme": "Flyttet inden for projektet",
        "voluntary_move": "Fraflyttet frivilligt", "eviction": "Udsættelse",
        "abandoned": "Forladt boligen", "returned_to_homelessness": "Tilbage i hjemløshed",
        "institution": "Institution", "prison": "Fængsel", "hospital": "Hospital",
        "death": "Død", "unknown": "Ukendt"},
    "service": {
        "somatic_inpatient": "Somatisk indlæggelse",
        "psychiatric_inpatient": "Psykiatrisk indlæggelse",
        "emergency_department": "Akutmodtagelse", "emergency_primary_care": "Lægevagt",
        "outpatient_mental_health": "Ambulant psykiatri",
        "substance_treatment_inpatient": "Døgnbehandling misbrug", "detox": "Afrusning",
        "police_custody": "Detention", "police_arrest": "Anholdelse", "court_case": "Retssag",
        "prison": "Fængsel", "remand": "Varetægt", "shelter": "Herberg/forsorgshjem",
        "temporary_accommodation": "Akutbolig"},
    "unit": {"day": "døgn", "night": "nat", "contact": "kontakt", "visit": "besøg",
             "episode": "episode", "case": "sag", "hour": "time", "drg_point": "DRG-point"},
    "source_system": {
        "patient_register": "LPR", "municipal_record": "Kommunalt fagsystem",
        "prison_register": "Kriminalforsorgen", "police_register": "Politiet",
        "court_register": "Domstol", "self_report": "Selvrapporteret", "other": "Andet"},
    "contact_type": {
        "home_visit": "Hjemmebesøg", "office_visit": "Kontorbesøg", "phone": "Telefon",
        "digital": "Digital", "accompaniment": "Ledsagelse", "network_meeting": "Netværksmøde",
        "other": "Andet"},
    "cost_item": {"staff": "Løn", "housing_subsidy": "Boligstøtte",
                  "rent_guarantee": "Huslejegaranti", "administration": "Administration",
                  "other": "Andet"},
}

_MANSA_COLS = {name: f"MANSA {i}" for i, (name, _) in enumerate(c.MANSA_ITEMS, start=1)}
# Contract column -> column in the export, by language (None: the export lacks it).
_NB_COLUMNS: dict[str, dict[str, str]] = {
    "participants": {
        "participant_id": "Løpenr", "municipality_code": "Kommunenr", "birth_year": "Fødselsår",
        "sex": "Kjønn", "enrolment_date": "Innskrivingsdato", "arm": "Gruppe",
        "support_model": "Oppfølgingsmodell", "substance_use": "Rusmiddelbruk",
        "mental_illness_severity": "Psykisk lidelse", "needs_level": "Behovsnivå",
        "months_homeless_before": "Måneder bostedsløs", "referral_source": "Henvist fra"},
    "housing_spells": {
        "participant_id": "Løpenr", "start_date": "Innflyttingsdato",
        "end_date": "Utflyttingsdato", "housing_type": "Boligtype",
        "lease_type": "Kontraktstype", "end_reason": "Årsak utflytting"},
    "service_use": {
        "participant_id": "Løpenr", "service": "Tjeneste", "start_date": "Fra dato",
        "end_date": "Til dato", "quantity": "Antall", "unit": "Enhet", "source_system": "Kilde"},
    "support_contacts": {
        "participant_id": "Løpenr", "contact_date": "Dato", "contact_type": "Kontakttype",
        "minutes": "Minutter"},
    "quality_of_life": {
        "participant_id": "Løpenr", "wave": "Måling", "assessment_date": "Intervjudato",
        **_MANSA_COLS},
    "programme_costs": {
        "year": "År", "cost_item": "Kostnadspost", "amount": "Beløp", "fte": "Årsverk",
        "note": "Merknad"},
}
_DA_COLUMNS: dict[str, dict[str, str]] = {
    "participants": {
        "participant_id": "Løbenr", "municipality_code": "Kommunekode",
        "birth_year": "Fødselsår", "sex": "Køn", "enrolment_date": "Indskrivningsdato",
        "arm": "Gruppe", "support_model": "Bostøttemetode", "substance_use": "Misbrug",
        "mental_illness_severity": "Psykisk lidelse", "needs_level": "Behovsniveau",
        "months_homeless_before": "Måneder hjemløs", "referral_source": "Henvist fra"},
    "housing_spells": {
        "participant_id": "Løbenr", "start_date": "Indflytningsdato",
        "end_date": "Fraflytningsdato", "housing_type": "Boligtype",
        "lease_type": "Lejekontrakt", "end_reason": "Fraflytningsårsag"},
    "service_use": {
        "participant_id": "Løbenr", "service": "Ydelse", "start_date": "Fra dato",
        "end_date": "Til dato", "quantity": "Antal", "unit": "Enhed", "source_system": "Kilde"},
    "support_contacts": {
        "participant_id": "Løbenr", "contact_date": "Dato", "contact_type": "Kontakttype",
        "minutes": "Minutter"},
    "quality_of_life": {
        "participant_id": "Løbenr", "wave": "Måling", "assessment_date": "Interviewdato",
        **_MANSA_COLS},
    "programme_costs": {
        "year": "År", "cost_item": "Omkostningspost", "amount": "Beløb", "fte": "Årsværk",
        "note": "Bemærkning"},
}


class _Layout(NamedTuple):
    folder: str
    source_id: str
    lang: Literal["nb", "da"]
    date_format: str
    files: dict[str, str]
    columns: dict[str, dict[str, str | None]]  # per table: overrides of the language default
    constants: dict[str, dict[str, str]]  # per table: contract column -> value


_NB_FILES = {"participants": "deltakere.csv", "housing_spells": "boforhold.csv",
             "service_use": "tjenestebruk.csv", "support_contacts": "kontakter.csv",
             "quality_of_life": "livskvalitet.csv", "programme_costs": "kostnader.csv"}
_DA_FILES = {"participants": "deltagere.csv", "housing_spells": "boligforloeb.csv",
             "service_use": "ydelser.csv", "support_contacts": "kontakter.csv",
             "quality_of_life": "livskvalitet.csv", "programme_costs": "omkostninger.csv"}
_ALL_PID = ("participants", "housing_spells", "service_use", "support_contacts",
            "quality_of_life")

_LAYOUTS: dict[str, _Layout] = {
    "4205": _Layout("lindesnes", "lindesnes-synthetic", "nb", "%d.%m.%Y", _NB_FILES, {}, {}),
    "1108": _Layout(
        "sandnes", "sandnes-synthetic", "nb", "%d.%m.%Y",
        _NB_FILES | {"service_use": "tjenester.csv", "quality_of_life": "mansa.csv"},
        {t: {"participant_id": "Deltakernr"} for t in _ALL_PID}
        | {"participants": {"participant_id": "Deltakernr", "municipality_code": None,
                            "enrolment_date": "Startdato", "arm": "Tiltak"}},
        {"participants": {"municipality_code": "1108"}}),
    "3403": _Layout(
        "hamar", "hamar-synthetic", "nb", "%d.%m.%Y",
        _NB_FILES | {"participants": "deltakere.xlsx"},
        {t: {"participant_id": "ID"} for t in _ALL_PID}
        | {"participants": {"participant_id": "ID", "birth_year": "Født",
                            "needs_level": None, "municipality_code": "Kommune"}},
        {}),
    "730": _Layout(
        "randers", "randers-synthetic", "da", "%d-%m-%Y", _DA_FILES,
        {"participants": {"municipality_code": None}},
        {"participants": {"municipality_code": "730"}}),
    "461": _Layout(
        "odense", "odense-synthetic", "da", "%d.%m.%Y",
        _DA_FILES | {"participants": "borgere.csv"},
        {t: {"participant_id": "Borger-ID"} for t in _ALL_PID}
        | {"participants": {"participant_id": "Borger-ID", "mental_illness_severity":
                            "Psykisk sygdom", "enrolment_date": "Startdato"}},
        {}),
}
_HAMAR_SHEET = "Deltakere"
_HAMAR_HEADER_ROW = 3


def _table_spec(layout: _Layout, table: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Columns (contract -> file) and codes (contract column -> {contract code: file code})."""
    base = (_NB_COLUMNS if layout.lang == "nb" else _DA_COLUMNS)[table]
    merged: dict[str, str | None] = {**base, **layout.columns.get(table, {})}
    columns = {k: v for k, v in merged.items() if v is not None}
    lang_codes = _NB_CODES if layout.lang == "nb" else _DA_CODES
    return columns, {col: lang_codes[col] for col in columns if col in lang_codes}


def _to_export(df: pl.DataFrame, columns: dict[str, str], codes: dict[str, dict[str, str]]
               ) -> pl.DataFrame:
    return df.select(
        (pl.col(k).replace_strict(codes[k]) if k in codes else pl.col(k)).alias(v)
        for k, v in columns.items())


def _write_municipal(out_dir: Path, tables: dict[str, pl.DataFrame],
                     extraction: dict[str, date]) -> list[str]:
    files: list[str] = []
    for code, layout in _LAYOUTS.items():
        folder = out_dir / layout.folder
        folder.mkdir(parents=True, exist_ok=True)
        participants = tables["participants"].filter(pl.col("municipality_code") == code)
        ids = participants["participant_id"]
        encoding = "cp1252" if layout.lang == "nb" else "utf-8-sig"
        spec_tables: dict[str, Any] = {}
        for table, df in tables.items():
            if table == "programme_costs":
                part = df.filter(pl.col("municipality_code") == code)
            elif table == "participants":
                part = participants
            else:
                part = df.filter(pl.col("participant_id").is_in(ids.implode()))
            columns, codes = _table_spec(layout, table)
            export = _to_export(part, columns, codes)
            fname = layout.files[table]
            entry: dict[str, Any] = {"file": fname}
            if fname.endswith(".xlsx"):
                _write_xlsx(folder / fname, export, extraction[code])
                entry |= {"sheet": _HAMAR_SHEET, "header_row": _HAMAR_HEADER_ROW}
            else:
                _write_csv(folder / fname, export, layout.date_format, encoding)
            constants = dict(layout.constants.get(table, {}))
            if table == "programme_costs":
                country = CALIBRATION[code]["country"]["value"]
                constants |= {"municipality_code": code,
                              "currency": _COUNTRY_CURRENCY[country]}
            entry |= {"columns": columns,
                      "codes": {k: {fv: cv for cv, fv in m.items()} for k, m in codes.items()},
                      "constants": constants}
            spec_tables[table] = entry
            files.append(f"{layout.folder}/{fname}")
        name = CALIBRATION[code]["name"]["value"]
        spec = {
            "source_id": layout.source_id,
            "description": f"SYNTHETIC demo data shaped like an export from {name}; "
                           "generated by hfeval.synth, no real persons",
            "extraction_date": extraction[code],
            "synthetic": True,
            "municipality_code": code,
            "csv": {"delimiter": ";", "encoding": encoding},
            "tables": spec_tables,
        }
        (folder / "source.yaml").write_text(
            yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8")
        files.append(f"{layout.folder}/source.yaml")
    return files


def _write_csv(path: Path, df: pl.DataFrame, date_format: str, encoding: str) -> None:
    # Windows-1252 exports come from Windows machines: CRLF line ends as well.
    eol = "\r\n" if encoding == "cp1252" else "\n"
    text = df.write_csv(separator=";", date_format=date_format, decimal_comma=True,
                        line_terminator=eol)
    path.write_bytes(text.encode(encoding))


def _write_xlsx(path: Path, df: pl.DataFrame, extraction: date) -> None:
    """An Excel sheet with a title block above the header, as exported by hand."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(_HAMAR_SHEET)
    ws.append(["Hamar kommune – Boligsosialt arbeid – uttrekk (SYNTETISKE DATA)"])
    ws.append([f"Uttrekksdato: {extraction:%d.%m.%Y}"])
    ws.append(df.columns)
    for row in df.iter_rows():
        ws.append(list(row))
    fixed = datetime(extraction.year, extraction.month, extraction.day)
    wb.properties.created = fixed
    wb.properties.creator = "hfeval.synth"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue(), fixed))


def _normalise_zip(data: bytes, fixed: datetime) -> bytes:
    """openpyxl stamps the save time into the file; pin it so files are byte-identical."""
    stamp = fixed.strftime("%Y-%m-%dT%H:%M:%SZ")
    zip_time = fixed.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(
            out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                                 rb"\g<1>" + stamp.encode(), content)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=zip_time), content,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _readme(config: SynthConfig, rows: dict[str, int], synthetic: int) -> str:
    counts = "\n".join(f"  {k}: {n} rows" for k, n in rows.items())
    layout = ("one folder per municipality, each shaped like that municipality's own export, "
              "with a source.yaml\nthat maps its columns and codes onto the hfeval data contract"
              if config.style == "municipal" else
              "one file per contract table, with contract column names and codes")
    size = "calibrated demo size" if config.participants is None else (
        f"{config.participants} participants" if synthetic else
        f"scaled to {config.participants} participants")
    return f"""SYNTHETIC DATA - NOT REAL PERSONS
==================================

Everything in this folder was generated by hfeval.synth (seed {config.seed}, {size},
style "{config.style}"). No row describes a real person; participant ids start with "SYN-".

How it was made: cohorts of Housing First participants and a comparison group (treatment as
usual) in five municipalities (Lindesnes/Mandal, Sandnes, Hamar, Randers, Odense), with enrolment
periods, support methods, 12-month housing retention, team sizes and costs calibrated to facts in
the municipalities' public documents (see hfeval.synth.CALIBRATION for each fact and its source).
Housing spells, service use (heavy-tailed, 24 months before and after move-in or enrolment;
shelter and temporary accommodation as stays with their nights),
follow-up contacts, MANSA quality-of-life scores and programme costs are drawn from documented
assumptions (hfeval.synth.ASSUMPTIONS). Same seed and settings give byte-identical files.
{_readme_synthetic(synthetic)}
Layout: {layout}.

Rows:
{counts}
"""


def _readme_synthetic(k: int) -> str:
    if not k:
        return ""
    return f"""
National scale: the five keep their demo size and data; {k} SYNTHETIC municipalities (codes
S0001, ...; region "Synthetic"; no real municipality) hold the other participants, each following
the calibrated facts of one of the five in its country. reference/municipalities.csv lists
them; the pipeline adds its rows to the default municipalities.
"""
