"""Published cost estimates restated in another price year and currency.

The cost marts are published in the run's `costs.currency` and `costs.price_year` (their
`currency` and `price_year` columns). A reader may want them in another price year or
currency (a Danish and a Norwegian municipality side by side in EUR, or last year's prices
for a budget). Every published amount is a linear function of the underlying costs, all at
one price year and currency, so restating is one factor per row: the same rules as the
costing itself (prices.py: CPI of the country where the cost arose, then the annual mean
exchange rate of the new price year). Confidence limits scale with the estimate (a positive
factor keeps percentile and BCa intervals what they were); ratios and counts of people
(saved per 10 spent, break-even participants) do not change and are not passed in `columns`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from hfeval.costs.prices import PriceError, PriceTables, price_factor, target_currency


def restate(
    df: pl.DataFrame, tables: PriceTables, *, price_year: int, currency: str,
    columns: Sequence[str],
) -> pl.DataFrame:
    """`df` (columns country, currency, price_year and the amounts in `columns`) with the
    amounts in `currency` (NOK, DKK, EUR or local) at `price_year` prices, and its currency
    and price_year columns updated. Raises PriceError when a reference table lacks a year."""
    if df.is_empty():
        return df
    sources = df.select("country", "currency", "price_year").unique()
    factors = sources.with_columns(
        pl.Series("_factor", [
            price_factor(tables, country=r["country"], currency=r["currency"],
                         year=int(r["price_year"]), price_year=price_year, to_currency=currency)
            for r in sources.iter_rows(named=True)], dtype=pl.Float64),
        pl.Series("_currency", [target_currency(r["country"], currency)
                                for r in sources.iter_rows(named=True)], dtype=pl.String),
    )
    out = df.join(factors, on=["country", "currency", "price_year"], how="left")
    return out.with_columns(
        *(pl.col(c) * pl.col("_factor") for c in columns),
        pl.col("_currency").alias("currency"),
        pl.lit(price_year, dtype=df.schema["price_year"]).alias("price_year"),
    ).drop("_factor", "_currency")


def price_years(tables: PriceTables, sources: Iterable[tuple[str, str, int]],
                currency: str) -> list[int]:
    """The price years every (country, currency, price year) source can be restated to in
    `currency`: years of the CPI tables for which the needed exchange rates exist too."""
    sources = list(sources)
    years = sorted({y for _, y in tables.cpi})
    out = []
    for year in years:
        try:
            for country, cur, from_year in sources:
                price_factor(tables, country=country, currency=cur, year=int(from_year),
                             price_year=year, to_currency=currency)
        except (PriceError, KeyError):
            continue
        out.append(year)
    return out
