"""Planted identifiers and values never reach the screen, the run log, the manifest, the Data
Docs or the publishable database, whatever the corpus throws at the pipeline; the run log is
structured and holds names, counts and timings."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from hfeval import logging as hflog
from tests import synthetic_ids as ids
from tests.corpus import runner
from tests.test_corpus import CASES, _params


def _digits(d: str) -> str:
    return rf"(?<![0-9]){d}(?![0-9])"


# Label -> pattern. Labels (never the values) go into assert messages.
PLANTED = {
    "fødselsnummer": re.compile("|".join(_digits(v) for v in (
        runner.FNR, runner.FNR[1:], re.escape(runner.FNR[:6] + " " + runner.FNR[6:])))),
    "D-number": re.compile(_digits(runner.DNR)),
    "CPR number": re.compile("|".join(_digits(v) for v in (runner.CPR,
                                                             runner.CPR.replace("-", "")))),
    "phone number": re.compile("|".join(_digits(v) for v in (
        re.escape(ids.PHONE_NO), "91234567", "912 34 567", ids.PHONE_DK_DIGITS, "22 33 44 55",
        "22334455", "33 12 34 56", "33123456"))),
    "e-mail": re.compile(re.escape(ids.EMAIL), re.IGNORECASE),
    "participant id": re.compile(re.escape(runner.PLANTED_PID), re.IGNORECASE),
    "name": re.compile(r"Planteland", re.IGNORECASE),
    "code value": re.compile(r"ZZPLANTED|Housing Led", re.IGNORECASE),
    "bad date": re.compile(r"31\.02\.2014|2012-13-01"),
    "absurd quantity": re.compile(_digits("98765432")),
    "formula": re.compile(r"HYPERLINK", re.IGNORECASE),
}


def leaked(text: str) -> list[str]:
    return [label for label, pattern in PLANTED.items() if pattern.search(text)]


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory) -> Path:
    # One fixed folder per session, shared by test_corpus.py and test_log_privacy.py: each case
    # runs once (runner.py caches the outcomes by case and folder).
    return tmp_path_factory.getbasetemp() / "corpus"


def _publishable_text(out: runner.Outcome) -> str:
    """Every text value of the publishable database (what the dashboard can show)."""
    db = out.out_dir / "warehouse" / "hfeval_publish.duckdb"
    parts = []
    with duckdb.connect(str(db), read_only=True) as con:
        cols = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR'"
        ).fetchall()
        for t, c in cols:
            rows = con.execute(f'select distinct "{c}" from "{t}"').fetchall()
            parts += [str(r[0]) for r in rows if r[0] is not None]
    return "\n".join(parts)


@pytest.mark.parametrize("case", _params(CASES))
def test_no_planted_value_reaches_screen_log_manifest_or_data_docs(case, corpus_root):
    out = runner.run_case(case, corpus_root)
    assert {name: leaked(text) for name, text in out.texts.items() if leaked(text)} == {}


@pytest.mark.parametrize("case", _params([c for c in CASES if c.exit == 0]))
def test_no_planted_row_value_reaches_the_publishable_database(case, corpus_root):
    out = runner.run_case(case, corpus_root)
    # The name and the formulas are planted in free-text notes: see the next test.
    assert [x for x in leaked(_publishable_text(out)) if x not in ("name", "formula")] == []


@pytest.mark.slow
def test_free_text_notes_never_reach_the_publishable_database(corpus_root):
    out = runner.run_case(runner.case("clean_base"), corpus_root)
    assert "name" not in leaked(_publishable_text(out))


@pytest.mark.slow
def test_the_planted_values_are_in_the_inputs_so_the_scan_can_find_them(corpus_root):
    found: set[str] = set()
    for case in CASES:
        if case.slow:
            continue
        runner.run_case(case, corpus_root)
        for p in (corpus_root / case.id / "data").rglob("*"):
            if p.is_file() and p.suffix == ".csv":
                found.update(leaked(p.read_text(encoding="utf-8", errors="replace")))
    # Excel-only values (the number typed into a cell) are covered by the fødselsnummer forms.
    assert found == set(PLANTED)


@pytest.mark.slow
def test_the_planted_participant_id_is_where_it_belongs(corpus_root):
    """Control: the id reached the person-level warehouse, so its absence elsewhere means
    something."""
    out = runner.run_case(runner.case("clean_base"), corpus_root)
    with duckdb.connect(str(out.warehouse), read_only=True) as con:
        ids_ = [r[0] for r in con.execute("select participant_id from valid_participants")
                .fetchall()]
    assert runner.PLANTED_PID in ids_


# ---- the run log ---------------------------------------------------------------------------------


def _events(out: runner.Outcome) -> list[dict]:
    return hflog.read_events(out.run_dir / "log.jsonl")


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, str | int | float | bool | None)


@pytest.mark.slow
def test_the_run_log_has_each_step_with_its_timing_and_each_table_with_its_counts(corpus_root):
    out = runner.run_case(runner.case("clean_base"), corpus_root)
    events = _events(out)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end"
    done = {e["step"]: e["seconds"] for e in events if e["event"] == "step_done"}
    assert {"discover", "load", "validate", "data docs", "publish"} <= set(done)
    assert all(isinstance(s, float | int) and s >= 0 for s in done.values())
    validated = {e["table"]: e for e in events if e["event"] == "table_validated"}
    assert set(validated) == set(out.manifest["tables"])
    for table, counts in out.manifest["tables"].items():
        assert {k: validated[table][k] for k in counts} == counts
    loaded = [e for e in events if e["event"] == "file_loaded"]
    assert sorted(e["file"] for e in loaded) == sorted(i["path"] for i in out.manifest["inputs"])
    assert events[-1]["exit_code"] == 0 and events[-1]["tables"] == out.manifest["tables"]
    assert len({e["run_id"] for e in events}) == 1


def test_the_run_log_of_a_refused_file_names_file_column_and_kind(corpus_root):
    out = runner.run_case(runner.case("fnr_in_participant_id"), corpus_root)
    events = _events(out)
    (stop,) = [e for e in events if e["event"] == "guard" and e["findings"]]
    assert stop["file"] == "participants.csv (participants)"
    assert stop["findings"] == [{"column": "participant_id", "kind": "fodselsnummer", "rows": 1}]
    assert events[-1]["event"] == "run_end" and events[-1]["exit_code"] == 5


def test_every_log_event_holds_only_plain_names_counts_and_timings(corpus_root):
    out = runner.run_case(runner.case("phone_column"), corpus_root)
    events = _events(out)
    assert events and all(_plain(e) for e in events)
    assert all({"ts", "t", "run_id", "event"} <= set(e) for e in events)
