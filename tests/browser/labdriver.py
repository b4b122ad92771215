"""Drive JupyterLab in headless Chromium: start a server, open a notebook, run it, read what the page shows.

Used by the browser suite (tests/browser/test_notebooks_in_chromium.py). Everything
runs on this machine: JupyterLab on a free localhost port, Chromium (Debian's
``chromium`` and ``chromium-driver``) through selenium, no network.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

# Flags for a quiet, offline, throw-away browser (no sync, no updates, no QUIC).
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required", "--mute-audio",
]

# Settings for the test server only: no autosave (the notebooks are copies anyway), every
# cell in the DOM (JupyterLab's windowed notebook leaves off-screen cells unrendered), no news.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def missing_browser() -> str | None:
    """Why the browser suite cannot run here (None when it can)."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} not found: apt-get install chromium chromium-driver (CI's .ci/run does)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed in the course environment: make setup"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A JupyterLab server for the tests, serving ``root`` on a free localhost port."""

    root: Path
    env: dict
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: os.urandom(12).hex())
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 90.0) -> "Lab":
        settings_dir = Path(tempfile.mkdtemp(prefix="lab-settings-"))
        for plugin, values in LAB_SETTINGS.items():
            pkg, name = plugin.split(":")
            target = settings_dir / pkg / f"{name}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = {**os.environ, **{k: v for k, v in self.env.items() if v is not None},
               "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
               "JUPYTERLAB_WORKSPACES_DIR": str(settings_dir / "workspaces"),
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        for k in [k for k, v in self.env.items() if v is None]:
            env.pop(k, None)
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={self.port}",
               "--ip=127.0.0.1", f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.root}",
               "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0"]
        if hasattr(os, "getuid") and os.getuid() == 0:
            cmd.append("--allow-root")
        self.log_path = Path(settings_dir) / "lab.log"
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({self.proc.returncode}):\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def new_browser(*, width: int = 1280, height: int = 1000, extra_flags=()):
    """Headless Chromium under chromedriver; ``extra_flags`` add to :data:`CHROMIUM_FLAGS`
    (the recorder test's fake microphone, for one)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, *extra_flags]:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-profile-')}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    # JupyterLab's shell.currentWidget follows focus events. Headless Chromium 150 (Debian
    # bookworm's main archive, what CI had) reports document.hasFocus() false and sends no
    # focus events, so no notebook ever became current and every test timed out; 156 (the
    # security archive) focuses as a window would. Emulating focus makes both behave alike.
    driver.execute_cdp_cmd("Emulation.setFocusEmulationEnabled", {"enabled": True})
    return driver


# --------------------------------------------------------------------------- page scripts

# What the notebook holds once it has run: per code cell, its source, its outputs (as saved
# in the model) and what the page shows (audio elements, widgets, images).
_CELLS_JS = r"""
const nb = window.jupyterapp.shell.currentWidget;
return nb.content.widgets.map((cell, i) => {
  const model = cell.model;
  const out = model.type === 'code' ? model.outputs.toJSON() : [];
  const node = cell.node;
  const audio = [...node.querySelectorAll('.jp-OutputArea audio')].map(a => ({
    src: (a.currentSrc || (a.querySelector('source') || {}).src || a.src || '').slice(0, 30),
    readyState: a.readyState, duration: a.duration, error: a.error ? a.error.code : null}));
  return {
    index: i, type: model.type, source: model.sharedModel.getSource(),
    executionCount: model.type === 'code' ? model.executionCount : null,
    outputs: out.map(o => ({type: o.output_type, name: o.name || null, ename: o.ename || null,
                           evalue: o.evalue || null,
                           text: o.text ? String(o.text).slice(0, 2000) : null,
                           mimes: o.data ? Object.keys(o.data) : [],
                           plain: o.data && o.data['text/plain'] ? String(o.data['text/plain']).slice(0, 300) : null})),
    audio: audio,
    sliders: node.querySelectorAll('.jp-OutputArea .noUi-handle').length,
    // outputs drawn as widgets; a widget the page could not draw says "Error displaying widget"
    widgetViews: [...node.querySelectorAll('.jp-OutputArea-output')].filter(o =>
        o.querySelector('.jupyter-widgets') && !o.textContent.includes('Error displaying widget')).length,
    widgetErrors: [...node.querySelectorAll('.jp-OutputArea-output')].filter(o =>
        o.textContent.includes('Error displaying widget') || o.textContent.includes('Loading widget...')).map(o => o.textContent.slice(0, 120)),
    // what the page shows as plain text (a widget without its front end shows its repr)
    plainTexts: [...node.querySelectorAll('.jp-OutputArea-output[data-mime-type="text/plain"]')].map(o => o.textContent.slice(0, 200)),
    images: node.querySelectorAll('.jp-OutputArea img').length,
  };
});
"""

