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
(:func:`course_lib.config.fast`: CI, nbval, ``make test``) and
``COURSE_STATIC_WIDGETS`` is not set to 0 (the browser suite sets 0 to get live
widgets in fast mode), ipywidgets is not installed, or the code is not running in a
Jupyter kernel (a plain script or the IPython terminal cannot show sliders).

The microphone recorder (:func:`record`, notebook 04) and the "say it yourself"
cell built on it (:func:`say_it`) follow the same rule: where widgets do not
run they show a static message (and ``say_it`` analyses a corpus example instead).
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
    "quantization_demo", "slider_demo", "PRIVACY_NOTE", "Recorder", "record", "decode_payload",
    "check_recording", "SayItResult", "SayIt", "say_it", "answer_of", "classifier_recognizer",
]

_TRUE = {"1", "true", "yes", "on"}


# --------------------------------------------------------------------------- mode

def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _env_false(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"0", "false", "no", "off"}


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
    if _env_true("COURSE_STATIC_WIDGETS"):
        return True
    # COURSE_STATIC_WIDGETS=0 asks for live widgets even in fast mode (the browser suite does)
    if config.fast() and not _env_false("COURSE_STATIC_WIDGETS"):
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


# --------------------------------------------------------------------------- the microphone

#: Shown next to the record button (and in the static message).
PRIVACY_NOTE = ("Privacy: your recording goes only to this notebook's Python kernel and stays in its "
                "memory; nothing is saved or uploaded unless you save it yourself "
                "(e.g. course_lib.audio.save). Restarting the kernel forgets it.")

_ASSETS = os.path.join(os.path.dirname(__file__), "assets")
_SR_RANGE = (3000, 384_000)        # what browsers record and decode at
_SILENT_DBFS = -60.0               # a peak below this is no speech (a muted or missing microphone)
_CLIP_LEVEL = 0.999                # |y| at or above this is full scale
_CLIP_FRACTION = 1e-3              # more than 0.1 % of samples at full scale: clipped
_LENGTH_SLACK = 0.5                # seconds a recording may run over ``seconds`` (stop latency)


def decode_payload(content: dict, buffers) -> tuple[np.ndarray, int]:
    """Decode what the browser sends after a recording or an upload: ``(y, sr)``, float32 mono.

    Notebook: 04_hmm_word_recognition.ipynb

    The widget's JavaScript (``course_lib/assets/recorder.js``) sends one custom
    message: ``content = {"type": "audio", "sr": int, "n": int, "channels": int,
    "source": "microphone" | "upload", "name": str}`` and one binary buffer of
    ``channels * n`` little-endian float32 samples, channel after channel.
    Channels are averaged to mono.

    Parameters
    ----------
    content : dict
    buffers : list of bytes-like (memoryview, bytes)

    Returns
    -------
    y : np.ndarray [shape=(n,)], float32
    sr : int

    Raises
    ------
    ParameterError
        A malformed payload (no buffer, a sample count that does not match, a bad rate).
    """
    if not isinstance(content, dict) or content.get("type") != "audio":
        raise ParameterError(f"the browser sent {content!r}, not an audio payload (type 'audio')")
    try:
        sr, n, channels = int(content["sr"]), int(content["n"]), int(content.get("channels", 1))
    except (KeyError, TypeError, ValueError):
        raise ParameterError(f"the audio payload {content!r} lacks an integer 'sr' or 'n'") from None
    if not _SR_RANGE[0] <= sr <= _SR_RANGE[1]:
        raise ParameterError(f"the browser recorded at sr={sr} Hz, outside {_SR_RANGE[0]}..{_SR_RANGE[1]} Hz; "
                             "record again, or upload a WAV file")
    if n < 0 or channels < 1:
        raise ParameterError(f"the audio payload says n={n}, channels={channels}; both must be >= 0 / >= 1")
    if not buffers:
        raise ParameterError("the audio payload carries no samples (no binary buffer): record again")
    raw = bytes(buffers[0])
    if len(raw) != 4 * n * channels:
        raise ParameterError(f"the audio payload says {channels} x {n} float32 samples ({4 * n * channels} bytes) "
                             f"but carries {len(raw)} bytes: the transfer was cut; record again")
    y = np.frombuffer(raw, dtype="<f4").reshape(channels, n)
    return y.mean(axis=0, dtype=np.float64).astype(np.float32), sr


