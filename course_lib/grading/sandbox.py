"""Run untrusted exercise code in a limited child process and collect plain-data results.

The parent (this module) builds a throwaway tree holding ``course_lib``, the
public exercise tests and the one submission file, writes the call inputs
there, and starts :mod:`._runner` in it:

- ``python -I -B`` (no user site, no ``PYTHON*`` variables, no bytecode
  writes), environment scrubbed, ``cwd``/``HOME``/``TMPDIR`` inside the tree,
  a new session (so the whole process group can be killed);
- wall-time limit (``timeout``), memory limit (``RLIMIT_AS``), a CPU-time
  backstop and a file-size limit, set by the child before student code runs;
- an audit hook that refuses writes outside the tree, reads of anything but
  the tree and the Python installation (so no copy of ``solutions/``, no
  fixtures, hidden tests or other submissions, wherever they lie)
  and starting processes, ``ctypes``, ``gc`` introspection, sockets;
- stdout/stderr captured to files outside the tree and truncated; more than
  ``MAX_OUTPUT_BYTES`` of output is a ``crash`` (flooding the grader earns nothing).

What the child sends back is values only; :func:`run_calls` accepts it only
when the process exited 0, the ``DONE`` file holds the nonce the parent chose,
and every call id is present and well formed. Anything else is a ``crash``.
Expected values never enter the tree, so nothing the child writes can make a
wrong answer pass: at worst it makes its own run a crash.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import wire
from .checks import Outcome

__all__ = ["RunResult", "run_calls", "make_tree", "DEFAULT_TIMEOUT", "DEFAULT_MEMORY", "parse_size"]

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY = 2 * 2**30
MAX_FILE_BYTES = 256 * 2**20
OUTPUT_KEEP = 4000  # characters of stdout/stderr kept for feedback
# Printing more than this (stdout + stderr) is flooding the grader: no credit, status crash.
MAX_OUTPUT_BYTES = 2**20


def parse_size(text) -> int:
    """``"2G"``, ``"512M"``, ``"1.5GiB"`` or a number of bytes -> bytes."""
    s = str(text).strip().upper().replace("IB", "").replace("B", "")
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    try:
        if s and s[-1] in units:
            value = float(s[:-1]) * units[s[-1]]
        else:
            value = float(s)
    except ValueError:
        raise ValueError(f"memory={text!r}: use a size like 2G, 512M or a number of bytes") from None
    if value < 64 * 2**20:
        raise ValueError(f"memory={text!r} is too small: Python and NumPy need at least 64M")
    return int(value)


@dataclasses.dataclass
class RunResult:
    """What happened to one run: ``status`` is ``"done"``, ``"timeout"`` or ``"crash"``."""

    status: str
    outcomes: dict  # call id -> Outcome (complete when status == "done")
    import_error: dict | None = None
    detail: str = ""  # why it is a crash / timeout, for feedback
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    seconds: float = 0.0


def _truncate(raw: bytes, keep: int = OUTPUT_KEEP) -> str:
    text = raw.decode("utf-8", "replace")
    if len(text) <= keep:
        return text
    half = keep // 2
    return f"{text[:half]}\n... [{len(text) - keep} characters cut] ...\n{text[-half:]}"


def _read_head_tail(path: Path, keep: int = OUTPUT_KEEP) -> str:
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            if size <= 4 * keep:
                return _truncate(f.read(), keep)
            head = f.read(keep)
            f.seek(size - keep)
            tail = f.read(keep)
        return _truncate(head + b"\n[...]\n" + tail, keep) + f"\n[{size} bytes of output in all]"
    except OSError:
        return ""


def make_tree(root: Path, dest: Path, *, files: dict) -> Path:
    """A fresh grading tree: course_lib, the public exercise tests, and ``files``.

    ``files`` maps a relative destination (``exercises/ex01_digital_audio.py``)
    to a source path. ``solutions/``, test fixtures, mutants (which quote the
    solutions) and any hidden
    tests are never copied.
    """
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(root / "course_lib", dest / "course_lib", ignore=ignore)
    tests_src = root / "tests" / "exercises"
    tests_dst = dest / "tests" / "exercises"
    tests_dst.mkdir(parents=True)
    if tests_src.is_dir():
        for p in tests_src.glob("*.py"):
            shutil.copy2(p, tests_dst / p.name)
    for sub in ("exercises", "home", "tmp"):
        (dest / sub).mkdir(exist_ok=True)
    for rel, src in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return dest


def _scrubbed_env(tree: Path) -> dict:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tree / "home"),
        "TMPDIR": str(tree / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(tree / "tmp" / "matplotlib"),
        "COURSE_IMPL": "exercises",
        "COURSE_FAST": "1",
    }


def _kill_group(proc: subprocess.Popen) -> None:
    if hasattr(os, "killpg"):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def run_calls(tree: Path, student_file: Path, calls: list, *, module_name: str,
              timeout: float = DEFAULT_TIMEOUT, memory: int = DEFAULT_MEMORY,
              logdir: Path | None = None) -> RunResult:
    """Run ``calls`` (``[{"id", "function", "args", "kwargs"}]``) against ``student_file``.

    ``tree`` comes from :func:`make_tree`; ``student_file`` lies inside it.
    The child may read only ``tree`` and the Python installation (see
    :func:`._runner._make_hook`): not the real course folder, the submissions,
    hidden tests, the output folder or any other copy of the course. Returns a
    :class:`RunResult`; its ``outcomes`` map every call id to an
    :class:`~.checks.Outcome` when ``status == "done"``.
    """
    tree = Path(tree).resolve()
    jobdir = tree / ".grading"
    jobdir.mkdir(exist_ok=True)
    ids = [c["id"] for c in calls]
    if len(set(ids)) != len(ids):
        raise ValueError("call ids must be unique")
    wire.dump([{"id": c["id"], "function": c["function"], "args": tuple(c["args"]),
                "kwargs": dict(c["kwargs"])} for c in calls], jobdir, stem="inputs")
    nonce = secrets.token_hex(16)
    allow = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, tree)})
    cfg = {
        "nonce": nonce, "memory": int(memory), "cpu_seconds": int(timeout) + 5,
        "max_file_bytes": MAX_FILE_BYTES,
        "allow_read": allow,
    }
    own_logdir = logdir is None
    logdir = Path(tempfile.mkdtemp(prefix="course-run-")) if own_logdir else Path(logdir)
    out_path, err_path = logdir / "stdout.txt", logdir / "stderr.txt"
    runner = tree / "course_lib" / "grading" / "_runner.py"
    cmd = [sys.executable, "-I", "-B", str(runner), str(tree), str(student_file), module_name]
    start = time.monotonic()
    timed_out = False
    try:
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=tree,
                env=_scrubbed_env(tree), start_new_session=os.name == "posix", close_fds=True,
            )
            try:
                proc.stdin.write((json.dumps(cfg) + "\n").encode())
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(proc)  # also stops anything the child left behind
                proc.wait()
        seconds = time.monotonic() - start
        stdout, stderr = _read_head_tail(out_path), _read_head_tail(err_path)
        printed = sum(p.stat().st_size for p in (out_path, err_path) if p.exists())
    finally:
        if own_logdir:
            shutil.rmtree(logdir, ignore_errors=True)
    rc = proc.returncode
    base = dict(stdout=stdout, stderr=stderr, returncode=rc, seconds=seconds)
    if timed_out:
        return RunResult("timeout", {}, detail=f"stopped after the time limit of {timeout:g} s", **base)
    if printed > MAX_OUTPUT_BYTES:
        return RunResult("crash", {}, detail=(
            f"the code printed {printed / 2**20:.1f} MiB of output (limit {MAX_OUTPUT_BYTES // 2**20} MiB); "
            "remove print calls from loops and at import"), **base)
    if rc != 0:
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            why = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit: too much output?)",
                   "SIGKILL": " (killed: memory?)", "SIGSEGV": " (segmentation fault)"}.get(name, "")
            detail = f"the process was killed by {name}{why}"
        else:
            detail = f"the process exited with code {rc} before finishing"
        return RunResult("crash", {}, detail=detail, **base)
    outdir = jobdir / "out"
    try:
        with open(outdir / "DONE", "rb") as f:
            marker = f.read(100)
    except OSError:
        return RunResult("crash", {}, detail="the process exited without writing its results "
                         "(did the code call exit()?)", **base)
    if marker != nonce.encode():
        return RunResult("crash", {}, detail="the results were not written by the grader", **base)
    try:
        doc, arrays = wire.load_raw(outdir, stem="results")
        if doc.get("nonce") != nonce or set(doc) != {"nonce", "import_error", "calls"}:
            raise wire.WireError("results are not the grader's")
        import_error = _valid_error(doc["import_error"]) if doc["import_error"] is not None else None
        outcomes = {}
        if import_error is None:
            calls_doc = doc["calls"]
            if type(calls_doc) is not dict or set(calls_doc) != set(ids):
                raise wire.WireError("results are incomplete")
            for cid in ids:
                entry = calls_doc[cid]
                if type(entry) is not dict or len(entry) != 1:
                    raise wire.WireError(f"malformed result for call {cid}")
                if "value" in entry:
                    outcomes[cid] = Outcome(value=wire.decode(entry["value"], arrays))
                elif "error" in entry:
                    e = _valid_error(entry["error"])
                    outcomes[cid] = Outcome(raised=True, exc_type=e["type"], exc_mro=tuple(e["mro"]),
                                            message=e["message"])
                else:
                    raise wire.WireError(f"malformed result for call {cid}")
    except (wire.WireError, OSError, KeyError, IndexError, TypeError, ValueError, RecursionError) as exc:
        return RunResult("crash", {}, detail=f"the results could not be read ({exc})", **base)
    return RunResult("done", outcomes, import_error=import_error, **base)


def _valid_error(e) -> dict:
    if (type(e) is not dict or type(e.get("type")) is not str or type(e.get("message")) is not str
            or type(e.get("mro")) is not list or not all(type(m) is str for m in e["mro"])):
        raise wire.WireError("malformed exception record")
    return {"type": e["type"][:200], "mro": e["mro"][:50], "message": e["message"][:2000],
            "traceback": str(e.get("traceback", ""))[:4000]}
