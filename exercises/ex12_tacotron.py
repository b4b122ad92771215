# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex12`.
"""Exercise 12 — Tacotron 2's attention and stopping rule, in NumPy.

Notebook: 12_tacotron2.ipynb

Fill in the three functions below (each between 3 and 20 lines). Use NumPy
only: no torch, no ``course_lib.tts``. Each docstring says what your answer must
equal, so you can compare while you work::

    course check ex12

Conventions (the same as ``course_lib.tts.tacotron2``):

- a text has ``N`` characters, the decoder runs ``T`` steps;
- alignments and penalties have shape ``(T, N)``: row ``t`` is decoder step ``t``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["guided_attention_weights", "location_energies", "stop_step"]


def guided_attention_weights(n_text, n_frames, *, g=0.2):
    """Tachibana et al. (2017)'s guided-attention penalty.

    ``W[t, n] = 1 - exp(-(n / N - t / T)^2 / (2 g^2))`` for ``t = 0..T-1``, ``n = 0..N-1``
    (``N = n_text``, ``T = n_frames``): 0 on the diagonal, close to 1 far from it.
    Equal to ``course_lib.tts.tacotron2.guided_attention``.

    Parameters
    ----------
    n_text, n_frames : int > 0
    g : float > 0

    Returns
    -------
    np.ndarray [shape=(n_frames, n_text)], float

    Examples
    --------
    >>> guided_attention_weights(2, 2).round(3).tolist()
    [[0.0, 0.956], [0.956, 0.0]]
    """
    raise NotImplementedError()


def location_energies(query, processed_memory, previous, cumulative, *, W_query, filters, W_location, v):
    """Location-sensitive attention energies for one decoder step (Chorowski et al. 2015).

    ``e[n] = v . tanh(W_query @ query + processed_memory[n] + W_location @ f[n])`` where
    ``f[n, k] = sum_c sum_j filters[k, c, j] * x[c, n + j - (K - 1) // 2]`` is a 'same'
    convolution (cross-correlation, zero padding, as ``torch.nn.Conv1d``) of the two rows
    ``x = [previous, cumulative]`` (the last step's weights and their running sum).

    Parameters
    ----------
    query : np.ndarray [shape=(Q,)] — the attention LSTM's output
    processed_memory : np.ndarray [shape=(N, A)] — the encoder outputs after their linear layer
    previous, cumulative : np.ndarray [shape=(N,)]
    W_query : np.ndarray [shape=(A, Q)]
    filters : np.ndarray [shape=(F, 2, K)], K odd
    W_location : np.ndarray [shape=(A, F)]
    v : np.ndarray [shape=(A,)]

    Returns
    -------
    np.ndarray [shape=(N,)]
        Unnormalised scores (a softmax over them gives the attention weights).
    """
    raise NotImplementedError()


def stop_step(stop_logits, *, threshold=0.5, max_steps):
    """How many decoder steps run: up to and including the first whose stop probability exceeds
    ``threshold``, never more than ``max_steps``.

    The probability of step ``i`` is ``sigmoid(stop_logits[i]) = 1 / (1 + exp(-stop_logits[i]))``.
    If no step before the cap fires, the answer is ``max_steps`` (the decoder was cut off).

    Parameters
    ----------
    stop_logits : sequence of float — one per step the decoder *could* run (any length >= max_steps
        or shorter; steps past its end never fire)
    threshold : float in (0, 1)
    max_steps : int > 0

    Returns
    -------
    int in [1, max_steps]

    Examples
    --------
    >>> stop_step([-3.0, -1.0, 2.0, 5.0], max_steps=10)
    3
    >>> stop_step([-3.0, -3.0, -3.0], max_steps=2)
    2
    """
    raise NotImplementedError()
