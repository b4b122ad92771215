"""The "try your exercise" cell at the end of a notebook, in one place.

Notebooks: 01_digital_audio.ipynb, 02_spectral_analysis.ipynb, 03_mel_and_mfcc.ipynb (and every later chapter)

A chapter's last code cell calls the exercise functions on the notebook's own
data and compares them with ``course_lib``::

    from course_lib.tryit import attempt, try_exercise

    report = try_exercise("ex01_digital_audio", [
        attempt("rms_dbfs", lambda ex: ex.rms_dbfs(sine), audio.rms_dbfs(sine)),
        ...
    ])

It prints one line per function: **match**, **mismatch** (with the largest
difference), **not attempted** (the stub still raises ``NotImplementedError``)
or **error** (the code raised something else: the exception is shown, not
swallowed). It never stops a learner's notebook.

In CI (``COURSE_IMPL=solutions``, or ``strict=True``) the cell calls the
reference solutions, and anything but a match for every function raises
``AssertionError``, so nbval fails the notebook: the notebook, the solutions
and the library cannot drift apart unnoticed.

``course check exNN`` remains the full test; this cell is a quick look on the
chapter's data.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable, NamedTuple

import numpy as np

from .errors import ParameterError

__all__ = ["attempt", "Attempt", "Outcome", "TryReport", "try_exercise"]

_STATUSES = ("match", "mismatch", "not attempted", "error")
_MARKS = {"match": "✓", "mismatch": "✗", "not attempted": "·", "error": "!"}


class Attempt(NamedTuple):
    """One function to try: see :func:`attempt`."""

    name: str
    call: Callable[[Any], Any]
    expected: Any
    rtol: float
    atol: float


class Outcome(NamedTuple):
    """What happened to one :class:`Attempt`."""

    name: str
    status: str   # "match", "mismatch", "not attempted" or "error"
    detail: str   # a short explanation ("" for a match)


class TryReport(NamedTuple):
    """Every :class:`Outcome` of one :func:`try_exercise` call, in order."""

    exercise: str
    impl: str
    outcomes: tuple

    @property
    def counts(self) -> dict:
        """``{status: number of outcomes}`` for the four statuses."""
        return {s: sum(o.status == s for o in self.outcomes) for s in _STATUSES}

    @property
    def all_match(self) -> bool:
        return bool(self.outcomes) and all(o.status == "match" for o in self.outcomes)

    def __str__(self) -> str:
        lines = [f"{self.exercise} ({self.impl}/):"]
        for o in self.outcomes:
            tail = f": {o.detail}" if o.detail else ""
            lines.append(f"  {_MARKS[o.status]} {o.name}: {o.status}{tail}")
        return "\n".join(lines)


def attempt(name: str, call: Callable[[Any], Any], expected, *, rtol: float = 1e-5,
            atol: float = 1e-8) -> Attempt:
    """Describe one function to try.

    Parameters
    ----------
    name : str
        The function's name in the exercise file (shown in the report).
    call : callable
        ``call(ex) -> got``: calls the exercise module ``ex`` on the notebook's data.
    expected : array_like, scalar or callable
        What ``got`` must be: compared with ``numpy.allclose(got, expected,
        rtol, atol)`` and equal shapes (NaN equal to NaN, ``inf`` to ``inf``);
        or a predicate ``expected(got) -> bool`` for anything else.
    rtol, atol : float
        Tolerances of the comparison.
    """
    if not isinstance(name, str) or not name:
        raise ParameterError(f"name={name!r} must be the exercise function's name")
    if not callable(call):
        raise ParameterError(f"call for {name!r} must be a function of the exercise module, e.g. "
                             f"lambda ex: ex.{name}(...)")
    return Attempt(name, call, expected, float(rtol), float(atol))


def _compare(got, a: Attempt) -> tuple[bool, str]:
    if callable(a.expected):
        ok = bool(a.expected(got))
        return ok, "" if ok else "the result fails the notebook's check"
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False, f"returned {type(got).__name__}, expected numbers like {np.shape(a.expected)}"
    e = np.asarray(a.expected, dtype=float)
    if g.shape != e.shape:
        return False, f"shape {g.shape}, expected {e.shape}"
    if np.allclose(g, e, rtol=a.rtol, atol=a.atol, equal_nan=True):
        return True, ""
    both = np.isfinite(g) & np.isfinite(e)
    worst = float(np.max(np.abs(g - e)[both])) if both.any() else float("nan")
    n_bad = int(np.size(g) - np.count_nonzero(np.isclose(g, e, rtol=a.rtol, atol=a.atol, equal_nan=True)))
    return False, f"{n_bad} of {g.size} value(s) differ, largest difference {worst:.3g}"


def try_exercise(exercise: str, attempts, *, impl: str | None = None,
                 strict: bool | None = None, show: bool = True) -> TryReport:
    """Call an exercise's functions on a notebook's data and compare them with the library.

    Notebooks: 01_digital_audio.ipynb, 02_spectral_analysis.ipynb, 03_mel_and_mfcc.ipynb

    Parameters
    ----------
    exercise : str
        ``"ex01_digital_audio"`` or ``"ex01"`` (see :func:`course_lib.grading.load_exercise`).
    attempts : sequence of Attempt
        Built with :func:`attempt`.
    impl : {"exercises", "solutions"} or None
        Whose code; default from ``COURSE_IMPL`` (learners: ``exercises``).
    strict : bool or None
        Raise ``AssertionError`` unless every function matches. Default:
        strict exactly when ``impl`` is ``"solutions"`` (CI).
    show : bool
        Print the report.

    Returns
    -------
    TryReport

    Raises
    ------
    AssertionError
        ``strict`` and something other than a match (the message is the report).
    ParameterError
        Bad arguments (an unknown exercise is reported, not raised, unless strict).
    """
    from . import config
    from .grading import load_exercise

    impl = config.impl() if impl is None else impl
    if impl not in ("exercises", "solutions"):
        raise ParameterError(f"impl={impl!r} must be 'exercises' or 'solutions'")
    strict = (impl == "solutions") if strict is None else bool(strict)
    attempts = list(attempts)
    if not attempts or not all(isinstance(a, Attempt) for a in attempts):
        raise ParameterError("attempts must be a non-empty list of attempt(name, call, expected)")

    try:
        ex = load_exercise(exercise, impl=impl)
    except Exception as exc:  # a missing stub, or a learner's syntax error: say which, do not crash
        report = TryReport(str(exercise), impl, tuple(
            Outcome(a.name, "error", f"could not load the exercise file: {type(exc).__name__}: {exc}")
            for a in attempts))
    else:
        outcomes = []
        for a in attempts:
            try:
                got = a.call(ex)
            except NotImplementedError:
                outcomes.append(Outcome(a.name, "not attempted", "the stub still raises NotImplementedError"))
                continue
            except Exception as exc:
                where = traceback.extract_tb(exc.__traceback__)[-1]
                outcomes.append(Outcome(a.name, "error", f"{type(exc).__name__}: {exc} "
                                        f"(line {where.lineno} of {where.filename.rsplit('/', 1)[-1]})"))
                continue
            ok, detail = _compare(got, a)
            outcomes.append(Outcome(a.name, "match" if ok else "mismatch", detail))
        report = TryReport(str(exercise), impl, tuple(outcomes))

    if show:
        print(report)
        if not report.all_match and impl == "exercises":
            print(f"Run `course check {str(exercise).split('_')[0]}` for the full checks and why they fail.")
    if strict and not report.all_match:
        raise AssertionError(f"the {impl} do not match the course library:\n{report}")
    return report
