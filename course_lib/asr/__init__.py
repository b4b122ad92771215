"""Speech recognition: text tokens, CTC (loss, greedy and beam decoding), Transformers, many languages.

Notebooks: 05_ctc_asr.ipynb, 06_transformer_asr.ipynb, 15_multilingual.ipynb

- :mod:`.text` — normalisation that matches :func:`course_lib.metrics.wer`, and a
  character tokenizer with the CTC blank at index 0.
- :mod:`.ctc` — the CTC loss from first principles (NumPy for one utterance,
  batched in torch), greedy decoding and prefix beam search with an optional
  word language model.
- :mod:`.lm` and :mod:`.models` — the word n-gram language model and the
  recognisers trained in chapter 05.
- :mod:`.transformer` — attention written out, positional encodings, masks, a
  hybrid CTC/attention encoder–decoder with greedy and beam search (chapter 06);
  :mod:`.transformer_training` trains it.
- :mod:`.multilingual` — a tokenizer over six languages, spoken language
  identification and multilingual CTC (chapter 15).

Submodules are imported on first use, so ``import course_lib.asr`` stays light
(torch is imported only by the functions that need it).
"""

from __future__ import annotations

import importlib

_SUBMODULES = ("text", "ctc", "lm", "models", "transformer", "transformer_training", "multilingual")

__all__ = list(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'course_lib.asr' has no attribute {name!r}")
