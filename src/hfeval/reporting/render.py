"""Render a report context to one self-contained HTML file (Jinja2; figures are data URIs, the
CSS is inline, nothing is fetched from the network).

The run id and the run's time are wrapped in `data-volatile` spans so that two runs of the same
inputs can be compared byte for byte after `normalise_html` (hfeval.reporting.reproducibility).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup, escape

from hfeval import i18n


def _env() -> jinja2.Environment:
    folder = resources.files("hfeval.reporting") / "templates"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,  # a missing context key is a bug: fail loudly
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def css_string(text: str) -> Markup:
    """A Python string as a CSS string literal (for the page footer), safe inside <style>."""
    escaped = "".join(f"\\{ord(c):x} " if c in '\\"<>&\n' else c for c in text)
    return Markup(f'"{escaped}"')


def volatile(text: str) -> Markup:
    """Run-specific text (run id, run time): marked so reproducibility checks can drop it."""
    return Markup("<span data-volatile>{}</span>").format(text)


def cell(c: Any) -> Markup:
    """A table cell (build.Cell): right-aligned, suppressed ones styled, CI as a second line."""
    sub = Markup('<span class="sub">{}</span>').format(c.sub) if c.sub else ""
    return Markup('<td class="{}">{}{}</td>').format("n sup" if c.suppressed else "n", c.text, sub)


def render_html(ctx: dict[str, Any]) -> str:
    lang = ctx["lang"]

    def tm(key: str, **kw: Any) -> Markup:
        # Like t(), but keeps Markup arguments (volatile spans) and escapes the rest.
        return Markup(escape(i18n.t(key, lang))).format(**kw)

    env = _env()
    env.filters["css_string"] = css_string
    footer = f"hfeval {ctx['version']} · {ctx['title']} · {ctx['run_id']}"
    return env.get_template("report.html.j2").render(
        **ctx, tm=tm, volatile=volatile, cell=cell, footer=footer)
