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

def test_dsp_functions_are_re_exported_for_the_notebooks():
    from course_lib import dsp

    assert widgets.apparent_frequency is dsp.apparent_frequency
    assert widgets.quantization_curves is dsp.quantization_curves

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


def test_course_static_widgets_0_gives_live_widgets_in_fast_mode(no_env, monkeypatch):
    """The browser suite runs fast mode with COURSE_STATIC_WIDGETS=0 to move real sliders."""
    monkeypatch.setattr(widgets, "_in_kernel", lambda: True)
    monkeypatch.setenv("COURSE_FAST", "1")
    assert widgets.use_static() is True
    monkeypatch.setenv("COURSE_STATIC_WIDGETS", "0")
    assert widgets.use_static() is False
    monkeypatch.setattr(widgets, "_in_kernel", lambda: False)   # still static where no kernel can show them
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


# --------------------------------------------------------------------------- any setting

def _draw_line(value, ax):
    ax.plot([0, 1], [0, value])
    ax.set_title(f"value {value}")


def test_slider_demo_static_grid_defaults_to_first_middle_last():
    fig = widgets.slider_demo(_draw_line, options=[64, 128, 256, 512, 1024], name="n_fft", static=True)
    assert [ax.get_title() for ax in fig.axes] == ["value 64", "value 256", "value 1024"]
    fig = widgets.slider_demo(_draw_line, options=[1, 2], static=True, static_values=[2])
    assert [ax.get_title() for ax in fig.axes] == ["value 2"]


def test_slider_demo_static_without_a_grid_points_to_the_figure_above(capsys):
    assert widgets.slider_demo(_draw_line, options=[1, 2, 3], name="n_fft", static=True, static_values=()) is None
    assert "figure above shows several n_fft settings" in capsys.readouterr().out
    assert plt.get_fignums() == []


def test_slider_demo_widget_builds_and_redraws():
    seen = []
    demo = widgets.slider_demo(lambda v, ax: seen.append(v), options=[64, 512, 4096], name="n_fft",
                               static=False, show=False)
    slider = demo.children[0]
    assert slider.description == "n_fft" and slider.value == 512 and list(slider.options) == [64, 512, 4096]
    slider.value = 4096
    assert demo.kwargs == {"n_fft": 4096} and seen[-1] == 4096


@pytest.mark.parametrize("kwargs,match", [
    (dict(draw=None, options=[1]), "draw=None"), (dict(options=[]), "options is empty"),
    (dict(options=[1, 2], value=3), "value=3"), (dict(options=[1], name="n fft"), "name='n fft'"),
])
def test_slider_demo_bad_arguments(kwargs, match):
    kwargs = {"draw": _draw_line, **kwargs}
    with pytest.raises(ParameterError, match=match):
        widgets.slider_demo(static=True, **kwargs)
