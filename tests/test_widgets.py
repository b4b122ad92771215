"""Tests for course_lib.widgets: the computed curves, and the demos headless."""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import widgets  # noqa: E402
from course_lib.errors import ParameterError  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("COURSE_STATIC_WIDGETS", raising=False)
    monkeypatch.delenv("COURSE_FAST", raising=False)


# --------------------------------------------------------------------------- aliasing

@pytest.mark.parametrize(
    "f, sr, expected",
    [
        (300.0, 1000, 300.0), (500.0, 1000, 500.0), (900.0, 1000, 100.0),
        (1100.0, 1000, 100.0), (1700.0, 1000, 300.0), (2000.0, 1000, 0.0),
        (0.0, 1000, 0.0), (6000.0, 8000, 2000.0), (7999.0, 8000, 1.0), (44100 + 440.0, 44100, 440.0),
    ],
)
def test_apparent_frequency_known_answers(f, sr, expected):
    assert widgets.apparent_frequency(f, sr=sr) == pytest.approx(expected)


@pytest.mark.parametrize("f", [130.0, 470.0, 610.0, 1240.0, 2890.0, 3510.0])
def test_apparent_frequency_is_the_fft_peak_of_the_samples(f):
    """Reference: sample a cosine and find its strongest FFT bin (1 Hz resolution)."""
    sr = 1000
    n = np.arange(sr)  # one second -> bin k is k Hz
    X = np.abs(np.fft.rfft(np.cos(2 * np.pi * f * n / sr)))
    assert widgets.apparent_frequency(f, sr=sr) == pytest.approx(float(np.argmax(X)))


