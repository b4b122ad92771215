"""Tests for course_lib.display: labelled axes, correct coordinates, clear errors."""

from __future__ import annotations

import io
import subprocess
import sys
import wave

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import display  # noqa: E402
from course_lib.errors import ParameterError  # noqa: E402

SR = 16000


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _sine(f=1000.0, *, sr=SR, seconds=0.25, amplitude=1.0, dtype=np.float32):
    t = np.arange(int(sr * seconds)) / sr
    return (amplitude * np.sin(2 * np.pi * f * t)).astype(dtype)


def _wav_header(audio) -> tuple[int, int]:
    """(sample rate, channels) of the WAV bytes inside an IPython Audio object."""
    with wave.open(io.BytesIO(audio.data)) as w:
        return w.getframerate(), w.getnchannels()


# --------------------------------------------------------------------------- import cost

def test_import_course_lib_display_does_not_import_matplotlib():
    code = ("import sys, course_lib, course_lib.display, course_lib.widgets; "
            "print(sorted(m for m in ('matplotlib', 'torch', 'librosa', 'ipywidgets') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


# --------------------------------------------------------------------------- waveform

@pytest.mark.parametrize("sr", [8000, 16000, 44100])
def test_waveform_time_axis_in_seconds(sr):
    y = _sine(sr=sr, seconds=0.1)
    ax = display.waveform(y, sr=sr, title="a sine")
    assert "Time" in ax.get_xlabel() and "(s)" in ax.get_xlabel()
    assert ax.get_ylabel() == "Amplitude"
    assert ax.get_title() == "a sine"
    x, data = ax.lines[0].get_data()
    np.testing.assert_allclose(x, np.arange(y.size) / sr)
    np.testing.assert_array_equal(data, y)
    assert ax.get_xlim()[1] == pytest.approx((y.size - 1) / sr)


def test_waveform_stereo_draws_each_channel_with_a_legend():
    y = np.stack([_sine(), 0.5 * _sine(500.0)])
    ax = display.waveform(y, sr=SR)
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), y[1])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["channel 0", "channel 1"]


def test_waveform_draws_on_given_axes_and_offset():
    fig, ax = plt.subplots()
    out = display.waveform(_sine(), sr=SR, ax=ax, offset=2.0, label="x")
    assert out is ax and len(fig.axes) == 1
    assert ax.lines[0].get_xdata()[0] == pytest.approx(2.0)


