"""Synthetic Norwegian and Danish identity numbers for tests, made with our own check-digit code.

They are valid in form (date, check digits) but belong to nobody: every one has a birth date in
2035 by the official century rules (fødselsnummer: individual number 500-999 with year 00-39
means 2000-2039; CPR: 7th digit 4 with year 00-36 means 2000-2036), so no living person has it.
"""

from __future__ import annotations

W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
YEAR = 35  # born 2035


def _check(digits: list[int], weights: tuple[int, ...]) -> int:
    """Mod-11 check digit; 10 means no valid digit exists for these digits."""
    r = 11 - sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if r == 11 else r


def check_digits(first_nine: str) -> str | None:
    """The two check digits of a fødselsnummer, or None if the nine digits admit none."""
    ds = [int(c) for c in first_nine]
    k1 = _check(ds, W1)
    if k1 == 10:
        return None
    k2 = _check([*ds, k1], W2)
    return None if k2 == 10 else f"{k1}{k2}"


def fodselsnummer(day: int = 1, month: int = 1, year: int = YEAR, start: int = 500) -> str:
    """The first valid fødselsnummer with this date and an individual number >= start."""
    for individual in range(start, 1000):
        base = f"{day:02d}{month:02d}{year:02d}{individual:03d}"
        k = check_digits(base)
        if k is not None:
            return base + k
    raise ValueError("no valid individual number left")


def d_number(day: int = 1, month: int = 1, year: int = YEAR, start: int = 500) -> str:
    """A D-number: a fødselsnummer whose first digit is raised by 4 (day + 40)."""
    return fodselsnummer(day + 40, month, year, start)


def with_wrong_check_digit(fnr: str) -> str:
    return fnr[:10] + str((int(fnr[10]) + 1) % 10)


def cpr(day: int = 1, month: int = 1, year: int = YEAR, serial: int = 4321) -> str:
    """A Danish CPR number DDMMYY-SSSS; a serial starting with 4 and year <= 36 means 20yy."""
    assert str(serial).startswith("4") and year <= 36
    return f"{day:02d}{month:02d}{year:02d}-{serial:04d}"


PHONE_NO = "+47 912 34 567"  # formatted Norwegian mobile number (a fictitious one)
PHONE_DK_DIGITS = "41234567"
EMAIL = "ola.planteland@example.invalid"
