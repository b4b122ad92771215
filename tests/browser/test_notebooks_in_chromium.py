"""Every notebook in a real browser: JupyterLab from the course environment, driven in headless Chromium.

What a learner sees, checked: no cell shows an error; every ipywidgets control is
drawn as a widget (not as its text repr) and moving each slider redraws its figure;
every ``display.play`` in a cell's source gives a playable ``<audio>`` (a data
source, readyState 4, a finite duration); ``!course check ex01`` in a notebook
prints the not-attempted report. A screenshot of every notebook (and of every
failure) is saved next to the JUnit report (``--junitxml``), else in
``build/browser-screenshots/``; look at them before calling a chapter done.

Needs Debian's ``chromium`` and ``chromium-driver`` (CI's ``.ci/run`` installs
them); without them the whole module is skipped and says why. The self-test at
the end shows the checks fail on a raising cell, a widget drawn as text, a
dropped player and a slider that changes nothing.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import labdriver  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ALL_NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _browser_notebooks() -> list[str]:
    """The notebooks this suite opens: by default those a browser shows differently from nbval.

    nbval (``make test``) already runs every notebook and fails on any raising cell; a
    browser adds what a kernel alone cannot see: widgets drawn by the front end, moving
    sliders, audio players that play. So by default this suite opens 00 (with the
    ``!course check`` cell) and every notebook that uses ``course_lib.widgets``, and
    ``COURSE_BROWSER_NOTEBOOKS=all`` (or a comma-separated list of names) opens others
    too: running every notebook twice would cost CI a minute per chapter.
    """
    import os

    wanted = os.environ.get("COURSE_BROWSER_NOTEBOOKS", "").strip()
    if wanted == "all":
        return ALL_NOTEBOOKS
    if wanted:
        names = [w.strip() for w in wanted.split(",") if w.strip()]
        unknown = sorted(set(names) - set(ALL_NOTEBOOKS))
        if unknown:
            raise ValueError(f"COURSE_BROWSER_NOTEBOOKS names notebooks that do not exist: {unknown}")
        return sorted(set(names) | {ALL_NOTEBOOKS[0]})
    return [n for n in ALL_NOTEBOOKS
            if n == ALL_NOTEBOOKS[0] or "widgets." in (REPO / "notebooks" / n).read_text()]


NOTEBOOKS = _browser_notebooks()

_WHY_NOT = labdriver.missing_browser()
if _WHY_NOT:
    pytest.skip(f"browser suite skipped: {_WHY_NOT}", allow_module_level=True)

pytestmark = pytest.mark.browser

# A widget drawn as its text repr (a front end without the widget manager shows this)
_WIDGET_REPR = re.compile(
    r"^(interactive|[A-Z]\w*(Slider|Box|Output|Button|Dropdown|Text|Checkbox|Progress|ToggleButtons|Tab))\(")
_PLAY_CALL = re.compile(r"\bdisplay\.play\(")
COURSE_CHECK_CELL = "!course check ex01"


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def shots(request) -> Path:
    xml = request.config.getoption("xmlpath", default=None)
    base = Path(xml).resolve().parent if xml else REPO / "build"
    folder = base / "browser-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free port, serving copies of the notebooks (the repo's stay untouched)."""
    root = tmp_path_factory.mktemp("lab-root")
    for name in NOTEBOOKS:
        shutil.copy(REPO / "notebooks" / name, root / name)
    # `!course check ex01` from a notebook, as a learner would: one more cell in 00's copy
    # (a notebook of its own would cost another kernel start)
    import nbformat

    welcome = nbformat.read(root / NOTEBOOKS[0], as_version=4)
    welcome.cells.append(nbformat.v4.new_code_cell(COURSE_CHECK_CELL))
    nbformat.write(welcome, root / NOTEBOOKS[0])
    # fast mode, reference answers (as make test); live sliders; the notebooks' own
    # %matplotlib inline decides the backend, as for a learner (make test sets Agg)
    env = {"COURSE_FAST": "1", "COURSE_IMPL": "solutions", "COURSE_STATIC_WIDGETS": "0", "MPLBACKEND": None}
    server = labdriver.Lab(root=root, env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    driver = labdriver.new_browser()
    yield driver
    driver.quit()


def _write_notebook(path: Path, sources: list[str]) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in sources],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path.name


# --------------------------------------------------------------------------- the checks

