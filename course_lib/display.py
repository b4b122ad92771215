"""Plots and audio players: waveforms, spectrograms, spectra, ``play``.

Notebook: 01_digital_audio.ipynb

Every plotting function draws on the ``ax`` it is given (or on a new figure
when ``ax`` is None), labels its axes in physical units (seconds, Hz, dB)
and returns the :class:`matplotlib.axes.Axes`, so a notebook can add a title
or a legend afterwards. matplotlib is imported inside the functions, so
``import course_lib`` stays light.

:func:`play` returns an :class:`IPython.display.Audio` player; it checks the
signal first and says what is wrong (NaN, clipping, integer samples, a
sample rate no browser plays) instead of failing inside IPython. In a
notebook the player shows itself where it is made, like a matplotlib figure,
so a ``play`` in the middle of a cell is heard too (and one that is the
cell's value is not shown twice).

Axes use the same tick labels everywhere: seconds with as few decimals as the
ticks need and not so many ticks that they run together
(:func:`format_time_axis`), Hz with ``k`` for thousands, also on logarithmic
frequency axes (:func:`format_freq_axis`); :func:`legend` puts a legend
beside the axes, where it covers neither curves nor tick labels.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from .errors import ParameterError
from .validation import check_positive_int, check_sr, valid_audio

__all__ = [
    "waveform", "spectrogram", "spectrum", "magnitude_spectrum", "Spectrum",
    "compare_waveforms", "play", "Player", "format_time_axis", "format_freq_axis", "legend",
]

_Y_AXES = ("linear", "log", "mel")
# Browsers play WAV at 3 kHz and above (the Web Audio minimum); below that, warn.
_MIN_PLAYABLE_SR = 3000


# --------------------------------------------------------------------------- helpers

def _new_ax(ax, *, figsize=(8, 2.8)):
    """Return ``ax``, or the Axes of a new figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around monotonically increasing ``centres`` (for pcolormesh)."""
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = 0.5 * (centres[1:] + centres[:-1])
    first = centres[0] - (mid[0] - centres[0])
    last = centres[-1] + (centres[-1] - mid[-1])
    return np.concatenate([[first], mid, [last]])


# --------------------------------------------------------------------------- axes

# Octave-spaced frequencies for logarithmic axes (a base-2 symlog would
# otherwise be ticked 2^6 ... 2^13).
_LOG_FREQ_TICKS = (0, 62.5, 125, 250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000)


def hz_label(f: float) -> str:
    """Tick label for a frequency in Hz: ``"250"``, ``"1k"``, ``"1.5k"``, ``"22.05k"``.

    Notebook: 02_spectral_analysis.ipynb

    >>> [hz_label(f) for f in (0, 62.5, 250, 1000, 1500, 22050)]
    ['0', '62.5', '250', '1k', '1.5k', '22.05k']
    """
    f = float(f)
    if abs(f) >= 1000:
        return f"{f / 1000:.6g}k"
    return f"{f:.6g}"


def _seconds_labels(ticks) -> list[str]:
    """Labels for tick positions in seconds, all with the decimals the finest one needs."""
    ticks = np.asarray(ticks, dtype=float)
    for decimals in range(0, 7):
        if np.allclose(np.round(ticks, decimals), ticks, rtol=0, atol=1e-9):
            break
    return [f"{t:.{decimals}f}" for t in ticks]


def _tick_locator(axis_name: str, *, label_chars: int):
    """A MaxNLocator that leaves room for labels ``label_chars`` wide (x) or one line high (y).

    matplotlib's default spaces x ticks for labels about three characters wide,
    so "0.0025" style labels run together on a narrow axes.
    """
    from matplotlib.ticker import MaxNLocator

    class _Spaced(MaxNLocator):
        def __call__(self):
            axis = self.axis
            if axis is not None and axis.axes is not None:
                bbox = axis.axes.get_window_extent()
                dpi = axis.axes.figure.dpi
                import matplotlib
                from matplotlib.font_manager import FontProperties

                font_pt = FontProperties(size=matplotlib.rcParams[f"{axis_name}tick.labelsize"]).get_size_in_points()
                length_pt = (bbox.width if axis_name == "x" else bbox.height) * 72.0 / dpi
                per_tick = font_pt * (0.65 * label_chars + 1.5) if axis_name == "x" else font_pt * 2.5
                self.set_params(nbins=int(np.clip(length_pt // per_tick, 2, 10)))
            return super().__call__()

    return _Spaced(nbins=6, steps=[1, 2, 2.5, 5, 10])


def format_time_axis(ax, *, axis: str = "x", label: str | None = "Time (s)"):
    """Label an axis in seconds with ticks that do not run together.

    Notebook: 01_digital_audio.ipynb

    Ticks are spaced for their labels' width (a 20 ms excerpt gets
    ``0.000 0.005 0.010 0.015 0.020``, not ``0.0000 0.0025 ...`` squeezed
    together), all with the same number of decimals and never with an
    offset (``+1.234``) that a learner would miss.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    axis : {"x", "y"}
    label : str or None
        Axis label; None leaves it as it is.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.ticker import FuncFormatter

    if axis not in ("x", "y"):
        raise ParameterError(f"axis={axis!r} must be 'x' or 'y'")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(_tick_locator(axis, label_chars=6))

    class _SecondsFormatter(FuncFormatter):
        def format_ticks(self, values):
            return _seconds_labels(values)

    target.set_major_formatter(_SecondsFormatter(lambda t, pos=None: _seconds_labels([t])[0]))
    if label is not None:
        (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label)
    return ax


