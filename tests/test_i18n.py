"""Translations: every text exists in nb, da and en, with the same placeholders; numbers and dates
are formatted the way readers in Norway, Denmark and the UK expect (CLDR via Babel)."""

import datetime as dt
import string

import pytest

from hfeval import i18n


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", ["nb", "da"])
def test_every_english_key_is_translated(lang):
    missing = sorted(set(i18n.catalogue("en")) - set(i18n.catalogue(lang)))
    extra = sorted(set(i18n.catalogue(lang)) - set(i18n.catalogue("en")))
    assert not missing, f"missing in {lang}: {missing}"
    assert not extra, f"only in {lang}, not in en: {extra}"


@pytest.mark.parametrize("lang", ["nb", "da"])
def test_translations_use_the_same_placeholders(lang):
    en = i18n.catalogue("en")
    other = i18n.catalogue(lang)
    differ = [k for k in en if k in other and placeholders(en[k]) != placeholders(other[k])]
    assert not differ, f"placeholders differ from en in {lang}: {differ}"


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_no_text_is_empty_or_left_untranslated_by_accident(lang):
    empty = [k for k, v in i18n.catalogue(lang).items() if not v.strip()]
    assert not empty


@pytest.mark.parametrize("lang", ["nb", "da"])
def test_long_texts_are_not_copies_of_the_english(lang):
    # Short words (PNG, Housing First, a municipality name) may legitimately be identical.
    en = i18n.catalogue("en")
    same = [k for k, v in i18n.catalogue(lang).items() if len(v) > 25 and v == en.get(k)]
    assert not same, f"{lang} texts identical to English: {same}"


def test_a_key_is_namespace_then_path():
    assert i18n.t("common.arm.housing_first", "nb") == "Housing First"
    assert i18n.t("common.arm.comparison", "da") == "Sammenligningsgruppe"


def test_placeholders_are_filled():
    assert i18n.t("common.unit.region", "en", region="Agder") == \
        "Agder: smaller municipalities together"


def test_a_missing_key_shows_itself_rather_than_failing():
    assert i18n.t("common.no_such_key", "en") == "common.no_such_key"


@pytest.mark.parametrize(("asked", "lang"), [
    ("nb", "nb"), ("no", "nb"), ("nb-NO", "nb"), ("nn", "nb"), ("da_DK", "da"), ("EN", "en"),
    (None, "en"), ("", "en"),
])
def test_language_codes_are_normalised(asked, lang):
    assert i18n.normalise_lang(asked) == lang


@pytest.mark.parametrize(("lang", "expected"), [
    ("nb", "12\u00a0345"), ("da", "12.345"), ("en", "12,345")])
def test_thousands_separator_follows_the_locale(lang, expected):
    assert i18n.fmt_int(12345, lang) == expected


@pytest.mark.parametrize(("lang", "expected"), [
    ("nb", "1\u00a0234,6"), ("da", "1.234,6"), ("en", "1,234.6")])
def test_decimal_comma_in_norwegian_and_danish(lang, expected):
    assert i18n.fmt_num(1234.56, lang, 1) == expected


@pytest.mark.parametrize(("lang", "expected"), [
    ("nb", "92,8\u00a0%"), ("da", "92,8\u00a0%"), ("en", "92.8%")])
def test_percentages_keep_the_locale_spacing(lang, expected):
    assert i18n.fmt_pct(0.92777, lang, 1) == expected


@pytest.mark.parametrize(("lang", "expected"), [
    ("nb", "5. mars 2024"), ("da", "5. marts 2024"), ("en", "5 March 2024")])
def test_dates_are_written_out_per_locale(lang, expected):
    assert i18n.fmt_date(dt.date(2024, 3, 5), lang) == expected


def test_missing_values_are_a_dash_not_zero():
    assert i18n.fmt_int(None, "nb") == "–"
    assert i18n.fmt_pct(float("nan"), "da") == "–"


def test_money_puts_the_currency_code_after_the_amount():
    assert i18n.fmt_money(68434.2, "nb", "NOK") == "68\u00a0434\u00a0NOK"


def test_chart_number_locale_matches_the_text_formatting():
    assert i18n.number_format("da") == {"decimal": ",", "thousands": ".", "grouping": [3],
                                        "currency": ["", ""]}
