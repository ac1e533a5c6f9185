"""notebooks/02-housing-retention.ipynb runs top to bottom on a fresh checkout (it generates the
synthetic demo and runs the pipeline when no warehouse exists), and is committed without outputs."""

from __future__ import annotations

import json

import pytest

from hfeval.config import get_paths

NOTEBOOK = get_paths().root / "notebooks" / "02-housing-retention.ipynb"


def test_the_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_notebook_runs_top_to_bottom_without_a_warehouse(tmp_path):
    import papermill

    # conftest points HFEVAL_OUTPUT at an empty folder: the notebook must build the demo itself.
    assert not get_paths().warehouse.exists()
    papermill.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "executed.ipynb"), kernel_name="python3",
        cwd=str(NOTEBOOK.parent), progress_bar=False,
    )
    assert get_paths().warehouse.exists()
