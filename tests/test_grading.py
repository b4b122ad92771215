"""Tests of course_lib.grading: stubs, checks, `course check`, `course grade` and its sandbox.

The security tests grade tests/fixtures/grading/class/ (one honest student, two
ordinary ones, and students who attack the grader) once, with small limits,
and check every row; control tests show the attacks would work without the
sandbox, so the sandbox tests cannot pass vacuously.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from course_lib.errors import ParameterError
from course_lib.grading import find_repo_root, load_exercise, load_module, resolve_exercise, wire
from course_lib.grading.checks import Check, Outcome, Verdict, call_in_process, evaluate, load_checks
from course_lib.grading.cli import main
from course_lib.grading.stubs import StubError, check_stubs, make_stub, write_stubs

REPO = Path(__file__).resolve().parents[1]
FIX = REPO / "tests" / "fixtures" / "grading"
CLASS = FIX / "class"
EX01 = "ex01_digital_audio"
EX01_CHECKS = load_checks(REPO / "tests" / "exercises" / "test_ex01.py").checks

# student -> (status of ex01, full marks?) ; None = no credit at all
EXPECTED = {
    "honest": ("ok", True),
    "chatty": ("crash", False),        # correct, but prints 25 MB: flooding earns nothing; short feedback
    "partial": ("fail", None),         # some points: checked against an in-process run below
    "stub": ("not_attempted", False),
    "syntax_error": ("crash", False),
    "exit_at_import": ("crash", False),
    "sysexit_at_import": ("crash", False),
    "exit_in_call": ("crash", False),
    "sysexit_in_call": ("fail", False),
    "tamper": ("fail", False),
    "loop_forever": ("timeout", False),
    "memory_hog": ("fail", False),
    "read_solutions": ("fail", False),
    "write_outside": ("fail", False),
    "spawn_process": ("fail", False),
    "segfault_ctypes": ("crash", False),
    "segfault": ("crash", False),
    "forge_results": ("crash", False),
    "copy_neighbour": ("fail", False),  # only succeeds while another tree exists: see the control
    # The attacks of issue #10 (numbered as there); each answers correctly only if its attack worked,
    # and each was seen getting full marks, escaping or stopping the class with the grader before it.
    "read_bytearray": ("fail", False),     # 1: bytearray path to solutions/
    "read_dir_fd": ("fail", False),        # 1: dir_fd=/proc/self + "root/<course>/solutions/..."
    "read_native": ("fail", False),        # 1: libsndfile reads the solution as RAW audio
    "write_bytearray": ("fail", False),    # 2: writes into the course folder, /tmp, sqlite3 outside
    "spawn_native": ("fail", False),       # 3: _posixsubprocess.fork_exec(setsid), cffi system()
    "kill_grader": ("fail", False),        # 4: pidfd_send_signal(SIGKILL) to the grader
    "kill_classmates": ("fail", False),    # 4: scans /proc and kills the other runs
    "fifo_result": ("crash", False),       # 5: FIFOs where results used to be read; exits early
    "surrogate_message": ("fail", False),  # 5: lone surrogates in messages, a non-UTF-8 byte in output
    "deep_tree": ("not_attempted", False),  # 5: a 1 500-deep folder chain for the cleanup
    "ftruncate_flood": ("fail", False),    # 7: 30 MiB printed while truncating fd 1 (a pipe: EINVAL)
    "disk_filler": ("fail", False),        # 7: 300 MiB in $TMPDIR and /tmp
    "raise_everywhere": ("fail", False),   # 7: ValueError for everything (16 / 65 per check)
    "return_input": ("fail", False),       # 7: returns the input (3 / 30 per check)
    "return_zero": ("fail", False),        # returns 0 (2 / 30 per check)
}
# Made at test time in a copy of the class (links and odd names are not committed):
SPECIAL = {
    "symlink_folder": ("invalid", False),  # 6: a link in place of a student folder (to `honest`)
    "symlink_passwd": ("invalid", False),  # 6: ex01_digital_audio.py -> /etc/passwd
    '=HYPERLINK("evil.invalid","x")': ("fail", None),  # 7: formula injection (a `partial` copy)
    os.fsdecode(b"caf\xe9"): ("fail", None),  # 5: a non-UTF-8 folder name (a `partial` copy)
}
EVERYONE = {**EXPECTED, **SPECIAL}
CANARIES = [Path("/tmp/course_grading_escape_canary.txt"), Path("/tmp/course_grading_escape_shell.txt"),
            Path("/tmp/course_grading_escape_dir"), Path("/tmp/course_grading_escape_spawn.txt"),
            REPO / "course_grading_escape_canary.txt", REPO / "course_grading_escape.sqlite"]


def _escaped_processes() -> list:
    """Processes started by a submission that outlived its run (their command line has a marker)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"course_grading_escape_marker" in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


def _class_copy(dest: Path, students=None) -> Path:
    """The fixture class (or some of its students) plus the links and odd names of SPECIAL."""
    dest.mkdir(parents=True)
    for p in CLASS.iterdir():
        if p.is_dir() and (students is None or p.name in students):
            shutil.copytree(p, dest / p.name, ignore=shutil.ignore_patterns("__pycache__"))
    if students is None:
        os.symlink(CLASS / "honest", dest / "symlink_folder")
        (dest / "symlink_passwd").mkdir()
        os.symlink("/etc/passwd", dest / "symlink_passwd" / f"{EX01}.py")
        for name in list(SPECIAL)[2:]:
            (dest / name).mkdir()
            shutil.copy(CLASS / "partial" / f"{EX01}.py", dest / name / f"{EX01}.py")
    return dest


