"""Tests for course_lib.dsp: aliasing and quantisation (moved from widgets, same tests)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import dsp
from course_lib.errors import ParameterError


@pytest.mark.parametrize(
    "f, sr, expected",
    [
        (300.0, 1000, 300.0), (500.0, 1000, 500.0), (900.0, 1000, 100.0),
        (1100.0, 1000, 100.0), (1700.0, 1000, 300.0), (2000.0, 1000, 0.0),
        (0.0, 1000, 0.0), (6000.0, 8000, 2000.0), (7999.0, 8000, 1.0), (44100 + 440.0, 44100, 440.0),
    ],
)
def test_apparent_frequency_known_answers(f, sr, expected):
    assert dsp.apparent_frequency(f, sr=sr) == pytest.approx(expected)


@pytest.mark.parametrize("f", [130.0, 470.0, 610.0, 1240.0, 2890.0, 3510.0])
def test_apparent_frequency_is_the_fft_peak_of_the_samples(f):
    """Reference: sample a cosine and find its strongest FFT bin (1 Hz resolution)."""
    sr = 1000
    n = np.arange(sr)  # one second -> bin k is k Hz
    X = np.abs(np.fft.rfft(np.cos(2 * np.pi * f * n / sr)))
    assert dsp.apparent_frequency(f, sr=sr) == pytest.approx(float(np.argmax(X)))


def test_quantization_known_answer_two_bits():
    c = dsp.quantization_curves(np.linspace(-1, 1, 5), bits=2)
    np.testing.assert_allclose(c.y_q, [-0.75, -0.25, 0.25, 0.75, 0.75])
    assert c.step == 0.5


@pytest.mark.parametrize("bits", [1, 2, 3, 5, 8])
def test_quantization_levels_and_error_bound(bits):
    y = np.linspace(-1, 1, 20001)
    c = dsp.quantization_curves(y, bits=bits)
    levels = np.unique(c.y_q)
    assert levels.size == 2 ** bits
    np.testing.assert_allclose(levels, -1 + (np.arange(2 ** bits) + 0.5) * 2 / 2 ** bits)
    assert np.max(np.abs(c.error)) <= c.step / 2 + 1e-12
    np.testing.assert_allclose(c.error, c.y_q - y)


@pytest.mark.parametrize("bits", [4, 6, 8, 12, 16])
def test_quantization_snr_of_full_scale_sine_follows_6db_per_bit(bits):
    sr = 48000
    t = np.arange(sr) / sr
    c = dsp.quantization_curves(np.sin(2 * np.pi * 997.3 * t), bits=bits)
    assert c.theory_db == pytest.approx(6.02 * bits + 1.76)
    # the uniform-error model is a little optimistic at 4 bits, close from 8 on
    assert abs(c.snr_db - c.theory_db) < (0.6 if bits < 8 else 0.2)


@pytest.mark.parametrize("bits", [0, 33, 2.5, True, "8"])
def test_quantization_bad_bits(bits):
    with pytest.raises(ParameterError, match="bits="):
        dsp.quantization_curves(np.zeros(4), bits=bits)


def test_quantization_bad_signal():
    with pytest.raises(ParameterError, match="NaN"):
        dsp.quantization_curves(np.array([0.0, np.nan]), bits=4)
