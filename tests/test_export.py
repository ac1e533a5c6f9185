"""CSV exports are safe to open in a spreadsheet: formula-looking text gets a leading quote."""

from __future__ import annotations

import csv
import io

import pandas as pd
import polars as pl
import pytest

from hfeval.export import safe_cell, safe_csv


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://example.invalid","x")', '\'=HYPERLINK("http://example.invalid","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
    ],
    ids=["equals", "plus", "minus", "at", "tab", "carriage-return"],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(cell, written):
    assert safe_cell(cell) == written


@pytest.mark.parametrize("cell", ["-5", "+3", "-0,5", "-1.25e3", "Odense", "", "a=b", "SYN-1"])
def test_numbers_and_ordinary_text_are_left_alone(cell):
    assert safe_cell(cell) == cell


def test_safe_csv_writes_every_text_cell_safely_and_numbers_as_numbers():
    frame = pl.DataFrame({"stratum": ["=1+1", "Odense", None], "n": [-5, 10, 15]})
    rows = list(csv.reader(io.StringIO(safe_csv(frame))))
    assert rows == [["stratum", "n"], ["'=1+1", "-5"], ["Odense", "10"], ["", "15"]]


def test_safe_csv_takes_a_pandas_frame_too():
    frame = pd.DataFrame({"note": ["@x", "ok"], "share": [0.5, -0.25]})
    assert safe_csv(frame) == "note,share\n'@x,0.5\nok,-0.25\n"


def test_categorical_text_is_made_safe_as_well():
    frame = pl.DataFrame({"c": ["=A1", "b"]}, schema={"c": pl.Categorical})
    assert safe_csv(frame) == "c\n'=A1\nb\n"


def test_the_retention_csv_export_goes_through_safe_csv():
    from hfeval.retention import report as retention_report
    from hfeval.retention.definitions import get_definition

    rep = retention_report.RetentionReport(
        definition=get_definition("housing_first"),
        table=pl.DataFrame({"stratum_value": ["=HYPERLINK(\"x\")", "Odense"], "n_people": [8, 9]}),
        by="municipality", months=[12.0], disclosure_control=True, threshold=7,
        rounding_base=5, synthetic=True,
    )
    rows = list(csv.reader(io.StringIO(retention_report.to_csv(rep))))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"x\")", "Odense"]
