"""The cost notebooks run top to bottom on the demo data, from a fresh output folder (they
generate the SYNTHETIC demo and build the warehouse themselves when none exists)."""

from __future__ import annotations

import time

import nbformat
import pytest
from nbclient import NotebookClient

from hfeval.config import get_paths

NOTEBOOKS = ("03-socioeconomic-costs.ipynb", "04-sensitivity.ipynb")


def test_committed_notebooks_have_no_outputs():
    for name in NOTEBOOKS:
        nb = nbformat.read(get_paths().root / "notebooks" / name, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), name


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_the_demo_data_in_under_two_minutes(name):
    folder = get_paths().root / "notebooks"
    nb = nbformat.read(folder / name, as_version=4)
    start = time.monotonic()
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    assert time.monotonic() - start < 120
    assert get_paths().warehouse.exists()
