"""Print a report's HTML to an A4 PDF with headless Chromium (Debian's `chromium` package).

No browser automation library is needed at run time: Chromium's own `--print-to-pdf` honours
the template's `@page` rules (A4, margins, page footer, page breaks between sections). Network
access is switched off for the print, so a report that is not self-contained fails visibly
instead of silently fetching something.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PdfError(RuntimeError):
    """Chromium is missing or failed; the message names files, never report content."""


def find_chromium() -> str | None:
    """`$HFEVAL_CHROMIUM` if set, else the first Chromium on PATH."""
    env = os.environ.get("HFEVAL_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: Path, pdf: Path, *, timeout_s: float = 120) -> Path:
    chromium = find_chromium()
    if chromium is None:
        raise PdfError("no Chromium found for PDF output: install Debian's `chromium` package, "
                       "set HFEVAL_CHROMIUM, or pass --no-pdf")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    tmp_pdf = pdf.with_name(f".{pdf.name}.part")
    # A private profile per print: concurrent prints never share Chromium's profile lock.
    with tempfile.TemporaryDirectory(prefix="hfeval-chromium-") as profile:
        cmd = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
            "--no-pdf-header-footer", f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # self-contained: nothing to fetch
            f"--print-to-pdf={tmp_pdf}", html.resolve().as_uri(),
        ]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                 check=False, env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired:
            tmp_pdf.unlink(missing_ok=True)
            raise PdfError(f"Chromium took longer than {timeout_s:.0f} s to print "
                           f"{html.name}") from None
    if res.returncode != 0 or not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
        tmp_pdf.unlink(missing_ok=True)
        raise PdfError(f"Chromium could not print {html.name} (exit {res.returncode})")
    os.replace(tmp_pdf, pdf)
    return pdf


def page_count(pdf: Path) -> int | None:
    """Pages of a PDF, or None without pypdfium2 (a development dependency)."""
    try:
        import pypdfium2 as pdfium
    except ImportError:
        return None

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def pages_to_png(pdf: Path, out_dir: Path, *, scale: float = 1.5) -> list[Path]:
    """Render every page to PNG (pypdfium2, a dev dependency) to look at a report's layout."""
    import pypdfium2 as pdfium

    out_dir.mkdir(parents=True, exist_ok=True)
    doc = pdfium.PdfDocument(str(pdf))
    paths = []
    try:
        for i, page in enumerate(doc, start=1):
            image = page.render(scale=scale).to_pil()
            path = out_dir / f"{pdf.stem}-p{i}.png"
            image.save(path)
            paths.append(path)
    finally:
        doc.close()
    return paths
