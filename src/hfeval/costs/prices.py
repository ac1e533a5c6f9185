"""Price year, currency and discounting: the three ways one krone is not another.

Rules (stated in every output that uses them):

- **Price year.** An amount priced in year y is moved to the price year Y with the consumer
  price index of the country where the cost arose: amount x CPI[Y] / CPI[y]. hfeval never
  extrapolates an index: a year the CPI table lacks is refused with a message saying which
  years it has and where to add the missing one (DATA/reference/cpi.csv).
- **Currency.** After the price-year adjustment, amounts are converted at the annual mean
  exchange rate of the *price year* (units per EUR, exchange_rates.csv):
  amount x rate[target, Y] / rate[local, Y]. An amount recorded in a currency other than its
  country's own is first converted to the local currency at its own year's rate, then
  inflated. `local` keeps each country's own currency.
- **Discounting.** A cost in year k after the anchor (k = 0 for the first 12 months after
  move-in or enrolment) is multiplied by (1 + r)^-k, with r the country's rate (Norway 4 %,
  Finansdepartementet R-109; Denmark 3.5 % for years 0-35, Finansministeriet). Costs before
  the anchor are the baseline and are not discounted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

LOCAL = "local"
COUNTRY_CURRENCY = {"NO": "NOK", "DK": "DKK"}
DAYS_PER_YEAR = 365.25


class PriceError(ValueError):
    """A price year, currency or rate the reference tables cannot supply (safe to print)."""


@dataclass(frozen=True)
class PriceTables:
    """CPI (country, year -> index) and exchange rates (year, currency -> units per EUR)."""

    cpi: dict[tuple[str, int], float]
    per_eur: dict[tuple[int, str], float]

    @classmethod
    def from_frames(cls, cpi: pl.DataFrame, rates: pl.DataFrame) -> PriceTables:
        return cls(
            cpi={(r["country"], int(r["year"])): float(r["index_value"])
                 for r in cpi.iter_rows(named=True)},
            per_eur={(int(r["year"]), r["currency"]): float(r["per_eur"])
                     for r in rates.iter_rows(named=True)},
        )

    def cpi_years(self, country: str) -> list[int]:
        return sorted(y for c, y in self.cpi if c == country)

    def index(self, country: str, year: int) -> float:
        try:
            return self.cpi[(country, int(year))]
        except KeyError:
            years = self.cpi_years(country)
            have = f"{years[0]}-{years[-1]}" if years else "no years"
            raise PriceError(
                f"no consumer price index for {country} in {year} (cpi has {have}); hfeval "
                "does not extrapolate price indices: add the year to DATA/reference/cpi.csv "
                "or choose a price year within the range"
            ) from None

    def rate(self, year: int, currency: str) -> float:
        if currency == "EUR":
            return 1.0
        try:
            return self.per_eur[(int(year), currency)]
        except KeyError:
            years = sorted(y for y, c in self.per_eur if c == currency)
            have = f"{years[0]}-{years[-1]}" if years else "no years"
            raise PriceError(
                f"no exchange rate for {currency} in {year} (exchange_rates has {have}); add "
                "it to DATA/reference/exchange_rates.csv or choose another price year"
            ) from None


def target_currency(country: str, currency: str) -> str:
    """The currency results are shown in: `currency`, or the country's own for `local`."""
    return COUNTRY_CURRENCY[country] if currency == LOCAL else currency


def price_factor(
    tables: PriceTables, *, country: str, currency: str, year: int, price_year: int,
    to_currency: str,
) -> float:
    """Multiply an amount in `currency` at `year` prices, for a cost arising in `country`, by
    this to get it in `to_currency` (or local) at `price_year` prices (rules in the module
    docstring)."""
    local = COUNTRY_CURRENCY[country]
    factor = 1.0
    if currency != local:
        factor *= tables.rate(year, local) / tables.rate(year, currency)
    factor *= tables.index(country, price_year) / tables.index(country, year)
    target = target_currency(country, to_currency)
    if target != local:
        factor *= tables.rate(price_year, target) / tables.rate(price_year, local)
    return factor


def discount_factor(year_since_anchor: int | np.ndarray, rate: float) -> float | np.ndarray:
    """(1 + rate)^-k for year k since the anchor (k = 0: the first year, not discounted)."""
    k = np.maximum(np.asarray(year_since_anchor), 0)
    out = (1.0 + rate) ** (-k.astype(float))
    return float(out) if np.ndim(out) == 0 else out


def discounted_years(days_observed: np.ndarray, rate: float) -> np.ndarray:
    """Person-years after the anchor, each year k weighted by (1 + rate)^-k.

    `days_observed` days from the anchor are split into years of 365.25 days; for rate 0
    this is days_observed / 365.25."""
    days = np.asarray(days_observed, dtype=float)
    if days.size == 0:
        return days
    n_years = max(1, math.ceil(float(days.max()) / DAYS_PER_YEAR))
    out = np.zeros_like(days)
    for k in range(n_years):
        lo = k * DAYS_PER_YEAR
        in_year = np.clip(days - lo, 0.0, DAYS_PER_YEAR)
        out += in_year * (1.0 + rate) ** (-k)
    return out / DAYS_PER_YEAR


def window_days(months: int) -> int:
    """Length of a window of `months` months in days: months x 365.25 / 12, rounded
    (12 -> 365, 24 -> 730)."""
    if months <= 0:
        raise ValueError(f"costs.window_months must be positive, got {months}")
    return round(months * DAYS_PER_YEAR / 12)
