"""Speech synthesis: WaveNet (chapter 11), Tacotron 2 (chapter 12), vocoders.

Notebook: 11_wavenet.ipynb

- :mod:`.wavenet` — mu-law companding, causal dilated convolutions, a WaveNet with
  naive and fast (queued) generation, a mel-conditioned neural vocoder.
- :mod:`.text` — text normalisation and the symbol table for Tacotron 2.
- :mod:`.tacotron2` — encoder, location-sensitive attention, decoder with prenet,
  stop token and postnet; guided attention.
- :mod:`.vocoder` — Griffin-Lim from a mel spectrogram.

Submodules are imported on first use, so ``import course_lib.tts`` stays light.
"""

from __future__ import annotations

import importlib

_SUBMODULES = ("wavenet", "text", "tacotron2", "vocoder")

__all__ = list(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'course_lib.tts' has no attribute {name!r}")