def format_freq_axis(ax, *, axis: str = "y", log: bool = False, label: str | None = "Frequency (Hz)"):
    """Label an axis in Hz: ``0 250 500 1k 2k``; on a log axis, ticks an octave apart.

    Notebook: 02_spectral_analysis.ipynb

    With ``log=True`` the axis becomes a symmetric-log axis (logarithmic
    above 64 Hz, linear below, so 0 Hz stays visible) ticked at 62.5, 125,
    250, 500 Hz, 1k, 2k ... rather than at powers of two written as 2^n.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    axis : {"x", "y"}
    log : bool
    label : str or None
        Axis label; None leaves it as it is.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    if axis not in ("x", "y"):
        raise ParameterError(f"axis={axis!r} must be 'x' or 'y'")
    target = ax.xaxis if axis == "x" else ax.yaxis
    if log:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("symlog", linthresh=64.0, base=2, linscale=0.5)
        target.set_major_locator(FixedLocator(_LOG_FREQ_TICKS))
        target.set_minor_locator(NullLocator())
    else:
        target.set_major_locator(_tick_locator(axis, label_chars=4))
    target.set_major_formatter(FuncFormatter(lambda f, pos=None: hz_label(f)))
    if label is not None:
        (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label)
    return ax


def legend(ax, *, where: str = "right", **legend_kwargs):
    """Put the legend outside the axes, where it covers neither curves nor tick labels.

    Notebook: 01_digital_audio.ipynb

    A legend inside the axes sits on a curve or on the top tick label as soon
    as the data fill the box; outside it never does, and figures made with
    ``layout="constrained"`` (as the course's are) make room for it.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    where : {"right", "below"}
        Beside the axes (top right), or under the x axis label in one row
        (for axes side by side, where a legend beside each would squeeze them).
    **legend_kwargs
        Passed to ``ax.legend`` (``title``, ``ncols``, ``fontsize``, ...).

    Returns
    -------
    matplotlib.legend.Legend
    """
    from matplotlib.transforms import ScaledTranslation

    legend_kwargs.setdefault("fontsize", "small" if where == "right" else "x-small")
    legend_kwargs.setdefault("frameon", False)
    if where == "right":
        legend_kwargs.setdefault("loc", "upper left")
        legend_kwargs.setdefault("bbox_to_anchor", (1.01, 1.0))
        legend_kwargs.setdefault("borderaxespad", 0.0)
    elif where == "below":
        handles, _ = ax.get_legend_handles_labels()
        legend_kwargs.setdefault("loc", "upper center")
        legend_kwargs.setdefault("ncols", max(1, len(handles)))
        legend_kwargs.setdefault("borderaxespad", 0.0)
        # half an inch under the axes: below the tick labels and the x label
        legend_kwargs.setdefault("bbox_to_anchor", (0.5, 0.0))
        legend_kwargs.setdefault("bbox_transform",
                                 ax.transAxes + ScaledTranslation(0.0, -0.5, ax.figure.dpi_scale_trans))
    else:
        raise ParameterError(f"where={where!r} must be 'right' or 'below'")
    return ax.legend(**legend_kwargs)


# --------------------------------------------------------------------------- waveforms

def waveform(y, *, sr: int, ax=None, title: str | None = None, label: str | None = None,
             offset: float = 0.0, **plot_kwargs):
    """Plot a signal against time in seconds.

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], float
        Mono, or channels first (each channel is drawn as its own line and
        labelled ``channel 0``, ``channel 1``, ... in a legend).
    sr : int
        Sample rate in Hz.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when None. Calling ``waveform`` twice
        on the same ``ax`` overlays two signals (give each a ``label``).
    title : str or None
    label : str or None
        Legend entry (mono signals).
    offset : float
        Time in seconds of the first sample (to plot an excerpt at its place).
    **plot_kwargs
        Passed to ``ax.plot`` (``color``, ``alpha``, ``linewidth``...).

    Returns
    -------
    matplotlib.axes.Axes
        x axis "Time (s)", y axis "Amplitude".
    """
    valid_audio(y)
    sr = check_sr(sr)
    ax = _new_ax(ax)
    t = offset + np.arange(y.shape[-1]) / sr
    plot_kwargs.setdefault("linewidth", 0.8)
    if y.ndim == 1:
        ax.plot(t, y, label=label, **plot_kwargs)
    else:
        for c, channel in enumerate(y):
            name = f"channel {c}" if label is None else f"{label} (channel {c})"
            ax.plot(t, channel, label=name, **plot_kwargs)
    if y.ndim == 2 or label is not None:
        legend(ax)
    ax.set_xlim(t[0], t[-1] if t.size > 1 else t[0] + 1.0 / sr)
    format_time_axis(ax)
    ax.set_ylabel("Amplitude")
    if title is not None:
        ax.set_title(title)
    return ax


def compare_waveforms(signals, *, sr: int, title: str | None = None, sharey: bool = True):
    """Plot several signals one above the other on a shared time axis.

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    signals : dict[str, np.ndarray [shape=(n,)]]
        Label -> mono signal at rate ``sr`` (lengths may differ).
    sr : int
    title : str or None
        Figure title.
    sharey : bool
        Same amplitude scale on every row.

    Returns
    -------
    np.ndarray [shape=(len(signals),)] of matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if not isinstance(signals, dict) or not signals:
        raise ParameterError(
            f"signals must be a non-empty dict of label -> signal, got {type(signals).__name__}"
        )
    for label, y in signals.items():
        valid_audio(y, mono=True, name=f"signals[{label!r}]")
    fig, axes = plt.subplots(len(signals), 1, figsize=(8, 1.8 * len(signals) + 0.6),
                             sharex=True, sharey=sharey, layout="constrained", squeeze=False)
    axes = axes[:, 0]
    for ax, (label, y) in zip(axes, signals.items()):
        waveform(y, sr=sr, ax=ax)
        ax.set_title(label, fontsize="medium", loc="left")
        ax.set_xlabel("")
    axes[-1].set_xlabel("Time (s)")
    axes[-1].set_xlim(0, max(y.shape[-1] for y in signals.values()) / sr)
    if title is not None:
        fig.suptitle(title)
    return axes


