"""Paths and run parameters, in one place.

Paths resolve from the project root: `$HFEVAL_HOME` if set, else the source checkout this
package lives in, else the current directory. Outputs can be moved with `$HFEVAL_OUTPUT`
(warehouse, publishable database and run folders), so tests and benchmarks never touch a
user's warehouse.

Parameters are named, documented and overridable (a YAML file and/or `key=value` pairs); every
run prints the full resolved set in its manifest.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


def _find_root() -> Path:
    env = os.environ.get("HFEVAL_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "pipelines").is_dir():
            return parent
    return Path.cwd().resolve()


@dataclass(frozen=True)
class Paths:
    root: Path
    output: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def reference(self) -> Path:
        """Default reference tables (municipalities, unit costs, CPI, exchange rates)."""
        return self.data / "reference"

    @property
    def templates(self) -> Path:
        return self.data / "templates"

    @property
    def demo_data(self) -> Path:
        """Where `hfeval synth` writes the synthetic demo exports (git-ignored)."""
        return self.output / "demo-data"

    @property
    def expectations(self) -> Path:
        return self.root / "expectations"

    @property
    def pipelines(self) -> Path:
        return self.root / "pipelines"

    @property
    def pipeline_spec(self) -> Path:
        return self.pipelines / "pipeline.yaml"

    @property
    def warehouse_dir(self) -> Path:
        return self.output / "warehouse"

    @property
    def warehouse(self) -> Path:
        """Person-level DuckDB warehouse. Never opened by the dashboard."""
        return self.warehouse_dir / "hfeval.duckdb"

    @property
    def publish_db(self) -> Path:
        """Publishable, disclosure-controlled DuckDB file: the only thing the dashboard reads."""
        return self.warehouse_dir / "hfeval_publish.duckdb"

    @property
    def runs(self) -> Path:
        return self.output / "runs"

    @property
    def lock_file(self) -> Path:
        return self.warehouse_dir / ".hfeval.lock"


def get_paths() -> Paths:
    root = _find_root()
    out = os.environ.get("HFEVAL_OUTPUT")
    output = Path(out).resolve() if out else root / "build"
    return Paths(root=root, output=output)


# ---- parameters ----------------------------------------------------------------------------------

# Each entry: default value and what it means. Later analyses add their own sections.
PARAMETER_DOCS: dict[str, tuple[Any, str]] = {
    "extraction_date": (
        None,
        ("Data extraction date (ISO). Open spells are censored here and later dates are "
        "implausible. Default: the `extraction_date` of each source's mapping file, else the "
        "latest date found in that source."),
    ),
    "validation.mostly": (
        0.95,
        ("Share of rows that must pass each row-level expectation (GX `mostly`). Failing rows "
        "are quarantined; below this share the table fails and nothing is published."),
    ),
    "engine.memory_limit": (
        "4GB",
        "Most memory DuckDB may use; beyond it, work spills to disk in the run's build folder.",
    ),
    "engine.threads": (0, "DuckDB worker threads; 0 = one per core."),
    "disclosure.preset": (
        "opensafely",
        ("Named disclosure-control rules (hfeval.disclosure.PRESETS; docs/privacy.md): "
         "opensafely (7 or fewer suppressed, counts rounded to 5), ssb (Statistics Norway: 1-2 "
         "suppressed, rounded to 3) or dst (Statistics Denmark: 1-4 suppressed, not rounded). "
         "disclosure.threshold and disclosure.rounding_base, when set, override the preset; "
         "the manifest records the effective values."),
    ),
    "disclosure.threshold": (
        7,
        ("Statistics describing this many people or fewer are suppressed. Default: the "
         "preset's (OpenSAFELY: 7)."),
    ),
    "disclosure.rounding_base": (
        5,
        ("Published counts are rounded to the nearest multiple of this (1 = not rounded). "
         "Default: the preset's (OpenSAFELY: 5)."),
    ),
    "disclosure.min_unit_participants": (
        20,
        ("A municipality with fewer participants (both arms) than this is published only inside "
         "an aggregate: the small municipalities of its region, else of its country "
         "(mart_publication_units). Below 20, with the usual 2:1 allocation and threshold 7, "
         "nearly every comparison-arm, by-year and 12-24-month cell would be suppressed anyway. "
         "0 = never merge."),
    ),
    # Housing retention (hfeval.retention): definitions are named sets; the four entries below
    # the set's name override single values of it (empty = the set's own value).
    "retention.definition": (
        "housing_first",
        ("Named definition set for tenancies, losses, competing events and returns: "
         "housing_first (DOMAIN.md §3), hud_spm (deaths dropped, HUD style) or strict_any_exit "
         "(any exit from the first flat is a loss). See hfeval.retention.definitions."),
    ),
    "retention.move_max_gap_days": (
        None,
        ("A move to another own flat starting within this many days of leaving the last one "
         "continues the tenancy (not a loss). Empty = the definition set's value (30)."),
    ),
    "retention.long_stay_min_days": (
        None,
        ("An institution, prison or hospital stay longer than this many days ends the tenancy "
         "(a competing event in housing_first); a shorter one followed by a return home does "
         "not. Empty = the definition set's value (90)."),
    ),
    "retention.returns.min_gap_days": (
        None,
        ("A homeless spell starting fewer than this many days after the placement is not "
         "counted as a return. Empty = the definition set's value."),
    ),
    "retention.returns.unit": (
        None,
        ("Counting unit for returns to homelessness: person (first placement of each person, "
         "as HUD SPM 2) or placement (every tenancy). Empty = the definition set's value."),
    ),
    "retention.returns.windows": (
        ["0-180", "181-365", "366-730", "0-730"],
        ("Windows (days after the placement, inclusive) for returns to homelessness; a placement "
         "counts in a window only if the extraction date is at least the window's end after it."),
    ),
    "retention.report_months": (
        [6, 12, 24],
        "Months after move-in at which tenancy survival and cumulative incidence are reported.",
    ),
    "retention.days_per_month": (
        30.4375,
        "Days in a month when months are turned into days (365.25 / 12).",
    ),
    "retention.strata": (
        ["country", "municipality", "cohort_year", "support_model", "sex", "age_band"],
        "Participant characteristics retention is reported by, each on its own (beside 'all').",
    ),
    "retention.days_housed_window_days": (
        730,
        ("Window from enrolment for the share of days stably housed (At Home/Chez Soi: 24 "
         "months); days observed end at extraction or death."),
    ),
    "retention.temporary_stay_max_days": (
        61,
        "Ceiling for one episode in temporary accommodation (Mandal: at most 2 months).",
    ),
    "retention.home_visits_target_per_week": (
        1.0,
        "Fidelity target: home visits per participant-week in the programme (Mandal: >= 1).",
    ),
    # Socio-economic costs (hfeval.costs).
    "costs.price_year": (
        2024,
        ("Price year of every cost (CPI of the country where the cost arose). A year outside "
         "the CPI table is refused, never extrapolated."),
    ),
    "costs.currency": (
        "local",
        ("Currency of results: NOK, DKK, EUR, or local (each country's own). Converted after "
         "the price-year adjustment at the price year's annual mean rate (exchange_rates)."),
    ),
    "costs.window_months": (
        24,
        ("Months before and after the anchor (first move-in; enrolment for the comparison arm) "
         "compared by the pre/post and difference-in-differences designs."),
    ),
    "costs.discount_rate.NO": (
        0.04,
        "Yearly discount rate for Norway (Finansdepartementet R-109: 4 %), by year since anchor.",
    ),
    "costs.discount_rate.DK": (
        0.035,
        "Yearly discount rate for Denmark (Finansministeriet: 3.5 % for years 0-35).",
    ),
    "costs.bootstrap.n_resamples": (
        2000,
        "Person-level bootstrap resamples for cost confidence intervals.",
    ),
    "costs.bootstrap.seed": (20240101, "Seed of the cost bootstrap (same seed, same intervals)."),
    "costs.bootstrap.level": (0.95, "Confidence level of cost intervals."),
    "costs.ci_method": (
        "bca",
        "Interval reported as ci_low/ci_high: bca (bias-corrected, accelerated) or percentile.",
    ),
    "costs.sensitivity.unit_cost_pct": (
        0.25,
        "One-way sensitivity: each service's unit cost is moved down and up by this share.",
    ),
    "costs.sensitivity.programme_cost_pct": (
        0.25,
        "One-way sensitivity: the programme cost is moved down and up by this share.",
    ),
    "costs.sensitivity.window_months": (
        [12, 24],
        "One-way sensitivity: the shortest and longest window (months) compared.",
    ),
    "costs.sensitivity.discount_rates": (
        [0.0, 0.06],
        "One-way sensitivity: the lowest and highest discount rate (both countries).",
    ),
}


def default_parameters() -> dict[str, Any]:
    return {k: copy.deepcopy(v[0]) for k, v in PARAMETER_DOCS.items()}


def _coerce(raw: str, like: Any) -> Any:
    if isinstance(like, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true/false, got {raw!r}")
    if isinstance(like, int):
        return int(raw)
    if isinstance(like, float):
        return float(raw)
    return yaml.safe_load(raw) if raw else None


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def resolve_parameters(
    file: Path | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Defaults, then a YAML file (nested or dotted keys), then `key=value` overrides; then the
    disclosure preset fills the disclosure values neither of them set."""
    from hfeval.disclosure import apply_preset

    params = default_parameters()
    explicit: set[str] = set()
    if file is not None:
        loaded = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        for key, value in _flatten(loaded).items():
            if key not in params:
                raise KeyError(f"unknown parameter {key!r} in {file}")
            params[key] = value
            explicit.add(key)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"parameter override must be key=value, got {item!r}")
        key, raw = item.split("=", 1)
        key = key.strip()
        if key not in params:
            raise KeyError(f"unknown parameter {key!r}; known: {', '.join(sorted(params))}")
        params[key] = _coerce(raw.strip(), PARAMETER_DOCS[key][0])
        explicit.add(key)
    return apply_preset(params, explicit)
