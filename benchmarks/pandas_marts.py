"""The pipeline's headline marts written the way an analyst would in plain pandas: the yardstick
`make bench` compares hfeval with ("what a user would otherwise write").

Reads a contract-layout folder (`hfeval synth --style contract`, Parquet or CSV) and the project's
default reference tables (a folder's own reference/*.csv override them by key), and computes:

* participants: one row per person, as mart_participants (first move-in, days to housing,
  stably housed at extraction);
* overview_by_municipality and enrolment_by_municipality_year, as the marts of those names;
* retention_12m: first tenancies under the default `housing_first` definition (as
  int_tenancies) and a product-limit Kaplan-Meier at 12 months per municipality and arm (as
  mart_retention_by_stratum, stratum `municipality`);
* costs_by_payer: service costs before and after the anchor per municipality, arm and payer
  sector, in the default price year and local currency, undiscounted and without bootstrap
  (as mart_costs_by_person_period, summed).

It does much less than the pipeline: no validation or quarantine, no identifier guard, no
disclosure control, no confidence intervals, no bootstrap, none of the other marts. So the ratio
`make bench` prints flatters pandas. tests/test_bench_pandas_marts.py checks that the numbers are
the pipeline's.

    uv run python benchmarks/pandas_marts.py --data DIR [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"

STABLE = ["own_lease", "municipal_flat", "supported_housing"]
# The housing_first retention definition (hfeval.retention.definitions.HOUSING_FIRST).
LONG_STAY_TYPES = ["institution", "prison", "hospital"]
LONG_STAY_MIN_DAYS = 90
MOVE_MAX_GAP_DAYS = 30
MOVE_REASONS = ["moved_within_programme", "voluntary_move", "unknown"]
DAYS_PER_MONTH = 30.4375
# Costs (config.PARAMETER_DOCS defaults).
PRICE_YEAR = 2024
WINDOW_MONTHS = 24
DAYS_PER_YEAR = 365.25
LOCAL_CURRENCY = {"NO": "NOK", "DK": "DKK"}

KEYS = {"municipalities": ["municipality_code"], "unit_costs": ["country", "service", "unit"],
        "cpi": ["country", "year"], "exchange_rates": ["year", "currency"]}
DATE_COLUMNS = ["enrolment_date", "start_date", "end_date", "contact_date", "assessment_date"]


# ---- reading -------------------------------------------------------------------------------------


def read_table(folder: Path, name: str) -> pd.DataFrame:
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    df = pd.read_parquet(parquet) if parquet.exists() else pd.read_csv(csv)
    for col in DATE_COLUMNS:
        if col in df.columns:
            df[col] = pd.to_datetime(df[col])
    return df


def read_reference(data: Path, name: str) -> pd.DataFrame:
    default = pd.read_csv(REFERENCE / f"{name}.csv", dtype={"municipality_code": str})
    override = data / "reference" / f"{name}.csv"
    if not override.exists():
        return default
    user = pd.read_csv(override, dtype={"municipality_code": str})
    return pd.concat([default, user]).drop_duplicates(KEYS[name], keep="last")


def read_inputs(data: Path) -> dict[str, pd.DataFrame]:
    tables = {t: read_table(data, t) for t in ("participants", "housing_spells", "service_use")}
    tables.update({t: read_reference(data, t) for t in KEYS})
    return tables


def extraction_date(data: Path) -> pd.Timestamp:
    meta = yaml.safe_load((data / "source.yaml").read_text(encoding="utf-8"))
    return pd.Timestamp(meta["extraction_date"])


# ---- participants, overview, enrolment -----------------------------------------------------------


def participants(t: dict[str, pd.DataFrame], extraction: pd.Timestamp) -> pd.DataFrame:
    munis = t["municipalities"][["municipality_code", "name", "country", "region"]]
    p = t["participants"].merge(munis.rename(columns={"name": "municipality_name"}),
                                on="municipality_code", how="left")
    p["cohort_year"] = p["enrolment_date"].dt.year
    p["extraction_date"] = extraction

    spells = t["housing_spells"]
    stable = spells[spells["housing_type"].isin(STABLE)].merge(
        p[["participant_id", "enrolment_date"]], on="participant_id")
    stable = stable[stable["start_date"] >= stable["enrolment_date"]]
    first = stable.groupby("participant_id")["start_date"].min().rename("first_move_in_date")

    last = spells.sort_values(["participant_id", "start_date"]).groupby("participant_id").tail(1)
    last = last.set_index("participant_id")
    stably = (last["end_date"].isna() & last["housing_type"].isin(STABLE))
    p = p.merge(first, left_on="participant_id", right_index=True, how="left")
    p["ever_housed"] = p["first_move_in_date"].notna()
    p["days_to_housing"] = (p["first_move_in_date"] - p["enrolment_date"]).dt.days
    p["stably_housed_at_extraction"] = (
        p["participant_id"].map(stably).fillna(False).astype(bool))
    return p


def overview_by_municipality(p: pd.DataFrame) -> pd.DataFrame:
    keys = ["country", "municipality_code", "municipality_name", "arm"]
    out = p.groupby(keys, dropna=False).agg(
        first_cohort_year=("cohort_year", "min"),
        last_cohort_year=("cohort_year", "max"),
        n_participants=("participant_id", "size"),
        n_housed=("ever_housed", "sum"),
        n_stably_housed_at_extraction=("stably_housed_at_extraction", "sum"),
        median_days_to_housing=("days_to_housing", "median"),
    ).reset_index()
    out["share_of_housed_stably_housed_at_extraction"] = (
        out["n_stably_housed_at_extraction"] / out["n_housed"].replace(0, np.nan))
    return out.sort_values(["country", "municipality_code", "arm"], ignore_index=True)


def enrolment_by_municipality_year(p: pd.DataFrame) -> pd.DataFrame:
    keys = ["country", "municipality_code", "municipality_name", "cohort_year", "arm"]
    out = p.groupby(keys, dropna=False).agg(
        n_participants=("participant_id", "size"),
        n_housed=("ever_housed", "sum"),
        n_stably_housed_at_extraction=("stably_housed_at_extraction", "sum"),
        median_days_to_housing=("days_to_housing", "median"),
    ).reset_index()
    return out.sort_values(keys, ignore_index=True)


# ---- retention -----------------------------------------------------------------------------------


def first_tenancies(t: dict[str, pd.DataFrame], p: pd.DataFrame,
                    extraction: pd.Timestamp) -> pd.DataFrame:
    """Each person's first tenancy (housing_first): duration in days and how it ended."""
    s = t["housing_spells"].sort_values(["participant_id", "start_date"], ignore_index=True)
    s["is_open"] = s["end_date"].isna()
    s["end_or_extraction"] = s["end_date"].fillna(extraction)
    s["end_reason"] = s["end_reason"].fillna("unknown").where(~s["is_open"])
    s["is_stable"] = s["housing_type"].isin(STABLE)
    s["is_stay"] = s["housing_type"].isin(LONG_STAY_TYPES)
    by = s.groupby("participant_id", sort=False)
    # Consecutive institution/prison/hospital spells are one stay.
    new_run = ~(s["is_stay"] & by["is_stay"].shift(1, fill_value=False))
    s["run_id"] = new_run.astype(int).groupby(s["participant_id"]).cumsum()
    stays = s[s["is_stay"]].groupby(["participant_id", "run_id"]).agg(
        stay_type=("housing_type", "first"), stay_end_date=("end_or_extraction", "max"),
        stay_is_open=("is_open", "any"), stay_end_reason=("end_reason", "last"),
    ).reset_index()
    stays["run_id"] = stays["run_id"].astype(float)
    s["next_is_stay"] = by["is_stay"].shift(-1, fill_value=False)
    s["next_run_id"] = by["run_id"].shift(-1)
    # Start of the next stable spell after this one: a reversed running minimum.
    day = (s["start_date"] - pd.Timestamp("1970-01-01")).dt.days.astype(float)
    later = day.where(s["is_stable"], np.inf)[::-1].groupby(s["participant_id"][::-1]).cummin()
    nxt = later[::-1].groupby(s["participant_id"]).shift(-1).replace(np.inf, np.nan)
    s["next_flat_start"] = pd.Timestamp("1970-01-01") + pd.to_timedelta(nxt, unit="D")

    f = s[s["is_stable"]].merge(p[["participant_id", "enrolment_date"]], on="participant_id")
    f = f[f["start_date"] >= f["enrolment_date"]]
    f = f.merge(stays.rename(columns={"run_id": "next_run_id"}),
                on=["participant_id", "next_run_id"], how="left")
    has_stay = f["next_is_stay"] & f["stay_type"].notna()
    f.loc[~has_stay, ["stay_type", "stay_end_date", "stay_is_open", "stay_end_reason"]] = None
    stay_days = (f["stay_end_date"] - f["end_date"]).dt.days
    to_next = (f["next_flat_start"] - f["end_date"]).dt.days
    stay_to_next = (f["next_flat_start"] - f["stay_end_date"]).dt.days
    reason = f["end_reason"]
    conditions = [
        f["is_open"],
        (f["end_date"] == extraction) & (reason == "unknown"),
        reason == "death",
        has_stay & (stay_days > LONG_STAY_MIN_DAYS),
        has_stay & f["stay_is_open"].fillna(False).astype(bool),
        has_stay & (f["stay_end_reason"] == "death"),
        has_stay & (stay_to_next <= MOVE_MAX_GAP_DAYS),
        has_stay,
        reason.isin(MOVE_REASONS) & (to_next <= MOVE_MAX_GAP_DAYS),
        reason.isin(LONG_STAY_TYPES),
    ]
    choices = ["censored:open", "censored:closed", "death", "long_stay", "censored:short_stay",
               "death_after_short_stay", "continue", "loss", "continue", "censored:not_recorded"]
    f["outcome"] = np.select(conditions, choices, default="loss")
    f["event_type"] = f["outcome"].map(
        lambda o: "competing" if o.startswith(("death", "long_stay")) else
        "censored" if o.startswith("censored") else None if o == "continue" else "loss")
    f["event_date"] = f["end_date"]
    f.loc[f["outcome"].isin(["censored:open", "censored:closed"]), "event_date"] = extraction
    after_stay = f["outcome"] == "death_after_short_stay"
    f.loc[after_stay, "event_date"] = f.loc[after_stay, "stay_end_date"]
    f.loc[f["outcome"] == "continue", "event_date"] = pd.NaT

    f = f.sort_values(["participant_id", "start_date"], ignore_index=True)
    starts = f.groupby("participant_id")["outcome"].shift(1).fillna("") != "continue"
    f["tenancy_seq"] = starts.astype(int).groupby(f["participant_id"]).cumsum()
    first = f[f["tenancy_seq"] == 1].groupby("participant_id").agg(
        start_date=("start_date", "min"), event_date=("event_date", "last"),
        event_type=("event_type", "last"),
    ).reset_index()
    first["duration_days"] = (first["event_date"] - first["start_date"]).dt.days
    return first