# --------------------------------------------------------------------------- spectra

def spectrogram(S_db, *, sr: int, hop_length: int, ax=None, y_axis: str = "linear",
                fmin: float = 0.0, fmax: float | None = None, title: str | None = None,
                colorbar: bool = True, cmap: str = "magma", vmin: float | None = None,
                vmax: float | None = None):
    """Show a spectrogram in dB with time in seconds and frequency in Hz.

    Notebook: 02_spectral_analysis.ipynb

    Parameters
    ----------
    S_db : np.ndarray [shape=(n_freq, n_frames)], real
        Values in dB, e.g. ``spectral.power_to_db(np.abs(D)**2)``. For
        ``y_axis="linear"`` or ``"log"`` the rows are STFT bins ``0..sr/2``
        (``n_freq = 1 + n_fft // 2``); for ``"mel"`` they are mel bands
        from ``fmin`` to ``fmax``.
    sr : int
        Sample rate of the analysed signal, in Hz.
    hop_length : int > 0
        Samples between frames; frame ``t`` is centred at ``t * hop_length / sr`` s
        (the ``center=True`` convention of :func:`course_lib.spectral.stft`).
    ax : matplotlib.axes.Axes or None
    y_axis : {"linear", "log", "mel"}
        Frequency axis: linear in Hz, logarithmic in Hz (symlog, so 0 Hz
        still shows), or the mel bands at their centre frequencies.
    fmin : float
        Lowest mel band's frequency (``y_axis="mel"`` only).
    fmax : float or None
        Upper frequency limit shown (and for ``"mel"`` the highest band's
        frequency); default ``sr / 2``.
    title : str or None
    colorbar : bool
        Add a colour bar labelled in dB.
    cmap, vmin, vmax
        Passed to ``pcolormesh``.

    Returns
    -------
    matplotlib.axes.Axes
        x axis "Time (s)", y axis "Frequency (Hz)"; the mesh is ``ax.collections[0]``.
    """
    S_db = np.asarray(S_db)
    if S_db.ndim != 2 or 0 in S_db.shape:
        raise ParameterError(
            f"S_db must be 2-D (n_freq, n_frames), got shape={S_db.shape}; "
            "for a batch or stereo spectrogram plot one channel, e.g. S_db[0]"
        )
    if np.iscomplexobj(S_db):
        raise ParameterError(
            "S_db is complex: pass dB values, e.g. spectral.amplitude_to_db(np.abs(D))"
        )
    sr = check_sr(sr)
    hop_length = check_positive_int(hop_length, "hop_length")
    if y_axis not in _Y_AXES:
        raise ParameterError(f"y_axis={y_axis!r} must be one of {_Y_AXES}")
    nyquist = sr / 2
    if fmax is None:
        fmax = nyquist
    if not (0 < fmax <= nyquist):
        raise ParameterError(f"fmax={fmax!r} must be in (0, sr/2 = {nyquist:g}] Hz")

    n_freq, n_frames = S_db.shape
    times = np.arange(n_frames) * hop_length / sr
    t_edges = _edges(times) if n_frames > 1 else np.array([0.0, hop_length / sr])
    ax = _new_ax(ax)
    if y_axis == "mel":
        from .features import hz_to_mel, mel_frequencies  # Slaney scale, as mel_filterbank's default

        freqs = mel_frequencies(n_freq, fmin=fmin, fmax=fmax)
        # rows are evenly spaced in mel: draw in mel units, label the ticks in Hz
        y_centres = hz_to_mel(freqs)
        y_edges = _edges(y_centres) if n_freq > 1 else np.array([y_centres[0] - 0.5, y_centres[0] + 0.5])
    else:
        freqs = np.linspace(0.0, nyquist, n_freq)  # bin k of an n_fft = 2(n_freq-1) STFT
        y_edges = np.clip(_edges(freqs), 0.0, nyquist) if n_freq > 1 else np.array([0.0, nyquist])
    mesh = ax.pcolormesh(t_edges, y_edges, S_db, shading="flat", cmap=cmap,
                         vmin=vmin, vmax=vmax, rasterized=True)
    ax.set_xlim(max(t_edges[0], 0.0), t_edges[-1])
    format_time_axis(ax)
    if y_axis == "mel":
        ax.set_ylim(y_edges[0], y_edges[-1])
        ticks_hz = [f for f in (0, 250, 500, 1000, 2000, 4000, 8000, 16000) if fmin <= f <= fmax]
        ax.set_yticks(hz_to_mel(np.asarray(ticks_hz, dtype=float)))
        ax.set_yticklabels([hz_label(f) for f in ticks_hz])
        ax.set_ylabel("Frequency (Hz, mel scale)")
    else:
        # "log": symlog, logarithmic above 64 Hz, linear below, so the 0 Hz row stays visible
        format_freq_axis(ax, axis="y", log=y_axis == "log")
        ax.set_ylim(0.0, fmax)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, format="%+.0f dB", label="dB")
    if title is not None:
        ax.set_title(title)
    return ax


