"""Build the course website: every notebook executed (fast mode) and rendered to static HTML.

    python tools/build_book.py [--out build/book] [NOTEBOOK ...]      (make book)

Why nbconvert and not Jupyter Book: nbconvert and nbclient come with JupyterLab, so the
pinned environment already has everything (Jupyter Book would add Sphinx and some thirty
packages, or Node for its 2.x line); its HTML exporter writes one self-contained page per
notebook, with figures as embedded PNGs and ``display.play`` players as embedded WAV
``<audio>`` elements, so the site works from a folder or any static host without a
server. What nbconvert lacks, a table of contents and previous / next links, is added here.

Each notebook runs in a fresh kernel with COURSE_FAST=1 (small configurations, minutes
for the whole course) and COURSE_IMPL=solutions (the reference answers, so a reader sees
what the exercises compute). Sliders cannot move in a static page: a widget's output is
replaced by a note saying so (the notebooks also draw a static view of each demo).
Nothing is downloaded while building; in the pages only LaTeX typesetting (MathJax) comes
from the web, and without it the formulas show as TeX source.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ("<p class='book-widget-note'><em>An interactive control (ipywidgets) is here in the "
               "notebook: open it in JupyterLab (<code>make lab</code>) to move it.</em></p>")

_STYLE = """<style>
.book-nav { display: flex; justify-content: space-between; gap: 1em; max-width: 1100px;
            margin: 0.6em auto; padding: 0.5em 1em; font: 15px/1.4 system-ui, sans-serif;
            border-bottom: 1px solid #ddd; }
.book-nav a { text-decoration: none; }
.book-widget-note { color: #555; }
</style>
"""


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "Untitled"


def _replace_widgets(nb) -> int:
    """Swap widget outputs (which need a live kernel) for a note; return how many."""
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data:
                out["data"] = {"text/html": WIDGET_NOTE}
                n += 1
    return n


def execute(nb, *, cwd: Path, timeout: int = 600) -> None:
    from nbclient import NotebookClient

    env_keep = {k: os.environ.get(k) for k in ("COURSE_FAST", "COURSE_IMPL", "MPLBACKEND")}
    os.environ.update({"COURSE_FAST": "1", "COURSE_IMPL": "solutions"})
    os.environ.pop("MPLBACKEND", None)  # the notebooks' %matplotlib inline decides
    try:
        # the kernel's own log (a warning about TCP transport on every start) is not for readers
        # allow_errors: a failing cell is shown on its page (and reported), the other chapters still build
        NotebookClient(nb, timeout=timeout, kernel_name="python3", extra_arguments=["--IPKernelApp.log_level=ERROR"],
                       allow_errors=True, resources={"metadata": {"path": str(cwd)}}).execute()
    finally:
        for k, v in env_keep.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def errors(nb) -> list[str]:
    """``"cell N: Error: message"`` for every cell that raised."""
    return [f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def _nav(pages: list[tuple[str, str]], i: int) -> str:
    prev_link = (f"<a href='{pages[i - 1][0]}' rel='prev'>&larr; {html.escape(pages[i - 1][1])}</a>"
                 if i > 0 else "<span></span>")
    next_link = (f"<a href='{pages[i + 1][0]}' rel='next'>{html.escape(pages[i + 1][1])} &rarr;</a>"
                 if i + 1 < len(pages) else "<span></span>")
    return f"<nav class='book-nav'>{prev_link}<a href='index.html'>Contents</a>{next_link}</nav>"


def build(notebooks: list[Path], out: Path, *, run: bool = True, log=print) -> list[Path]:
    """Render ``notebooks`` (in order) to ``out``; return the pages written (index first)."""
    import nbformat
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    rendered, failures = [], {}
    for path in notebooks:
        t0 = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        if run:
            execute(nb, cwd=path.parent)
        failed = errors(nb)
        if failed:
            failures[path.name] = failed
        n_widgets = _replace_widgets(nb)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        rendered.append((f"{path.stem}.html", _title(nb), body))
        log(f"  {path.name}: {time.perf_counter() - t0:.0f} s"
            + (f", {n_widgets} widget(s) replaced by a note" if n_widgets else "")
            + (f", FAILED: {'; '.join(failed)}" if failed else ""))
    pages = [(name, title) for name, title, _ in rendered]
    written = []
    for i, (name, title, body) in enumerate(rendered):
        nav = _nav(pages, i)
        body = body.replace("</head>", _STYLE + "</head>", 1)
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)
        body = body.replace("</body>", nav + "</body>", 1)
        (out / name).write_text(body, encoding="utf-8")
        written.append(out / name)
    items = "\n".join(f"<li><a href='{name}'>{html.escape(title)}</a></li>" for name, title in pages)
    index = (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
             f"<title>Speech &amp; Audio Processing</title>{_STYLE}</head><body>"
             "<main style='max-width: 900px; margin: 2em auto; font: 16px/1.5 system-ui, sans-serif'>"
             "<h1>Speech &amp; Audio Processing</h1>"
             "<p>The course's notebooks, run in fast mode (small configurations) with the reference "
             "answers, with their figures and audio. To run and change them: clone the repository "
             "and <code>make lab</code>.</p>"
             f"<ol start='0'>\n{items}\n</ol></main></body></html>\n")
    (out / "index.html").write_text(index, encoding="utf-8")
    (out / "book.json").write_text(json.dumps({"pages": [n for n, _ in pages], "failures": failures}, indent=1))
    if failures:
        raise BookError(failures)
    return [out / "index.html", *written]


class BookError(RuntimeError):
    """Some notebooks raised while building (their pages show the error)."""

    def __init__(self, failures: dict):
        self.failures = failures
        super().__init__("; ".join(f"{name}: {', '.join(errs)}" for name, errs in failures.items()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks in order (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "book")
    parser.add_argument("--no-execute", action="store_true", help="render the notebooks as they are")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    print(f"Building the course website from {len(notebooks)} notebooks (fast mode) ...")
    t0 = time.perf_counter()
    try:
        pages = build([p.resolve() for p in notebooks], args.out, run=not args.no_execute)
    except BookError as exc:
        print(f"Built in {time.perf_counter() - t0:.0f} s, but cells raised in: {', '.join(exc.failures)} "
              f"(their pages show the error; `make test-notebooks` runs them too). Site: {args.out / 'index.html'}")
        return 1
    print(f"Done in {time.perf_counter() - t0:.0f} s: open {pages[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