def _remove_canaries():
    for c in CANARIES:
        if c.is_dir():
            c.rmdir()
        elif c.exists():
            c.unlink()


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(os.fsencode(p.relative_to(folder)))
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the fixture class once: (exit code, rows by student, feedback folder)."""
    from course_lib.grading.grade import csv_cell

    _remove_canaries()
    subs = _class_copy(tmp_path_factory.mktemp("class") / "class")
    before = _digest(REPO / "solutions") + _digest(CLASS) + _digest(subs)
    import tempfile

    own_tmp = tmp_path_factory.mktemp("scratch")  # the grader's temporary folders go here, and must go
    saved, tempfile.tempdir = tempfile.tempdir, str(own_tmp)
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    try:
        rc = main(["grade", str(subs), "--out", str(out), "--timeout", "5", "--memory", "1G",
                   "--no-progress", "--jobs", "2"])
    finally:
        tempfile.tempdir = saved
    left = _escaped_processes()
    with open(out, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = list(reader)
    after = _digest(REPO / "solutions") + _digest(CLASS) + _digest(subs)
    cells = {csv_cell(name): name for name in EVERYONE}
    return {"rc": rc, "header": header, "rows": {cells.get(r["student"], r["student"]): r for r in rows},
            "order": [r["student"] for r in rows], "feedback": out.parent / "feedback",
            "unchanged": before == after, "processes_left": left,
            "scratch_left": sorted(own_tmp.iterdir()),
            "summary": out.with_name("grades.summary.txt").read_text()}


# --------------------------------------------------------------------------- course grade

def test_grade_exits_zero_and_writes_one_sorted_row_per_student(graded):
    assert graded["rc"] == 0
    assert graded["order"] == sorted(graded["order"])
    assert set(graded["rows"]) == set(EVERYONE), "a fixture student has no expectation or no row"


def test_csv_header(graded):
    header = graded["header"]
    assert header[:3] == ["student", "total", "max_total"]
    from course_lib.grading.registry import exercises

    shorts = [ex.short for ex in exercises(REPO).values() if ex.checks is not None]
    assert header[3:] == [f"{ex}_{col}" for ex in shorts for col in ("points", "status")]


@pytest.mark.parametrize("student", sorted(EVERYONE))
def test_each_student_gets_the_right_status_and_credit(graded, student):
    from course_lib.grading.sandbox import choose_isolation

    if student == "disk_filler" and choose_isolation() != "bubblewrap":
        # README, "Isolation": Landlock "gives no disk quota and no private /tmp"; only bubblewrap's
        # 256 MiB tmpfs folders stop this attack. CI installs bubblewrap (.ci/run), so it is tested there.
        pytest.skip("no disk quota without bubblewrap (documented); install bubblewrap to test it")
    row = graded["rows"][student]
    status, full = EVERYONE[student]
    feedback = graded["feedback"] / f"{student}.md"
    assert row["ex01_status"] == status, feedback.read_text(errors="replace")[:3000]
    points = int(row["ex01_points"])
    if full is True:
        assert points == len(EX01_CHECKS)
    elif full is False:
        assert points == 0
    # other exercises were not submitted
    others = [k for k in row if k.endswith("_status") and k != "ex01_status"]
    assert all(row[k] == ("invalid" if student == "symlink_folder" else "missing") for k in others)
    assert int(row["total"]) == sum(int(v) for k, v in row.items() if k.endswith("_points"))


def test_partial_credit_equals_an_in_process_run(graded):
    """The sandbox scores exactly what running the same checks in-process scores, by function:
    quantize is right (all its checks pass), rms_dbfs passes some checks but not all (no points)."""
    module = load_module(CLASS / "partial" / f"{EX01}.py", module_name="_partial_student")
    ok = {}
    for c in EX01_CHECKS:
        ok.setdefault(c.function, []).append(evaluate(c, call_in_process(module, c)).passed)
    assert all(ok["quantize"]) and any(ok["rms_dbfs"]) and not all(ok["rms_dbfs"])
    expected = sum(len(v) for v in ok.values() if all(v))
    assert 0 < expected < sum(sum(v) for v in ok.values())  # fewer points than passing checks
    assert int(graded["rows"]["partial"]["ex01_points"]) == expected


def test_function_points_rule():
    from course_lib.grading.grade import GradedCheck, function_points

    checks = [Check("f", name="a"), Check("f", name="b"), Check("g", name="c")]
    verdicts = [Verdict(checks[0], True), Verdict(checks[1], False), Verdict(checks[2], True)]
    graded = [GradedCheck(c, False, v) for c, v in zip(checks, verdicts)]
    assert function_points(graded) == {"f": (0, 2), "g": (1, 1)}
    graded[1] = GradedCheck(checks[1], True, Verdict(checks[1], True))  # an instructor check counts the same
    assert function_points(graded) == {"f": (2, 2), "g": (1, 1)}
    graded[2] = GradedCheck(checks[2], False, None)  # no result: no points
    assert function_points(graded) == {"f": (2, 2), "g": (0, 1)}


def test_max_total_counts_every_check(graded):
    from course_lib.grading.grade import public_checks

    n = sum(len(c) for c in public_checks(REPO).values())
    assert all(int(r["max_total"]) == n for r in graded["rows"].values())


def test_nothing_escaped_the_sandbox(graded):
    assert graded["unchanged"], "solutions/ or the submissions changed while grading"
    leaked = [str(c) for c in CANARIES if c.exists()]
    assert not leaked, f"a submission wrote outside its tree: {leaked}"
    assert not graded["processes_left"], f"processes started by a submission still run: {graded['processes_left']}"
    assert not graded["scratch_left"], f"scratch folders left behind: {graded['scratch_left']}"


def test_summary_records_the_isolation(graded):
    from course_lib.grading.sandbox import choose_isolation

    assert f"Isolation: {choose_isolation()}" in graded["summary"]
    assert "Scoring: each function" in graded["summary"]


def test_hostile_names_and_links_in_csv_and_feedback(graded):
    fb = graded["feedback"]
    formula = '=HYPERLINK("evil.invalid","x")'
    assert "'" + formula in graded["order"], "a formula student name must be escaped in the CSV"
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in graded["order"])
    assert "caf\\udce9" in graded["order"]  # undecodable byte shown, not crashing the writer
    assert "root:" not in (fb / "symlink_passwd.md").read_text()
    assert "symbolic link" in (fb / "symlink_folder.md").read_text()
    surrogate = (fb / "surrogate_message.md").read_text(encoding="utf-8")
    assert "\\ud800 lone surrogate" in surrogate


def test_feedback_files(graded):
    fb = graded["feedback"]
    assert sorted(p.stem for p in fb.glob("*.md")) == sorted(EVERYONE)
    honest = (fb / "honest.md").read_text()
    assert honest.count("- [passed]") == len(EX01_CHECKS) and "[failed]" not in honest
    partial = (fb / "partial.md").read_text()
    assert "[failed] rms_dbfs: full-scale sine: -3.01 dBFS: expected -3.01029995663981" in partial
    assert "[not attempted] aliased_frequency" in partial
    assert (fb / "chatty.md").stat().st_size < 20_000, "captured output was not truncated"
    chatty = (fb / "chatty.md").read_text()
    assert "characters cut" in chatty and "MiB of output (limit 1 MiB)" in chatty
    assert "SIGSEGV" in (fb / "segfault.md").read_text()
    assert "time limit of 5 s" in (fb / "loop_forever.md").read_text()
    assert "without writing its results" in (fb / "exit_at_import.md").read_text()
    assert "SyntaxError" in (fb / "syntax_error.md").read_text()
    assert "sandbox: writing" in (fb / "write_outside.md").read_text()


# Controls: without the sandbox these attacks work, so the tests above are not vacuous.

def test_control_reading_solutions_works_without_sandbox(monkeypatch):
    monkeypatch.chdir(REPO)
    module = load_module(CLASS / "read_solutions" / f"{EX01}.py", module_name="_thief")
    c = EX01_CHECKS[0]
    assert evaluate(c, call_in_process(module, c)).passed


def test_control_memory_hog_is_right_without_a_limit():
    module = load_module(CLASS / "memory_hog" / f"{EX01}.py", module_name="_hog")
    c = EX01_CHECKS[0]
    assert evaluate(c, call_in_process(module, c)).passed


def test_control_tampering_fools_an_in_process_numpy_check():
    import builtins

    saved = dict(vars(builtins))
    saved_np = (np.testing.assert_allclose, np.allclose, np.isclose, np.array_equal,
                np.testing.assert_array_equal)
    try:
        load_module(CLASS / "tamper" / f"{EX01}.py", module_name="_tamper")
        np.testing.assert_allclose(np.array([12345.0]), np.array([-0.75]))  # no longer raises
    finally:
        vars(builtins).update(saved)
        (np.testing.assert_allclose, np.allclose, np.isclose, np.array_equal,
         np.testing.assert_array_equal) = saved_np
    np.testing.assert_allclose(1.0, 1.0)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(1.0, 2.0)


def test_a_run_cannot_read_a_parallel_students_tree(tmp_path, monkeypatch):
    from course_lib.grading.grade import grade_file
    from course_lib.grading.sandbox import make_tree

    scratch = tmp_path / "scratch"
    make_tree(REPO, scratch / "other" / "tree", files={f"exercises/{EX01}.py": CLASS / "honest" / f"{EX01}.py"})
    thief = CLASS / "copy_neighbour" / f"{EX01}.py"
    checks = EX01_CHECKS[:3]
    # control: without the sandbox, from a sibling tree, the copy works
    (scratch / "me" / "tree").mkdir(parents=True)
    monkeypatch.chdir(scratch / "me" / "tree")
    stolen = load_module(thief, module_name="_thief_control")
    assert stolen.aliased_frequency(900.0, sr=1000) == 100.0, "control: the copy should work unsandboxed"
    monkeypatch.chdir(REPO)
    guarded = grade_file(REPO, EX01, checks, thief, timeout=20, scratch=scratch)
    assert guarded.points == 0 and guarded.status == "fail"


def test_no_copy_of_the_solutions_anywhere_is_readable():
    """CI grades from a fresh clone while the developer's checkout, with its solutions/,
    sits elsewhere on the same machine: the thief must not find that copy either."""
    import tempfile

    from course_lib.grading.grade import grade_file

    decoy = Path(tempfile.mkdtemp(prefix="course-decoy-", dir="/tmp"))  # /tmp/X/solutions: a path the thief globs
    try:
        (decoy / "solutions").mkdir()
        (decoy / "solutions" / f"{EX01}.py").write_bytes((REPO / "solutions" / f"{EX01}.py").read_bytes())
        (decoy / "solutions" / "__init__.py").write_text("")
        result = grade_file(REPO, EX01, EX01_CHECKS, CLASS / "read_solutions" / f"{EX01}.py", timeout=20)
        assert result.points == 0, f"the thief scored {result.points} by reading {decoy / 'solutions'}"
    finally:
        shutil.rmtree(decoy, ignore_errors=True)


def test_extra_tests_are_scored_and_stay_hidden(tmp_path):
    subs = tmp_path / "subs"
    for name in ("honest", "partial"):
        (subs / name).mkdir(parents=True)
        (subs / name / f"{EX01}.py").write_bytes((CLASS / name / f"{EX01}.py").read_bytes())
    snoop = subs / "snoop"
    snoop.mkdir()
    (snoop / f"{EX01}.py").write_text(textwrap.dedent('''
        import os
        for d, _, files in os.walk("."):
            print(d, files)
        print(dict(os.environ))
        # issue #10 attack 1: the --extra-tests folder from the grader's command line
        pids = ["self", str(os.getppid())]
        try:
            pids += [p for p in os.listdir(os.open(bytearray(b"/proc"), 0)) if p.isdigit()]
        except BaseException as exc:
            print("refused listing /proc", repr(exc)[:80])
        for pid in pids:
            try:
                fd = os.open(bytearray(f"/proc/{pid}/cmdline".encode()), os.O_RDONLY)
                print("cmdline", pid, os.read(fd, 10000).replace(b"\\0", b" "))
            except BaseException as exc:
                print("refused", pid, repr(exc)[:80])
        def quantize(y, *, bits):
            raise NotImplementedError()
    '''))
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "test_ex01_hidden.py").write_text(textwrap.dedent('''
        import numpy as np
        from course_lib.grading.checks import Check
        EXERCISE = "ex01_digital_audio"
        CHECKS = [
            Check("rms_dbfs", args=(np.full(3, 0.25),), expected=-12.041199826559248, rtol=1e-9,
                  name="secret level check"),
            Check("aliased_frequency", args=(31415.0,), kwargs={"sr": 8000}, expected=585.0,
                  name="secret alias check"),
        ]
    '''))
    out = tmp_path / "out" / "g.csv"
    # a separate process, so that the extra folder is on the grader's command line, as in real use
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "course_lib.grading.cli", "grade", str(subs), "--out", str(out),
                           "--extra-tests", str(extra), "--timeout", "10", "--no-progress"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(out))}
    n = len(EX01_CHECKS)
    assert rows["honest"]["ex01_points"] == str(n + 2)
    fb = (tmp_path / "out" / "feedback" / "honest.md").read_text()
    assert "(instructor check) rms_dbfs: secret level check" in fb
    partial_fb = (tmp_path / "out" / "feedback" / "partial.md").read_text()
    assert "[failed] (instructor check) rms_dbfs: secret level check" in partial_fb
    assert "-12.04" not in partial_fb and "585" not in partial_fb, "a hidden expected value leaked"
    snoop_fb = (tmp_path / "out" / "feedback" / "snoop.md").read_text()
    assert "test_ex01_hidden" not in snoop_fb and "solutions" not in snoop_fb
    assert "test_ex01.py" in snoop_fb  # the public checks are there (sanity check of the snoop)
    assert "'HOME': '" in snoop_fb and str(REPO) not in snoop_fb
    assert "cmdline self" in snoop_fb or "refused self" in snoop_fb  # the snoop ran
    assert str(extra) not in snoop_fb, "the --extra-tests folder leaked into the feedback"


@pytest.mark.parametrize("args", [
    ["grade", "/nonexistent/submissions"],
    ["grade", str(CLASS), "--memory", "lots"],
    ["grade", str(CLASS), "--timeout", "0"],
    ["grade", str(CLASS), "--extra-tests", "/nonexistent/extra"],
])
def test_grade_bad_arguments_exit_nonzero(args, tmp_path):
    assert main(args + ["--out", str(tmp_path / "g.csv"), "--no-progress"]) == 2


# --------------------------------------------------------------------------- course check

def _check(capsys, *args):
    rc = main(["check", *args])
    return rc, capsys.readouterr().out


def test_check_reports_not_attempted(capsys):
    rc, out = _check(capsys, "ex01", "--file", str(CLASS / "stub" / f"{EX01}.py"))
    assert rc == 1
    for fn in ("quantize", "rms_dbfs", "aliased_frequency"):
        assert f"{fn}" in out
    assert out.count("not attempted") == 3
    assert f"Score: 0/{len(EX01_CHECKS)}" in out


def test_check_reports_failed_with_message_and_passed(capsys):
    rc, out = _check(capsys, "ex01", "--file", str(CLASS / "partial" / f"{EX01}.py"))
    assert rc == 1
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and
             not line.startswith("      ")}
    assert "passed" in lines["quantize"]
    assert "FAILED" in lines["rms_dbfs"]
    assert "not attempted" in lines["aliased_frequency"]
    assert "x constant 0.5: -6.02 dBFS: expected -6.020599913279624, got -3.01029995663981" in out


def test_check_all_correct(capsys):
    rc, out = _check(capsys, "ex01", "--file", str(CLASS / "honest" / f"{EX01}.py"))
    assert rc == 0
    assert f"Score: {len(EX01_CHECKS)}/{len(EX01_CHECKS)} points.  All correct!" in out


def test_check_infinite_loop_times_out(capsys):
    rc, out = _check(capsys, "ex01", "--file", str(CLASS / "loop_forever" / f"{EX01}.py"), "--timeout", "2")
    assert rc == 1 and "time limit of 2 s" in out


@pytest.mark.parametrize("name", ["ex01", "ex1", "01", "1", "ex01_digital_audio", "EX01"])
def test_check_accepts_exercise_names(capsys, name, monkeypatch):
    monkeypatch.chdir(REPO / "tests")  # any folder of the repo works
    rc, out = _check(capsys, name, "--file", str(CLASS / "honest" / f"{EX01}.py"))
    assert rc == 0, out


def test_check_unknown_exercise(capsys):
    assert main(["check", "ex99"]) == 2
    assert "ex01_digital_audio" in capsys.readouterr().err


def test_resolve_exercise():
    known = {"ex01_digital_audio": 1, "ex02_spectral": 2}
    assert resolve_exercise("ex2", known=known) == "ex02_spectral"
    assert resolve_exercise("ex01_digital_audio.py", known=known) == "ex01_digital_audio"
    with pytest.raises(ParameterError, match="ex03"):
        resolve_exercise("ex03", known=known)


def test_find_repo_root(tmp_path, monkeypatch):
    assert find_repo_root(REPO / "tests" / "exercises") == REPO
    monkeypatch.chdir(tmp_path)  # outside any course folder: the package's own repo
    assert find_repo_root() == REPO


@pytest.mark.parametrize("impl", ["solutions", "exercises"])
def test_load_exercise(impl, monkeypatch):
    monkeypatch.setenv("COURSE_IMPL", impl)
    module = load_exercise("ex01")
    assert module.__file__ == str(REPO / impl / f"{EX01}.py")
    if impl == "solutions":
        assert module.aliased_frequency(900.0, sr=1000) == 100.0
    else:
        with pytest.raises(NotImplementedError):
            module.quantize(np.zeros(3), bits=2)


# --------------------------------------------------------------------------- stubs

SOLUTION = '''\
"""Doc."""
import numpy as np


def f(x, *, k):
    """Docstring kept."""
    ### BEGIN SOLUTION
    y = x * k
    return y
    ### END SOLUTION


def outer(x):
    def inner(z):
        """Nested."""
        ### BEGIN SOLUTION
        return z + 1
        ### END SOLUTION
    return inner(x)


class A:
    def method(self):
        if True:
            ### BEGIN SOLUTION
            return 1
            ### END SOLUTION
'''


def test_stub_replaces_regions_keeping_indentation():
    stub = make_stub(SOLUTION, filename="ex09_demo.py")
    assert "y = x * k" not in stub and "return z + 1" not in stub and "return 1" not in stub
    assert "    \"\"\"Docstring kept.\"\"\"\n    raise NotImplementedError()\n" in stub
    assert "        \"\"\"Nested.\"\"\"\n        raise NotImplementedError()\n    return inner(x)" in stub
    assert "        if True:\n            raise NotImplementedError()\n" in stub
    assert "def f(x, *, k):" in stub and "course check ex09" in stub
    ns: dict = {}
    exec(compile(stub, "stub", "exec"), ns)
    with pytest.raises(NotImplementedError):
        ns["f"](1, k=2)
    with pytest.raises(NotImplementedError):
        ns["outer"](1)


@pytest.mark.parametrize("source,match", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", r"ex\.py:2: '### BEGIN SOLUTION' has no matching"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", r"ex\.py:3: '### END SOLUTION' without"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n", r"ex\.py:3: .* inside the region opened at line 2"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", r"must be indented"),
    ("def f():\n    return 1\n", r"no '### BEGIN SOLUTION'"),
    ("def f():\n    ### BEGIN SOLUTIONS\n    return 1\n", r"unrecognised marker"),
])
def test_stub_errors_are_clear(source, match):
    with pytest.raises(StubError, match=match):
        make_stub(source, filename="ex.py")


def test_stubs_command_writes_and_checks(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "course_lib").mkdir()
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    (tmp_path / "solutions" / "ex09_demo.py").write_text(SOLUTION)
    monkeypatch.chdir(tmp_path / "solutions")
    assert main(["stubs", "--check"]) == 1
    assert "ex09_demo.py" in capsys.readouterr().err
    assert main(["stubs"]) == 0
    assert main(["stubs", "--check"]) == 0
    (tmp_path / "exercises" / "ex09_demo.py").write_text("edited by hand\n")
    assert main(["stubs", "--check"]) == 1
    assert write_stubs(tmp_path).written and not check_stubs(tmp_path).stale
    (tmp_path / "exercises" / "ex08_orphan.py").write_text("x = 1\n")
    assert main(["stubs", "--check"]) == 1


def test_repo_exercises_are_in_sync(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["stubs", "--check"]) == 0, capsys.readouterr().err


# --------------------------------------------------------------------------- checks and wire

def test_evaluate_rules():
    raises = Check("f", raises=ValueError, name="r")
    assert evaluate(raises, Outcome.from_exception(ParameterError("bad"))).passed  # subclass counts
    assert not evaluate(raises, Outcome(value=1.0)).passed
    nie = evaluate(raises, Outcome.from_exception(NotImplementedError()))
    assert not nie.passed and nie.not_attempted
    inf = Check("f", expected=-np.inf, name="inf")
    assert evaluate(inf, Outcome(value=float("-inf"))).passed
    assert not evaluate(inf, Outcome(value=0.0)).passed
    arr = Check("f", expected=np.array([1.0, 2.0]), name="a")
    v = evaluate(arr, Outcome(value=np.array([[1.0, 2.0]])))
    assert not v.passed and "expected shape (2,), got shape (1, 2)" in v.message
    v = evaluate(arr, Outcome(value=np.array([1.0, 2.5])))
    assert not v.passed and "first mismatch at index 1: expected 2.0, got 2.5" in v.message
    assert not evaluate(arr, Outcome(value="1, 2")).passed
    assert not evaluate(arr, Outcome(value=None)).passed
    assert not evaluate(arr, None).passed


def test_wire_round_trip_and_refusals(tmp_path):
    value = {"a": (1, 2.5, None, True, "s"), "b": [np.arange(3), np.float32(1.5)], 3: 1j}
    wire.dump(value, tmp_path, stem="v")
    back = wire.load(tmp_path, stem="v")
    assert back["a"] == (1, 2.5, None, True, "s") and back[3] == 1j
    np.testing.assert_array_equal(back["b"][0], np.arange(3))
    assert back["b"][1].dtype == np.float32
    with pytest.raises(wire.WireError, match="dtype=object"):
        wire.encode(np.array([object()]), [])
    with pytest.raises(wire.WireError, match="type function"):
        wire.encode(lambda: 0, [])
    # a pickled array planted in place of a result is refused, not unpickled
    np.save(tmp_path / "v" / "a0.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.load(tmp_path, stem="v")
    # ... and so is a symlink pointing outside the results folder
    outside = tmp_path / "outside.npy"
    np.save(outside, np.arange(2))
    (tmp_path / "v" / "a0.npy").unlink()
    os.symlink(outside, tmp_path / "v" / "a0.npy")
    with pytest.raises(wire.WireError, match="cannot be opened"):
        wire.load(tmp_path, stem="v")


def test_grading_tree_holds_no_solution_material(tmp_path):
    """Solutions, mutants (snippets of the solutions) and fixtures never enter a student's tree."""
    from course_lib.grading.sandbox import make_tree

    tree = make_tree(REPO, tmp_path / "tree", files={f"exercises/{EX01}.py": CLASS / "stub" / f"{EX01}.py"})
    names = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()}
    leaked = sorted(n for n in names if n.startswith(("solutions/", "tests/exercises/mutants/", "tests/fixtures/"))
                    or n.endswith(".toml"))
    assert not leaked, f"the grading tree holds {leaked}"
    assert f"exercises/{EX01}.py" in names and "tests/exercises/test_ex01.py" in names
    solution_body = "k = np.clip(np.floor((y + 1.0) / step), 0, levels - 1)"
    assert solution_body in (REPO / "solutions" / f"{EX01}.py").read_text()
    holders = [n for n in names if solution_body in (tree / n).read_text(errors="replace")]
    assert not holders, f"the ex01 solution's code appears in {holders}"