@pytest.mark.parametrize(
    "y, kwargs, match",
    [
        (np.array([0.0, np.nan]), {"sr": SR}, "NaN"),
        (np.zeros(4, dtype=np.int16), {"sr": SR}, "floating point"),
        (np.zeros((2, 2, 2)), {"sr": SR}, "ndim=3"),
        (np.zeros(0), {"sr": SR}, "empty"),
        ([0.0, 0.1], {"sr": SR}, "numpy array"),
        (np.zeros(4), {"sr": 0}, "sr=0"),
    ],
)
def test_waveform_bad_input(y, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        display.waveform(y, **kwargs)


def test_compare_waveforms_one_row_per_signal():
    axes = display.compare_waveforms({"a": _sine(), "b": _sine(300.0)[:1000]}, sr=SR, title="t")
    assert len(axes) == 2
    assert [ax.get_title(loc="left") for ax in axes] == ["a", "b"]
    assert axes[-1].get_xlabel() == "Time (s)"
    with pytest.raises(ParameterError, match="dict"):
        display.compare_waveforms([_sine()], sr=SR)


# --------------------------------------------------------------------------- spectrogram

def _db_spec(n_freq=257, n_frames=40, seed=0):
    return np.random.default_rng(seed).normal(-40, 10, size=(n_freq, n_frames))


@pytest.mark.parametrize("y_axis", ["linear", "log", "mel"])
def test_spectrogram_axes_labelled_in_seconds_and_hz(y_axis):
    S = _db_spec(n_freq=64 if y_axis == "mel" else 257)
    ax = display.spectrogram(S, sr=SR, hop_length=128, y_axis=y_axis, title="spec")
    assert ax.get_xlabel() == "Time (s)"
    assert "Hz" in ax.get_ylabel()
    assert ax.get_title() == "spec"
    mesh = ax.collections[0]
    assert mesh.get_array().size == S.size
    np.testing.assert_allclose(np.sort(mesh.get_array().ravel()), np.sort(S.ravel()))
    # 40 frames, hop 128 at 16 kHz: centres 0 .. 39*8 ms, the last cell ends half a hop later
    assert ax.get_xlim()[1] == pytest.approx(39.5 * 128 / SR)


def test_spectrogram_linear_axis_ends_at_nyquist_or_fmax():
    ax = display.spectrogram(_db_spec(), sr=SR, hop_length=128)
    assert ax.get_ylim() == pytest.approx((0.0, SR / 2))
    ax = display.spectrogram(_db_spec(), sr=SR, hop_length=128, fmax=4000)
    assert ax.get_ylim() == pytest.approx((0.0, 4000.0))


def test_spectrogram_row_k_is_at_k_sr_over_n_fft():
    """A single bright row k must be drawn around frequency k * sr / n_fft."""
    S = np.full((257, 5), -80.0)
    S[64] = 0.0  # n_fft = 512 -> bin 64 is 64 * 16000 / 512 = 2000 Hz
    ax = display.spectrogram(S, sr=SR, hop_length=256, colorbar=False)
    mesh = ax.collections[0]
    coords = mesh.get_coordinates()  # (n_freq + 1, n_frames + 1, 2) cell corners
    row_lo, row_hi = coords[64, 0, 1], coords[65, 0, 1]
    assert row_lo < 2000.0 < row_hi
    assert row_hi - row_lo == pytest.approx(SR / 512)


def test_spectrogram_mel_ticks_are_hz():
    ax = display.spectrogram(_db_spec(n_freq=40), sr=SR, hop_length=160, y_axis="mel",
                             colorbar=False)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "1k" in labels and "4k" in labels and "500" in labels


def test_spectrogram_colorbar_in_db():
    ax = display.spectrogram(_db_spec(), sr=SR, hop_length=128)
    assert len(ax.figure.axes) == 2
    assert "dB" in ax.figure.axes[1].get_ylabel()
    ax = display.spectrogram(_db_spec(), sr=SR, hop_length=128, colorbar=False)
    assert len(ax.figure.axes) == 1


@pytest.mark.parametrize(
    "S, kwargs, match",
    [
        (np.zeros(10), {}, "2-D"),
        (np.zeros((2, 5, 5)), {}, "2-D"),
        (np.zeros((5, 5), dtype=complex), {}, "complex"),
        (np.zeros((5, 5)), {"hop_length": 0}, "hop_length=0"),
        (np.zeros((5, 5)), {"hop_length": 1.5}, "hop_length=1.5"),
        (np.zeros((5, 5)), {"y_axis": "bark"}, "y_axis='bark'"),
        (np.zeros((5, 5)), {"fmax": 9000}, "fmax=9000"),
        (np.zeros((5, 5)), {"sr": -1}, "sr=-1"),
    ],
)
def test_spectrogram_bad_input(S, kwargs, match):
    kw = {"sr": SR, "hop_length": 128, **kwargs}
    with pytest.raises(ParameterError, match=match):
        display.spectrogram(S, **kw)


# --------------------------------------------------------------------------- spectrum

@pytest.mark.parametrize("amplitude, window", [(1.0, "hann"), (0.5, "hann"), (0.1, "boxcar"), (1.0, "hamming")])
def test_magnitude_spectrum_sine_reads_its_amplitude_in_db(amplitude, window):
    # 1000 Hz in a 0.25 s signal at 16 kHz lands exactly on bin 250
    y = _sine(1000.0, amplitude=amplitude, dtype=np.float64)
    spec = display.magnitude_spectrum(y, sr=SR, window=window)
    assert spec.freqs.shape == spec.magnitude_db.shape == (y.size // 2 + 1,)
    k = int(np.argmax(spec.magnitude_db))
    assert spec.freqs[k] == pytest.approx(1000.0)
    assert spec.magnitude_db[k] == pytest.approx(20 * np.log10(amplitude), abs=1e-6)


def test_magnitude_spectrum_zero_pads_and_floors_silence():
    spec = display.magnitude_spectrum(np.zeros(100), sr=SR, n_fft=256, floor_db=-100.0)
    assert spec.freqs.shape == (129,) and spec.freqs[-1] == pytest.approx(SR / 2)
    assert np.all(spec.magnitude_db == -100.0)
    with pytest.raises(ParameterError, match="n_fft=50"):
        display.magnitude_spectrum(np.zeros(100), sr=SR, n_fft=50)
    with pytest.raises(ParameterError, match="mono"):
        display.magnitude_spectrum(np.zeros((2, 100)), sr=SR)


def test_spectrum_plot_labels():
    ax = display.spectrum(_sine(), sr=SR, label="sine", title="t")
    assert ax.get_xlabel() == "Frequency (Hz)"
    assert "dB" in ax.get_ylabel()
    assert ax.get_xlim() == pytest.approx((0.0, SR / 2))


# --------------------------------------------------------------------------- play

@pytest.mark.parametrize("sr", [8000, 16000, 44100])
def test_play_returns_audio_at_the_right_rate(sr):
    from IPython.display import Audio

    player = display.play(_sine(sr=sr, amplitude=0.5), sr=sr)
    assert isinstance(player, Audio)
    assert _wav_header(player) == (sr, 1)


def test_play_stereo_and_level_kept():
    y = np.stack([_sine(amplitude=0.25), _sine(amplitude=0.25)])
    player = display.play(y, sr=SR)
    assert _wav_header(player) == (SR, 2)
    with wave.open(io.BytesIO(player.data)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    # normalize=False keeps the level: peak 0.25 of full scale, not 1.0
    assert np.abs(pcm).max() == pytest.approx(0.25 * 32767, rel=1e-3)


@pytest.mark.parametrize(
    "y, kwargs, match",
    [
        (np.array([0.0, 1.5]), {}, "normalize=True"),
        (np.array([0.0, np.inf]), {}, "NaN or Inf"),
        (np.zeros(10, dtype=np.int16), {}, "int16_to_float"),
        (np.zeros((100, 2)), {}, "transpose"),
        (np.zeros(10), {"sr": 16000.5}, "sr=16000.5"),
    ],
)
def test_play_bad_input(y, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        display.play(y, **{"sr": SR, **kwargs})


def test_play_normalize_accepts_loud_signal_and_low_rate_warns():
    display.play(np.array([0.0, 1.5, -2.0]), sr=SR, normalize=True)
    with pytest.warns(UserWarning, match="resample"):
        display.play(np.zeros(100), sr=1000)


# --------------------------------------------------------------------------- tick labels and legends

def _drawn_labels(ax, axis="x"):
    """Tick labels as drawn (text, window extent), visible ticks only."""
    ax.figure.canvas.draw()
    target = ax.xaxis if axis == "x" else ax.yaxis
    lo, hi = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    ticks = [t for t in target.get_major_ticks() if lo - 1e-12 <= t.get_loc() <= hi + 1e-12]
    return [(t.label1.get_text(), t.label1.get_window_extent()) for t in ticks if t.label1.get_visible()]


@pytest.mark.parametrize("seconds, width", [(0.02, 4.5), (0.02, 8.0), (0.0123, 3.0), (1.5, 4.0), (30.0, 8.0)])
def test_time_axis_labels_never_run_together(seconds, width):
    """Notebook 01's "100 Hz sampled at 1000 Hz" figure read "0.00000.00250.0050..." on a half-width axes."""
    fig, ax = plt.subplots(figsize=(width, 2.5), layout="constrained")
    display.waveform(_sine(100.0, sr=SR, seconds=seconds), sr=SR, ax=ax, offset=1.0)
    labels = _drawn_labels(ax)
    assert len(labels) >= 3
    for (_, a), (_, b) in zip(labels, labels[1:]):
        assert a.x1 + 4 < b.x0, f"tick labels touch: {[t for t, _ in labels]}"
    texts = [t for t, _ in labels]
    # one format for every tick, no offset text a learner would miss
    assert len({len(t.split(".")[-1]) if "." in t else 0 for t in texts}) == 1, texts
    assert ax.xaxis.get_offset_text().get_text() == ""
    assert [float(t) for t in texts] == pytest.approx([tk.get_loc() for tk in ax.xaxis.get_major_ticks()
                                                       if tk.label1.get_text() in texts], abs=1e-9)


def test_seconds_labels_use_the_decimals_the_ticks_need():
    assert display._seconds_labels([0, 0.005, 0.01]) == ["0.000", "0.005", "0.010"]
    assert display._seconds_labels([0, 0.5, 1.0]) == ["0.0", "0.5", "1.0"]
    assert display._seconds_labels([0, 10, 20]) == ["0", "10", "20"]


@pytest.mark.parametrize("f, text", [(0, "0"), (62.5, "62.5"), (500, "500"), (1000, "1k"), (1500, "1.5k"),
                                     (22050, "22.05k")])
def test_hz_label(f, text):
    assert display.hz_label(f) == text


def test_log_frequency_axes_are_ticked_in_hz_an_octave_apart():
    """Notebook 02's log-frequency spectrograms said "Hz" but were ticked 2^6 ... 2^13."""
    ax = display.spectrogram(_db_spec(), sr=SR, hop_length=128, y_axis="log", colorbar=False)
    texts = [t for t, _ in _drawn_labels(ax, "y")]
    assert texts == ["0", "62.5", "125", "250", "500", "1k", "2k", "4k", "8k"]
    assert not any("^" in t or "$" in t for t in texts)
    ax = display.spectrum(_sine(), sr=SR, log_freq=True)
    assert [t for t, _ in _drawn_labels(ax, "x")][-2:] == ["4k", "8k"]


def test_linear_frequency_axes_in_hz_and_k():
    ax = display.spectrogram(_db_spec(), sr=SR, hop_length=128, colorbar=False)
    texts = [t for t, _ in _drawn_labels(ax, "y")]
    assert texts[0] == "0" and texts[-1].endswith("k") and all("e" not in t for t in texts), texts


@pytest.mark.parametrize("plot", ["waveform_stereo", "spectrum_label", "right", "below", "below_side_by_side"])
def test_legends_cover_neither_data_nor_tick_labels(plot):
    fig, axes = plt.subplots(1, 2 if plot == "below_side_by_side" else 1, figsize=(10 if "side" in plot else 5, 2.8),
                             layout="constrained", squeeze=False)
    ax = axes[0, 0]
    if plot == "waveform_stereo":
        display.waveform(np.stack([_sine(), 0.5 * _sine(500.0)]), sr=SR, ax=ax)
    elif plot == "spectrum_label":
        display.spectrum(_sine(), sr=SR, ax=ax, label="a sine")
    else:
        for a in axes[0]:
            display.waveform(_sine(100.0, seconds=0.02), sr=SR, ax=a, label="signal, 100 Hz")
            a.plot([0, 0.02], [1, -1], "--", label="what the samples say, 100 Hz")
            a.plot([0.01], [0], "o", label="samples at 1000 Hz")
            display.legend(a, where="right" if plot == "right" else "below")
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    axes_box = ax.get_window_extent()
    if plot.startswith("below"):
        assert box.y1 <= axes_box.y0, "the legend overlaps the plotting area"
        assert len({round(t.get_window_extent().y0) for t in ax.get_legend().get_texts()}) == 1, "one row"
        assert box.y1 < ax.xaxis.label.get_window_extent().y0, "the legend covers the x label"
    else:
        assert box.x0 >= axes_box.x1, "the legend overlaps the plotting area"
    for _, label_box in _drawn_labels(ax, "y") + _drawn_labels(ax, "x"):
        assert not box.overlaps(label_box)
    # and it is inside the figure (constrained layout made room for it)
    assert fig.bbox.x0 - 1 <= box.x0 and box.x1 <= fig.bbox.x1 + 1
    assert fig.bbox.y0 - 1 <= box.y0


def test_legend_bad_where():
    _, ax = plt.subplots()
    ax.plot([0, 1], label="a")
    with pytest.raises(ParameterError, match="where='left' must be 'right' or 'below'"):
        display.legend(ax, where="left")


@pytest.mark.parametrize("func, kwargs", [(display.format_time_axis, {"axis": "z"}),
                                          (display.format_freq_axis, {"axis": "t"})])
def test_axis_formatters_bad_axis(func, kwargs):
    _, ax = plt.subplots()
    with pytest.raises(ParameterError, match="must be 'x' or 'y'"):
        func(ax, **kwargs)


# --------------------------------------------------------------------------- play in a notebook

_PLAY_CELLS = [
    # 0: mid-cell play (it used to be dropped: only a cell's last value is shown)
    "display.play(y, sr=sr)\nprint('after')",
    # 1: play as the cell's value: one player, not two
    "display.play(y, sr=sr)",
    # 2: several in a loop, through IPython's display(): one each, in order
    "for k in range(3):\n    print(k)\n    show(display.play(y, sr=sr))",
    # 3: an object made earlier, shown again in a later cell
    "p = display.play(y, sr=sr, show=False)\nprint('made')",
    "p",
    # 5: a play whose result is kept in a variable still shows
    "q = display.play(y, sr=sr)",
]


@pytest.fixture(scope="module")
def played_notebook():
    """Run a small notebook in a real kernel and return its executed cells."""
    import nbformat
    from nbclient import NotebookClient

    setup = ("import numpy as np\nfrom course_lib import display\nfrom IPython.display import display as show\n"
             "sr = 8000\ny = (0.1 * np.sin(2 * np.pi * 440 * np.arange(800) / sr)).astype(np.float32)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup)]
                                  + [nbformat.v4.new_code_cell(c) for c in _PLAY_CELLS])
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    return nb.cells[1:]


def _kinds(cell):
    """Each output of a cell: 'audio' for a player, else the printed text."""
    out = []
    for o in cell.outputs:
        html = o.get("data", {}).get("text/html", "")
        if "<audio" in html:
            out.append("audio")
        elif o.output_type == "stream":
            out.extend(line for line in o.text.splitlines())
        else:
            out.append(o.output_type)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("i, expected", [
    (0, ["audio", "after"]),
    (1, ["audio"]),
    (2, ["0", "audio", "1", "audio", "2", "audio"]),
    (3, ["made"]),
    (4, ["audio"]),
    (5, ["audio"]),
])
def test_play_shows_itself_once_where_it_is_called(played_notebook, i, expected):
    assert _kinds(played_notebook[i]) == expected


def test_play_outside_a_notebook_just_returns_the_player():
    from IPython.display import Audio

    player = display.play(_sine(amplitude=0.5), sr=SR)
    assert isinstance(player, Audio) and isinstance(player, display.Player)
    assert player._shown_in_cell is None
    assert "<audio" in player._repr_html_()
