"""Exercise checks as data: :class:`Check`, how a result is compared, and the pytest glue.

An exercise's public checks live in ``tests/exercises/test_exNN.py``::

    EXERCISE = "ex01_digital_audio"
    CHECKS = [Check("quantize", args=(x,), kwargs={"bits": 2}, expected=..., name="...")]
    test_checks = pytest_checks(EXERCISE, CHECKS)

The same list is used three ways: by pytest (``--impl exercises|solutions``,
``--impl-file``, ``--impl-dir``), by ``course check`` for a learner, and by
``course grade`` for a class. In the last two the student's functions run in
a child process that receives only ``args``/``kwargs``; ``expected`` and
``compare`` stay in the parent, which decides pass or fail with
:func:`evaluate`.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = [
    "Check", "Outcome", "Verdict", "evaluate", "call_in_process", "pytest_checks",
    "load_checks", "ExerciseChecks",
]


@dataclasses.dataclass(frozen=True)
class Check:
    """One call of a learner's function and what must come back.

    Parameters
    ----------
    function : str
        Name of the function in the exercise module.
    args, kwargs : tuple, dict
        Plain data only (numbers, str, bool, None, lists/tuples/dicts of them,
        NumPy arrays): they are sent to a child process without pickle.
    expected : plain data or None
        The right answer (compared with ``rtol``/``atol`` for numbers and
        arrays, exactly otherwise). Ignored when ``raises`` is given.
    rtol, atol : float
        Tolerances of ``numpy.testing.assert_allclose``.
    raises : type[BaseException] or None
        The call must raise this exception (or a subclass).
    compare : callable or None
        ``compare(got, expected, args, kwargs)`` raising ``AssertionError(msg)``
        when ``got`` is wrong; replaces the default comparison. Runs in the
        grader's process, never in the student's.
    name : str
        Shown to the learner (``course check``) and in feedback.
    hidden : bool
        Feedback shows the name and pass/fail only, not the message.
    """

    function: str
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    expected: Any = None
    rtol: float = 1e-7
    atol: float = 0.0
    raises: type | None = None
    compare: Callable | None = None
    name: str = ""
    hidden: bool = False

    def __post_init__(self):
        if not isinstance(self.function, str) or not self.function.isidentifier():
            raise ValueError(f"Check.function={self.function!r} must be a function name")
        if not isinstance(self.args, tuple):
            object.__setattr__(self, "args", tuple(self.args))
        if not isinstance(self.kwargs, dict):
            raise ValueError(f"Check.kwargs must be a dict, got {type(self.kwargs).__name__}")
        if self.raises is not None and not (
            isinstance(self.raises, type) and issubclass(self.raises, BaseException)
        ):
            raise ValueError(f"Check.raises={self.raises!r} must be an exception class")
        if not self.name:
            object.__setattr__(self, "name", f"{self.function} call")

    @property
    def label(self) -> str:
        return f"{self.function}: {self.name}"


@dataclasses.dataclass
class Outcome:
    """What a call did: returned ``value``, or raised (``exc_type``, ``exc_mro``, ``message``)."""

    value: Any = None
    raised: bool = False
    exc_type: str = ""
    exc_mro: tuple = ()
    message: str = ""

    @classmethod
    def from_exception(cls, exc: BaseException) -> "Outcome":
        mro = tuple(c.__name__ for c in type(exc).__mro__)
        try:
            msg = str(exc)
        except Exception:  # a hostile __str__
            msg = "<unprintable message>"
        return cls(raised=True, exc_type=type(exc).__name__, exc_mro=mro, message=msg[:1000])

    @property
    def not_implemented(self) -> bool:
        return self.raised and self.exc_type == "NotImplementedError"


@dataclasses.dataclass
class Verdict:
    """Result of one check: ``passed``, ``not_attempted`` or failed with ``message``."""

    check: Check
    passed: bool
    message: str = ""
    not_attempted: bool = False


# --------------------------------------------------------------------------- comparing

def _short(value, limit: int = 200) -> str:
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=6, threshold=12, edgeitems=3, max_line_width=120)
        text = f"array(shape={value.shape}, dtype={value.dtype}) {text}"
    else:
        try:
            text = repr(value)
        except Exception:
            text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_numeric(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, complex, np.number)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biufc"
    if isinstance(value, (list, tuple)) and value:
        try:
            arr = np.asarray(value)
        except Exception:
            return False
        return arr.dtype.kind in "iufc"
    return False


def _at(where: str) -> str:
    return f"{where}: " if where else ""


def _compare_default(got, expected, rtol, atol, where="") -> None:
    """Raise AssertionError with 'expected ..., got ...' when ``got`` is not ``expected``."""
    if _is_numeric(expected) or (isinstance(expected, np.ndarray) and expected.dtype.kind == "b"):
        exp = np.asarray(expected)
        try:
            arr = np.asarray(got)
        except Exception:
            raise AssertionError(f"{_at(where)}expected {_short(expected)}, got {_short(got)}") from None
        if arr.dtype.kind not in "biufc":
            raise AssertionError(
                f"{_at(where)}expected a number/array like {_short(expected)}, got {_short(got)}"
            )
        if arr.shape != exp.shape:
            raise AssertionError(
                f"{_at(where)}expected shape {exp.shape}, got shape {arr.shape} ({_short(got)})"
            )
        if exp.dtype.kind == "b":
            if not np.array_equal(arr, exp):
                raise AssertionError(f"{_at(where)}expected {_short(expected)}, got {_short(got)}")
            return
        try:
            np.testing.assert_allclose(arr, exp, rtol=rtol, atol=atol, equal_nan=True)
        except AssertionError:
            bad = ""
            if exp.ndim:
                with np.errstate(all="ignore"):
                    close = np.isclose(arr, exp, rtol=rtol, atol=atol, equal_nan=True)
                idx = np.argwhere(~close)
                if len(idx):
                    i = tuple(int(v) for v in idx[0])
                    bad = (f"; first mismatch at index {i if len(i) > 1 else i[0]}: "
                           f"expected {exp[i].item()!r}, got {arr[i].item()!r} ({len(idx)} of {exp.size} differ)")
            raise AssertionError(
                f"{_at(where)}expected {_short(expected)}, got {_short(got)}{bad}"
            ) from None
        return
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise AssertionError(f"{_at(where)}expected a dict, got {_short(got)}")
        if set(got) != set(expected):
            raise AssertionError(
                f"{_at(where)}expected keys {sorted(map(str, expected))}, got {sorted(map(str, got))}"
            )
        for k in expected:
            _compare_default(got[k], expected[k], rtol, atol, f"{where or 'result'}[{k!r}]")
        return
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple, np.ndarray)):
            raise AssertionError(f"{_at(where)}expected a sequence like {_short(expected)}, got {_short(got)}")
        if len(got) != len(expected):
            raise AssertionError(f"{_at(where)}expected {len(expected)} items, got {len(got)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            _compare_default(g, e, rtol, atol, f"{where or 'result'}[{i}]")
        return
    if isinstance(expected, float) and math.isnan(expected):
        if not (isinstance(got, (float, np.floating)) and math.isnan(got)):
            raise AssertionError(f"{_at(where)}expected nan, got {_short(got)}")
        return
    if type(got) is not type(expected) and not (
        isinstance(expected, (bool, np.bool_)) and isinstance(got, (bool, np.bool_))
    ) and not (isinstance(expected, str) and isinstance(got, str)):
        raise AssertionError(
            f"{_at(where)}expected {_short(expected)} ({type(expected).__name__}), "
            f"got {_short(got)} ({type(got).__name__})"
        )
    if got != expected:
        raise AssertionError(f"{_at(where)}expected {_short(expected)}, got {_short(got)}")


def evaluate(check: Check, outcome: Outcome | None) -> Verdict:
    """Decide whether ``outcome`` satisfies ``check`` (runs in the trusted process)."""
    if outcome is None:
        return Verdict(check, False, "no result (the process stopped before this call)")
    if check.raises is not None:
        want = check.raises.__name__
        if outcome.raised and want in outcome.exc_mro:
            return Verdict(check, True)
        if outcome.not_implemented:
            return Verdict(check, False, f"not attempted: {check.function} still raises NotImplementedError",
                           not_attempted=True)
        if outcome.raised:
            return Verdict(check, False,
                           f"expected {want}, but it raised {outcome.exc_type}: {outcome.message[:300]}")
        return Verdict(check, False, f"expected {want} to be raised, but it returned {_short(outcome.value)}")
    if outcome.raised:
        if outcome.not_implemented:
            return Verdict(check, False, f"not attempted: {check.function} still raises NotImplementedError",
                           not_attempted=True)
        return Verdict(check, False, f"raised {outcome.exc_type}: {outcome.message[:300]}")
    try:
        if check.compare is not None:
            check.compare(outcome.value, check.expected, copy.deepcopy(check.args),
                          copy.deepcopy(check.kwargs))
        else:
            _compare_default(outcome.value, check.expected, check.rtol, check.atol)
    except AssertionError as exc:
        msg = str(exc).strip() or "wrong result"
        return Verdict(check, False, msg[:1500])
    except Exception as exc:  # a compare() that chokes on a strange value: still a fail
        return Verdict(check, False, f"result could not be checked ({type(exc).__name__}: {exc})"[:1500])
    return Verdict(check, True)


def call_in_process(module, check: Check) -> Outcome:
    """Call ``check.function`` of an already imported module (trusted code only).

    The returned value goes through the same plain-data codec as in the
    sandbox, so a result the grader could not receive fails here as well.
    """
    from . import wire

    fn = getattr(module, check.function, None)
    if fn is None or not callable(fn):
        return Outcome(raised=True, exc_type="AttributeError", exc_mro=("AttributeError",),
                       message=f"the module has no function {check.function!r}")
    args, kwargs = copy.deepcopy(check.args), copy.deepcopy(check.kwargs)
    try:
        value = fn(*args, **kwargs)
    except Exception as exc:
        return Outcome.from_exception(exc)
    try:
        arrays: list = []
        doc = wire.encode(value, arrays)
        value = wire.decode(doc, arrays)
    except wire.WireError as exc:
        return Outcome.from_exception(exc)
    return Outcome(value=value)


# --------------------------------------------------------------------------- pytest glue

def pytest_checks(exercise: str, checks):
    """Return a parametrized pytest test running every check against the ``impl`` fixture.

    The ``impl`` fixture (tests/exercises/conftest.py) is a callable
    ``impl(exercise) -> module``. Without pytest installed (a learner's
    environment) this returns ``None``: ``course check`` only needs ``CHECKS``.
    """
    try:
        import pytest
    except ImportError:  # pragma: no cover - learners without the test extra
        return None
    checks = list(checks)
    ids = [c.label for c in checks]

    @pytest.mark.parametrize("check", checks, ids=ids)
    def test_checks(check, impl):
        module = impl(exercise)
        verdict = evaluate(check, call_in_process(module, check))
        if not verdict.passed:
            pytest.fail(f"[{exercise}] {check.label}: {verdict.message}", pytrace=False)

    test_checks.__module__ = sys._getframe(1).f_globals.get("__name__", __name__)
    return test_checks


# --------------------------------------------------------------------------- loading check files

@dataclasses.dataclass
class ExerciseChecks:
    exercise: str
    checks: list
    path: Path


def load_checks(path: Path, *, module_name: str | None = None) -> ExerciseChecks:
    """Import a ``test_exNN*.py`` file (trusted) and return its EXERCISE and CHECKS."""
    path = Path(path)
    name = module_name or f"_course_checks_{path.stem}_{abs(hash(str(path))) % 10**8}"
    from . import load_module  # the package's loader; imported here to avoid an import cycle

    module = load_module(path, module_name=name)
    sys.modules.pop(name, None)  # used once, not left importable by name
    exercise = getattr(module, "EXERCISE", None)
    checks = getattr(module, "CHECKS", None)
    if not isinstance(exercise, str) or not isinstance(checks, (list, tuple)):
        raise ValueError(f"{path}: must define EXERCISE (str) and CHECKS (list of Check)")
    bad = [c for c in checks if not isinstance(c, Check)]
    if bad:
        raise ValueError(f"{path}: CHECKS holds {len(bad)} item(s) that are not Check")
    return ExerciseChecks(exercise, list(checks), path)