# --------------------------------------------------------------------------- the exercise registry

NEW_SOLUTION = '''\
"""A new chapter's exercise."""
import numpy as np


def double(x):
    """Twice ``x``."""
    ### BEGIN SOLUTION
    return 2 * np.asarray(x, dtype=float)
    ### END SOLUTION
'''
NEW_CHECKS = '''\
import numpy as np
from course_lib.grading.checks import Check
EXERCISE = "ex04_newtopic"
CHECKS = [Check("double", args=(np.arange(3.0),), expected=np.array([0.0, 2.0, 4.0]), name="0 1 2")]
'''


def _course_copy(tmp_path) -> Path:
    """A course folder with this repo's course_lib and one new exercise, ex04_newtopic, only as files."""
    root = tmp_path / "course"
    (root / "tests" / "exercises" / "mutants").mkdir(parents=True)
    (root / "solutions").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname='x'\n")
    os.symlink(REPO / "course_lib", root / "course_lib")
    (root / "solutions" / "ex04_newtopic.py").write_text(NEW_SOLUTION)
    (root / "tests" / "exercises" / "test_ex04_newtopic.py").write_text(NEW_CHECKS)
    (root / "tests" / "exercises" / "test_ex04_helpers.py").write_text("def test_x():\n    pass\n")
    (root / "tests" / "exercises" / "mutants" / "ex04_newtopic.toml").write_text("")
    return root