class Spectrum(NamedTuple):
    """What :func:`magnitude_spectrum` returns."""

    freqs: np.ndarray     # (n_fft // 2 + 1,) Hz
    magnitude_db: np.ndarray  # (n_fft // 2 + 1,) dB re a full-scale sine


def magnitude_spectrum(y, *, sr: int, n_fft: int | None = None, window: str = "hann",
                       floor_db: float = -140.0) -> Spectrum:
    """Magnitude spectrum of a whole mono signal in dB relative to a full-scale sine.

    Notebook: 01_digital_audio.ipynb

    The spectrum is scaled so that a sine of amplitude ``A`` at a bin's
    frequency reads ``20·log10(A)`` dB: ``|X| · 2 / sum(window)``. So a
    full-scale sine (amplitude 1) peaks at 0 dB whatever ``n_fft`` or the
    window.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float
    sr : int
    n_fft : int or None
        FFT length, ``>= len(y)`` (zero-padded); default ``len(y)``.
    window : str
        Any window name ``scipy.signal.get_window`` knows ("hann", "boxcar"...).
    floor_db : float
        Lower limit of the returned values (silence is not -inf).

    Returns
    -------
    Spectrum
        ``freqs`` (Hz, ``0..sr/2``) and ``magnitude_db``, both of shape ``(n_fft // 2 + 1,)``.
    """
    from scipy.signal import get_window

    valid_audio(y, mono=True)
    sr = check_sr(sr)
    n = y.shape[0]
    if n_fft is None:
        n_fft = n
    if isinstance(n_fft, bool) or not isinstance(n_fft, (int, np.integer)) or n_fft < n:
        raise ParameterError(
            f"n_fft={n_fft!r} must be an integer >= len(y) = {n} (the signal is zero-padded, never cut)"
        )
    w = get_window(window, n, fftbins=True) if n > 1 else np.ones(1)
    X = np.fft.rfft(np.asarray(y, dtype=np.float64) * w, n=n_fft)
    mag = np.abs(X) * 2.0 / np.sum(w)
    db = 20.0 * np.log10(np.maximum(mag, 10.0 ** (floor_db / 20.0)))
    return Spectrum(freqs=np.fft.rfftfreq(n_fft, d=1.0 / sr), magnitude_db=db)