def _audio_problems(cell: dict, players: list[dict]) -> list[str]:
    problems = []
    source = cell["source"]
    wanted = len(_PLAY_CALL.findall(source)) - source.count("show=False")
    if len(players) < wanted:
        problems.append(f"cell {cell['index']}: {wanted} display.play call(s) but {len(players)} <audio> "
                        "element(s): a player was dropped")
    for k, a in enumerate(players):
        if not a["src"].startswith("data:audio/"):
            problems.append(f"cell {cell['index']}: <audio> {k} has no data source ({a['src']!r})")
        if a["readyState"] != 4 or a["error"] is not None:
            problems.append(f"cell {cell['index']}: <audio> {k} not playable (readyState {a['readyState']}, "
                            f"error {a['error']})")
        if a["duration"] is None or not math.isfinite(a["duration"]) or a["duration"] <= 0:
            problems.append(f"cell {cell['index']}: <audio> {k} duration {a['duration']}")
    return problems


def _output_problems(cell: dict) -> list[str]:
    problems = []
    for o in cell["outputs"]:
        if o["type"] == "error":
            problems.append(f"cell {cell['index']}: {o['ename']}: {o['evalue']}")
        if o["type"] == "stream" and o["name"] == "stderr" and "Traceback" in (o["text"] or ""):
            problems.append(f"cell {cell['index']}: traceback on stderr: {o['text'][-300:]}")
        if "application/vnd.jupyter.widget-view+json" not in o["mimes"] and _WIDGET_REPR.match(o["plain"] or ""):
            problems.append(f"cell {cell['index']}: a widget shown as text: {o['plain'][:80]!r}")
    n_widget_outputs = sum("application/vnd.jupyter.widget-view+json" in o["mimes"] for o in cell["outputs"])
    if n_widget_outputs and cell["widgetViews"] < n_widget_outputs:
        problems.append(f"cell {cell['index']}: {n_widget_outputs} widget output(s) but "
                        f"{cell['widgetViews']} drawn as widgets (the rest show as text)")
    for text in cell["widgetErrors"]:
        problems.append(f"cell {cell['index']}: a widget not drawn: {text!r}")
    for text in cell["plainTexts"]:
        if _WIDGET_REPR.match(text.strip()):
            problems.append(f"cell {cell['index']}: a widget shown as text: {text[:80]!r}")
    return problems