def test_registry_lists_the_repo_exercises():
    from course_lib.grading.registry import exercises

    reg = exercises(REPO)
    assert EX01 in reg and reg[EX01].number == 1 and reg[EX01].short == "ex01"
    for ex in reg.values():
        assert ex.stub == REPO / "exercises" / f"{ex.name}.py"
        assert ex.solution in (None, REPO / "solutions" / f"{ex.name}.py")
    assert reg[EX01].checks == REPO / "tests" / "exercises" / "test_ex01.py"
    assert reg[EX01].mutants == REPO / "tests" / "exercises" / "mutants" / f"{EX01}.toml"


def test_a_new_exercise_needs_no_grading_code(tmp_path, monkeypatch, capsys):
    """Adding solutions/ex04_*.py + its checks file is enough for stubs, check and grade."""
    from course_lib.grading.registry import exercises

    root = _course_copy(tmp_path)
    reg = exercises(root)
    assert list(reg) == ["ex04_newtopic"]  # the helper test module is not a checks file
    ex = reg["ex04_newtopic"]
    assert (ex.number, ex.checks.name, ex.mutants.name) == (4, "test_ex04_newtopic.py", "ex04_newtopic.toml")
    monkeypatch.chdir(root)
    assert main(["stubs"]) == 0 and ex.stub.is_file()
    assert "course check ex04" in ex.stub.read_text()
    rc, out = _check(capsys, "ex4")
    assert rc == 1 and "not attempted" in out
    rc, out = _check(capsys, "ex04_newtopic", "--file", str(root / "solutions" / "ex04_newtopic.py"))
    assert rc == 0, out
    subs = tmp_path / "subs" / "ann"
    subs.mkdir(parents=True)
    (subs / "ex04_newtopic.py").write_text(NEW_SOLUTION)
    out_csv = tmp_path / "g.csv"
    assert main(["grade", str(subs.parent), "--out", str(out_csv), "--no-progress", "--timeout", "20"]) == 0
    row = next(csv.DictReader(open(out_csv)))
    assert (row["ex04_points"], row["ex04_status"]) == ("1", "ok")


