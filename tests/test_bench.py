"""The `make bench` runner's bookkeeping (benchmarks/bench.py): stages, ratios, the report."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load("bench")


def _row(participants: int, events: int, hfeval_s: float, pandas_s: float | None = None) -> dict:
    return {"participants": participants, "service_events": events, "hfeval_s": hfeval_s,
            "hfeval_cpu_s": hfeval_s, "pandas_s": pandas_s, "floor_s": 1.0,
            "hfeval_peak_gib": 1.0, "same_marts_s": hfeval_s / 2,
            "stages_s": dict.fromkeys(bench.STAGES, 0.0)}


def test_manifest_steps_are_summed_into_stages():
    manifest = {"steps": [
        {"step": "discover", "seconds": 0.5}, {"step": "load", "seconds": 10},
        {"step": "validate", "seconds": 4}, {"step": "data docs", "seconds": 2},
        {"step": "stg_a", "seconds": 3, "layer": "staging"},
        {"step": "mart_b", "seconds": 5, "layer": "marts"},
        {"step": "publish", "seconds": 1}, {"step": "notebooks", "seconds": 7},
    ]}

    assert bench.stage_times(manifest) == {"load": 10.5, "validate": 6.0, "transform": 8.0,
                                           "publish": 1.0, "report": 7.0}


def test_growth_exponent_is_the_log_log_slope_between_the_two_largest_sizes():
    rows = [_row(10, 100, 1.0), _row(100, 1_000, 3.0), _row(1_000, 10_000, 30.0)]

    assert bench.growth(rows, "hfeval_s") == pytest.approx(1.0)  # 10x events, 10x time


def test_growth_is_unknown_with_one_size():
    assert bench.growth([_row(10, 100, 1.0)], "hfeval_s") is None


def test_pandas_beyond_the_largest_size_run_is_extrapolated_in_events_and_marked():
    rows = [_row(10, 100, 1.0, pandas_s=2.0), _row(100, 1_000, 5.0)]

    bench.extrapolate_pandas(rows)

    assert rows[1]["pandas_s"] == pytest.approx(20.0)
    assert rows[1]["pandas_extrapolated"] is True
    assert not rows[0].get("pandas_extrapolated")


def test_the_table_marks_extrapolated_pandas_times():
    rows = [_row(10, 100, 1.0, pandas_s=2.0), _row(100, 1_000, 5.0)]
    bench.extrapolate_pandas(rows)

    head, body = bench.table_rows(rows)

    pandas_col = head.index("pandas s")
    assert body[0][pandas_col] == "2.0"
    assert body[1][pandas_col] == "~20.0"


def test_same_marts_counts_load_validate_and_the_models_the_pandas_marts_read(tmp_path):
    steps = [{"step": "load", "seconds": 1.0}, {"step": "validate", "seconds": 2.0},
             {"step": "stg_participants", "seconds": 4.0, "layer": "staging"},
             {"step": "mart_overview_by_municipality", "seconds": 8.0, "layer": "marts"},
             {"step": "mart_fidelity", "seconds": 100.0, "layer": "marts"},
             {"step": "publish", "seconds": 50.0}]
    spec = tmp_path / "pipeline.yaml"
    spec.write_text("models:\n"
                    "  - {name: stg_participants, inputs: [valid_participants]}\n"
                    "  - {name: mart_participants, inputs: [stg_participants]}\n"
                    "  - {name: mart_overview_by_municipality, inputs: [mart_participants]}\n"
                    "  - {name: mart_fidelity, inputs: [mart_participants]}\n")

    assert bench.same_marts_seconds({"steps": steps}, spec) == 1.0 + 2.0 + 4.0 + 8.0


def test_the_generated_section_of_benchmarks_md_is_replaced_and_the_rest_kept(tmp_path,
                                                                              monkeypatch):
    md = tmp_path / "BENCHMARKS.md"
    md.write_text(f"# Title\nintro\n{bench.MD_START}\nold table\n{bench.MD_END}\nafter\n")
    monkeypatch.setattr(bench, "MARKDOWN", md)
    monkeypatch.setattr(bench, "markdown", lambda result: "new table")

    bench.write_markdown({})

    assert md.read_text() == f"# Title\nintro\n{bench.MD_START}\nnew table\n{bench.MD_END}\nafter\n"


def test_peak_memory_per_stage_comes_from_the_samples_inside_its_steps(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text(
        '{"ts": "2026-01-01T00:00:00+00:00", "event": "step_start", "step": "load"}\n'
        '{"ts": "2026-01-01T00:00:10+00:00", "event": "step_done", "step": "load"}\n'
        '{"ts": "2026-01-01T00:00:10+00:00", "event": "step_start", "step": "mart_a"}\n'
        '{"ts": "2026-01-01T00:00:20+00:00", "event": "step_done", "step": "mart_a"}\n'
    )
    t0 = 1767225600.0  # 2026-01-01T00:00:00Z
    samples = [(t0 + 1, 100), (t0 + 9, 300), (t0 + 15, 200), (t0 + 30, 999)]
    manifest = {"steps": [{"step": "load", "seconds": 10}, {"step": "mart_a", "seconds": 10,
                                                             "layer": "marts"}]}

    peaks = bench.stage_peaks(manifest, log, samples)

    assert peaks["load"] == 300
    assert peaks["transform"] == 200
    assert peaks["publish"] == 0
