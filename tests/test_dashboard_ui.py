"""dashboard/ui.py without a running app: how a table's cells are made, drawn and downloaded, and
how charts are reused. Tiny inline frames, the expected text beside them.

ui.lang() reads the reader's language from the Streamlit session; here it is set by hand.
"""

from __future__ import annotations

import csv
import gc
import io
from collections import OrderedDict

import altair as alt
import polars as pl
import pytest

from hfeval import i18n
from tests.test_dashboard_apptest import _TableReader, dashboard_ui


@pytest.fixture
def ui(monkeypatch):
    module = dashboard_ui()
    monkeypatch.setattr(module, "lang", lambda: "nb")
    monkeypatch.setattr(module, "_CHARTS", OrderedDict())  # no chart made by another test
    return module


def read_table(html: str) -> dict[str, list]:
    reader = _TableReader()
    reader.feed(html)
    assert len(reader.tables) == 1, "expected one table"
    return reader.tables[0]


# ---- cells ----------------------------------------------------------------------------------------


def test_a_suppressed_cell_shows_the_word_not_its_value(ui):
    frame = pl.DataFrame({"n": [1234, None], "n_suppressed": [False, True]})
    shown = ui.display_frame(frame, [ui.Col("n", "Personer", "count")])
    assert shown["Personer"].to_list() == [i18n.fmt_int(1234, "nb"),
                                          i18n.t("common.suppressed", "nb")]


def test_a_suppressed_cell_is_not_formatted_at_all(ui, monkeypatch):
    formatted = []
    real = ui.fmt
    monkeypatch.setattr(ui, "fmt", lambda v, k, *lg: formatted.append(v) or real(v, k, *lg))
    frame = pl.DataFrame({"n": [40, 3], "n_suppressed": [False, True]})
    ui.display_frame(frame, [ui.Col("n", "Personer", "count")])
    assert formatted == [40]


def test_each_distinct_value_is_formatted_once_however_many_cells_show_it(ui, monkeypatch):
    formatted = []
    real = ui.fmt
    monkeypatch.setattr(ui, "fmt", lambda v, k, *lg: formatted.append(v) or real(v, k, *lg))
    frame = pl.DataFrame({"n": [10, 10, 20, 10]})
    shown = ui.display_frame(frame, [ui.Col("n", "Personer", "count")])
    assert shown["Personer"].to_list() == ["10", "10", "20", "10"]
    assert sorted(formatted) == [10, 20]


def test_a_missing_or_not_a_number_value_shows_a_dash(ui):
    frame = pl.DataFrame({"share": [0.5, None, float("nan")]})
    shown = ui.display_frame(frame, [ui.Col("share", "Andel", "pct")])
    assert shown["Andel"].to_list() == [i18n.fmt_pct(0.5, "nb"), "–", "–"]


def test_a_column_the_frame_lacks_shows_a_dash(ui):
    frame = pl.DataFrame({"area": ["Hamar"]})
    shown = ui.display_frame(frame, [ui.Col("area", "Område"), ui.Col("n", "Personer", "count")])
    assert shown.row(0) == ("Hamar", "–")


def test_a_code_is_shown_in_the_readers_language(ui):
    frame = pl.DataFrame({"arm": ["housing_first", "comparison"]})
    shown = ui.display_frame(frame, [ui.Col("arm", "Gruppe", "code:arm")])
    assert shown["Gruppe"].to_list() == [i18n.t("common.arm.housing_first", "nb"),
                                        i18n.t("common.arm.comparison", "nb")]


# ---- the static table ---------------------------------------------------------------------------


def test_a_static_table_has_the_labels_as_header_and_one_row_per_row(ui):
    shown = pl.DataFrame({"Område": ["Hamar", "Odense"], "Personer": ["40", "skjult"]})
    table = read_table(ui.table_html(shown))
    assert table["header"] == ["Område", "Personer"]
    assert table["rows"] == [["Hamar", "40"], ["Odense", "skjult"]]


def test_a_static_table_shows_markup_and_list_markers_as_plain_text(ui):
    shown = pl.DataFrame({"Tekst": ["<b>Oslo</b>", "30. september", "-4 000"]})
    html = ui.table_html(shown)
    assert "<b>" not in html
    assert read_table(html)["rows"] == [["<b>Oslo</b>"], ["30. september"], ["-4 000"]]


# ---- the CSV download ---------------------------------------------------------------------------


def test_the_csv_names_codes_in_the_language_of_the_script_run_not_of_the_click(ui,
                                                                              monkeypatch):
    frame = pl.DataFrame({"arm": ["housing_first"], "n": [None], "n_suppressed": [True]})
    cols = [ui.Col("arm", "Gruppe", "code:arm"), ui.Col("n", "Personer", "count")]
    labels = ui._code_labels(frame, cols)  # in the script run: Norwegian
    monkeypatch.setattr(ui, "lang", lambda: "en")  # the click is served outside the run
    text = ui._csv_bytes(frame, tuple(cols), "skjult", labels).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["Gruppe", "Personer"], [i18n.t("common.arm.housing_first", "nb"), "skjult"]]


# ---- charts -------------------------------------------------------------------------------------


def bar_chart(df: pl.DataFrame, *, title: str) -> alt.Chart:
    bar_chart.calls += 1
    return alt.Chart({"values": df.to_dicts()}).mark_bar().encode(x="n:Q", y="area:N") \
        .properties(title=title)


def test_the_same_data_and_arguments_give_the_chart_already_made(ui):
    bar_chart.calls = 0
    frame = pl.DataFrame({"area": ["Hamar", "Odense"], "n": [40, 55]})
    first = ui.chart(bar_chart, frame, title="Bosatt")
    again = ui.chart(bar_chart, frame.clone(), title="Bosatt")
    assert again is first and bar_chart.calls == 1


def test_other_data_or_another_title_make_a_new_chart(ui):
    bar_chart.calls = 0
    frame = pl.DataFrame({"area": ["Hamar", "Odense"], "n": [40, 55]})
    ui.chart(bar_chart, frame, title="Bosatt")
    ui.chart(bar_chart, frame.with_columns(pl.col("n") + 5), title="Bosatt")
    ui.chart(bar_chart, frame, title="Bosatt i alt")
    assert bar_chart.calls == 3


def test_a_chart_fills_the_column_and_keeps_its_own_height(ui):
    chart = alt.Chart({"values": [{"n": 1}]}).mark_bar().encode(x="n:Q") \
        .properties(height=120)
    spec = ui.chart_spec(chart)
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert spec["height"] == 120
    assert "continuousWidth" not in spec.get("config", {}).get("view", {})


# ---- the process --------------------------------------------------------------------------------


def test_objects_loaded_at_start_up_are_left_out_of_garbage_collection(ui):
    assert gc.get_freeze_count() > 0