@pytest.mark.parametrize("files,match", [
    ({"solutions/ex04_a.py": NEW_SOLUTION, "exercises/ex04_b.py": "x = 1\n"}, r"exercise 04 has several names"),
    ({"tests/exercises/test_ex05.py": NEW_CHECKS}, r"does not match the file name"),
    ({"tests/exercises/test_ex04.py": NEW_CHECKS}, r"two checks files for ex04_newtopic"),
])
def test_registry_refuses_contradicting_files(tmp_path, files, match):
    from course_lib.grading.registry import RegistryError, exercises

    root = _course_copy(tmp_path)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    with pytest.raises(RegistryError, match=match):
        exercises(root)


# --------------------------------------------------------------------------- the fallbacks

FALLBACK_EXPECTED = {  # student -> ex01 status, all with no credit; honest gets full marks
    "honest": "ok", "read_bytearray": "fail", "read_dir_fd": "fail", "read_native": "fail",
    "write_bytearray": "fail", "spawn_native": "fail", "kill_grader": "fail", "fifo_result": "crash",
}


@pytest.mark.parametrize("isolation", ["landlock", "none"])
def test_fallback_isolation_keeps_the_attacks_out(isolation, tmp_path):
    """Where bubblewrap is missing: Landlock plus the hardened hook; with neither, only the hook
    (--unsafe-no-isolation, with its warning). The same attacks earn nothing and escape nowhere."""
    from course_lib.grading.sandbox import landlock_works

    if isolation == "landlock" and not landlock_works():
        pytest.skip("this kernel has no Landlock")
    _remove_canaries()
    subs = _class_copy(tmp_path / "class", students=set(FALLBACK_EXPECTED))
    out = tmp_path / "g.csv"
    extra = ["--unsafe-no-isolation"] if isolation == "none" else []
    rc = main(["grade", str(subs), "--out", str(out), "--timeout", "10", "--memory", "1G", "--no-progress",
               "--jobs", "2", "--isolation", isolation, *extra])
    assert rc == 0
    left = _escaped_processes()
    rows = {r["student"]: r for r in csv.DictReader(open(out))}
    got = {s: rows[s]["ex01_status"] for s in FALLBACK_EXPECTED}
    assert got == FALLBACK_EXPECTED
    assert int(rows["honest"]["ex01_points"]) == len(EX01_CHECKS)
    assert all(int(rows[s]["total"]) == 0 for s in FALLBACK_EXPECTED if s != "honest")
    assert not [str(c) for c in CANARIES if c.exists()], "a submission wrote outside its tree"
    assert not left, f"processes started by a submission still run: {left}"
    assert f"Isolation: {isolation}" in out.with_name("g.summary.txt").read_text()


