"""The library's docstrings point at the notebooks that teach it (house style, libfmp's habit)."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from conftest import REPO

MODULES = ["audio", "config", "data", "display", "features", "metrics", "spectral", "widgets", "hmm", "superres",
           "enhance", "classify", "vad", "stream", "prosody", "speaker", "music.generate", "music.beats",
           "music.onsets", "music.chords", "asr.transformer", "asr.transformer_training",
           "asr.multilingual", "asr.hub", "tts.wavenet", "tts.text", "tts.tacotron2", "tts.vocoder"]
REFERENCE = re.compile(r"Notebooks?:\s*([^\n]+)")
NAME = re.compile(r"\b(\d\d_[a-z0-9_]+\.ipynb)")


def _known_notebooks() -> set[str]:
    existing = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    planned = set(NAME.findall((REPO / "README.md").read_text()))
    return existing | planned


def _public_functions(module):
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield name, obj


@pytest.mark.parametrize("modname", MODULES)
def test_notebook_references_exist(modname):
    module = importlib.import_module(f"course_lib.{modname}")
    texts = [module.__doc__ or ""] + [inspect.getdoc(obj) or "" for _, obj in _public_functions(module)]
    names = {n for t in texts for ref in REFERENCE.findall(t) for n in NAME.findall(ref)}
    unknown = sorted(names - _known_notebooks())
    assert not unknown, f"course_lib.{modname} names notebooks that neither exist nor are planned in README.md: {unknown}"


@pytest.mark.parametrize("modname", MODULES)
def test_every_public_function_names_its_notebook(modname):
    module = importlib.import_module(f"course_lib.{modname}")
    if REFERENCE.search(module.__doc__ or "") and modname in {"config", "data", "errors"}:
        return  # small utility modules: the module docstring names the notebook for all
    missing = [name for name, obj in _public_functions(module)
               if inspect.isfunction(obj) and not REFERENCE.search(inspect.getdoc(obj) or "")
               and not REFERENCE.search(module.__doc__ or "")]
    assert not missing, f"course_lib.{modname}: docstrings without 'Notebook: NN_name.ipynb': {missing}"
