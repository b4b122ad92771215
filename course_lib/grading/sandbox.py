"""Run untrusted exercise code in an isolated child process and collect plain-data results.

The parent (this module) builds a throwaway tree holding ``course_lib``, the
public exercise tests and the one submission file, writes the call inputs
there, and starts :mod:`._runner` in it, confined by the best isolation this
machine offers (:func:`choose_isolation`):

- ``bubblewrap`` (Linux, the ``bubblewrap`` package): new user, PID, network,
  IPC and mount namespaces; the child runs as ``nobody`` without capabilities and
  sees only the system libraries, the Python installation and its tree, all
  read-only, plus size-limited private tmpfs folders to write in; it cannot see
  or signal any other process, and everything it starts dies with it;
- ``landlock`` (Linux >= 5.13, when bubblewrap is missing): the kernel limits the
  child's file access to the same paths (writes only to its tree's ``home/`` and
  ``tmp/``), TCP, and (ABI >= 6) signals to processes outside it;
- ``none``: only with ``--unsafe-no-isolation``, with a loud warning.

In every mode: ``python -I -B``, a scrubbed environment, a new session; wall-time
limit (``timeout``), memory limit (``RLIMIT_DATA``: heap and anonymous mappings, with
``RLIMIT_AS`` a looser backstop), CPU-time backstop and file-size limit; an audit
hook that refuses paths it cannot resolve, reads outside the tree
and the installation, writes outside the tree, processes, signals, ``ctypes``
calls, ``cffi`` and ``_posixsubprocess``. The hook is a second line: it cannot
confine native code, the kernel can.

stdout/stderr come through pipes the parent reads (truncated; more than
``MAX_OUTPUT_BYTES`` is a ``crash``: flooding the grader earns nothing). What the
child sends back is values only, as one blob on a file descriptor the parent
opened outside the tree; :func:`run_calls` accepts it only when the process
exited 0, the blob holds the nonce the parent chose, and every call id is
present and well formed. Anything else is a ``crash``. Expected values never
enter the tree, so nothing the child writes can make a wrong answer pass.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import wire
from .checks import Outcome

__all__ = ["RunResult", "run_calls", "make_tree", "remove_tree", "choose_isolation", "IsolationError",
           "ISOLATIONS", "UNSAFE_WARNING", "DEFAULT_TIMEOUT", "DEFAULT_MEMORY", "parse_size"]

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY = 2 * 2**30  # RLIMIT_DATA: what the code may allocate
# RLIMIT_AS = memory + this: the CUDA build of torch maps about 3.5 GiB of libraries at import
# (measured: `import torch` fails under RLIMIT_AS = 3 GiB and passes at 4 GiB; it passes under
# RLIMIT_DATA = 1 GiB), so address space cannot be the memory limit.
ADDRESS_SPACE_EXTRA = 6 * 2**30
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


def make_tree(root: Path, dest: Path, *, files: dict) -> Path:
    """A fresh grading tree: course_lib, the public exercise tests, and ``files``.

    ``files`` maps a relative destination (``exercises/ex01_digital_audio.py``)
    to a source path or to the file's bytes. ``solutions/``, test fixtures,
    mutants (which quote the solutions) and any hidden tests are never copied.
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
        if isinstance(src, bytes):
            target.write_bytes(src)
        else:
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


ISOLATIONS = ("bubblewrap", "landlock", "none")
TMPFS_BYTES = 256 * 2**20  # per writable folder of a bubblewrap run (home/, tmp/, /tmp)
MAX_RESULT_BYTES = 512 * 2**20


class IsolationError(RuntimeError):
    """The requested isolation is not available on this machine; the message says what to do."""


_PROBED: dict = {}