_STATUS_JS = r"""
const app = window.jupyterapp;
if (!app) { return {ready: false}; }
const nb = app.shell.currentWidget;
if (!nb || !nb.sessionContext || !nb.content) { return {ready: false}; }
const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
const cells = nb.content.widgets.filter(c => c.model.type === 'code');
const errors = cells.filter(c => c.model.outputs.toJSON().some(o => o.output_type === 'error')).length;
return {ready: !!kernel && nb.context.isReady, status: kernel ? kernel.status : 'none',
        pending: cells.filter(c => c.model.executionCount === null || c.node.querySelector('.jp-InputArea-prompt').textContent.includes('*')).length,
        cells: cells.length, errors: errors};
"""

# What the page holds when a notebook does not become ready: the app, the focus, the
# main-area documents, the current widget.
_PAGE_JS = r"""
const app = window.jupyterapp;
return {title: document.title, hasFocus: document.hasFocus(), app: !!app,
        main: app ? Array.from(app.shell.widgets('main')).map(w => w.context ? w.context.path : w.id) : [],
        current: app && app.shell.currentWidget ? app.shell.currentWidget.id : null};
"""


def wait_for(driver, script: str, predicate, *, timeout: float, what: str, poll: float = 0.5):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if predicate(value):
            return value
        time.sleep(poll)
    raise TimeoutError(f"{what}: still {value} after {timeout:.0f} s")


def open_notebook(driver, lab: Lab, name: str, *, timeout: float = 120.0) -> None:
    driver.get(f"{lab.url}/lab/tree/{name}?token={lab.token}&reset")
    try:
        wait_for(driver, _STATUS_JS, lambda s: s.get("ready") and s.get("status") == "idle",
                 timeout=timeout, what=f"{name}: kernel not ready")
    except TimeoutError as err:
        # say what the page held, so a failure on CI's machine can be read without a rerun
        page = driver.execute_script(_PAGE_JS)
        log = lab.log_path.read_text()[-1500:] if lab.log_path and lab.log_path.exists() else ""
        raise TimeoutError(f"{err}\npage: {page}\nlast lines of the JupyterLab log:\n{log}") from None
    driver.execute_script("window.jupyterapp.shell.collapseLeft();")


def run_all(driver, name: str, *, timeout: float) -> dict:
    """Run every cell; return when all ran, or at the first error (later cells never run)."""
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
    time.sleep(1.0)
    return wait_for(driver, _STATUS_JS,
                    lambda s: s.get("errors") or (s.get("pending") == 0 and s.get("status") == "idle"),
                    timeout=timeout, what=f"{name}: cells still running")


def cells(driver) -> list[dict]:
    return driver.execute_script(_CELLS_JS)


def load_audio(driver) -> list[list[dict]]:
    """Ask every <audio> to load fully; return per cell [{readyState, duration, src}]."""
    driver.execute_script(
        "document.querySelectorAll('.jp-OutputArea audio').forEach(a => { a.preload = 'auto'; a.load(); });")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        states = driver.execute_script(
            "return [...document.querySelectorAll('.jp-OutputArea audio')].map(a => a.readyState);")
        if all(s == 4 for s in states):
            break
        time.sleep(0.3)
    return [c["audio"] for c in cells(driver)]


def screenshot(driver, path: Path) -> Path:
    """The whole notebook in one PNG: the window is made as tall as the notebook first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # the notebook scrolls inside its panel: the tallest scrolling box is the notebook's length
    height = driver.execute_script(
        "const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        "if (!nb || !nb.content) { return document.body.scrollHeight; }"
        "const boxes = [nb.content.node, ...nb.content.node.querySelectorAll('.jp-WindowedPanel-outer, .jp-WindowedPanel-inner')];"
        "return Math.max(...boxes.map(e => e.scrollHeight)) + 250;")
    width = driver.get_window_size()["width"]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(max(int(height), 800), 16000), "deviceScaleFactor": 1, "mobile": False})
    try:
        time.sleep(0.5)
        driver.execute_script(
            "const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            "if (nb && nb.content) { [nb.content.node, ...nb.content.node.querySelectorAll("
            "'.jp-WindowedPanel-outer')].forEach(e => { e.scrollTop = 0; }); }")
        time.sleep(1.0)
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path
