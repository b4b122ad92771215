"""torchaudio's CTC beam search (Flashlight's decoder) on our log-probabilities, our lexicon and our LM.

Notebook: 05_ctc_asr.ipynb

:func:`flashlight_decode` runs ``torchaudio.models.decoder.ctc_decoder`` (the
``flashlight-text`` package) on the same ``(frames, classes)`` log-probabilities
that :func:`course_lib.asr.ctc.prefix_beam_search` decodes, with the same lexicon
and, through :class:`FlashlightBigramLM`, the very same Kneser-Ney bigram
(:class:`course_lib.asr.lm.WordNgramLM`) — so the two searches can be compared.

Where the definitions coincide (``log_add=True``, no lexicon, or lexicon + LM):
the score of a hypothesis is ``log p_CTC(text | x)`` (summed over its paths) +
``lm_weight * log p_LM(words, </s>)`` + ``word_score * n_words`` in both.
Where they differ:

- Flashlight merges paths with ``max`` unless ``log_add=True`` (then log-sum, as we do);
- with a lexicon, Flashlight scores a word that is still being spelled with the
  best LM score of any lexicon word it can still become (``SmearingMode.MAX``
  look-ahead); we add the LM only when a word is complete. Final scores agree,
  the pruning on the way does not;
- Flashlight's lexicon decoder ends every word with the silence token ``|`` (our
  space), so the last word needs a silence frame after it: :func:`flashlight_decode`
  appends one frame of certain silence (log-probability 0: no score changes);
- with no LM, Flashlight merges hypotheses that end in the same token (a zero LM
  cannot tell their histories apart), so its score is not one transcript's
  probability and its best transcript can differ from the exact one;
- with no lexicon, Flashlight applies the LM per *token* (a character LM), so a
  word LM is compared only with a lexicon.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from ..errors import ParameterError

__all__ = ["FlashlightBigramLM", "flashlight_decoder", "flashlight_decode"]

SIL = "|"


def _lm_base():
    from torchaudio.models.decoder import CTCDecoderLM

    return CTCDecoderLM


class _State:
    pass


def FlashlightBigramLM(lm, words):
    """A ``torchaudio.models.decoder.CTCDecoderLM`` that asks :class:`WordNgramLM` ``lm``.

    ``words[i]`` is the word the decoder calls index ``i`` (the lexicon's order)."""
    from torchaudio.models.decoder import CTCDecoderLM, CTCDecoderLMState

    from .lm import BOS, EOS

    class _BigramLM(CTCDecoderLM):
        def __init__(self):
            CTCDecoderLM.__init__(self)
            self.words = list(words)
            self.lm = lm
            self.sil = CTCDecoderLMState()
            self.context = {}

        def _child(self, state, index, word):
            child = state.child(index)
            self.context[id(child)] = (child, word)     # keep the state alive while it is looked up
            return child

        def start(self, start_with_nothing: bool):
            self.root = CTCDecoderLMState()
            self.context = {id(self.root): (self.root, BOS)}
            return self.root

        def score(self, state, usr_token_idx: int):
            word = self.words[usr_token_idx]
            context = self.context[id(state)][1]
            return self._child(state, usr_token_idx, word), float(self.lm.log_prob(word, context))

        def finish(self, state):
            context = self.context[id(state)][1]
            return self._child(state, -1, EOS), float(self.lm.log_prob(EOS, context))

    return _BigramLM()


def flashlight_decoder(symbols, *, blank: int = 0, space: int | None = 1, lexicon=None, lm=None,
                       lm_weight: float = 0.5, word_score: float = 0.0, beam_size: int = 16,
                       log_add: bool = True, beam_threshold: float = 1e9):
    """Build a torchaudio ``CTCDecoder`` for our vocabulary ``symbols`` (``symbols[blank]`` is the
    blank, ``symbols[space]`` the word separator). ``lexicon``: iterable of words (spelled with
    ``symbols``); ``lm``: a :class:`WordNgramLM` (needs ``lexicon``)."""
    from torchaudio.models.decoder import ctc_decoder

    symbols = list(symbols)
    if lm is not None and lexicon is None:
        raise ParameterError("a word LM needs lexicon= (without one Flashlight scores the LM per character)")
    tokens = ["<blank>" if i == blank else (SIL if i == space else s) for i, s in enumerate(symbols)]
    if space is None:
        tokens.append(SIL)                                   # Flashlight needs a silence token
    lex_path, words = None, None
    with tempfile.TemporaryDirectory() as tmp:
        if lexicon is not None:
            words = sorted(set(lexicon))
            bad = [w for w in words if not w or any(ch not in symbols or ch == " " for ch in w)]
            if bad:
                raise ParameterError(f"lexicon words {bad[:5]} use symbols outside the vocabulary")
            lex_path = os.path.join(tmp, "lexicon.txt")
            with open(lex_path, "w") as f:
                for w in words:
                    f.write(w + "\t" + " ".join(w) + f" {SIL}\n")
        fl_lm = None
        if lm is not None:               # the word indices the decoder will use (torchaudio's own word dict)
            from torchaudio.models.decoder._ctc_decoder import _create_word_dict, _load_words

            d = _create_word_dict(_load_words(lex_path))
            fl_lm = FlashlightBigramLM(lm, [d.get_entry(i) for i in range(d.index_size())])
        decoder = ctc_decoder(lexicon=lex_path, tokens=tokens, lm=fl_lm, nbest=1, beam_size=beam_size,
                              beam_size_token=len(tokens), beam_threshold=beam_threshold,
                              lm_weight=lm_weight if lm is not None else 0.0, word_score=word_score,
                              sil_score=0.0, log_add=log_add, blank_token="<blank>", sil_token=SIL)
    decoder._course_lm = fl_lm                               # the LM must outlive the decoder's calls
    decoder._course_tokens = tokens
    decoder._course_lexicon = lexicon is not None
    return decoder


def flashlight_decode(decoder, log_probs) -> tuple[str, float]:
    """``(text, score)`` of one utterance's ``(frames, classes)`` log-probabilities."""
    import torch

    lp = np.asarray(log_probs, dtype=np.float32)
    if lp.ndim != 2:
        raise ParameterError(f"log_probs must be (frames, classes), got shape {lp.shape}")
    n_tokens = len(decoder._course_tokens)
    if lp.shape[1] < n_tokens:                                # an added silence token: never emitted
        lp = np.concatenate([lp, np.full((len(lp), n_tokens - lp.shape[1]), -1e4, np.float32)], axis=1)
    if decoder._course_lexicon:
        # a lexicon word ends with the silence token, so the last word needs one more frame: a
        # certain silence (log-probability 0) adds nothing to any hypothesis' score
        sil = np.full((1, n_tokens), -1e4, np.float32)
        sil[0, decoder._course_tokens.index(SIL)] = 0.0
        lp = np.concatenate([lp, sil])
    hyp = decoder(torch.from_numpy(lp)[None])[0][0]
    if hyp.words:
        text = " ".join(hyp.words)
    else:
        tokens = decoder.idxs_to_tokens(hyp.tokens)
        text = "".join(" " if t == SIL else t for t in tokens if t != "<blank>")
    return " ".join(text.split()), float(hyp.score)