def _bwrap_args(tree: Path, tmp_bytes: int = TMPFS_BYTES) -> list:
    """bubblewrap options: a new user/PID/network/IPC/UTS/cgroup namespace, nobody's uid, no
    capabilities, the system and Python installation read-only, the tree read-only with
    size-limited tmpfs home/ and tmp/, a private size-limited /tmp, its own /proc and /dev."""
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    args = [bwrap, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
            "--cap-drop", "ALL", "--die-with-parent", "--new-session",
            "--proc", "/proc", "--dev", "/dev", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    for top in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for f in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
        if os.path.exists(f):
            args += ["--ro-bind", f, f]
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                               os.path.dirname(os.path.realpath(sys.executable)))}
    for p in sorted(prefixes):
        if not p.startswith(("/usr/", "/bin/", "/lib")) and p != "/usr":
            args += ["--ro-bind", p, p]
    if sys.executable != os.path.realpath(sys.executable):  # a venv's bin/python link
        d = os.path.dirname(sys.executable)
        args += ["--ro-bind", d, d]
    tree = str(tree)
    args += ["--ro-bind", tree, tree]
    for sub in ("home", "tmp"):
        args += ["--size", str(tmp_bytes), "--tmpfs", os.path.join(tree, sub)]
    args += ["--chdir", tree, "--"]
    return args


def bubblewrap_works() -> bool:
    """Whether bubblewrap can start a confined Python here (checked once per process)."""
    if "bubblewrap" not in _PROBED:
        ok = False
        if sys.platform.startswith("linux") and shutil.which("bwrap"):
            probe = Path(tempfile.mkdtemp(prefix="course-bwrap-probe-"))
            try:
                for sub in ("home", "tmp"):
                    (probe / sub).mkdir()
                proc = subprocess.run(_bwrap_args(probe) + [sys.executable, "-I", "-c", "print(6 * 7)"],
                                      capture_output=True, timeout=60, env=_scrubbed_env(probe))
                ok = proc.returncode == 0 and proc.stdout.strip() == b"42"
            except (OSError, subprocess.SubprocessError):
                ok = False
            finally:
                remove_tree(probe)
        _PROBED["bubblewrap"] = ok
    return _PROBED["bubblewrap"]


def landlock_works() -> bool:
    if "landlock" not in _PROBED:
        from ._runner import landlock_abi

        _PROBED["landlock"] = sys.platform.startswith("linux") and landlock_abi() >= 1
    return _PROBED["landlock"]


def choose_isolation(requested: str = "auto", *, allow_unsafe: bool = False) -> str:
    """The isolation a run uses: ``"bubblewrap"``, else ``"landlock"``, else ``"none"``
    only with ``allow_unsafe`` (``--unsafe-no-isolation``)."""
    if requested not in ("auto", *ISOLATIONS):
        raise ValueError(f"isolation={requested!r} must be auto, {', '.join(ISOLATIONS)}")
    if requested == "none" or (requested == "auto" and allow_unsafe and not
                               (bubblewrap_works() or landlock_works())):
        if not allow_unsafe:
            raise IsolationError("isolation 'none' needs --unsafe-no-isolation")
        return "none"
    if requested in ("auto", "bubblewrap") and bubblewrap_works():
        return "bubblewrap"
    if requested in ("auto", "landlock") and landlock_works():
        return "landlock"
    if requested == "auto" and allow_unsafe:
        return "none"
    raise IsolationError(
        f"isolation {requested!r} is not available here (bubblewrap: "
        f"{'works' if bubblewrap_works() else 'missing or refused'}, Landlock: "
        f"{'works' if landlock_works() else 'not supported by this kernel'}); install bubblewrap "
        "(apt-get install bubblewrap), or grade inside a throwaway container or VM with "
        "--unsafe-no-isolation")


UNSAFE_WARNING = ("WARNING: grading WITHOUT operating-system isolation (--unsafe-no-isolation). Only a "
                  "Python audit hook stands between student code and this machine; native code (C "
                  "extensions, ctypes-like tricks) can read, write and run anything this user can. Do this "
                  "only inside a throwaway container or VM.")