def test_unsafe_mode_needs_the_flag(tmp_path, capsys):
    rc = main(["grade", str(CLASS), "--out", str(tmp_path / "g.csv"), "--no-progress", "--isolation", "none"])
    assert rc == 2 and "--unsafe-no-isolation" in capsys.readouterr().err


def test_remove_tree_survives_a_deep_chain_and_links(tmp_path):
    from course_lib.grading.sandbox import remove_tree

    top = tmp_path / "scratch"
    outside = tmp_path / "keep"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for _ in range(1500):  # 150 000 characters of path: far deeper than PATH_MAX and the recursion limit
        os.mkdir("d" * 100, dir_fd=fd)
        nxt = os.open("d" * 100, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    os.symlink(outside, "link", dir_fd=fd)
    os.close(fd)
    os.symlink(outside, top / "link_at_top")
    with pytest.raises(RecursionError):  # what the grader used before
        shutil.rmtree(top)
    assert remove_tree(top) and not top.exists()
    assert (outside / "precious.txt").read_text() == "keep me"


def test_resume_skips_graded_students_unless_regrade(tmp_path):
    subs = _class_copy(tmp_path / "class", students={"honest", "stub"})
    out = tmp_path / "g.csv"
    assert main(["grade", str(subs), "--out", str(out), "--no-progress", "--timeout", "20"]) == 0
    first = out.read_text()
    (subs / "stub" / f"{EX01}.py").write_bytes((CLASS / "honest" / f"{EX01}.py").read_bytes())
    shutil.copytree(CLASS / "partial", subs / "partial")
    assert main(["grade", str(subs), "--out", str(out), "--no-progress", "--timeout", "20"]) == 0
    rows = {r["student"]: r for r in csv.DictReader(open(out))}
    assert rows["stub"]["ex01_status"] == "not_attempted", "a student already in the CSV was regraded"
    assert rows["partial"]["ex01_status"] == "fail", "the new student was not graded"
    assert "kept 2 from the previous run" in out.with_name("g.summary.txt").read_text()
    assert main(["grade", str(subs), "--out", str(out), "--no-progress", "--timeout", "20", "--regrade"]) == 0
    rows = {r["student"]: r for r in csv.DictReader(open(out))}
    assert rows["stub"]["ex01_status"] == "ok" and first != out.read_text()


# --------------------------------------------------------------------------- torch exercises

TORCH_SOLUTION = '''\
"""A torch exercise: inputs and outputs stay plain arrays."""
import numpy as np
import torch


def softmax_rows(x):
    """Row-wise softmax of a 2-D array, computed with torch."""
    ### BEGIN SOLUTION
    return torch.softmax(torch.as_tensor(np.asarray(x, dtype=np.float64)), dim=-1).numpy()
    ### END SOLUTION
'''
TORCH_CHECKS = '''\
import numpy as np
from course_lib.grading.checks import Check
EXERCISE = "ex06_torchdemo"
_X = np.array([[0.0, 1.0, 2.0], [5.0, 5.0, 5.0]])
_E = np.exp(_X - _X.max(axis=1, keepdims=True))
CHECKS = [Check("softmax_rows", args=(_X,), expected=_E / _E.sum(axis=1, keepdims=True), rtol=1e-9,
                name="two rows, re-derived with NumPy")]
'''
TORCH_HOSTILE = TORCH_SOLUTION.replace('''    ### BEGIN SOLUTION
''', '''    ### BEGIN SOLUTION
    hog = torch.ones(6 * 10**9, dtype=torch.uint8)  # the 6 GB allocation attack
    x = np.asarray(x) + float(hog[0]) - 1.0
''')


@pytest.mark.slow
@pytest.mark.parametrize("isolation", ["auto", "landlock"])
def test_a_torch_exercise_is_graded_with_the_default_limits(tmp_path, isolation):
    """Issue #8: the CUDA build of torch imports under the default memory limit and timeout (it maps
    ~3.5 GiB, so the limit is RLIMIT_DATA), while a 6 GB tensor is still refused. Also under Landlock
    alone (no bubblewrap): torch dlopens system libraries (libdl.so.2 ...) that the rule must allow."""
    from course_lib.grading.sandbox import landlock_works

    if isolation == "landlock" and not landlock_works():
        pytest.skip("this kernel has no Landlock")
    root = tmp_path / "course"
    (root / "tests" / "exercises").mkdir(parents=True)
    (root / "solutions").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname='x'\n")
    os.symlink(REPO / "course_lib", root / "course_lib")
    (root / "solutions" / "ex06_torchdemo.py").write_text(TORCH_SOLUTION)
    (root / "tests" / "exercises" / "test_ex06_torchdemo.py").write_text(TORCH_CHECKS)
    subs = tmp_path / "subs"
    for name, text in (("honest", TORCH_SOLUTION), ("stub", make_stub(TORCH_SOLUTION, filename="ex06_torchdemo.py")),
                       ("hostile", TORCH_HOSTILE)):
        (subs / name).mkdir(parents=True)
        (subs / name / "ex06_torchdemo.py").write_text(text)
    out = tmp_path / "g.csv"
    from course_lib.grading.grade import grade_class

    grade_class(subs, out, root=root, jobs=2, progress=False, log=None, isolation=isolation)  # default limits
    rows = {r["student"]: (r["ex06_points"], r["ex06_status"]) for r in csv.DictReader(open(out))}
    hostile = (tmp_path / "feedback" / "hostile.md").read_text()
    assert rows == {"honest": ("1", "ok"), "stub": ("0", "not_attempted"), "hostile": ("0", "fail")}, hostile
    assert "RuntimeError" in hostile or "MemoryError" in hostile
