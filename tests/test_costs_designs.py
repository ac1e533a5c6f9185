"""Costing people around their anchor, and the pre/post and DiD designs, on tiny tables.

Unit costs are at the price year in the local currency (price factor 1) and nothing is
discounted unless a test says so, so every expected number is a hand calculation."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hfeval.costs import catalogue
from hfeval.costs.designs import CostSettings, cost_people
from hfeval.costs.outputs import Costed, estimate
from hfeval.costs.prices import PriceTables
from hfeval.costs.programme import break_even_participants, saved_per_unit_spent

ANCHOR = date(2020, 1, 1)
Y = 365 / 365.25  # person-years in a 12-month (365-day) window
TABLES = PriceTables.from_frames(
    pl.DataFrame({"country": ["NO", "DK"], "year": [2020, 2020], "index_value": [100.0, 100.0]}),
    pl.DataFrame({"year": [2020, 2020], "currency": ["NOK", "DKK"],
                  "per_eur": [10.0, 7.5]}),
)
UNIT = {"prison": (1000.0, "justice", "day"), "shelter": (500.0, "municipality", "night"),
        "somatic_inpatient": (2000.0, "specialist_health", "day")}
SETTINGS = CostSettings(price_year=2020, window_months=12, discount_rates={"NO": 0.0, "DK": 0.0},
                        n_resamples=200, seed=1)


def person(pid: str, arm: str = "housing_first", until_days: int = 800,
           municipality: str = "4205") -> dict:
    return {"participant_id": pid, "country": "NO", "municipality_code": municipality,
            "municipality_name": f"M{municipality}", "arm": arm, "enrolment_date": ANCHOR,
            "anchor_kind": "move_in" if arm == "housing_first" else "enrolment",
            "anchor_date": ANCHOR, "observed_until_date": ANCHOR + timedelta(days=until_days)}


def event(pid: str, service: str, start: int, days: int = 0, quantity: float | None = None
          ) -> dict:
    """A stay of `days` days starting `start` days from the anchor (0 days: one event)."""
    amount, payer, unit = UNIT.get(service, (None, None, "contact"))
    qty = quantity if quantity is not None else float(max(days, 1))
    s = ANCHOR + timedelta(days=start)
    return {"participant_id": pid, "country": "NO", "service": service, "unit": unit,
            "start_date": s, "end_date": s + timedelta(days=days) if days else None,
            "quantity": qty, "start_days_from_anchor": start, "unit_cost": amount,
            "unit_cost_currency": "NOK" if amount else None,
            "unit_cost_price_year": 2020 if amount else None, "payer_sector": payer,
            "is_priced": amount is not None,
            "cost_catalogue": qty * amount if amount else None}


def costed(people: list[dict], events: list[dict], settings: CostSettings = SETTINGS,
           programme_per_py: float | None = None) -> Costed:
    obs = pl.DataFrame(people)
    ev = pl.DataFrame(events, schema_overrides={"unit_cost": pl.Float64,
                                               "unit_cost_price_year": pl.Int64,
                                               "cost_catalogue": pl.Float64})
    prog = None
    if programme_per_py is not None:
        prog = pl.DataFrame({"municipality_code": ["4205"],
                             "programme_cost_per_py": [programme_per_py]})
    p, c = cost_people(obs, ev, TABLES, settings, prog)
    return Costed(settings, p, c, pl.DataFrame(), pl.DataFrame())


def value(est: pl.DataFrame, measure: str, breakdown: str = "total", category: str = "all"):
    row = est.filter((pl.col("measure") == measure) & (pl.col("breakdown") == breakdown)
                     & (pl.col("category") == category))
    return row["estimate"].item()


# Two Housing First participants and one comparison participant, fully observed for 12 months:
#   A: 10 prison days before (10,000), 2 after (2,000)
#   B: 11 shelter nights before (5,500), none after
#   C (comparison): 4 prison days before (4,000), 3 after (3,000)
PEOPLE = [person("A"), person("B"), person("C", arm="comparison")]
EVENTS = [event("A", "prison", -100, 10), event("A", "prison", 30, 2),
          event("B", "shelter", -50, 11), event("C", "prison", -20, 4),
          event("C", "prison", 200, 3)]


def test_prepost_offset_is_the_fall_in_the_pooled_cost_rate():
    est = estimate(costed(PEOPLE, EVENTS), design="prepost")
    # before: (10,000 + 5,500) / 2Y; after: 2,000 / 2Y; offset = 13,500 / 2Y = 6,754.62
    assert value(est, "offset") == pytest.approx(13_500 / (2 * Y))
    assert value(est, "pre_cost_rate") == pytest.approx(15_500 / (2 * Y))
    assert value(est, "post_cost_rate") == pytest.approx(2_000 / (2 * Y))


def test_did_subtracts_the_comparison_arms_own_fall():
    est = estimate(costed(PEOPLE, EVENTS), design="did")
    # Housing First 13,500 / 2Y minus comparison (4,000 - 3,000) / Y
    assert value(est, "offset") == pytest.approx(13_500 / (2 * Y) - 1_000 / Y)
    assert value(est, "offset_comparison") == pytest.approx(1_000 / Y)


def test_payer_sectors_sum_to_the_total():
    est = estimate(costed(PEOPLE, EVENTS, programme_per_py=3_000.0), design="prepost")
    # justice: (10,000 - 2,000) / 2Y; municipality: 5,500 / 2Y
    assert value(est, "offset", "payer_sector", "justice") == pytest.approx(8_000 / (2 * Y))
    assert value(est, "offset", "payer_sector", "municipality") == pytest.approx(5_500 / (2 * Y))
    by_payer = est.filter((pl.col("measure") == "net_saving")
                          & (pl.col("breakdown") == "payer_sector"))["estimate"].sum()
    assert by_payer == pytest.approx(value(est, "net_saving"))
    by_service = est.filter((pl.col("measure") == "offset")
                            & (pl.col("breakdown") == "service"))["estimate"].sum()
    assert by_service == pytest.approx(value(est, "offset"))


def test_the_programme_cost_is_netted_against_offsets_and_paid_by_the_municipality():
    est = estimate(costed(PEOPLE, EVENTS, programme_per_py=3_000.0), design="prepost")
    assert value(est, "programme_cost") == pytest.approx(3_000)
    assert value(est, "net_saving") == pytest.approx(13_500 / (2 * Y) - 3_000)
    assert value(est, "net_saving", "payer_sector", "municipality") == pytest.approx(
        5_500 / (2 * Y) - 3_000)
    assert value(est, "saved_per_10_spent") == pytest.approx(10 * 13_500 / (2 * Y) / 3_000)


def test_a_stay_across_the_move_in_is_split_by_its_days():
    # 5 nights from 3 days before move-in: 3 before, 2 after (2,500 -> 1,500 + 1,000)
    _, c = cost_people(pl.DataFrame([person("A")]),
                       pl.DataFrame([event("A", "shelter", -3, 5)]), TABLES, SETTINGS)
    by_period = dict(c.select("period", "cost").iter_rows())
    assert by_period == pytest.approx({"pre": 1_500.0, "post": 1_000.0})


def test_people_followed_for_part_of_the_window_count_for_the_time_observed():
    # Observed 100 days after move-in (days 0-100 inclusive = 101 days), window 365 days.
    people, _ = cost_people(pl.DataFrame([person("A", until_days=100)]),
                            pl.DataFrame([event("A", "prison", 10, 1)]), TABLES, SETTINGS)
    row = people.row(0, named=True)
    assert row["post_years"] == pytest.approx(101 / 365.25)
    assert row["full_post_observation"] is False


def test_events_after_the_last_day_observed_are_not_counted():
    _, c = cost_people(pl.DataFrame([person("A", until_days=100)]),
                       pl.DataFrame([event("A", "prison", 150, 1)]), TABLES, SETTINGS)
    assert c.filter(pl.col("period") == "post").height == 0


def test_costs_after_move_in_are_discounted_by_year_since_move_in():
    s = CostSettings(price_year=2020, window_months=24, discount_rates={"NO": 0.04, "DK": 0.0})
    # A prison day in year 1 after move-in (day 400): 1,000 / 1.04 = 961.54
    _, c = cost_people(pl.DataFrame([person("A")]), pl.DataFrame([event("A", "prison", 400)]),
                       TABLES, s)
    assert c["cost_discounted"].item() == pytest.approx(1000 / 1.04)
    assert c["cost"].item() == pytest.approx(1000)


def test_service_use_the_catalogue_cannot_price_is_reported_not_counted_as_zero():
    events = [event("A", "prison", -5), event("A", "police_arrest", -5),
              event("A", "police_arrest", 5)]
    _, c = cost_people(pl.DataFrame([person("A")]), pl.DataFrame(events), TABLES, SETTINGS)
    unpriced = c.filter(~pl.col("is_priced"))
    assert unpriced["n_events"].sum() == 2
    assert unpriced["cost"].null_count() == 2  # unknown, not zero
    report = catalogue.unpriced_summary(pl.DataFrame(events))
    assert report.select("service", "n_events", "n_participants").rows() == [
        ("police_arrest", 2, 1)]


def test_did_needs_a_comparison_arm():
    est = estimate(costed(PEOPLE[:2], EVENTS[:3]), design="did")
    assert est["note"].item().startswith("no comparison arm")


def test_break_even_participants_and_saved_per_ten_spent():
    # Husbanken-style: a team of NOK 3.8 m a year, NOK 237,500 avoided a participant-year -> 16
    assert break_even_participants(3_800_000, 237_500) == pytest.approx(16.0)
    # With NOK 37,500 of housing subsidy per participant-year on top: 3.8 m / 200,000 = 19
    assert break_even_participants(3_800_000, 237_500, 37_500) == pytest.approx(19.0)
    assert break_even_participants(3_800_000, 10_000, 37_500) is None
    assert saved_per_unit_spent(9.6, 10.0) == pytest.approx(9.6)


def test_a_negative_unit_cost_is_flagged():
    frame = pl.DataFrame({"country": ["NO"], "service": ["prison"], "unit": ["day"],
                          "amount": [-1.0]})
    assert catalogue.check_catalogue(frame) == ["unit_costs: 1 row(s) with a negative amount"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["prison", "shelter", "somatic_inpatient"]),
                          st.integers(-360, 360), st.integers(0, 30),
                          st.floats(0, 50, allow_nan=False)), min_size=1, max_size=12))
def test_no_cost_is_negative_when_no_unit_cost_is(rows):
    events = [event("A", s, start, days, quantity=q) for s, start, days, q in rows]
    _, c = cost_people(pl.DataFrame([person("A")]), pl.DataFrame(events), TABLES, SETTINGS)
    assert (c["cost"].fill_null(0) >= 0).all()
    assert (c["cost_discounted"].fill_null(0) >= 0).all()


@settings(max_examples=15, deadline=None)
@given(st.permutations(range(len(EVENTS))), st.permutations(range(len(PEOPLE))))
def test_results_do_not_depend_on_row_order(event_order, people_order):
    base = estimate(costed(PEOPLE, EVENTS), design="did")
    shuffled = estimate(costed([PEOPLE[i] for i in people_order],
                               [EVENTS[i] for i in event_order]), design="did")
    cols = ["measure", "breakdown", "category", "estimate", "ci_low", "ci_high"]
    assert shuffled.select(cols).sort(cols[:3]).equals(base.select(cols).sort(cols[:3]))



def test_costing_gives_the_same_sums_to_the_last_bit_every_time():
    # BCa intervals move visibly with the last bits of a sum, so costing must add in a fixed
    # order (polars' streaming engine does not): 8 people with 100,000 one-day stays each, so
    # each person's sum spans many of the chunks an engine may add in parallel.
    import numpy as np

    rng = np.random.default_rng(7)
    n = 800_000
    pid = [f"P{i}" for i in range(8)]
    people = pl.DataFrame([person(p) for p in pid])
    template = event("P0", "prison", 0, 1)
    start = rng.integers(-365, 365, n)
    events = pl.DataFrame({**{k: [v] * n for k, v in template.items()
                              if k not in ("participant_id", "start_date", "end_date",
                                           "start_days_from_anchor", "cost_catalogue")},
                           "participant_id": np.repeat(pid, n // 8),
                           "start_days_from_anchor": start,
                           "cost_catalogue": rng.random(n) * 1000})
    events = events.with_columns(
        (pl.lit(ANCHOR) + pl.duration(days=pl.col("start_days_from_anchor"))).alias("start_date"),
    ).with_columns((pl.col("start_date") + pl.duration(days=1)).alias("end_date"))

    def sums() -> pl.DataFrame:
        return cost_people(people, events, TABLES, SETTINGS)[1]

    first = sums()
    assert all(first.equals(sums()) for _ in range(3))