def remove_tree(path, *, deadline_s: float = 60.0, max_entries: int = 1_000_000) -> bool:
    """Delete ``path`` without recursion and without following links; ``True`` when it is gone.

    Sub-folders are renamed to the top level before they are emptied, so a folder chain
    thousands deep costs neither Python recursion nor long paths; it gives up (leaving what
    remains) after ``deadline_s`` seconds or ``max_entries`` entries instead of hanging.
    """
    path = os.fspath(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return True
    end = time.monotonic() + deadline_s
    todo, seen, counter = [path], 0, 0
    while todo:
        d = todo[-1]
        moved = False
        try:
            os.chmod(d, 0o700)
        except OSError:
            pass
        try:
            with os.scandir(d) as it:
                for entry in it:
                    seen += 1
                    if seen > max_entries or time.monotonic() > end:
                        return False
                    full = os.path.join(d, entry.name)
                    if entry.is_dir(follow_symlinks=False):
                        counter += 1
                        flat = os.path.join(path, f".rm-{counter}")
                        if d == path:
                            todo.append(full)
                        else:
                            os.rename(full, flat)
                            todo.append(flat)
                        moved = True
                        break
                    try:
                        os.unlink(full)
                    except FileNotFoundError:
                        pass
        except OSError:
            return False
        if not moved:
            todo.pop()
            try:
                os.rmdir(d)
            except OSError:
                if d == path:
                    return False
    return not os.path.lexists(path)


class _Drain(threading.Thread):
    """Read a pipe to its end, keeping the first and last ``keep`` bytes and the total;
    calls ``on_flood`` once when the total passes ``limit``."""

    def __init__(self, fd, keep: int, limit: int, on_flood):
        super().__init__(daemon=True)
        self.fd, self.keep, self.limit, self.on_flood = fd, keep, limit, on_flood
        self.head, self.tail, self.total = bytearray(), bytearray(), 0

    def run(self):
        flooded = False
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            room = self.keep - len(self.head)
            if room > 0:
                self.head += chunk[:room]
            self.tail = (self.tail + chunk)[-self.keep:]
            if not flooded and self.total > self.limit:
                flooded = True
                self.on_flood()
        os.close(self.fd)

    def text(self) -> str:
        if self.total <= len(self.head):
            raw = bytes(self.head)
        else:
            raw = bytes(self.head) + b"\n[...]\n" + bytes(self.tail[-max(0, min(self.keep, self.total - len(self.head))):])
        out = _truncate(raw)
        if self.total > 2 * self.keep:
            out += f"\n[{self.total} bytes of output in all]"
        return out


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child and its process group; under bubblewrap killing it ends its PID namespace,
    so nothing the submission started survives."""
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
              logdir: Path | None = None, isolation: str | None = None) -> RunResult:
    """Run ``calls`` (``[{"id", "function", "args", "kwargs"}]``) against ``student_file``.

    ``tree`` comes from :func:`make_tree`; ``student_file`` lies inside it.
    ``isolation`` is ``"bubblewrap"``, ``"landlock"`` or ``"none"`` (default:
    :func:`choose_isolation`, which never picks ``"none"`` by itself). Under
    bubblewrap the child sees only the Python installation, the system libraries
    and its tree, read-only, with small private tmpfs folders to write in; under
    Landlock the kernel limits its file access to the same paths; in every mode
    an audit hook refuses what it can see. The wall-time ``timeout`` covers
    everything: starting the sandbox and Python, importing NumPy (and torch, if
    the submission imports it), the submission's import and every call.

    Output is read through pipes by the parent (first and last 2 000 characters
    kept; more than ``MAX_OUTPUT_BYTES`` in all stops the run as a crash).
    Results come back on a file descriptor the parent opened outside the tree;
    nothing the child leaves in the tree is read. Returns a :class:`RunResult`;
    its ``outcomes`` map every call id to an :class:`~.checks.Outcome` when
    ``status == "done"``.
    """
    isolation = choose_isolation() if isolation is None else isolation
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation={isolation!r} must be one of {ISOLATIONS}")
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
    results = tempfile.TemporaryFile(dir=logdir)  # outside the tree; never reachable by a path
    cfg = {
        "nonce": nonce, "memory": int(memory), "address_space": int(memory) + ADDRESS_SPACE_EXTRA,
        "cpu_seconds": int(timeout) + 5,
        "max_file_bytes": MAX_FILE_BYTES, "allow_read": allow, "isolation": isolation,
        "result_fd": results.fileno(),
    }
    runner = tree / "course_lib" / "grading" / "_runner.py"
    cmd = [sys.executable, "-I", "-B", str(runner), str(tree), str(student_file), module_name]
    if isolation == "bubblewrap":
        cmd = _bwrap_args(tree) + cmd
    start = time.monotonic()
    timed_out = flooded = False
    try:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tree,
            env=_scrubbed_env(tree), start_new_session=os.name == "posix", close_fds=True,
            pass_fds=(results.fileno(),),
        )
        flood_event = threading.Event()
        drains = [_Drain(os.dup(f.fileno()), OUTPUT_KEEP, MAX_OUTPUT_BYTES, flood_event.set)
                  for f in (proc.stdout, proc.stderr)]
        proc.stdout.close()
        proc.stderr.close()
        total = lambda: sum(d.total for d in drains)  # noqa: E731
        for d in drains:
            d.start()
        try:
            proc.stdin.write((json.dumps(cfg) + "\n").encode())
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        deadline = start + timeout
        while proc.poll() is None:
            if flood_event.is_set() or total() > MAX_OUTPUT_BYTES:
                flooded = True
                break
            if time.monotonic() > deadline:
                timed_out = True
                break
            flood_event.wait(0.02)
        _kill(proc)  # also stops anything the child left behind
        proc.wait()
        for d in drains:
            d.join(5.0)
        seconds = time.monotonic() - start
        stdout, stderr = drains[0].text(), drains[1].text()
        printed = total()
        results.seek(0)
        size = os.fstat(results.fileno()).st_size
        blob = results.read(MAX_RESULT_BYTES + 1) if size <= MAX_RESULT_BYTES else None
    finally:
        results.close()
    rc = proc.returncode
    base = dict(stdout=stdout, stderr=stderr, returncode=rc, seconds=seconds)
    if timed_out:
        return RunResult("timeout", {}, detail=f"stopped after the time limit of {timeout:g} s", **base)
    if flooded or printed > MAX_OUTPUT_BYTES:
        return RunResult("crash", {}, detail=(
            f"the code printed more than {MAX_OUTPUT_BYTES / 2**20:.0f} MiB of output (limit "
            f"{MAX_OUTPUT_BYTES // 2**20} MiB); remove print calls from loops and at import"), **base)
    if rc != 0:
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            why = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit: too much output?)",
                   "SIGKILL": " (killed: memory?)", "SIGSEGV": " (segmentation fault)"}.get(name, "")
            detail = f"the process was killed by {name}{why}"
        elif isolation == "bubblewrap" and rc >= 128:  # bubblewrap reports a killed child as 128 + signal
            try:
                name = signal.Signals(rc - 128).name
            except ValueError:
                name = f"signal {rc - 128}"
            why = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit: too much output?)",
                   "SIGKILL": " (killed: memory?)", "SIGSEGV": " (segmentation fault)"}.get(name, "")
            detail = f"the process was killed by {name}{why}"
        else:
            detail = f"the process exited with code {rc} before finishing"
        return RunResult("crash", {}, detail=detail, **base)
    if blob is None:
        return RunResult("crash", {}, detail=f"the results are larger than {MAX_RESULT_BYTES} bytes", **base)
    if not blob:
        return RunResult("crash", {}, detail="the process exited without writing its results "
                         "(did the code call exit()?)", **base)
    try:
        doc, arrays = wire.load_blob(blob)
        if doc.get("nonce") != nonce:
            return RunResult("crash", {}, detail="the results were not written by the grader", **base)
        if set(doc) != {"nonce", "import_error", "calls"}:
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