def check_recording(y, *, sr: int, seconds: float | None = None) -> None:
    """Raise a clear error for a recording no model should be given: empty, silent, clipped or too long.

    Notebook: 04_hmm_word_recognition.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float
    sr : int
    seconds : float or None
        The longest recording expected (the recorder's ``seconds``), plus 0.5 s
        for the time it takes to stop; None does not check the length.

    Raises
    ------
    ParameterError
        ``empty`` (no samples), ``silent`` (peak below -60 dBFS: a muted or wrong
        microphone), ``clipped`` (more than 0.1 % of the samples at full scale,
        |y| >= 0.999: too loud, the waveform's tops are cut off) or ``too long``;
        each message says what to do.
    """
    y = np.asarray(y)
    if y.size == 0:
        raise ParameterError("the recording is empty (0 samples): the browser sent no sound. Check that the "
                             "page may use the microphone (the icon in the address bar), then record again, "
                             "or upload a file")
    if not np.all(np.isfinite(y)):
        raise ParameterError("the recording contains NaN or Inf samples: record again")
    duration = y.shape[-1] / sr
    if seconds is not None and duration > seconds + _LENGTH_SLACK:
        raise ParameterError(f"the recording is too long: {duration:.2f} s for a recorder of seconds={seconds:g}; "
                             f"trim the file, or make a recorder for it: record(seconds={np.ceil(duration):g})")
    peak = float(np.max(np.abs(y)))
    peak_db = 20 * np.log10(peak) if peak > 0 else -np.inf
    if peak_db < _SILENT_DBFS:
        raise ParameterError(f"the recording is silent (peak {peak_db:.0f} dBFS, below {_SILENT_DBFS:.0f} dBFS): "
                             "is the right microphone selected and unmuted, and its input level up? "
                             "Then record again, closer to the microphone")
    n_clipped = int(np.count_nonzero(np.abs(y) >= _CLIP_LEVEL))
    if n_clipped > max(2, _CLIP_FRACTION * y.size):
        raise ParameterError(f"the recording is clipped: {n_clipped} samples ({100 * n_clipped / y.size:.1f} %) "
                             "at full scale, so the tops of the waveform are cut off. Speak further from the "
                             "microphone or turn its input level down, then record again "
                             "(or .audio(check=False) to look at it anyway)")


