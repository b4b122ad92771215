"""The pinned environment is one thing, described three ways; importing the course is cheap."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from conftest import REPO

PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)\s*$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_pins() -> dict[str, str]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(meta["dependencies"]) + [s for group in meta["optional-dependencies"].values() for s in group]
    pins = {}
    for spec in specs:
        m = PIN.match(spec)
        assert m, f"pyproject.toml: {spec!r} is not an exact pin (name==version)"
        pins[_norm(m[1])] = m[2]
    return pins


def _environment_yml_pins() -> tuple[dict[str, str], list[str]]:
    pins, other = {}, []
    in_pip = False
    for line in (REPO / "environment.yml").read_text().splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped:
            continue
        if stripped.strip() == "- pip:":
            in_pip = True
            continue
        m = PIN.match(stripped)
        if in_pip and m:
            pins[_norm(m[1])] = m[2]
        elif stripped.lstrip().startswith("- "):
            other.append(stripped.strip()[2:])
    return pins, other


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        m = PIN.match(line)
        if m:
            pins[_norm(m[1])] = m[2]
    return pins


def test_environment_yml_matches_pyproject():
    py = _pyproject_pins()
    yml, other = _environment_yml_pins()
    assert set(yml) == set(py), (
        f"only in environment.yml: {sorted(set(yml) - set(py))}; "
        f"only in pyproject.toml: {sorted(set(py) - set(yml))}"
    )
    differ = {k: (py[k], yml[k]) for k in py if py[k] != yml[k]}
    assert not differ, f"pins differ (pyproject, environment.yml): {differ}"
    assert "python=3.11" in other, "environment.yml must pin python=3.11"


def test_constraints_lock_every_pin():
    py, lock = _pyproject_pins(), _constraints()
    missing = sorted(set(py) - set(lock))
    assert not missing, f"constraints.txt lacks {missing}; run `make freeze`"
    differ = {k: (py[k], lock[k]) for k in py if py[k] != lock[k]}
    assert not differ, f"pyproject.toml and constraints.txt disagree: {differ}"


def test_installed_versions_match_the_pins():
    """The environment the tests run in is the one the pins describe."""
    from importlib.metadata import version

    wrong = {name: (pin, version(name)) for name, pin in _pyproject_pins().items() if version(name) != pin}
    assert not wrong, f"installed versions differ from pyproject.toml (pin, installed): {wrong}; run make setup"


def test_import_course_lib_is_light_and_fast():
    code = (
        "import sys, time; t = time.perf_counter(); import course_lib; "
        "dt = time.perf_counter() - t; "
        "heavy = [m for m in ('torch', 'librosa', 'matplotlib', 'torchaudio', 'scipy') if m in sys.modules]; "
        "print(dt, ','.join(heavy))"
    )
    # best of three: the first run may pay for a cold disk cache
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
            for _ in range(3)]
    times = [float(r.stdout.split()[0]) for r in runs]
    heavy = runs[0].stdout.split()[1:] 
    assert not heavy, f"import course_lib pulled in {heavy}; keep heavy imports inside submodules"
    assert min(times) < 0.5, f"import course_lib took {min(times):.3f} s (budget 0.5 s)"


@pytest.mark.parametrize("name", ["audio", "config", "errors"])
def test_submodules_load_lazily(name):
    code = f"import sys, course_lib; assert 'course_lib.{name}' not in sys.modules; course_lib.{name}; assert 'course_lib.{name}' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_environment_yml_is_what_conda_would_read():
    """The conda route cannot run here (no conda channel is reachable; see README "Conda"):
    check what conda would read. It parses as YAML with a name and conda-forge; the conda
    part is only python 3.11 and pip; the pip part is what conda hands to pip: every line a
    valid requirement or a constraint file that exists next to environment.yml."""
    import yaml
    from packaging.requirements import Requirement

    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert env["name"] == "speech-audio-course" and env["channels"] == ["conda-forge"]
    conda_deps = [d for d in env["dependencies"] if isinstance(d, str)]
    assert sorted(conda_deps) == ["pip", "python=3.11"], conda_deps
    (pip_section,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    options = [line for line in pip_section if line.startswith("-")]
    assert options == ["-c constraints.txt"], options
    # conda writes the pip section to a file in environment.yml's folder, so the path is relative to it
    assert (REPO / "environment.yml").parent.joinpath("constraints.txt").is_file()
    for line in pip_section:
        if not line.startswith("-"):
            req = Requirement(line)
            assert len(req.specifier) == 1 and next(iter(req.specifier)).operator == "==", line