def _move_sliders(driver, cell_index: int, *, wait: float = 30.0) -> tuple[int, list[str]]:
    """Press → on every slider handle of a cell; each must change a figure in that cell."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cell_node = driver.execute_script(
        "return window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]].node;", cell_index)
    handles = cell_node.find_elements(By.CSS_SELECTOR, ".jp-OutputArea .noUi-handle")
    problems = []
    images_js = "return [...arguments[0].querySelectorAll('.jp-OutputArea img')].map(i => i.src.slice(-200)).join('|');"
    for k, handle in enumerate(handles):
        before = driver.execute_script(images_js, cell_node)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", handle)
        handle.send_keys(Keys.ARROW_RIGHT)
        deadline = time.monotonic() + wait
        after = before
        while time.monotonic() < deadline:
            time.sleep(0.5)
            after = driver.execute_script(images_js, cell_node)
            if after and after != before:
                break
        if not after or after == before:
            problems.append(f"cell {cell_index}: moving slider {k} did not change its figure")
    return len(handles), problems


LAST_CELLS: dict[str, dict] = {}  # notebook -> its last code cell, as the page showed it


def check_notebook(driver, lab, name: str, shots: Path, *, timeout: float = 480.0) -> dict:
    """Open, run all, check; return {'problems': [...], 'sliders': n, 'players': n, 'seconds': t}."""
    t0 = time.monotonic()
    try:
        labdriver.open_notebook(driver, lab, name)
        status = labdriver.run_all(driver, name, timeout=timeout)
    except Exception:
        labdriver.screenshot(driver, shots / f"FAILED-{Path(name).stem}.png")
        raise
    players = labdriver.load_audio(driver)
    problems, n_sliders = [], 0
    if status.get("pending") and not status.get("errors"):
        problems.append(f"{status['pending']} cell(s) never ran")
    for cell in labdriver.cells(driver):
        if cell["type"] != "code":
            continue
        problems += _output_problems(cell)
        if cell["executionCount"] is None:
            continue  # never ran (run-all stops at an error, reported above)
        problems += _audio_problems(cell, players[cell["index"]])
        if not status.get("errors"):
            n, slider_problems = _move_sliders(driver, cell["index"])
            n_sliders += n
            problems += slider_problems
    LAST_CELLS[name] = cell
    seconds = time.monotonic() - t0
    labdriver.screenshot(driver, shots / f"{Path(name).stem}.png")
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.jupyterapp.shell.currentWidget.sessionContext.shutdown().then(() => done(true), () => done(false));")
    return {"problems": problems, "sliders": n_sliders, "players": sum(map(len, players)), "seconds": seconds}


# --------------------------------------------------------------------------- tests

@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_chromium(browser, lab, shots, name, record_property):
    result = check_notebook(browser, lab, name, shots)
    record_property("browser_seconds", round(result["seconds"], 1))
    record_property("sliders_moved", result["sliders"])
    record_property("audio_players", result["players"])
    if result["problems"]:
        labdriver.screenshot(browser, shots / f"FAILED-{Path(name).stem}.png")
    assert not result["problems"], f"{name} in Chromium ({shots}):\n  " + "\n  ".join(result["problems"])


def test_course_check_in_a_notebook_prints_the_not_attempted_report(browser, lab, shots):
    """The last cell of notebook 00's run (added to its copy): needs the environment's bin/ on PATH."""
    if "00_welcome.ipynb" not in LAST_CELLS:
        pytest.skip("notebook 00 did not run in this session (see its test)")
    text = "".join(o["text"] or "" for o in LAST_CELLS["00_welcome.ipynb"]["outputs"])
    assert "not attempted" in text and "Score: 0/" in text, text[-1500:]


_FAULTS = [
    # a widget the page cannot draw: the front end falls back to its text repr
    "from IPython.display import publish_display_data\n"
    "publish_display_data({'text/plain': 'IntSlider(value=3)', 'application/vnd.jupyter.widget-view+json':"
    " {'model_id': '0' * 32, 'version_major': 2, 'version_minor': 0}})",
    # a player made mid-cell and dropped (the old play: a plain Audio value, shown only as a cell's last value)
    "import numpy as np\nfrom IPython.display import Audio\nfrom course_lib import display\n"
    "display.play = lambda y, *, sr: Audio(y, rate=sr)\n"
    "display.play(np.zeros(8000), sr=8000)\nprint('no player above')",
    # a slider whose figure never changes
    "import ipywidgets, matplotlib.pyplot as plt\n%matplotlib inline\n"
    "def same(n):\n    plt.plot([0, 1]); plt.show()\n"
    "ipywidgets.interact(same, n=ipywidgets.IntSlider(value=1, min=0, max=5));",
    # a cell that raises
    "raise ValueError('a cell that raises')",
]


def test_the_checks_catch_what_they_are_for(browser, lab, shots):
    """Self-test: each fault above must be reported, or the suite could pass a broken notebook."""
    name = _write_notebook(Path(lab.root) / "faults.ipynb", _FAULTS)
    # the raising cell stops run-all, so check the first three before it runs
    labdriver.open_notebook(browser, lab, name)
    for i in range(3):
        browser.execute_script(
            "const nb = window.jupyterapp.shell.currentWidget; nb.content.activeCellIndex = arguments[0];"
            "window.jupyterapp.commands.execute('notebook:run-cell');", i)
        labdriver.wait_for(browser, "return window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]]"
                           ".model.executionCount;".replace("arguments[0]", str(i)),
                           lambda c: c is not None, timeout=60, what=f"fault cell {i}")
    time.sleep(2)
    players = labdriver.load_audio(browser)
    got = []
    for cell in labdriver.cells(browser)[:3]:
        got += _output_problems(cell) + _audio_problems(cell, players[cell["index"]])
        got += _move_sliders(browser, cell["index"], wait=8.0)[1]
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    labdriver.wait_for(browser, labdriver._STATUS_JS, lambda s: s.get("errors"), timeout=60, what="raising cell")
    got += _output_problems(labdriver.cells(browser)[3])
    labdriver.screenshot(browser, shots / "selftest-faults.png")
    text = "\n".join(got)
    assert "cell 0: 1 widget output(s) but 0 drawn as widgets" in text, text
    assert "cell 0: a widget not drawn: 'Error displaying widget" in text, text
    assert "cell 1: 1 display.play call(s) but 0 <audio>" in text, text
    assert "cell 2: moving slider 0 did not change its figure" in text, text
    assert "cell 3: ValueError: a cell that raises" in text, text