class Recorder:
    """A microphone recorder for a notebook (what :func:`record` returns).

    Notebook: 04_hmm_word_recognition.ipynb

    In JupyterLab it is an anywidget: a record button, a level meter, a
    file-upload fallback and the privacy note. The recording goes from the
    browser to this object (a custom widget message, not the widget's saved
    state) and stays in memory. Where widgets do not run it is a static
    message and :meth:`audio` says why there is no recording.
    """

    def __init__(self, seconds: float = 2.0, *, static: bool = False):
        self.seconds = check_positive(seconds, "seconds")
        if self.seconds > 60:
            raise ParameterError(f"seconds={seconds!r} is over a minute; record at most 60 s (e.g. seconds=2.0)")
        self.static = bool(static)
        self.source: str | None = None       # "microphone" or "upload", once something arrived
        self.name: str | None = None          # the uploaded file's name
        self._audio: tuple[np.ndarray, int] | None = None
        self._problem: str | None = None      # why the last message gave no audio
        self._callbacks: list = []
        self.widget = None if self.static else _recorder_widget_class()(seconds=self.seconds,
                                                                          privacy=PRIVACY_NOTE)
        if self.widget is not None:
            self.widget.on_msg(lambda _w, content, buffers: self.receive(content, buffers))

    # ----------------------------------------------------------------- browser -> Python

    def receive(self, content: dict, buffers=()) -> None:
        """Handle one message from the browser (the widget calls this; tests call it directly)."""
        if isinstance(content, dict) and content.get("type") == "error":
            self._problem = (f"the browser reported {content.get('name', 'an error')}: {content.get('message', '')}. "
                             "Allow the microphone for this page (the icon in the address bar) or upload a file")
            self._status(self._problem, "error")
            return
        try:
            y, sr = decode_payload(content, buffers)
        except ParameterError as err:
            self._audio, self._problem = None, str(err)
            self._status(f"Nothing usable arrived: {err}", "error")
            return
        self._audio, self._problem = (y, sr), None
        self.source, self.name = content.get("source"), content.get("name") or None
        try:
            check_recording(y, sr=sr, seconds=self.seconds)
        except ParameterError as err:
            self._status(f"Got {len(y) / sr:.2f} s at {sr} Hz, but {err}", "error")
            return
        peak = 20 * np.log10(float(np.max(np.abs(y))))
        self._status(f"Got {len(y) / sr:.2f} s at {sr} Hz (peak {peak:.0f} dBFS). "
                     "In Python: y, sr = recorder.audio()", "ok")
        for callback in list(self._callbacks):
            callback(y, sr)

    def _status(self, text: str, kind: str) -> None:
        if self.widget is not None:
            self.widget.status_kind = kind
            self.widget.status = text

    # ----------------------------------------------------------------- Python side

    def audio(self, *, check: bool = True) -> tuple[np.ndarray, int]:
        """The last recording: ``(y, sr)``, float32 mono, at the browser's rate (often 48 kHz).

        Parameters
        ----------
        check : bool
            Raise for an empty, silent, clipped or too long recording
            (:func:`check_recording`); False returns it anyway.

        Raises
        ------
        ParameterError
            No recording yet (or widgets do not run here), or a bad recording.
        """
        if self._audio is None:
            if self.static:
                raise ParameterError("no recording: the recorder needs JupyterLab (or Notebook 7) in a browser, "
                                     "and widgets are off here (CI, nbval, a script or COURSE_STATIC_WIDGETS=1). "
                                     "Open the notebook in JupyterLab to record yourself")
            if self._problem:
                raise ParameterError(f"no recording: {self._problem}")
            raise ParameterError("no recording yet: press the record button above (or upload a file), "
                                 "wait for 'Got ... s', then run this cell again")
        y, sr = self._audio
        if check:
            check_recording(y, sr=sr, seconds=self.seconds)
        return y.copy(), sr

    def on_audio(self, callback) -> None:
        """Call ``callback(y, sr)`` after each good recording (how :func:`say_it` reacts)."""
        if not callable(callback):
            raise ParameterError(f"callback={callback!r} must be a function callback(y, sr)")
        self._callbacks.append(callback)

    def clear(self) -> None:
        """Forget the recording (it lives only here)."""
        self._audio, self._problem, self.source, self.name = None, None, None, None
        self._status("", "")

    def static_message(self) -> str:
        return (f"[Recorder for {self.seconds:g} s: it needs JupyterLab in a browser; widgets are off here "
                "(CI, nbval, a script or COURSE_STATIC_WIDGETS=1). Open the notebook in JupyterLab to record "
                f"yourself.] {PRIVACY_NOTE}")

    def _repr_mimebundle_(self, **kwargs):
        if self.widget is not None:
            return self.widget._repr_mimebundle_(**kwargs)
        text = self.static_message()
        return {"text/plain": text, "text/html": f"<p><em>{text}</em></p>"}

    _shown_in_cell = None   # execution count of the cell that last showed it

    def _ipython_display_(self):
        """Show once per cell: ``widgets.record()`` as a cell's last line is not drawn twice."""
        from IPython import get_ipython
        from IPython.display import publish_display_data

        shell = get_ipython()
        cell = getattr(shell, "execution_count", None) if getattr(shell, "kernel", None) is not None else None
        if cell is not None and self._shown_in_cell == cell:
            return
        self._shown_in_cell = cell
        bundle = self._repr_mimebundle_()
        publish_display_data(*bundle) if isinstance(bundle, tuple) else publish_display_data(bundle)

    def __repr__(self) -> str:
        state = "static" if self.static else ("empty" if self._audio is None else
                                              f"{len(self._audio[0]) / self._audio[1]:.2f} s at {self._audio[1]} Hz")
        return f"Recorder(seconds={self.seconds:g}, {state})"