@pytest.mark.parametrize("f, phase", [(90.0, 0.0), (900.0, 0.3), (1130.0, 1.0), (2480.0, -0.7)])
def test_aliasing_curves_alias_passes_through_every_sample(f, phase):
    sr = 1000.0
    c = widgets.aliasing_curves(f, sr=sr, duration=0.02, phase=phase, points_per_sample=20)
    assert c.t_samples.size == 21 and c.t.size == 20 * 20 + 1
    on_samples = c.y_alias[::20]  # the fine grid hits every sample instant
    np.testing.assert_allclose(c.t[::20], c.t_samples, atol=1e-15)
    np.testing.assert_allclose(on_samples, c.y_samples, atol=1e-9)
    np.testing.assert_allclose(c.y_samples, np.sin(2 * np.pi * f * c.t_samples + phase))
    assert c.f_alias == pytest.approx(widgets.apparent_frequency(f, sr=sr))
    if f < sr / 2:  # no aliasing: the reconstruction is the signal itself
        np.testing.assert_allclose(c.y_alias, c.y, atol=1e-9)
    else:
        assert np.max(np.abs(c.y_alias - c.y)) > 0.5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"f": -1.0, "sr": 1000}, "f=-1.0"),
        ({"f": float("nan"), "sr": 1000}, "f=nan"),
        ({"f": 100.0, "sr": 0}, "sr=0"),
        ({"f": 100.0, "sr": "1k"}, "sr='1k'"),
        ({"f": 100.0, "sr": 1000, "duration": 1000.0}, "duration"),
        ({"f": 100.0, "sr": 1000, "duration": 0.0}, "duration=0.0"),
    ],
)
def test_aliasing_bad_input(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        widgets.aliasing_curves(**kwargs)


def test_plot_aliasing_labels_and_title():
    ax = widgets.plot_aliasing(900.0, sr=1000)
    assert ax.get_xlabel() == "Time (s)"
    assert "appears at 100 Hz" in ax.get_title() and "aliased" in ax.get_title()
    assert len(ax.lines) == 3


# --------------------------------------------------------------------------- quantisation

def test_quantization_known_answer_two_bits():
    c = widgets.quantization_curves(np.linspace(-1, 1, 5), bits=2)
    np.testing.assert_allclose(c.y_q, [-0.75, -0.25, 0.25, 0.75, 0.75])
    assert c.step == 0.5


@pytest.mark.parametrize("bits", [1, 2, 3, 5, 8])
def test_quantization_levels_and_error_bound(bits):
    y = np.linspace(-1, 1, 20001)
    c = widgets.quantization_curves(y, bits=bits)
    levels = np.unique(c.y_q)
    assert levels.size == 2 ** bits
    np.testing.assert_allclose(levels, -1 + (np.arange(2 ** bits) + 0.5) * 2 / 2 ** bits)
    assert np.max(np.abs(c.error)) <= c.step / 2 + 1e-12
    np.testing.assert_allclose(c.error, c.y_q - y)


@pytest.mark.parametrize("bits", [4, 6, 8, 12, 16])
def test_quantization_snr_of_full_scale_sine_follows_6db_per_bit(bits):
    sr = 48000
    t = np.arange(sr) / sr
    c = widgets.quantization_curves(np.sin(2 * np.pi * 997.3 * t), bits=bits)
    assert c.theory_db == pytest.approx(6.02 * bits + 1.76)
    # the uniform-error model is a little optimistic at 4 bits, close from 8 on
    assert abs(c.snr_db - c.theory_db) < (0.6 if bits < 8 else 0.2)


@pytest.mark.parametrize("bits", [0, 33, 2.5, True, "8"])
def test_quantization_bad_bits(bits):
    with pytest.raises(ParameterError, match="bits="):
        widgets.quantization_curves(np.zeros(4), bits=bits)


def test_quantization_bad_signal():
    with pytest.raises(ParameterError, match="NaN"):
        widgets.quantization_curves(np.array([0.0, np.nan]), bits=4)


# --------------------------------------------------------------------------- static or widget

def test_use_static_headless_without_kernel(no_env):
    assert widgets.use_static() is True  # pytest is not a Jupyter kernel
    assert widgets.use_static(False) is False
    assert widgets.use_static(True) is True


@pytest.mark.parametrize("var", ["COURSE_STATIC_WIDGETS", "COURSE_FAST"])
def test_use_static_from_environment(no_env, monkeypatch, var):
    monkeypatch.setattr(widgets, "_in_kernel", lambda: True)
    assert widgets.use_static() is False
    monkeypatch.setenv(var, "1")
    assert widgets.use_static() is True


def test_use_static_without_ipywidgets(no_env, monkeypatch):
    monkeypatch.setattr(widgets, "_in_kernel", lambda: True)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import now fails
    assert widgets.use_static() is True
    with pytest.raises(ParameterError, match="ipywidgets"):
        widgets.use_static(False)
    with pytest.raises(ParameterError, match="static="):
        widgets.use_static("yes")


@pytest.mark.parametrize("freqs", [None, [100.0, 2600.0]])
def test_aliasing_demo_static_grid(freqs):
    fig = widgets.aliasing_demo(sr=1000, static=True, static_freqs=freqs)
    n = 4 if freqs is None else len(freqs)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == n
    assert fig.axes[-1].get_xlabel() == "Time (s)"
    if freqs is not None:
        assert "appears at 400 Hz" in fig.axes[1].get_title()


def test_aliasing_demo_widget_builds_and_redraws():
    demo = widgets.aliasing_demo(sr=1000, f=900.0, static=False, show=False)
    slider = demo.children[0]
    assert slider.description == "f (Hz)" and slider.value == 900.0 and slider.max == 2000.0
    plt.close("all")
    slider.value = 1300.0  # runs the drawing callback (ipywidgets logs, not raises, its errors)
    assert demo.kwargs == {"f": 1300.0}
    # under Agg plt.show() leaves the callback's figure open: check what it drew
    assert "appears at 300 Hz" in plt.gcf().axes[0].get_title()


def test_quantization_demo_static_and_widget():
    fig = widgets.quantization_demo(static=True, static_bits=(2, 3, 4, 8))
    assert len(fig.axes) == 4
    assert "16 levels" in fig.axes[2].get_title()
    demo = widgets.quantization_demo(static=False, bits=3, show=False)
    assert demo.children[0].value == 3
    plt.close("all")
    demo.children[0].value = 5
    assert demo.kwargs == {"bits": 5}
    assert "32 levels" in plt.gcf().axes[0].get_title()