def km_at(durations: np.ndarray, losses: np.ndarray, t: float) -> tuple[float, int]:
    """Product-limit S(t) (NaN once no one is at risk and S > 0) and the number at risk at t."""
    at_risk_t = int((durations >= t).sum())
    times = np.unique(durations[losses & (durations <= t)])
    s = 1.0
    for u in times:
        s *= 1.0 - ((durations == u) & losses).sum() / (durations >= u).sum()
    if at_risk_t == 0 and s > 0:
        s = np.nan
    return s, at_risk_t


def retention_12m(first: pd.DataFrame, p: pd.DataFrame) -> pd.DataFrame:
    keys = ["country", "municipality_code", "municipality_name", "arm"]
    df = first.merge(p[["participant_id", *keys]], on="participant_id")
    t = 12 * DAYS_PER_MONTH
    rows = []
    for key, g in df.groupby(keys):
        s, n = km_at(g["duration_days"].to_numpy(float), (g["event_type"] == "loss").to_numpy(),
                     t)
        rows.append((*key, len(g), n, s))
    return pd.DataFrame(rows, columns=[*keys, "n_people", "n_at_risk", "survival_12m"])


# ---- costs ---------------------------------------------------------------------------------------


def price_factors(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Factor moving a catalogue amount to PRICE_YEAR prices in the country's currency."""
    cpi = t["cpi"].set_index(["country", "year"])["index_value"]
    rate = t["exchange_rates"].set_index(["year", "currency"])["per_eur"]
    cat = t["unit_costs"][["country", "currency", "price_year"]].drop_duplicates()

    def factor(r: pd.Series) -> float:
        local = LOCAL_CURRENCY[r["country"]]
        f = 1.0
        if r["currency"] != local:
            eur = 1.0 if r["currency"] == "EUR" else rate[(r["price_year"], r["currency"])]
            f *= rate[(r["price_year"], local)] / eur
        return f * cpi[(r["country"], PRICE_YEAR)] / cpi[(r["country"], r["price_year"])]

    cat["price_factor"] = cat.apply(factor, axis=1)
    return cat


def cost_people(t: dict[str, pd.DataFrame], p: pd.DataFrame,
                extraction: pd.Timestamp) -> pd.DataFrame:
    """Anchor (first move-in for housing_first, else enrolment) and days observed after it."""
    spells = t["housing_spells"]
    deaths = spells[spells["end_reason"] == "death"].groupby("participant_id")["end_date"].min()
    people = p[["participant_id", "country", "municipality_code", "municipality_name", "arm",
                "enrolment_date", "first_move_in_date"]].copy()
    hf_housed = (people["arm"] == "housing_first") & people["first_move_in_date"].notna()
    people["anchor_date"] = people["first_move_in_date"].where(hf_housed,
                                                               people["enrolment_date"])
    death = people["participant_id"].map(deaths)
    until = death.where(death < extraction, extraction)
    window = round(WINDOW_MONTHS * DAYS_PER_YEAR / 12)
    people["window_days"] = window
    people["post_days"] = ((until - people["anchor_date"]).dt.days + 1).clip(0, window)
    people["included"] = people["post_days"] > 0
    return people


def costs_by_payer(t: dict[str, pd.DataFrame], people: pd.DataFrame) -> pd.DataFrame:
    """Costs per municipality, arm, payer sector and period (pre/post), with person-years of the
    people observed after their anchor, and cost per person-year."""
    ev = t["service_use"].merge(
        people[["participant_id", "country", "anchor_date", "window_days", "post_days"]],
        on="participant_id")
    cat = t["unit_costs"].merge(price_factors(t), on=["country", "currency", "price_year"])
    cat = cat[["country", "service", "unit", "amount", "payer_sector", "price_factor"]]
    exact = ev.merge(cat, on=["country", "service", "unit"], how="left")
    # A stay in days is priced by a catalogue row in nights and the other way round.
    swapped = ev["unit"].map({"day": "night", "night": "day"})
    equiv = ev.assign(unit=swapped).merge(cat, on=["country", "service", "unit"], how="left")
    for col in ("amount", "payer_sector", "price_factor"):
        exact[col] = exact[col].fillna(equiv[col])
    ev = exact[exact["amount"].notna()]

    s = (ev["start_date"] - ev["anchor_date"]).dt.days.astype(float)
    duration = (ev["end_date"] - ev["start_date"]).dt.days.fillna(0).astype(float)
    e = s + duration
    stay = duration > 0
    cost = ev["quantity"] * ev["amount"] * ev["price_factor"]

    def share(lo: pd.Series, hi: pd.Series) -> pd.Series:
        overlap = (np.minimum(e, hi) - np.maximum(s, lo)).clip(lower=0)
        point = ((s >= lo) & (s < hi)).astype(float)
        return (overlap / duration.where(stay)).where(stay, point)

    window = ev["window_days"].astype(float)
    ev = ev.assign(pre=cost * share(-window, 0 * window),
                   post=cost * share(0 * window, ev["post_days"].astype(float)))
    keys = ["country", "municipality_code", "municipality_name", "arm"]
    included = people[people["included"]]
    ev = ev.merge(included[["participant_id", *keys[1:]]], on="participant_id")
    sums = ev.groupby([*keys, "payer_sector"])[["pre", "post"]].sum().reset_index()
    long = sums.melt(id_vars=[*keys, "payer_sector"], value_vars=["pre", "post"],
                     var_name="period", value_name="cost")
    years = included.groupby(keys).agg(pre_years=("window_days", "sum"),
                                       post_years=("post_days", "sum")).reset_index()
    long = long.merge(years, on=keys)
    long["person_years"] = np.where(long["period"] == "pre", long["pre_years"],
                                    long["post_years"]) / DAYS_PER_YEAR
    long["cost_per_person_year"] = long["cost"] / long["person_years"]
    return long.drop(columns=["pre_years", "post_years"]).sort_values(
        [*keys, "payer_sector", "period"], ignore_index=True)


# ---- all of it -----------------------------------------------------------------------------------


def run(data: Path) -> dict[str, pd.DataFrame]:
    extraction = extraction_date(data)
    t = read_inputs(data)
    p = participants(t, extraction)
    first = first_tenancies(t, p, extraction)
    people = cost_people(t, p, extraction)
    return {
        "participants": p,
        "overview_by_municipality": overview_by_municipality(p),
        "enrolment_by_municipality_year": enrolment_by_municipality_year(p),
        "first_tenancies": first,
        "retention_12m": retention_12m(first, p),
        "costs_by_payer": costs_by_payer(t, people),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, help="write each aggregate table here as Parquet")
    args = ap.parse_args()
    t0 = time.perf_counter()
    out = run(args.data)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name in ("overview_by_municipality", "enrolment_by_municipality_year",
                     "retention_12m", "costs_by_payer"):
            out[name].to_parquet(args.out / f"{name}.parquet")
    print(f"pandas marts: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
