"""hfeval dashboard: housing retention and costs for steering groups, in nb, da and en.

Run with `hfeval dashboard` (or `make demo`). Reads only the publishable database (disclosure
controlled), read-only. Language and filters live in the URL (`?lang=nb&area=unit:0301`),
so a view can be bookmarked or sent to a colleague.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).parent))  # so pages can `import data, ui`

import data
import ui

from hfeval import __version__, i18n

st.set_page_config(page_title="hfeval · Housing First", page_icon=":material/home:", layout="wide")


def _browser_lang() -> str:
    # Without ?lang= (a shared link sets it): the browser's language when we have it, else English.
    locale = getattr(st.context, "locale", None)
    code = i18n.normalise_lang(locale) if locale else i18n.DEFAULT_LANG
    return code if code in i18n.LANGS else i18n.DEFAULT_LANG


if isinstance(st.query_params.get("lang"), str):  # accept ?lang=no, ?lang=da-DK, ...
    asked = i18n.normalise_lang(st.query_params["lang"])
    if asked in i18n.LANGS and "lang" not in st.session_state:
        st.session_state["lang"] = asked
with st.sidebar:
    ui.url_selectbox("Språk · Sprog · Language", list(i18n.LANGS), "lang", i18n.LANGUAGE_NAMES,
                     default=_browser_lang(), always_in_url=True)  # a shared link keeps it

path = data.publish_db_path()
if not path.exists():
    st.title("hfeval")
    st.warning(ui.tr("no_database"))
    st.stop()

manifest = data.manifest(str(path))
if manifest.get("synthetic_data"):
    st.error(f"**{ui.tr('common.synthetic_banner')}**", icon=":material/science:")

PAGES = [
    ("overview", "app_pages/overview.py", ":material/home:"),
    ("retention", "app_pages/retention.py", ":material/key:"),
    ("pathways", "app_pages/pathways.py", ":material/route:"),
    ("costs", "app_pages/costs.py", ":material/payments:"),
    ("fidelity", "app_pages/fidelity.py", ":material/favorite:"),
    ("data-quality", "app_pages/data_quality.py", ":material/fact_check:"),
    ("about", "app_pages/about.py", ":material/menu_book:"),
]
pages = [
    st.Page(file, title=ui.tr(f"pages.{slug}"), icon=icon, url_path=slug,
            default=(slug == "overview"))
    for slug, file, icon in PAGES
    if (Path(__file__).parent / file).exists()
]
nav = st.navigation(pages)
ui.sidebar_filters()
nav.run()

st.divider()
st.caption(ui.tr("common.version_footer", version=__version__, run_id=manifest.get("run_id", "?"),
                 published=i18n.fmt_datetime(manifest.get("finished_at")
                                             or manifest.get("started_at"), ui.lang())))