_RECORDER_CLASS = None


def _recorder_widget_class():
    """The anywidget class, made on first use (importing anywidget costs time, and only JupyterLab needs it)."""
    global _RECORDER_CLASS
    if _RECORDER_CLASS is None:
        try:
            import anywidget
            import traitlets
        except ImportError:
            raise ParameterError("the recorder needs anywidget: pip install anywidget (make setup does), "
                                 "or use record(static=True)") from None
        from pathlib import Path

        class _RecorderWidget(anywidget.AnyWidget):
            _esm = Path(_ASSETS) / "recorder.js"
            _css = Path(_ASSETS) / "recorder.css"
            seconds = traitlets.Float(2.0).tag(sync=True)
            privacy = traitlets.Unicode("").tag(sync=True)
            status = traitlets.Unicode("").tag(sync=True)
            status_kind = traitlets.Unicode("").tag(sync=True)

        _RECORDER_CLASS = _RecorderWidget
    return _RECORDER_CLASS


def record(seconds: float = 2.0, *, static: bool | None = None, show: bool = True) -> Recorder:
    """A browser-microphone recorder: record, then ``y, sr = rec.audio()``.

    Notebook: 04_hmm_word_recognition.ipynb

    Shows a record button (it records ``seconds`` seconds, from the browser's
    microphone through the Web Audio API, echo cancellation, noise
    suppression and automatic gain off), a level meter, a file-upload
    fallback for browsers without a microphone, and a privacy note: the
    recording stays in the kernel's memory unless you save it. Where widgets
    do not run (see :func:`use_static`) it shows a static message instead.

    Parameters
    ----------
    seconds : float > 0
        Length of a recording (at most 60 s); uploads may be up to 0.5 s longer.
    static : bool or None
        See :func:`use_static`.
    show : bool
        Display the recorder now (in a notebook).

    Returns
    -------
    Recorder
        ``.audio()`` → ``(y, sr)`` float32 mono after a recording; before one, or for an
        empty, silent, clipped or too long recording, a :class:`ParameterError` that says
        what to do.
    """
    rec = Recorder(seconds, static=use_static(static))
    if show:
        _show(rec)
    return rec


# --------------------------------------------------------------------------- say it yourself

class SayItResult(NamedTuple):
    """What :func:`say_it` found for one recording (or the corpus example in static mode)."""

    label: str             # the recogniser's answer
    scores: dict | None    # {label: score}, higher is better (None if the recogniser gives only a label)
    y: np.ndarray          # (n,) the audio analysed, float32
    sr: int
    source: str            # "microphone", "upload" or "example"


def answer_of(out) -> tuple[str, dict | None]:
    """Read a recogniser's answer: a label, a ``{label: score}`` dict, or ``(label, scores)``.

    Notebook: 04_hmm_word_recognition.ipynb

    >>> answer_of({"yes": -3.0, "no": -1.5})
    ('no', {'no': -1.5, 'yes': -3.0})
    """
    scores = None
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict):
        label, scores = out
    elif isinstance(out, dict):
        scores = out
        label = max(out, key=out.get) if out else None
    else:
        label = out
    if isinstance(label, np.str_):
        label = str(label)
    if not isinstance(label, str):
        raise ParameterError(f"the recogniser answered {out!r}; it must return a label (str), a dict "
                             "{label: score} or (label, {label: score})")
    if scores is not None:
        try:
            scores = dict(sorted(((str(k), float(v)) for k, v in scores.items()), key=lambda kv: -kv[1]))
        except (TypeError, ValueError):
            raise ParameterError(f"the recogniser's scores {out!r} must be numbers") from None
    return label, scores


