"""The `hfeval` command line: what a user sees on screen, exit codes, and what reaches the outputs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from hfeval import __version__, contract_docs, pipeline
from hfeval.cli import app
from hfeval.config import get_paths
from tests.helpers import HOUSING_SPELLS, PARTICIPANTS, sha256, write_source

COMMANDS = ("synth", "run", "summary", "demo", "dashboard", "expectations", "docs", "costs",
            "retention", "pseudonymise", "report")


def hfeval(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_line(text: str) -> str:
    """Rich wraps piped output at a fixed width: undo it before looking for phrases."""
    return " ".join(text.split())


def printed_manifest_path(stdout: str) -> Path:
    # Rich may fold a long path over several lines: join the lines back first.
    match = re.search(r"(/\S+?manifest\.json)", stdout.replace("\n", ""))
    assert match, "no manifest path printed"
    return Path(match.group(1))


def only_manifest() -> dict:
    (path,) = get_paths().runs.glob("*/manifest.json")
    return json.loads(path.read_text(encoding="utf-8"))


# ---- version and help --------------------------------------------------------------------------


def test_version_prints_the_package_version_from_the_installed_script():
    script = Path(sys.executable).with_name("hfeval")  # the console script of this environment
    res = subprocess.run(
        [str(script), "--version"], check=False, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0
    assert res.stdout.strip() == f"hfeval {__version__}"


def test_help_lists_every_command():
    result = hfeval("--help")
    assert result.exit_code == 0
    commands_box = result.stdout.split("Commands", 1)[1]
    listed = re.findall(r"^\W ([a-z]+) {2,}", commands_box, re.MULTILINE)
    assert sorted(listed) == sorted(COMMANDS)


# ---- run -----------------------------------------------------------------------------------------


def test_run_prints_rows_per_table_and_the_manifest_it_wrote(tmp_path):
    result = hfeval("run", "--data", str(write_source(tmp_path / "data")))
    assert result.exit_code == 0
    assert "Rows per input table" in result.stdout
    participants_row = next(ln for ln in result.stdout.splitlines() if "participants" in ln)
    assert re.findall(r"\d+", participants_row) == ["8", "8", "0", "0"]  # read/loaded/quar./repl.
    assert "succeeded" in result.stdout
    assert printed_manifest_path(result.stdout).exists()


def test_run_on_input_without_a_required_column_exits_2_and_keeps_the_warehouse(tmp_path):
    paths = get_paths()
    assert pipeline.run(write_source(tmp_path / "good"), paths=paths).exit_code == 0
    before = (sha256(paths.warehouse), sha256(paths.publish_db))
    no_sex = "".join(
        ",".join(f for i, f in enumerate(line.split(",")) if i != 3) + "\n"
        for line in PARTICIPANTS.splitlines()
    )
    result = hfeval("run", "--data", str(write_source(tmp_path / "broken", participants=no_sex)))
    assert result.exit_code == 2
    message = one_line(result.stderr)
    assert "participants" in message and "'sex'" in message
    assert "expect_column_to_exist" in message
    assert (sha256(paths.warehouse), sha256(paths.publish_db)) == before


def test_run_on_a_missing_data_folder_exits_3(tmp_path):
    result = hfeval("run", "--data", str(tmp_path / "nowhere"))
    assert result.exit_code == 3
    assert "does not exist" in one_line(result.stderr)


def test_run_with_an_unknown_parameter_exits_3_and_names_it(tmp_path):
    result = hfeval("run", "--data", str(write_source(tmp_path / "data")), "--set", "nope=1")
    assert result.exit_code == 3
    assert "nope" in result.stderr


def test_a_set_parameter_is_recorded_in_the_manifest(tmp_path):
    data = write_source(tmp_path / "data")
    result = hfeval("run", "--data", str(data), "--set", "validation.mostly=0.9")
    assert result.exit_code == 0
    assert only_manifest()["parameters"]["validation.mostly"] == 0.9


def test_a_params_file_with_nested_keys_sets_the_parameters(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(
        "validation:\n  mostly: 0.9\ndisclosure:\n  threshold: 10\n", encoding="utf-8"
    )
    data = write_source(tmp_path / "data")
    result = hfeval("run", "--data", str(data), "--params", str(params))
    assert result.exit_code == 0
    recorded = only_manifest()["parameters"]
    assert (recorded["validation.mostly"], recorded["disclosure.threshold"]) == (0.9, 10)


def test_run_while_another_run_holds_the_lock_exits_4_and_says_why(tmp_path):
    data = write_source(tmp_path / "data")
    with pipeline.warehouse_lock(get_paths().lock_file, wait=False):
        result = hfeval("run", "--data", str(data))
    assert result.exit_code == 4
    message = one_line(result.stderr)
    assert "another hfeval run" in message and "--wait" in message


# ---- privacy: planted values never reach the screen, the manifest or the Data Docs ----------

# Each planted value is found by a pattern; the labels (not the values) go into assert messages.
PLANTED = {
    "participant id": re.compile(r"PLANTED-ID-7Q", re.IGNORECASE),
    "code value": re.compile(r"ZZPLANTED", re.IGNORECASE),
    # a bare year: not inside a hash, a run id or a decimal such as 1.1931
    "birth year": re.compile(r"(?<![\w.])1931(?![\w])"),
    "bad date": re.compile(r"31\.02\.2014|2014-02-31"),
}
PLANTED_ROWS = (
    "PLANTED-ID-7Q,4205,1931,ZZPLANTED,2014-01-06,housing_first,HF-team\n"  # sex not a code
    "P10,461,1980,male,31.02.2014,housing_first,ICM\n"  # no such date
)


def leaked(text: str) -> list[str]:
    return [label for label, pattern in PLANTED.items() if pattern.search(text)]


@pytest.mark.parametrize(
    ("extra", "exit_code"),
    [(["--set", "validation.mostly=0.5"], 0), ([], 2)],
    ids=["succeeding-run", "failing-run"],
)
def test_planted_values_appear_in_no_output_but_the_person_level_ones(tmp_path, extra, exit_code):
    data = write_source(tmp_path / "data", participants=PARTICIPANTS + PLANTED_ROWS)
    result = hfeval("run", "--data", str(data), *extra)
    assert result.exit_code == exit_code
    (run_dir,) = get_paths().runs.iterdir()
    assert only_manifest()["tables"]["participants"]["rows_quarantined"] == 2
    assert leaked(result.stdout) == [], "stdout"
    assert leaked(result.stderr) == [], "stderr"
    assert leaked((run_dir / "manifest.json").read_text(encoding="utf-8")) == [], "manifest"
    docs = [p for p in (run_dir / "data_docs").rglob("*") if p.is_file()]
    assert docs
    for p in docs:
        text = p.read_text(encoding="utf-8", errors="replace")
        assert leaked(text) == [], p.relative_to(run_dir).as_posix()
    # Control: the values were planted where they belong, so the search above can find them.
    if exit_code == 0:
        with duckdb.connect(str(get_paths().warehouse), read_only=True) as con:
            rows = con.execute("select row_json from quarantine").fetchall()
    else:
        q = run_dir / "person-level" / "quarantine.parquet"
        rows = duckdb.sql(f"select row_json from read_parquet('{q}')").fetchall()
    assert set(leaked(" ".join(r[0] for r in rows))) == set(PLANTED)


# ---- summary -------------------------------------------------------------------------------------

COUNT_COLUMNS = ("enrolled", "housed", "housed now")


def source_with_a_large_cell(root: Path) -> Path:
    """The tiny source plus 20 housed Housing First participants in Lindesnes (4205) and 20 in
    Odense (461): the Housing First cells are large enough to print, the comparison cells must
    be suppressed. (With a large cell in one municipality only, secondary suppression hides
    it too: beside the published total it would give the small one away.)"""
    extra = [f"Q{i:02d}" for i in range(40)]
    participants = PARTICIPANTS + "".join(
        f"{p},{'4205' if i < 20 else '461'},1980,male,2013-01-01,housing_first,ICM\n"
        for i, p in enumerate(extra)
    )
    spells = HOUSING_SPELLS + "".join(f"{p},2013-01-01,,own_lease,ordinary,\n" for p in extra)
    return write_source(root, participants=participants, housing_spells=spells)


def printed_counts(stdout: str) -> list[str]:
    """Cells of the count columns of the printed overview table."""
    lines = [ln for ln in stdout.splitlines() if "┃" in ln or "│" in ln]
    header = [c.strip() for c in re.split(r"[┃│]", lines[0])]
    idx = [header.index(c) for c in COUNT_COLUMNS]
    rows = [[c.strip() for c in ln.split("│")] for ln in lines[1:]]
    return [row[i] for row in rows for i in idx]


def test_summary_before_any_run_exits_1_with_a_hint():
    result = hfeval("summary")
    assert result.exit_code == 1
    assert "hfeval run" in result.stderr


def test_summary_suppresses_every_count_from_1_to_7(tmp_path):
    assert hfeval("run", "--data", str(source_with_a_large_cell(tmp_path / "d"))).exit_code == 0
    result = hfeval("summary")
    assert result.exit_code == 0
    cells = printed_counts(result.stdout)
    assert "suppr." in cells
    numbers = [int(c.replace(",", "")) for c in cells if c.replace(",", "").isdigit()]
    assert any(n > 7 for n in numbers)  # the parse found the printed counts
    assert [n for n in numbers if 1 <= n <= 7] == []
    assert len(numbers) + cells.count("suppr.") == len(cells)  # nothing else in those columns


# ---- expectations and docs -----------------------------------------------------------------------


def test_expectations_check_passes_on_the_committed_suites():
    result = hfeval("expectations")
    assert result.exit_code == 0
    assert "match the contract" in result.stdout


def test_docs_prints_the_contract_markdown_unchanged():
    result = hfeval("docs")
    assert result.exit_code == 0
    assert result.stdout == contract_docs.render_markdown()
    # `hfeval docs > data/README.md` reproduces the committed file byte for byte
    assert result.stdout == (get_paths().root / "data" / "README.md").read_text(encoding="utf-8")


# ---- synth ---------------------------------------------------------------------------------------


def test_synth_refuses_a_non_empty_folder_it_did_not_write(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my own file\n", encoding="utf-8")
    result = hfeval("synth", "--out", str(out), "--participants", "40")
    assert result.exit_code == 3
    assert "not written by `hfeval synth`" in one_line(result.stderr)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == "my own file\n"


def test_synth_rewrites_a_folder_it_wrote_before(tmp_path):
    out = tmp_path / "demo"
    assert hfeval("synth", "--out", str(out), "--participants", "40").exit_code == 0
    stale = out / "stale-from-an-older-version.csv"
    stale.write_text("x\n", encoding="utf-8")
    result = hfeval("synth", "--out", str(out), "--participants", "40")
    assert result.exit_code == 0
    assert "SYNTHETIC" in result.stdout
    assert not stale.exists()
    assert "SYNTHETIC" in (out / "README.txt").read_text(encoding="utf-8")
