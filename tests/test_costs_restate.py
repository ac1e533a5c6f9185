"""Published cost estimates restated in another price year and currency, against hand-worked
numbers (reference values as in data/reference/cpi.csv and exchange_rates.csv)."""

from __future__ import annotations

import polars as pl
import pytest

from hfeval.costs.prices import PriceError, PriceTables
from hfeval.costs.restate import price_years, restate

TABLES = PriceTables.from_frames(
    pl.DataFrame({"country": ["NO", "NO", "DK", "DK"],
                  "year": [2015, 2024, 2015, 2024],
                  "index_value": [100.0, 133.60, 100.0, 118.85]}),
    pl.DataFrame({"year": [2015, 2015, 2024, 2024],
                  "currency": ["NOK", "DKK", "NOK", "DKK"],
                  "per_eur": [8.9496, 7.4587, 11.6290, 7.4589]}),
)

PUBLISHED = pl.DataFrame({
    "country": ["NO", "DK"],
    "currency": ["NOK", "DKK"],
    "price_year": [2024, 2024],
    "estimate": [100_000.0, 50_000.0],
    "ci_low": [-20_000.0, 10_000.0],
    "saved_per_10_spent": [12.5, 8.0],
})


def test_the_run_s_own_price_year_and_currency_change_nothing():
    out = restate(PUBLISHED, TABLES, price_year=2024, currency="local",
                  columns=["estimate", "ci_low"])
    assert out.equals(PUBLISHED)


def test_both_countries_in_euro_at_the_price_year_s_rate():
    # NOK 100,000 / 11.6290 = EUR 8,599.19; DKK 50,000 / 7.4589 = EUR 6,703.40
    out = restate(PUBLISHED, TABLES, price_year=2024, currency="EUR", columns=["estimate"])
    assert out["estimate"].to_list() == pytest.approx([8599.19, 6703.40], abs=0.01)
    assert out["currency"].to_list() == ["EUR", "EUR"]


def test_an_earlier_price_year_deflates_with_the_country_s_own_cpi_then_converts():
    # NO: 100,000 x 100 / 133.60 = NOK 74,850.30 (2015 prices) / 8.9496 = EUR 8,363.54
    # DK:  50,000 x 100 / 118.85 = DKK 42,069.84 (2015 prices) / 7.4587 = EUR 5,640.37
    out = restate(PUBLISHED, TABLES, price_year=2015, currency="EUR", columns=["estimate"])
    assert out["estimate"].to_list() == pytest.approx([8363.54, 5640.37], abs=0.01)
    assert out["price_year"].to_list() == [2015, 2015]


def test_confidence_limits_move_with_the_estimate_and_ratios_stay():
    # -20,000 NOK x 100 / 133.60 = -14,970.06 NOK at 2015 prices
    out = restate(PUBLISHED, TABLES, price_year=2015, currency="local",
                  columns=["estimate", "ci_low"])
    assert out["ci_low"][0] == pytest.approx(-14970.06, abs=0.01)
    assert out["saved_per_10_spent"].to_list() == [12.5, 8.0]


def test_a_danish_amount_in_norwegian_kroner():
    # DKK 50,000 / 7.4589 x 11.6290 = NOK 77,953.85 (2024 rates)
    out = restate(PUBLISHED.filter(pl.col("country") == "DK"), TABLES, price_year=2024,
                  currency="NOK", columns=["estimate"])
    assert out["estimate"][0] == pytest.approx(77953.85, abs=0.01)
    assert out["currency"][0] == "NOK"


def test_a_price_year_without_a_cpi_value_is_refused():
    with pytest.raises(PriceError, match="cpi"):
        restate(PUBLISHED, TABLES, price_year=2019, currency="local", columns=["estimate"])


def test_only_years_with_cpi_and_rates_are_offered():
    sources = [("NO", "NOK", 2024), ("DK", "DKK", 2024)]
    assert price_years(TABLES, sources, "EUR") == [2015, 2024]
    rates_2024_only = PriceTables(TABLES.cpi, {k: v for k, v in TABLES.per_eur.items()
                                               if k[0] == 2024})
    assert price_years(rates_2024_only, sources, "EUR") == [2024]
    assert price_years(rates_2024_only, sources, "local") == [2015, 2024]
