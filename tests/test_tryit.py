"""Tests for course_lib.tryit: the "try your exercise" cell of every notebook."""

from __future__ import annotations

import types

import numpy as np
import pytest

import course_lib.grading
from course_lib import audio, dsp
from course_lib.errors import ParameterError
from course_lib.tryit import attempt, try_exercise

SINE = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)
RAMP = np.linspace(-1, 1, 101)


def _ex01_attempts():
    return [
        attempt("quantize", lambda ex: ex.quantize(RAMP, bits=3), dsp.quantization_curves(RAMP, bits=3).y_q),
        attempt("rms_dbfs", lambda ex: ex.rms_dbfs(SINE), audio.rms_dbfs(SINE)),
        attempt("aliased_frequency", lambda ex: ex.aliased_frequency(900.0, sr=1000),
                lambda got: got == dsp.apparent_frequency(900.0, sr=1000)),
    ]


def test_the_solutions_match_and_strict_mode_passes(capsys):
    report = try_exercise("ex01", _ex01_attempts(), impl="solutions")
    assert report.all_match and report.counts["match"] == 3
    out = capsys.readouterr().out
    assert "✓ quantize: match" in out and "course check" not in out


def test_fresh_stubs_read_not_attempted_and_never_raise_for_a_learner(tmp_path, monkeypatch, capsys):
    from course_lib.grading.stubs import make_stub

    stub = tmp_path / "ex01_digital_audio.py"
    src = course_lib.grading.find_repo_root() / "solutions" / "ex01_digital_audio.py"
    stub.write_text(make_stub(src.read_text(encoding="utf-8")), encoding="utf-8")
    module = course_lib.grading.load_module(stub, module_name="tryit_stub_ex01")
    monkeypatch.setattr(course_lib.grading, "load_exercise", lambda name, impl=None: module)
    report = try_exercise("ex01_digital_audio", _ex01_attempts(), impl="exercises")
    assert report.counts == {"match": 0, "mismatch": 0, "not attempted": 3, "error": 0}
    assert "run `course check ex01`".lower() in capsys.readouterr().out.lower()
    with pytest.raises(AssertionError, match="not attempted"):
        try_exercise("ex01_digital_audio", _ex01_attempts(), impl="exercises", strict=True)


def _fake(monkeypatch, **functions):
    module = types.SimpleNamespace(**functions)
    monkeypatch.setattr(course_lib.grading, "load_exercise", lambda name, impl=None: module)


def _raise_type_error(y):
    raise TypeError("unsupported operand")


def test_mismatch_and_error_are_reported_with_details(monkeypatch, capsys):
    _fake(monkeypatch, quantize=lambda y, bits: y, rms_dbfs=_raise_type_error,
          aliased_frequency=lambda f, sr: 100.0)
    report = try_exercise("ex01", _ex01_attempts(), impl="exercises")
    status = {o.name: o for o in report.outcomes}
    assert status["quantize"].status == "mismatch" and "largest difference" in status["quantize"].detail
    assert status["rms_dbfs"].status == "error" and "TypeError: unsupported operand" in status["rms_dbfs"].detail
    assert status["aliased_frequency"].status == "match"
    out = capsys.readouterr().out
    assert "✗ quantize: mismatch" in out and "! rms_dbfs: error" in out


def test_strict_mode_fails_on_a_mismatch_as_ci_does(monkeypatch):
    _fake(monkeypatch, quantize=lambda y, bits: np.round(y, 1), rms_dbfs=audio.rms_dbfs,
          aliased_frequency=dsp.apparent_frequency)
    with pytest.raises(AssertionError, match="quantize: mismatch"):
        try_exercise("ex01", _ex01_attempts(), impl="solutions", show=False)


def test_shape_and_type_mismatches(monkeypatch):
    _fake(monkeypatch, f=lambda: np.zeros(3), g=lambda: "text")
    report = try_exercise("ex01", [attempt("f", lambda ex: ex.f(), np.zeros(4)),
                                   attempt("g", lambda ex: ex.g(), 1.0)], impl="exercises", show=False)
    assert [o.status for o in report.outcomes] == ["mismatch", "mismatch"]
    assert "shape (3,), expected (4,)" in report.outcomes[0].detail
    assert "returned str" in report.outcomes[1].detail


def test_an_exercise_that_cannot_load_is_reported_or_raised(monkeypatch):
    def broken(name, impl=None):
        raise SyntaxError("invalid syntax (ex01_digital_audio.py, line 3)")

    monkeypatch.setattr(course_lib.grading, "load_exercise", broken)
    report = try_exercise("ex01", _ex01_attempts(), impl="exercises", show=False)
    assert {o.status for o in report.outcomes} == {"error"}
    assert "could not load the exercise file: SyntaxError" in report.outcomes[0].detail
    with pytest.raises(AssertionError, match="SyntaxError"):
        try_exercise("ex01", _ex01_attempts(), impl="solutions", show=False)


def test_default_impl_and_strictness_follow_course_impl(monkeypatch):
    seen = {}

    def spy(name, impl=None):
        seen["impl"] = impl
        return types.SimpleNamespace(f=lambda: 0.0)

    monkeypatch.setattr(course_lib.grading, "load_exercise", spy)
    monkeypatch.setenv("COURSE_IMPL", "solutions")
    with pytest.raises(AssertionError):
        try_exercise("ex01", [attempt("f", lambda ex: ex.f(), 1.0)], show=False)
    assert seen["impl"] == "solutions"
    monkeypatch.setenv("COURSE_IMPL", "exercises")
    assert not try_exercise("ex01", [attempt("f", lambda ex: ex.f(), 1.0)], show=False).all_match


@pytest.mark.parametrize("kwargs,match", [
    (dict(attempts=[]), "non-empty"), (dict(attempts=[("f", None, 1)]), "attempt"),
    (dict(attempts=[attempt("f", lambda ex: 1, 1)], impl="mine"), "impl='mine'"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        try_exercise("ex01", **kwargs)
    with pytest.raises(ParameterError, match="call for 'f'"):
        attempt("f", None, 1.0)
