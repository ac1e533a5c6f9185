"""hfeval.charts, as the dashboard uses them: every builder makes a valid Vega-Lite spec (the
dashboard draws specs without validating them at each rerun), and a chart carries its rows as
plain records. Tiny inline frames.
"""

from __future__ import annotations

from collections.abc import Callable

import altair as alt
import polars as pl
import pytest

from hfeval import charts

CURVE = pl.DataFrame({"group": ["Housing First", "Housing First", "Sammenligning"],
                      "months": [0.0, 6.0, 0.0], "survival": [1.0, 0.9, 1.0],
                      "ci_lower": [1.0, 0.85, 1.0], "ci_upper": [1.0, 0.95, 1.0]})
BARS = pl.DataFrame({"label": ["Kommune", "Spesialisthelse"], "group": ["HF", "HF"],
                     "estimate": [1200.0, -300.0], "ci_low": [800.0, -500.0],
                     "ci_high": [1600.0, -100.0]})
TORNADO = pl.DataFrame({"variable": ["Enhetskostnad", "Diskonteringsrente"],
                        "net_saving_low": [900.0, 1100.0], "net_saving_high": [1500.0, 1300.0]})

BUILDERS: dict[str, Callable[[], alt.TopLevelMixin]] = {
    "survival_curves": lambda: charts.survival_curves(
        CURVE, x_title="Måneder", y_title="Andel", group_title="Gruppe", lang="nb",
        tooltip_extra=[alt.Tooltip("months:Q", title="Måneder")]),
    "survival_lines": lambda: charts.survival_lines(
        CURVE, x_title="Måneder", y_title="Andel", group_title="Gruppe", lang="nb"),
    "bars_with_ci": lambda: charts.bars_with_ci(
        BARS, category="label", value="estimate", low="ci_low", high="ci_high",
        value_title="Kroner", category_title="Sektor", lang="nb", color="group",
        color_title="Gruppe", zero_line=True, group_order=["HF"]),
    "grouped_columns": lambda: charts.grouped_columns(
        BARS, x="label", value="estimate", group="group", x_title="Sektor",
        value_title="Kroner", group_title="Gruppe", lang="da", target="ci_high",
        target_title="Mål"),
    "points_with_ci": lambda: charts.points_with_ci(
        BARS, x="label", value="estimate", low="ci_low", high="ci_high", group="group",
        x_title="Bølge", value_title="Endring", group_title="Gruppe", lang="en"),
    "tornado": lambda: charts.tornado(
        TORNADO, base_value=1200.0, variable_title="", value_title="Kroner",
        low_title="Lav", high_title="Høy", lang="nb"),
    "diverging_bars": lambda: charts.diverging_bars(
        BARS, category="label", value="estimate", low="ci_low", high="ci_high",
        category_title="Sektor", value_title="Kroner", positive_label="Sparer",
        negative_label="Betaler mer", lang="nb"),
    "bars_with_target": lambda: charts.bars_with_target(
        BARS, category="label", value="estimate", target=1000.0, category_title="Område",
        value_title="Besøk", target_title="Mål", lang="nb"),
    "grouped_bars_with_reference": lambda: charts.grouped_bars_with_reference(
        BARS, category="label", value="estimate", reference=61.0, category_title="Gruppe",
        value_title="Dager", reference_title="Grense", lang="nb"),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_every_builder_makes_a_valid_vega_lite_spec(name):
    BUILDERS[name]().to_dict(validate=True)  # raises on a spec the schema does not allow


def test_a_chart_carries_its_rows_as_plain_records():
    spec = charts.survival_lines(CURVE, x_title="Måneder", y_title="Andel",
                                 group_title="Gruppe", lang="nb").to_dict()
    assert list(spec["datasets"].values()) == [CURVE.to_dicts()]
