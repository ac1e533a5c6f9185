"""Price year, currency and discounting, each against a calculation written out by hand."""

from __future__ import annotations

import polars as pl
import pytest

from hfeval.costs.prices import (
    PriceError,
    PriceTables,
    discount_factor,
    discounted_years,
    price_factor,
    window_days,
)

# Values as in data/reference/cpi.csv and exchange_rates.csv.
TABLES = PriceTables.from_frames(
    pl.DataFrame({"country": ["NO", "NO", "NO", "DK", "DK"],
                  "year": [2015, 2020, 2024, 2015, 2024],
                  "index_value": [100.0, 112.17, 133.60, 100.0, 118.85]}),
    pl.DataFrame({"year": [2015, 2015, 2024, 2024],
                  "currency": ["NOK", "DKK", "NOK", "DKK"],
                  "per_eur": [8.9496, 7.4587, 11.6290, 7.4589]}),
)


def test_cpi_moves_a_norwegian_cost_to_the_price_year():
    # NOK 1,000 at 2015 prices in 2024 prices: 1,000 x 133.60 / 100 = 1,336.00
    f = price_factor(TABLES, country="NO", currency="NOK", year=2015, price_year=2024,
                     to_currency="local")
    assert 1000 * f == pytest.approx(1336.00)


def test_the_prison_day_of_2020_in_2024_prices():
    # NOK 3,181 (2020) x 133.60 / 112.17 = 3,788.72
    f = price_factor(TABLES, country="NO", currency="NOK", year=2020, price_year=2024,
                     to_currency="NOK")
    assert 3181 * f == pytest.approx(3181 * 133.60 / 112.17)
    assert 3181 * f == pytest.approx(3788.72, abs=0.01)


def test_currency_is_converted_after_inflation_at_the_price_years_rate():
    # DKK 1,878 (2015) -> 2024 DKK: 1,878 x 118.85 / 100 = 2,232.00 (2,231.998)
    # -> NOK at the 2024 rates: 2,232.00 / 7.4589 x 11.6290 = 3,479.86
    f = price_factor(TABLES, country="DK", currency="DKK", year=2015, price_year=2024,
                     to_currency="NOK")
    assert 1878 * f == pytest.approx(1878 * 1.1885 / 7.4589 * 11.6290)
    assert 1878 * f == pytest.approx(3479.86, abs=0.01)


def test_euro_results_divide_by_the_price_years_rate():
    # NOK 1,336 (2024) / 11.6290 NOK per EUR = EUR 114.88
    f = price_factor(TABLES, country="NO", currency="NOK", year=2024, price_year=2024,
                     to_currency="EUR")
    assert 1336 * f == pytest.approx(114.885, abs=0.001)


def test_an_amount_in_a_foreign_currency_is_first_made_local_at_its_own_years_rate():
    # EUR 100 for a Danish cost in 2015: x 7.4587 = DKK 745.87; x 118.85 / 100 = DKK 886.47
    f = price_factor(TABLES, country="DK", currency="EUR", year=2015, price_year=2024,
                     to_currency="local")
    assert 100 * f == pytest.approx(745.87 * 1.1885)


def test_a_price_year_beyond_the_cpi_table_is_refused_not_extrapolated():
    with pytest.raises(PriceError, match="does not extrapolate"):
        price_factor(TABLES, country="NO", currency="NOK", year=2015, price_year=2025,
                     to_currency="local")


def test_a_missing_exchange_rate_is_refused_with_the_years_available():
    with pytest.raises(PriceError, match="2015-2024"):
        price_factor(TABLES, country="NO", currency="NOK", year=2020, price_year=2020,
                     to_currency="DKK")


def test_discount_factor_by_year_since_move_in():
    # Year 0 is not discounted; year 2 at 4 %: 1 / 1.04^2 = 0.924556
    assert discount_factor(0, 0.04) == 1.0
    assert discount_factor(2, 0.04) == pytest.approx(1 / 1.04**2)
    assert discount_factor(1, 0.035) == pytest.approx(0.966184, abs=1e-6)


def test_discounted_person_years_weight_each_year():
    # Three full years at 4 %: 1 + 1/1.04 + 1/1.04^2 = 2.886095; half a year: 0.5
    days = [3 * 365.25, 182.625]
    assert discounted_years(days, 0.04).tolist() == pytest.approx([2.886095, 0.5], abs=1e-6)
    assert discounted_years([730.5], 0.0).tolist() == pytest.approx([2.0])


def test_window_months_become_days():
    assert window_days(12) == 365
    assert window_days(24) == 730
    with pytest.raises(ValueError):
        window_days(0)
