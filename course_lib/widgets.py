"""Interactive demos (ipywidgets sliders) with a static fallback.

Notebook: 01_digital_audio.ipynb

Each demo comes in three layers, so that what is drawn can be tested
without a browser:

- a pure function that computes the curves (:func:`aliasing_curves`, and
  :func:`~course_lib.dsp.quantization_curves` from :mod:`course_lib.dsp`,
  re-exported here), returning a ``NamedTuple``;
- a function that draws one setting on an Axes (:func:`plot_aliasing`,
  :func:`plot_quantization`);
- the demo (:func:`aliasing_demo`, :func:`quantization_demo`): a slider
  when a widget frontend can show one, otherwise a static grid of a few
  settings.

The demo is static when ``static=True``, or (with ``static=None``, the
default) when any of these holds: the environment variable
``COURSE_STATIC_WIDGETS`` is set to 1, fast mode is on
(:func:`course_lib.config.fast`: CI, nbval, ``make test``), ipywidgets is not installed, or the code is not running in a
Jupyter kernel (a plain script or the IPython terminal cannot show sliders).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from . import config
# the DSP lives in dsp; re-exported here, where notebooks 01 and the tests first met them
from .dsp import QuantizationCurves, apparent_frequency, check_bits, quantization_curves, signed_alias
from .errors import ParameterError
from .validation import check_positive, check_positive_int, check_sr, valid_audio

__all__ = [
    "use_static", "apparent_frequency", "AliasingCurves", "aliasing_curves", "plot_aliasing",
    "aliasing_demo", "QuantizationCurves", "quantization_curves", "plot_quantization",
    "quantization_demo", "slider_demo",
]

_TRUE = {"1", "true", "yes", "on"}


# --------------------------------------------------------------------------- mode

def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (which can talk to widget frontends)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _have_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def use_static(static: bool | None = None) -> bool:
    """Decide whether a demo draws a static figure (True) or sliders (False).

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    static : bool or None
        True or False forces the choice (False raises if ipywidgets is
        missing); None decides from the environment, as the module
        docstring explains.
    """
    if static is not None:
        if not isinstance(static, bool):
            raise ParameterError(f"static={static!r} must be True, False or None")
        if not static and not _have_ipywidgets():
            raise ParameterError(
                "static=False needs ipywidgets, which is not installed; "
                "pip install ipywidgets, or use static=True"
            )
        return static
    if _env_true("COURSE_STATIC_WIDGETS") or config.fast():
        return True
    return not (_have_ipywidgets() and _in_kernel())


def _show(obj) -> None:
    """Display ``obj`` in a notebook (no-op outside IPython)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None:
        display(obj)


