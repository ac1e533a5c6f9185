"""Translations (Norwegian bokmål, Danish, English) and locale-aware number and date formatting.

Texts live in `src/hfeval/locales/<lang>/<namespace>.yaml`, one file per namespace (`common`,
`dashboard`, `report`, ...) so that the dashboard and the report can be translated separately.
A key is `<namespace>.<dotted.path>`: `t("dashboard.overview.title", "nb")`. Every key must exist
in every language (tests/test_i18n.py checks it); a missing key at run time shows the key itself
rather than failing, so a forgotten translation is visible but never breaks a meeting.

Numbers and dates are formatted by Babel (CLDR): `1 234,5` in nb, `1.234,5` in da, `1,234.5` in en.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import cache
from importlib import resources
from typing import Any

import yaml
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

LANGS: tuple[str, ...] = ("nb", "da", "en")
DEFAULT_LANG = "en"
# CLDR locales: Norwegian bokmål as used in Norway, Danish in Denmark, English with day-month dates.
LOCALES = {"nb": "nb_NO", "da": "da_DK", "en": "en_GB"}
LANGUAGE_NAMES = {"nb": "Norsk bokmål", "da": "Dansk", "en": "English"}


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = str(node)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All texts of one language, keyed `<namespace>.<dotted.path>`."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    out: dict[str, str] = {}
    folder = resources.files("hfeval") / "locales" / lang
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            _flatten(entry.name.removesuffix(".yaml"), yaml.safe_load(entry.read_text("utf-8")),
                     out)
    return out


@cache
def namespaces() -> frozenset[str]:
    """The locale files of the default language: `common`, `dashboard`, `report`, ..."""
    folder = resources.files("hfeval") / "locales" / DEFAULT_LANG
    return frozenset(e.name.removesuffix(".yaml") for e in folder.iterdir()
                     if e.name.endswith(".yaml"))


def normalise_lang(lang: str | None) -> str:
    """Map user input (`nb`, `no`, `nob`, `da-DK`, `EN`) onto a supported language."""
    if not lang:
        return DEFAULT_LANG
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return {"no": "nb", "nob": "nb", "nn": "nb", "dan": "da", "eng": "en"}.get(code, code) \
        if code not in LANGS else code


def t(key: str, lang: str, **kwargs: Any) -> str:
    """The text for `key` in `lang`, with `{placeholders}` filled from kwargs."""
    text = catalogue(lang).get(key)
    if text is None:
        return key
    return text.format(**kwargs) if kwargs else text


def has(key: str, lang: str) -> bool:
    return key in catalogue(lang)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_int(value: Any, lang: str) -> str:
    if _missing(value):
        return "–"
    return babel_numbers.format_decimal(round(value), locale=LOCALES[lang])


def fmt_num(value: Any, lang: str, decimals: int = 1) -> str:
    if _missing(value):
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=LOCALES[lang])


def fmt_pct(share: Any, lang: str, decimals: int = 0) -> str:
    """A share (0.927) as a percentage in the locale's style (93 %, 93 %, 93%)."""
    if _missing(share):
        return "–"
    # The locale's own pattern keeps its spacing ("93 %" in nb and da, "93%" in en).
    pattern = Locale.parse(LOCALES[lang]).percent_formats[None].pattern
    if decimals:
        pattern = re.sub(r"#,##0(?!\.)", "#,##0." + "0" * decimals, pattern, count=1)
    return babel_numbers.format_percent(share, format=pattern, locale=LOCALES[lang])


def fmt_money(value: Any, lang: str, currency: str, decimals: int = 0) -> str:
    """An amount with its currency code after the number (`68 434 NOK`), the Nordic convention."""
    if _missing(value):
        return "–"
    return f"{fmt_num(value, lang, decimals)}\u00a0{currency}"


def fmt_date(value: dt.date | dt.datetime | str | None, lang: str) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return babel_dates.format_date(value, format="long", locale=LOCALES[lang])


def fmt_datetime(value: dt.datetime | str | None, lang: str) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return babel_dates.format_datetime(value, format="medium", locale=LOCALES[lang])


def number_format(lang: str) -> dict[str, Any]:
    """A d3-format locale for Altair/Vega-Lite charts, so axes use the locale's separators."""
    symbols = babel_numbers.get_decimal_symbol(LOCALES[lang]), \
        babel_numbers.get_group_symbol(LOCALES[lang])
    return {"decimal": symbols[0], "thousands": symbols[1], "grouping": [3],
            "currency": ["", ""]}
