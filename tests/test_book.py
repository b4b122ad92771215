"""`make book`: the course website builds offline, its links resolve, each page has its figures and audio.

Built here from two small notebooks (seconds); `make book` builds every chapter the same way.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from conftest import REPO
from course_lib.grading import load_module

build_book = load_module(REPO / "tools" / "build_book.py", module_name="build_book")

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images, self.audio_sources = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag in ("audio", "source") and a.get("src"):
            self.audio_sources.append(a["src"])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _notebook(path: Path, title: str, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook(metadata=KERNEL, cells=[nbformat.v4.new_markdown_cell(f"# {title}\n\nText.")]
                                  + [nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    src = tmp_path_factory.mktemp("notebooks")
    common = ("%matplotlib inline\nimport numpy as np, matplotlib.pyplot as plt\n"
              "from course_lib import display\nimport os\nprint('fast', os.environ.get('COURSE_FAST'))")
    a = _notebook(src / "00_first.ipynb", "00 · First", [
        common,
        "y = (0.2 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.float32)\n"
        "display.waveform(y[:400], sr=8000)\nplt.show()\ndisplay.play(y, sr=8000)\nprint('mid-cell player above')",
    ])
    b = _notebook(src / "01_second.ipynb", "01 · Second", [
        common,
        "fig, ax = plt.subplots()\nax.plot([0, 1])\nplt.show()",
        "import ipywidgets\nipywidgets.IntSlider(value=3)",
    ])
    out = tmp_path_factory.mktemp("book")
    # Offline for real: in a network namespace with only loopback (bubblewrap, which the
    # grader uses too), so a notebook or the exporter that reached for the web fails the build.
    isolate = _no_network_prefix()
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_FAST", "COURSE_IMPL")}
    proc = subprocess.run([*isolate, sys.executable, str(REPO / "tools" / "build_book.py"), "--out", str(out),
                           str(a), str(b)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, [out / "index.html", out / "00_first.html", out / "01_second.html"], isolate, proc.stdout


def _no_network_prefix() -> list[str]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return []
    cmd = [bwrap, "--dev-bind", "/", "/", "--unshare-net"]
    probe = subprocess.run([*cmd, sys.executable, "-c",
                            "import socket; s = socket.socket(); s.settimeout(2); "
                            "raise SystemExit(s.connect_ex(('192.0.2.1', 80)) == 0)"],
                           capture_output=True, timeout=30)
    return cmd if probe.returncode == 0 else []


@pytest.mark.slow
def test_book_builds_offline(site):
    _, _, isolate, stdout = site
    if not isolate:
        pytest.skip("bubblewrap cannot make a network namespace here: built with the network on")
    assert "Done in" in stdout and "widget(s) replaced by a note" in stdout


@pytest.mark.slow
def test_book_has_an_index_and_one_page_per_notebook(site):
    out, pages, *_ = site
    assert [p.name for p in pages] == ["index.html", "00_first.html", "01_second.html"]
    index = _parse(out / "index.html")
    assert index.links == ["00_first.html", "01_second.html"]
    text = (out / "index.html").read_text()
    assert "00 · First" in text and "01 · Second" in text


@pytest.mark.slow
def test_every_local_link_resolves(site):
    out, pages, *_ = site
    for page in pages:
        for href in _parse(page).links:
            if re.match(r"^[a-z]+:", href) or href.startswith("#"):
                continue  # external and in-page anchors
            assert (out / href.split("#")[0]).is_file(), f"{page.name}: broken link {href}"
    first = _parse(out / "00_first.html").links
    assert "01_second.html" in first and "index.html" in first       # next, contents
    assert "00_first.html" in _parse(out / "01_second.html").links   # previous


@pytest.mark.slow
def test_pages_embed_their_figures_and_audio_and_ran_in_fast_mode(site):
    out, *_ = site
    first, second = _parse(out / "00_first.html"), _parse(out / "01_second.html")
    for page in (first, second):
        assert [s for s in page.images if s.startswith("data:image/png;base64,")], "no embedded figure"
    assert len([s for s in first.audio_sources if s.startswith("data:audio/wav;base64,")]) == 1
    assert "fast 1" in (out / "00_first.html").read_text()


@pytest.mark.slow
def test_widgets_become_a_note_not_their_text_repr(site):
    out, *_ = site
    text = (out / "01_second.html").read_text()
    assert "open it in JupyterLab" in text
    assert "IntSlider(value=3" not in text


def test_a_raising_cell_fails_the_build_and_names_the_notebook(tmp_path):
    nb = _notebook(tmp_path / "07_broken.ipynb", "07 · Broken", ["raise ValueError('broken cell')", "print('after')"])
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "build_book.py"), "--out", str(tmp_path / "site"),
                           str(nb)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "07_broken.ipynb" in proc.stdout and "Traceback" not in proc.stdout
    # no traceback of build_book's own; the kernel may log one of its teardown to stderr (pyzmq's
    # "Socket operation on non-socket" race, seen once in a fresh clone's make test): not ours to fail on
    assert "build_book.py" not in proc.stderr, proc.stderr
    page = (tmp_path / "site" / "07_broken.html").read_text()
    assert "broken cell" in page and "after" in page   # shown on the page; the rest of the notebook ran


def test_book_defaults_to_every_chapter_notebook():
    names = sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert names and names[0] == "00_welcome.ipynb"
    with pytest.raises(SystemExit):
        build_book.main(["no_such.ipynb", "--out", "/nonexistent"])
