"""`make lab` starts wherever learners run it: as root (containers, VMs) and as a normal user."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO

VENV = Path(sys.prefix)
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _dry_run(*, as_user: int | None = None) -> str:
    cmd = [MAKE, "-n", "lab", f"VENV={VENV}"]
    if as_user is not None:
        cmd = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True, timeout=60).stdout


def test_make_lab_as_root_adds_allow_root_and_says_so():
    if os.getuid() != 0:
        pytest.skip("not root here; test_make_lab_as_a_user covers this user")
    out = _dry_run()
    lab_line = next(line for line in out.splitlines() if "jupyter lab" in line)
    assert "--allow-root" in lab_line
    assert "Running as root" in out


def test_make_lab_as_a_user_has_no_allow_root():
    if os.getuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv (util-linux) is needed to run make as another user")
        out = _dry_run(as_user=65534)  # nobody
    else:
        out = _dry_run()
    lab_line = next(line for line in out.splitlines() if "jupyter lab" in line)
    assert "--allow-root" not in lab_line and "Running as root" not in out
    assert "--port=8888" in lab_line  # the default the README names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_lab_starts_and_answers_http_without_the_news_popup(tmp_path):
    """Start the real target (as whoever runs the tests: root in CI's container) on a free port."""
    plan = subprocess.run([MAKE, "-n", "setup", f"VENV={VENV}"], cwd=REPO, capture_output=True, text=True).stdout
    if " -m pip " in plan:
        pytest.skip(f"the environment {VENV} is not up to date (make setup would rebuild it first)")
    port, token = _free_port(), os.urandom(8).hex()
    log = tmp_path / "lab.log"
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces")}
    proc = subprocess.Popen([MAKE, "lab", f"VENV={VENV}", f"LAB_PORT={port}",
                             f"LAB_ARGS=--no-browser --ServerApp.token={token} --ServerApp.port_retries=0"],
                            cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=3) as r:
                    status = r.status
                    break
            except OSError:
                time.sleep(0.5)
        assert status == 200, f"make lab did not answer on {base} (exit {proc.poll()}):\n{log.read_text()[-2000:]}"
        url = f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"
        with urllib.request.urlopen(url, timeout=10) as r:
            settings = json.load(r)
        # overrides.json becomes the defaults the front end applies (the user set nothing)
        props = settings["schema"]["properties"]
        assert props["fetchNews"]["default"] == "false", props["fetchNews"]
        assert props["checkForUpdates"]["default"] is False
        assert settings["settings"] == {}
        if os.getuid() == 0:
            assert "Running as root" in log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_setup_keeps_pip_output_in_its_log(tmp_path):
    """A fresh `make setup` shows what is happening; pip's output goes to VENV/setup.log."""
    venv = tmp_path / "venv"
    out = subprocess.run([MAKE, "-n", "setup", f"VENV={venv}"], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    pip_lines = [line for line in out.splitlines() if " -m pip " in line or " -m ipykernel " in line]
    assert len(pip_lines) >= 3, out
    for line in pip_lines:
        assert f"> {venv}/setup.log 2>&1" in line or f">> {venv}/setup.log 2>&1" in line, line
        assert "Full log: " in line, line  # a failure names the log
    assert "3.3 GB to download" in out and "Next: make lab" in out


def test_a_failing_setup_shows_the_end_of_its_log_and_names_it(tmp_path):
    """pip fails (here: a stand-in python whose pip always fails): make says so, shows the log's end, names it."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "python"
    fake.write_text("#!/bin/sh\necho 'pip output line'\necho 'ERROR: No matching distribution found for torch==9.9' >&2\nexit 1\n")
    fake.chmod(0o755)
    proc = subprocess.run([MAKE, "setup", f"VENV={venv}"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "Setup failed" in out and "No matching distribution found for torch==9.9" in out
    assert f"Full log: {venv}/setup.log" in out
    assert "ERROR: No matching distribution" in (venv / "setup.log").read_text()