def _analysis_figure(y, sr, example=None, *, name: str, title: str):
    """Spectrogram and MFCCs of ``y`` (left) beside those of a corpus example (right).

    A bare ``matplotlib.figure.Figure``, not one from pyplot: a recording's callback draws it outside
    any cell, and the inline backend shows every open pyplot figure under whichever cell finishes next
    (under load, a cell run meanwhile got the figure). Nothing registers this one, so only the code that
    made it shows it.
    """
    from matplotlib.figure import Figure

    from . import display, features, spectral
    from .audio import resample

    columns = [(name, y, sr)]
    if example is not None:
        columns.append(example)
    fig = Figure(figsize=(5.2 * len(columns), 5.2), layout="constrained")
    axes = fig.subplots(2, len(columns), squeeze=False)
    for k, (name, yk, srk) in enumerate(columns):
        yk = np.asarray(yk, dtype=np.float32)
        if srk != 16000:   # one rate for both columns, so the pictures compare
            yk = resample(yk, orig_sr=srk, target_sr=16000).astype(np.float32)
        n_fft, hop = 512, 160
        S_db = spectral.power_to_db(np.abs(spectral.stft(yk, n_fft=n_fft, hop_length=hop)) ** 2, ref=np.max)
        display.spectrogram(S_db, sr=16000, hop_length=hop, ax=axes[0, k], title=f"{name}: spectrogram",
                            colorbar=False, vmin=-80)
        M = features.mfcc(yk, sr=16000, n_mfcc=13, n_fft=n_fft, hop_length=hop, n_mels=40)
        axes[1, k].imshow(M, origin="lower", aspect="auto", cmap="coolwarm",
                          extent=(0, M.shape[1] * hop / 16000, -0.5, 12.5))
        axes[1, k].set_title(f"{name}: MFCC 0-12", fontsize="medium")
        axes[1, k].set_xlabel("Time (s)")
        axes[1, k].set_ylabel("Coefficient")
    fig.suptitle(title)
    return fig


def _say_it_once(y, sr, recognize, example, *, source: str, show: bool, out=None) -> SayItResult:
    """Recognise, then show the player, the answer and the figure: in the notebook, or in ``out``.

    With ``out`` (an ``ipywidgets.Output``, from a recording's callback) the parts are appended to
    the widget directly: a callback runs outside any cell, and ``with out:`` would let a cell that
    starts meanwhile take the figure (ipykernel 7 switches the parent message under it).
    """
    import matplotlib.pyplot as plt

    from . import display

    label, scores = answer_of(recognize(y, sr))
    what = "the corpus example (static view: record yourself in JupyterLab)" if source == "example" \
        else f"your {'recording' if source == 'microphone' else 'upload'}"
    fig = _analysis_figure(y, sr, example, name="corpus example" if source == "example" else "you",
                           title=f"The recogniser hears {label!r} in {what}")
    lines = [f"The recogniser says: {label!r}"]
    if scores:
        lines += ["  scores (higher is better):"] + [f"    {k:>8s} {v:10.3f}" for k, v in list(scores.items())[:5]]
    text = "\n".join(lines)
    try:
        if out is not None:
            import base64
            import io

            png = io.BytesIO()
            fig.savefig(png, format="png", dpi=80)
            player = display.play(y, sr=sr, show=False)
            out.outputs = (
                {"output_type": "display_data", "metadata": {},
                 "data": {"text/html": player._repr_html_(), "text/plain": "<audio player>"}},
                {"output_type": "stream", "name": "stdout", "text": text + "\n"},
                {"output_type": "display_data", "metadata": {},
                 "data": {"image/png": base64.b64encode(png.getvalue()).decode("ascii"),
                          "text/plain": f"<Figure: {fig.get_suptitle()}>"}},
            )
        elif show:
            display.play(y, sr=sr)
            print(text)
            _show(fig)
    finally:
        plt.close(fig)
    return SayItResult(label, scores, np.asarray(y, dtype=np.float32), int(sr), source)


class SayIt:
    """What :func:`say_it` returns: the recorder and the latest result (None until a recording)."""

    def __init__(self, recorder: Recorder, result: SayItResult | None, box=None):
        self.recorder, self.result, self.box = recorder, result, box
        self.error: str | None = None   # what went wrong with the last recording, if anything

    def _ipython_display_(self):
        # a cell ending in say_it(...) must not show the recorder a second time
        pass

    def __repr__(self) -> str:
        return f"SayIt({self.recorder!r}, result={None if self.result is None else self.result.label!r})"


