"""hfeval dashboard: housing retention and costs for steering groups.

Run with `hfeval dashboard` (or `make demo`). Reads only the publishable database.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).parent))  # so pages can `import data`

import data

st.set_page_config(page_title="hfeval · Housing First", page_icon=":material/home:", layout="wide")

db = data.publish_db_path()
if not db.exists():
    st.title("hfeval")
    st.warning("No published results yet. Run `make demo` or `hfeval run --data DIR` first.")
    st.stop()

manifest = data.manifest(str(db))
if manifest.get("synthetic_data"):
    st.error("**SYNTHETIC DATA** — generated for demonstration; it describes no real person.",
             icon=":material/science:")

pages = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("app_pages/data_quality.py", title="Data quality", icon=":material/fact_check:"),
]
st.navigation(pages).run()

from hfeval import __version__

st.caption(f"hfeval {__version__} · run {manifest['run_id']}")