def _static_grid(values, draw, *, title: str):
    """One row per setting, ``draw(value, ax)`` in each: the static stand-in for a slider."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(values), 1, figsize=(8, 2.3 * len(values)),
                             sharex=True, layout="constrained", squeeze=False)
    for ax, value in zip(axes[:, 0], values):
        draw(value, ax)
        ax.set_xlabel("")
    axes[-1, 0].set_xlabel("Time (s)")
    fig.suptitle(f"{title} (static view: run in JupyterLab for the slider)")
    return fig


def _finish_static(fig, show: bool):
    """Display a static figure once and detach it from pyplot (no second copy at cell end)."""
    import matplotlib.pyplot as plt

    if show and _in_ipython():
        _show(fig)
        plt.close(fig)
    return fig


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


# --------------------------------------------------------------------------- aliasing

class AliasingCurves(NamedTuple):
    """What :func:`aliasing_curves` returns (times in seconds)."""

    t: np.ndarray          # (n_fine,) a fine time grid for the "continuous" curves
    y: np.ndarray          # (n_fine,) sin(2π f t + φ), the continuous sinusoid
    t_samples: np.ndarray  # (n_samples,) the sampling instants n / sr
    y_samples: np.ndarray  # (n_samples,) the samples
    y_alias: np.ndarray    # (n_fine,) the lowest-frequency sinusoid through the samples
    f_alias: float         # its frequency, in [0, sr/2]


def aliasing_curves(f, *, sr, duration: float = 0.01, phase: float = 0.0,
                    points_per_sample: int = 50) -> AliasingCurves:
    """The curves of the aliasing picture: a sinusoid, its samples and the alias through them.

    Notebook: 01_digital_audio.ipynb

    The samples of ``sin(2π f t + φ)`` at ``t = n / sr`` equal those of
    ``sin(2π f_s t + φ)`` with ``f_s = f - sr·round(f/sr)`` in
    ``[-sr/2, sr/2]``, because the two differ by a whole number of turns at
    every sample. That lower-frequency sinusoid is what an ideal
    reconstruction (sinc interpolation) gives back.

    Parameters
    ----------
    f : float >= 0
        Frequency of the sinusoid in Hz.
    sr : int > 0
        Sample rate in Hz.
    duration : float > 0
        Length of the excerpt in seconds.
    phase : float
        Phase φ in radians.
    points_per_sample : int > 0
        Density of the fine grid.

    Returns
    -------
    AliasingCurves
    """
    sr = check_sr(sr)
    duration = check_positive(duration, "duration")
    f_alias = apparent_frequency(f, sr=sr)
    points_per_sample = check_positive_int(points_per_sample, "points_per_sample")
    n_samples = int(np.floor(duration * sr)) + 1
    if n_samples > 100_000:
        raise ParameterError(
            f"duration={duration!r} s at sr={sr:g} Hz is {n_samples} samples; "
            "the picture needs a short excerpt (a few periods), e.g. duration=10 / sr"
        )
    t_samples = np.arange(n_samples) / sr
    t = np.linspace(0.0, t_samples[-1], (n_samples - 1) * points_per_sample + 1)
    f_signed = signed_alias(float(f), sr)
    return AliasingCurves(
        t=t,
        y=np.sin(2 * np.pi * f * t + phase),
        t_samples=t_samples,
        y_samples=np.sin(2 * np.pi * f * t_samples + phase),
        y_alias=np.sin(2 * np.pi * f_signed * t + phase),
        f_alias=f_alias,
    )


def plot_aliasing(f, *, sr, ax=None, duration: float | None = None, phase: float = 0.0):
    """Draw a sinusoid, its samples and the alias those samples describe.

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    f, sr, phase
        As in :func:`aliasing_curves`.
    ax : matplotlib.axes.Axes or None
    duration : float or None
        Seconds shown; default 12 sample periods.

    Returns
    -------
    matplotlib.axes.Axes
        x axis "Time (s)"; the title gives ``f``, ``sr`` and the apparent frequency.
    """
    from .display import _new_ax

    sr_f = check_sr(sr)
    c = aliasing_curves(f, sr=sr_f, duration=12 / sr_f if duration is None else duration,
                        phase=phase)
    ax = _new_ax(ax)
    ax.plot(c.t, c.y, color="0.6", linewidth=1.0, label=f"signal, {f:g} Hz")
    ax.plot(c.t, c.y_alias, "--", color="tab:red", linewidth=1.2,
            label=f"what the samples say, {c.f_alias:g} Hz")
    ax.plot(c.t_samples, c.y_samples, "o", color="tab:blue", markersize=4,
            label=f"samples at {sr_f:g} Hz")
    ax.set_xlim(c.t[0], c.t[-1])
    ax.set_ylim(-1.25, 1.6)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Amplitude")
    verdict = "no aliasing" if f <= sr_f / 2 else "aliased"
    ax.set_title(f"{f:g} Hz sampled at {sr_f:g} Hz appears at {c.f_alias:g} Hz ({verdict})",
                 fontsize="medium")
    ax.legend(loc="upper right", fontsize="x-small", ncols=3)
    return ax


def aliasing_demo(*, sr: int = 1000, f: float | None = None, f_max: float | None = None,
                  static: bool | None = None, static_freqs=None, show: bool = True):
    """Slider demo of aliasing: move a sinusoid's frequency and watch its samples.

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    sr : int > 0
        Sample rate in Hz.
    f : float or None
        Starting frequency of the slider (default ``0.1·sr``).
    f_max : float or None
        Slider range ``[0, f_max]`` (default ``2·sr``).
    static : bool or None
        See :func:`use_static`.
    static_freqs : sequence of float or None
        Frequencies in the static grid; default ``0.1, 0.45, 0.9, 1.1`` times ``sr``.
    show : bool
        Display the demo in the notebook (it is returned either way; assign
        the result, ``demo = aliasing_demo()``, so it is not shown twice).

    Returns
    -------
    ipywidgets.interactive or matplotlib.figure.Figure
        The slider widget, or the static figure (one Axes per frequency).
    """
    sr = check_sr(sr)
    f = 0.1 * sr if f is None else f
    f_max = 2.0 * sr if f_max is None else check_positive(f_max, "f_max")
    apparent_frequency(f, sr=sr)  # validates f
    if use_static(static):
        freqs = [0.1 * sr, 0.45 * sr, 0.9 * sr, 1.1 * sr] if static_freqs is None else list(static_freqs)
        if not freqs:
            raise ParameterError("static_freqs is empty; give at least one frequency")
        fig = _static_grid(freqs, lambda freq, ax: plot_aliasing(freq, sr=sr, ax=ax), title="Aliasing")
        return _finish_static(fig, show)

    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=f, min=0.0, max=f_max, step=sr / 200,
                                 description="f (Hz)", continuous_update=False,
                                 readout_format=".0f", layout=widgets.Layout(width="600px"))
    return _interactive(lambda freq, ax: plot_aliasing(freq, sr=sr, ax=ax), slider, name="f", show=show)


# --------------------------------------------------------------------------- quantisation

def plot_quantization(y, *, sr, bits, ax=None, show_error: bool = True):
    """Draw a signal, its ``bits``-bit quantised version and (optionally) the error.

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float
        A short excerpt (a few periods); every sample is drawn.
    sr : int
    bits : int
    ax : matplotlib.axes.Axes or None
    show_error : bool

    Returns
    -------
    matplotlib.axes.Axes
        x axis "Time (s)"; the title gives the bits, levels and measured vs theoretical SNR.
    """
    from .display import _new_ax

    valid_audio(y, mono=True)
    sr = check_sr(sr)
    c = quantization_curves(y, bits=bits)
    t = np.arange(y.shape[0]) / sr
    ax = _new_ax(ax)
    ax.plot(t, c.y, color="0.6", linewidth=1.0, label="original")
    ax.step(t, c.y_q, where="mid", color="tab:blue", linewidth=1.2, label=f"{bits}-bit")
    if show_error:
        ax.plot(t, c.error, color="tab:red", linewidth=0.8, label="error")
    ax.set_xlim(t[0], t[-1])
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Amplitude")
    ax.set_title(f"{bits} bits = {2 ** bits} levels: SNR {c.snr_db:.1f} dB "
                 f"(6.02·b + 1.76 = {c.theory_db:.1f} dB)", fontsize="medium")
    ax.legend(loc="upper right", fontsize="x-small", ncols=3)
    return ax


def _demo_sine(sr: int, f: float, duration: float) -> np.ndarray:
    t = np.arange(int(round(duration * sr))) / sr
    return np.sin(2 * np.pi * f * t)


def quantization_demo(*, y=None, sr: int = 48000, bits: int = 4, static: bool | None = None,
                      static_bits=(2, 4, 8), show: bool = True):
    """Slider demo of quantisation: choose the bit depth, see the staircase and the error.

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)] or None
        A short excerpt to quantise; default 5 ms of a full-scale 440 Hz sine.
    sr : int
        Its sample rate.
    bits : int
        Starting value of the slider (1..16).
    static : bool or None
        See :func:`use_static`.
    static_bits : sequence of int
        Bit depths of the static grid.
    show : bool
        Display the demo (see :func:`aliasing_demo`).

    Returns
    -------
    ipywidgets.interactive or matplotlib.figure.Figure
    """
    sr = check_sr(sr)
    y = _demo_sine(sr, 440.0, 0.005) if y is None else y
    valid_audio(y, mono=True)
    bits = check_bits(bits)
    if use_static(static):
        static_bits = [check_bits(b) for b in static_bits]
        if not static_bits:
            raise ParameterError("static_bits is empty; give at least one bit depth")
        fig = _static_grid(static_bits, lambda b, ax: plot_quantization(y, sr=sr, bits=b, ax=ax),
                           title="Quantisation")
        return _finish_static(fig, show)

    import ipywidgets as widgets

    slider = widgets.IntSlider(value=min(bits, 16), min=1, max=16, description="bits",
                               continuous_update=False)
    return _interactive(lambda b, ax: plot_quantization(y, sr=sr, bits=b, ax=ax), slider,
                        name="bits", show=show)


# --------------------------------------------------------------------------- any setting

def slider_demo(draw, *, options, value=None, name: str = "value", static: bool | None = None,
                static_values=None, title: str = "", figsize=(8, 3), show: bool = True):
    """A slider over ``options`` that redraws ``draw(value, ax)``; a static grid without a frontend.

    Notebook: 02_spectral_analysis.ipynb

    The generic form of :func:`aliasing_demo` / :func:`quantization_demo`
    for a notebook's own picture: the notebook writes ``draw`` once and gets
    the slider in JupyterLab and a static figure in CI, in a script or
    without ipywidgets (see :func:`use_static`), instead of calling
    ``ipywidgets.interact`` itself.

    Parameters
    ----------
    draw : callable
        ``draw(value, ax)`` draws one setting on a matplotlib Axes.
    options : sequence
        The slider's settings, in order (an ``ipywidgets.SelectionSlider``).
    value : one of ``options`` or None
        The slider's start (default: the middle option).
    name : str
        The slider's label (e.g. ``"n_fft"``).
    static : bool or None
        See :func:`use_static`.
    static_values : sequence or None
        Settings drawn in the static grid: default the first, middle and
        last option; ``()`` draws nothing (when a figure above already
        compares settings) and prints where to look.
    title : str
        Title of the static grid.
    figsize : (float, float)
        Size of the figure the slider redraws.
    show : bool
        Display the demo (see :func:`aliasing_demo`).

    Returns
    -------
    ipywidgets.interactive, matplotlib.figure.Figure or None
        The slider widget, the static figure, or None for ``static_values=()``.
    """
    if not callable(draw):
        raise ParameterError(f"draw={draw!r} must be a function draw(value, ax)")
    options = list(options)
    if not options:
        raise ParameterError("options is empty; give the slider at least one setting")
    value = options[len(options) // 2] if value is None else value
    if value not in options:
        raise ParameterError(f"value={value!r} must be one of options={options}")
    if not isinstance(name, str) or not name.isidentifier():
        raise ParameterError(f"name={name!r} must be a Python identifier (the slider's label)")
    if use_static(static):
        values = [options[0], options[len(options) // 2], options[-1]] if static_values is None \
            else list(static_values)
        values = list(dict.fromkeys(values))  # a one-option slider: one row, not three
        if not values:
            if show:
                print(f"(static view: the figure above shows several {name} settings; "
                      "run in JupyterLab for the slider)")
            return None
        return _finish_static(_static_grid(values, draw, title=title or name), show)

    import ipywidgets as widgets

    slider = widgets.SelectionSlider(options=options, value=value, description=name,
                                     continuous_update=False)
    return _interactive(draw, slider, name=name, figsize=figsize, show=show)


def _interactive(draw, slider, *, name: str, figsize=(8, 3), show: bool = True):
    """``ipywidgets.interactive`` that draws ``draw(value, ax)`` on a fresh figure per move."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    def _redraw(**setting):
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        draw(setting[name], ax)
        plt.show()

    demo = widgets.interactive(_redraw, **{name: slider})
    if show:
        _show(demo)
    return demo