def say_it(recognize, *, example=None, seconds: float = 2.0, static: bool | None = None,
           show: bool = True) -> SayIt:
    """Say a word into the microphone: hear it back, see it beside a corpus example, see what a model answers.

    Notebook: 04_hmm_word_recognition.ipynb

    Shows a :func:`record` widget. After each recording it plays the
    recording, draws its spectrogram and MFCCs beside those of ``example``
    and prints what ``recognize(y, sr)`` answers, with its scores. Where
    widgets do not run it does all that for ``example`` instead (so the cell
    still runs, in CI too), titled as a static view.

    Parameters
    ----------
    recognize : callable
        ``recognize(y, sr)`` for float32 mono ``y`` at any ``sr``: a label, a
        ``{label: score}`` dict (higher is better), or ``(label, scores)``.
        E.g. ``lambda y, sr: rec.score(y, sr=sr)`` for an HMM word recogniser.
    example : Clip, (y, sr) or None
        A corpus recording to compare with (e.g. ``data.spoken_words(split="test")[0]``).
    seconds : float
        Recording length.
    static, show
        As in :func:`record`.

    Returns
    -------
    SayIt
        ``.recorder`` (a :class:`Recorder`), ``.result`` (a :class:`SayItResult`:
        in static mode the example's, else None until the first recording).
    """
    if not callable(recognize):
        raise ParameterError(f"recognize={recognize!r} must be a function recognize(y, sr)")
    ex = None
    if example is not None:
        if hasattr(example, "audio") and hasattr(example, "sr"):
            name = getattr(example, "label", None) or "example"
            ex = (f"corpus example {name!r}", np.asarray(example.audio, dtype=np.float32), int(example.sr))
        elif isinstance(example, tuple) and len(example) == 2:
            ex = ("corpus example", np.asarray(example[0], dtype=np.float32), check_sr(example[1]))
        else:
            raise ParameterError(f"example={example!r} must be a data.Clip or a (y, sr) tuple")
        valid_audio(ex[1], mono=True)
    rec = record(seconds, static=static, show=False)
    if rec.static:
        if show:
            print(rec.static_message())
        if ex is None:
            return SayIt(rec, None)
        result = _say_it_once(ex[1], ex[2], recognize, None, source="example", show=show)
        return SayIt(rec, result)

    import ipywidgets

    out = ipywidgets.Output()
    box = ipywidgets.VBox([rec.widget, out])
    holder = SayIt(rec, None, box)

    def _react(y, sr):
        try:
            holder.result = _say_it_once(y, sr, recognize, ex, source=rec.source or "microphone", show=True,
                                         out=out)
            holder.error = None
        except Exception as err:  # shown to the learner in the widget, kept for the notebook
            holder.error = f"{type(err).__name__}: {err}"
            out.outputs = ({"output_type": "stream", "name": "stdout",
                            "text": f"The recogniser failed on this recording: {holder.error}\n"},)

    rec.on_audio(_react)
    if show:
        _show(box)
    return holder


def classifier_recognizer(model):
    """``recognize(y, sr)`` for :func:`say_it` from a shipped classifier: its label probabilities.

    Notebook: 07_audio_classification.ipynb

    ``model`` needs ``.features(y, sr=sr)`` (a feature vector), a forward pass
    giving logits and ``.config.labels`` (e.g. ``pretrained.load("words_mfcc_logreg")``);
    the scores are the softmax of the logits.
    """
    import torch

    for need in ("features", "config"):
        if not hasattr(model, need):
            raise ParameterError(f"model {type(model).__name__} has no .{need}; give say_it a function "
                                 "recognize(y, sr) instead")

    @torch.no_grad()
    def recognize(y, sr):
        x = torch.from_numpy(np.asarray(model.features(y, sr=sr), dtype=np.float32))[None]   # (1, n_features)
        p = torch.softmax(model(x), dim=-1)[0]                                               # (n_labels,)
        return {label: float(v) for label, v in zip(model.config.labels, p)}

    return recognize
