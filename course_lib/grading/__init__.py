"""Exercises and grading: stubs from solutions, ``course check``, ``course grade``.

Notebook: 00_welcome.ipynb (how exercises work)

- :func:`load_exercise` gives a notebook the learner's exercise module (or the
  reference solution, when ``COURSE_IMPL=solutions``).
- :mod:`.registry` lists the exercises and their files (the only place that does).
- :mod:`.checks` holds :class:`~.checks.Check`, the data format of exercise tests.
- :mod:`.stubs` writes ``exercises/`` from ``solutions/``.
- :mod:`.sandbox` runs untrusted exercise code in a limited child process.
- :mod:`.cli` is the ``course`` command.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from ..errors import ParameterError

__all__ = ["find_repo_root", "resolve_exercise", "list_exercises", "load_exercise", "load_module"]

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def _is_root(path: Path) -> bool:
    return (path / "pyproject.toml").is_file() and (path / "course_lib").is_dir()


def find_repo_root(start=None) -> Path:
    """The course folder: walk up from ``start`` (default: cwd) to a folder holding
    ``pyproject.toml`` and ``course_lib/``; else the folder this package lives in."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_root(folder):
            return folder
    if _is_root(_PACKAGE_ROOT):
        return _PACKAGE_ROOT
    raise ParameterError(
        f"cannot find the course folder from {here}: no parent holds pyproject.toml and "
        "course_lib/; run this command inside the course repository"
    )


def list_exercises(root=None) -> dict:
    """``{"ex01_digital_audio": 1, ...}``: every exercise of :func:`.registry.exercises`."""
    from .registry import exercises

    return {name: ex.number for name, ex in exercises(root).items()}


def resolve_exercise(name, root=None, *, known=None) -> str:
    """Turn ``ex01``, ``ex1``, ``01``, ``1`` or ``ex01_digital_audio`` into the full name."""
    known = dict(known) if known is not None else list_exercises(root)
    text = str(name).strip()
    if text.endswith(".py"):
        text = text[:-3]
    if text in known:
        return text
    m = re.fullmatch(r"(?:ex)?(\d+)", text, flags=re.IGNORECASE)
    if m:
        hits = [k for k, v in known.items() if v == int(m.group(1))]
        if len(hits) == 1:
            return hits[0]
    choices = ", ".join(sorted(known)) or "none found"
    raise ParameterError(
        f"exercise {name!r} not found; use one of: {choices} (or just its number, e.g. ex01)"
    )


def load_module(path, *, module_name: str):
    """Import a Python file under ``module_name`` (fresh every call, so edits are picked up)."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def load_exercise(name, *, impl: str | None = None):
    """Return the exercise module a notebook should call.

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    name : str
        ``"ex01_digital_audio"`` (or ``"ex01"``).
    impl : {"exercises", "solutions"} or None
        Whose code: the learner's stubs in ``exercises/`` (default, from
        ``COURSE_IMPL``) or the reference in ``solutions/``.

    Returns
    -------
    module
        Re-imported on every call, so a notebook sees the learner's latest edit.
    """
    from .. import config

    impl = config.impl() if impl is None else impl
    if impl not in ("exercises", "solutions"):
        raise ParameterError(f"impl={impl!r} must be 'exercises' or 'solutions'")
    root = find_repo_root()
    full = resolve_exercise(name, root)
    path = root / impl / f"{full}.py"
    if not path.is_file():
        hint = " (run `course stubs`)" if impl == "exercises" else ""
        raise ParameterError(f"{path} does not exist{hint}")
    return load_module(path, module_name=f"course_{impl}_{full}")
