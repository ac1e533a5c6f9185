"""Steering-group reports (HTML and PDF), executed notebooks and reproducibility checks.

    hfeval report --municipality 4205 --lang nb        # one report
    hfeval report --municipality all --lang all        # every municipality x nb, da, en

`build` gathers one unit's publishable numbers into a context, `render` fills the Jinja2
template, `pdf` prints it with headless Chromium, `notebooks` executes the research notebooks
against the warehouse (person-level output), `reproducibility` hashes databases and reports so
two runs can be compared.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from hfeval import i18n
from hfeval.reporting import build, pdf, render, reproducibility

INDEX_FILE = "reports.json"


@dataclass
class ReportFile:
    municipality_code: str
    municipality_name: str
    unit_code: str
    unit_kind: str
    lang: str
    html: str
    pdf: str | None
    pages: int | None
    content_sha256: str  # of the HTML without run id and run time: equal for equal results


def slug(name: str) -> str:
    """A file-name-safe ASCII form of a municipality name (Bærum -> baerum, Højby -> hojby)."""
    name = name.lower()
    for a, b in (("æ", "ae"), ("ø", "o"), ("å", "aa")):
        name = name.replace(a, b)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_name).split()) or "unit"


def resolve_langs(langs: list[str] | tuple[str, ...]) -> list[str]:
    if not langs or any(x.lower() == "all" for x in langs):
        return list(i18n.LANGS)
    out = []
    for x in langs:
        code = i18n.normalise_lang(x)
        if code not in i18n.LANGS:
            raise build.ReportError(f"unknown language {x!r}; choose from "
                                    f"{', '.join(i18n.LANGS)} or all")
        if code not in out:
            out.append(code)
    return out


def render_report(pub: build.Published, request: build.Request, lang: str) -> str:
    return render.render_html(build.build_context(pub, request, lang))


def write_reports(
    publish_db: Path,
    out_dir: Path,
    *,
    municipalities: list[str] | tuple[str, ...] = ("all",),
    langs: list[str] | tuple[str, ...] = ("all",),
    with_pdf: bool = True,
    progress: object = None,
) -> list[ReportFile]:
    """Write `<code>-<name>.<lang>.html` (and `.pdf`) per municipality and language, plus an
    index (reports.json) with each report's content hash."""
    lang_list = resolve_langs(list(langs))
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[ReportFile] = []
    with build.Published(publish_db) as pub:
        for request in build.resolve(pub, list(municipalities)):
            for lang in lang_list:
                html = render_report(pub, request, lang)
                stem = f"{request.code}-{slug(request.name)}.{lang}"
                html_path = out_dir / f"{stem}.html"
                html_path.write_text(html, encoding="utf-8")
                pdf_path, pages = None, None
                if with_pdf:
                    pdf_path = pdf.html_to_pdf(html_path, out_dir / f"{stem}.pdf")
                    pages = pdf.page_count(pdf_path)
                written.append(ReportFile(
                    request.code, request.name, request.unit.code, request.unit.kind, lang,
                    html_path.name, pdf_path.name if pdf_path else None, pages,
                    reproducibility.html_digest(html)))
                if callable(progress):
                    progress(written[-1])
        run_id = pub.manifest.get("run_id")
    index = {"run_id": run_id, "reports": [asdict(r) for r in written]}
    (out_dir / INDEX_FILE).write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return written