def spectrum(y, *, sr: int, ax=None, n_fft: int | None = None, window: str = "hann",
             title: str | None = None, label: str | None = None, floor_db: float = -140.0,
             log_freq: bool = False, **plot_kwargs):
    """Plot the magnitude spectrum of a mono signal, frequency in Hz, level in dB.

    Notebook: 01_digital_audio.ipynb

    See :func:`magnitude_spectrum` for the scaling (a full-scale sine peaks at 0 dB).
    Calling it twice on the same ``ax`` (with ``label``) compares two signals.

    Returns
    -------
    matplotlib.axes.Axes
        x axis "Frequency (Hz)", y axis "Magnitude (dB)".
    """
    spec = magnitude_spectrum(y, sr=sr, n_fft=n_fft, window=window, floor_db=floor_db)
    ax = _new_ax(ax)
    plot_kwargs.setdefault("linewidth", 0.8)
    ax.plot(spec.freqs, spec.magnitude_db, label=label, **plot_kwargs)
    format_freq_axis(ax, axis="x", log=log_freq)
    ax.set_xlim(0.0, spec.freqs[-1])
    ax.set_ylabel("Magnitude (dB)")
    if label is not None:
        legend(ax)
    if title is not None:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- audio

def _kernel_shell():
    """The IPython shell when running in a Jupyter kernel, else None."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the course
        return None
    shell = get_ipython()
    return shell if getattr(shell, "kernel", None) is not None else None


def _make_player_class():
    from IPython.display import Audio, publish_display_data

    class Player(Audio):
        """An :class:`IPython.display.Audio` that shows itself once per cell.

        :func:`play` displays it as soon as it is made (in a Jupyter kernel),
        so a player in the middle of a cell is not lost. When the same object
        is then the cell's value, or passed to ``IPython.display.display``
        in that cell, it is not shown a second time; in a later cell it is
        shown again.
        """

        _shown_in_cell = None  # execution count of the cell that last showed it

        def _ipython_display_(self):
            shell = _kernel_shell()
            cell = None if shell is None else shell.execution_count
            if cell is not None and self._shown_in_cell == cell:
                return
            self._shown_in_cell = cell
            publish_display_data({"text/html": self._repr_html_(), "text/plain": repr(self)})

    return Player


_PLAYER_CLASS = None


def __getattr__(name):
    # ``display.Player`` without importing IPython when course_lib.display is imported
    if name == "Player":
        return _player_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _player_class():
    global _PLAYER_CLASS
    if _PLAYER_CLASS is None:
        _PLAYER_CLASS = _make_player_class()
    return _PLAYER_CLASS


def play(y, *, sr: int, normalize: bool = False, show: bool = True):
    """An audio player for a notebook: :class:`IPython.display.Audio` with checks first.

    Notebook: 01_digital_audio.ipynb

    In a Jupyter notebook the player appears where ``play`` is called, like
    a matplotlib figure, so ``display.play(y, sr=sr)`` works in the middle of
    a cell too; as the cell's last line it is shown once, not twice.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], float in [-1, 1]
    sr : int
        Sample rate in Hz. Browsers play 3 kHz and above; lower rates warn.
    normalize : bool
        Scale so the peak is full scale (IPython's behaviour). With the
        default False you hear the real level, and a signal outside
        [-1, 1] is an error rather than silently rescaled.
    show : bool
        Show the player now (in a notebook). False returns it unshown, for
        code that places it itself (``IPython.display.display(player)``).

    Returns
    -------
    Player
        An :class:`IPython.display.Audio`.

    Raises
    ------
    ParameterError
        Not a float array, NaN/Inf, empty, more than 2 dimensions, a bad
        ``sr``, or samples outside [-1, 1] with ``normalize=False``.
    """
    if isinstance(y, np.ndarray) and np.issubdtype(y.dtype, np.integer):
        raise ParameterError(
            f"y has integer dtype={y.dtype}; convert to float in [-1, 1] first "
            "(audio.int16_to_float for int16)"
        )
    valid_audio(y)
    sr = check_sr(sr)
    if y.ndim == 2 and y.shape[0] > 8:
        raise ParameterError(
            f"y has shape={y.shape}: {y.shape[0]} channels? Audio is (channels, n); "
            "transpose a (n, channels) array with y.T"
        )
    if sr < _MIN_PLAYABLE_SR:
        warnings.warn(
            f"sr={sr} Hz: browsers play audio from {_MIN_PLAYABLE_SR} Hz up; "
            "resample first (audio.resample(y, orig_sr=sr, target_sr=16000))",
            stacklevel=2,
        )
    if not normalize:
        p = float(np.max(np.abs(y)))
        if p > 1.0:
            raise ParameterError(
                f"y peaks at {p:.3g}, outside [-1, 1]: it would clip; scale it "
                "(y / np.abs(y).max()) or pass normalize=True"
            )
    player = _player_class()(np.asarray(y, dtype=np.float64), rate=sr, normalize=normalize)
    if show and _kernel_shell() is not None:
        player._ipython_display_()
    return player


# --------------------------------------------------------------------------- training curves

def _history_columns(history) -> dict:
    """A training history as ``{column: list}``: from ``train.History``, a list of per-epoch dicts,
    or a dict of lists."""
    rows = getattr(history, "epochs", history)
    if isinstance(rows, dict):
        return {k: list(v) for k, v in rows.items()}
    if isinstance(rows, (list, tuple)) and all(isinstance(r, dict) for r in rows):
        keys = list(dict.fromkeys(k for r in rows for k in r))
        return {k: [r.get(k) for r in rows] for k in keys}
    raise ParameterError(
        f"history must be a train.History, a list of per-epoch dicts or a dict of lists, "
        f"got {type(history).__name__}"
    )


def plot_history(history, *, metrics=None, axes=None, title: str | None = None):
    """Loss and metric curves of a training run, one panel each, against the epoch (from 1).

    Notebook: 00_welcome.ipynb

    Parameters
    ----------
    history : course_lib.train.History, list of dict or dict of list
        What :func:`course_lib.train.fit` returns, or columns such as
        ``train_loss``, ``valid_loss``, ``train_accuracy``, ``valid_accuracy``.
    metrics : list of str, optional
        Metric names to plot besides the loss (default: every ``train_<name>``
        / ``valid_<name>`` column).
    axes : sequence of matplotlib Axes, optional
        One per panel (loss first); default: a new figure.
    title : str, optional

    Returns
    -------
    list of matplotlib.axes.Axes
        The loss panel first, then one panel per metric. The best epoch
        (``history.best_epoch``) is marked with a dotted line.
    """
    cols = _history_columns(history)
    skip = {"lr", "grad_norm", "time"}
    names = []
    for key in cols:
        for prefix in ("train_", "valid_"):
            if key.startswith(prefix) and key[len(prefix):] not in skip:
                names.append(key[len(prefix):])
    names = list(dict.fromkeys(names))
    if metrics is None:
        metrics = [n for n in names if n != "loss"]
    else:
        unknown = [m for m in metrics if m not in names]
        if unknown:
            raise ParameterError(f"metrics {unknown} are not in the history; it has {names}")
    panels = (["loss"] if "loss" in names else []) + list(metrics)
    if not panels:
        raise ParameterError(f"the history has no loss or metric columns (train_* / valid_*): {list(cols)}")
    n = len(next(iter(cols.values())))
    epochs = np.asarray(cols["epoch"]) + 1 if "epoch" in cols else np.arange(1, n + 1)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3), layout="constrained",
                               squeeze=False)
        axes = list(axes[0])
    elif len(axes) != len(panels):
        raise ParameterError(f"got {len(axes)} axes for {len(panels)} panels ({panels})")
    best = getattr(history, "best_epoch", None)
    for ax, name in zip(axes, panels):
        for split, style in (("train", "-"), ("valid", "--")):
            key = f"{split}_{name}"
            if key in cols and any(v is not None for v in cols[key]):
                values = np.array([np.nan if v is None else v for v in cols[key]], dtype=float)
                ax.plot(epochs, values, style, marker="o", markersize=3, label=f"{split} {name}")
        if best is not None:
            ax.axvline(best + 1, color="0.6", linestyle=":", linewidth=1)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        legend(ax)
    if title:
        axes[0].figure.suptitle(title)
    return list(axes)


__all__.append("plot_history")
