"""Tests for the microphone recorder's Python side (course_lib.widgets.record / say_it).

The browser half is tested in tests/browser/test_recorder_in_chromium.py; here the
payload the JavaScript sends is built by hand (float32 little-endian, channel after
channel) so every decoding and checking rule is exercised without a browser.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import widgets  # noqa: E402
from course_lib.errors import ParameterError  # noqa: E402


def payload(y, sr, *, source="microphone", name=""):
    """What recorder.js sends: content + one buffer of float32 samples (channels, n) row after row."""
    y = np.atleast_2d(np.asarray(y, dtype=np.float32))
    content = {"type": "audio", "sr": sr, "n": y.shape[1], "channels": y.shape[0], "source": source, "name": name}
    return content, [memoryview(y.astype("<f4").tobytes())]


def tone(seconds=1.0, sr=48000, amp=0.3, f=440.0):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)


@pytest.fixture
def rec():
    return widgets.record(2.0, static=False, show=False)


# --------------------------------------------------------------------------- decoding

@pytest.mark.parametrize("sr", [8000, 16000, 44100, 48000])
def test_decode_payload_round_trip_and_sample_rate(sr):
    y = tone(0.5, sr)
    got, got_sr = widgets.decode_payload(*payload(y, sr))
    assert got_sr == sr and got.dtype == np.float32 and got.shape == y.shape
    np.testing.assert_array_equal(got, y)   # float32 in, float32 out: bit-exact


def test_decode_payload_averages_channels_to_mono():
    left, right = tone(0.2, 16000, f=300), tone(0.2, 16000, f=700, amp=0.1)
    got, _ = widgets.decode_payload(*payload(np.stack([left, right]), 16000))
    # mean in float64, then float32: within one float32 rounding of the exact mean
    np.testing.assert_allclose(got, (left.astype(np.float64) + right) / 2, rtol=0, atol=1e-7)


@pytest.mark.parametrize("content, buffers, match", [
    ({"type": "text"}, [b""], "not an audio payload"),
    ({"type": "audio", "n": 4}, [b"\0" * 16], "integer 'sr'"),
    ({"type": "audio", "sr": 100, "n": 1}, [b"\0" * 4], "sr=100 Hz"),
    ({"type": "audio", "sr": 16000, "n": 4}, [], "no binary buffer"),
    ({"type": "audio", "sr": 16000, "n": 4}, [b"\0" * 12], "carries 12 bytes"),
    ({"type": "audio", "sr": 16000, "n": 4, "channels": 2}, [b"\0" * 16], "2 x 4 float32"),
])
def test_decode_payload_bad(content, buffers, match):
    with pytest.raises(ParameterError, match=match):
        widgets.decode_payload(content, buffers)


# --------------------------------------------------------------------------- the recorder

def test_audio_before_a_recording_says_what_to_do(rec):
    with pytest.raises(ParameterError, match="no recording yet: press the record button"):
        rec.audio()


def test_a_recording_arrives_as_float32_mono(rec):
    y = tone(1.5, 48000)
    rec.receive(*payload(y, 48000))
    got, sr = rec.audio()
    assert sr == 48000 and got.dtype == np.float32 and got.ndim == 1
    np.testing.assert_array_equal(got, y)
    assert rec.source == "microphone" and rec.widget.status_kind == "ok"
    assert rec.widget.status.startswith("Got 1.50 s at 48000 Hz (peak -10 dBFS)")
    got[:] = 0   # a copy: the learner's edits do not change the recording
    assert np.max(np.abs(rec.audio()[0])) > 0.29
    rec.clear()
    with pytest.raises(ParameterError, match="no recording yet"):
        rec.audio()


@pytest.mark.parametrize("y, match", [
    (np.zeros(0, np.float32), "empty"),
    (np.zeros(48000, np.float32), r"silent \(peak -inf dBFS"),
    (tone(1.0, amp=10 ** (-65 / 20)), r"silent \(peak -65 dBFS"),
    (np.clip(tone(1.0, amp=1.5), -1, 1), "clipped"),
    (tone(2.6), "too long: 2.60 s"),
])
def test_bad_recordings_give_a_clear_error(rec, y, match):
    rec.receive(*payload(y, 48000))
    assert rec.widget.status_kind == "error" and "but the recording is" in rec.widget.status
    with pytest.raises(ParameterError, match=match):
        rec.audio()
    got, _ = rec.audio(check=False)   # still there to look at
    assert got.shape == y.shape


def test_clipping_threshold_is_a_fraction_not_one_sample():
    y = tone(1.0, amp=0.5)
    y[[10, 500, 9000]] = 1.0     # 3 of 48000 samples at full scale: 0.006 % < 0.1 %, not clipped
    widgets.check_recording(y, sr=48000)
    y[1000:1045] = -1.0          # 48 in all: exactly 0.1 %, still allowed (more than 0.1 % is clipped)
    widgets.check_recording(y, sr=48000)
    y[2000] = 0.9995             # 49: clipped (0.999 counts as full scale)
    with pytest.raises(ParameterError, match=r"49 samples \(0.1 %\)"):
        widgets.check_recording(y, sr=48000)


def test_length_limit_allows_the_stop_latency():
    widgets.check_recording(tone(2.5), sr=48000, seconds=2.0)            # 0.5 s over: allowed
    with pytest.raises(ParameterError, match=r"record\(seconds=3\)"):
        widgets.check_recording(tone(2.51), sr=48000, seconds=2.0)
    widgets.check_recording(tone(30.0, sr=8000), sr=8000, seconds=None)  # no limit asked


def test_nan_and_browser_errors(rec):
    y = tone(0.5)
    y[3] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        widgets.check_recording(y, sr=48000)
    rec.receive({"type": "error", "name": "NotAllowedError", "message": "Permission denied"})
    with pytest.raises(ParameterError, match="NotAllowedError: Permission denied. Allow the microphone"):
        rec.audio()
    rec.receive({"type": "audio", "sr": 48000, "n": 10}, [])
    with pytest.raises(ParameterError, match="no recording: the audio payload carries no samples"):
        rec.audio()


def test_on_audio_called_only_for_good_recordings(rec):
    seen = []
    rec.on_audio(lambda y, sr: seen.append((len(y), sr)))
    rec.receive(*payload(np.zeros(100, np.float32), 16000))
    rec.receive(*payload(tone(1.0, 16000), 16000, source="upload", name="me.wav"))
    assert seen == [(16000, 16000)] and rec.source == "upload" and rec.name == "me.wav"
    with pytest.raises(ParameterError, match="callback"):
        rec.on_audio(3)


@pytest.mark.parametrize("seconds, match", [(0, "seconds=0"), (-1.0, "seconds=-1.0"), (61, "over a minute")])
def test_record_bad_seconds(seconds, match):
    with pytest.raises(ParameterError, match=match):
        widgets.record(seconds, static=True, show=False)


def test_static_recorder_says_where_to_record(monkeypatch):
    monkeypatch.setenv("COURSE_STATIC_WIDGETS", "1")
    rec = widgets.record(show=False)
    assert rec.static and rec.widget is None
    bundle = rec._repr_mimebundle_()
    assert "needs JupyterLab" in bundle["text/plain"] and "Privacy" in bundle["text/plain"]
    with pytest.raises(ParameterError, match="widgets are off here"):
        rec.audio()


def test_widget_ships_its_javascript_and_privacy_note(rec):
    js = rec.widget._esm
    assert "getUserMedia" in js and "model.send" in js and 'type: "audio"' in js
    assert "autoGainControl: false" in js       # the raw signal, as the corpus was made
    assert rec.widget.privacy == widgets.PRIVACY_NOTE and "stays in its memory" in widgets.PRIVACY_NOTE
    assert "course-recorder-meter" in rec.widget._css
    # nothing of a recording is in the widget's synced state (saved with the notebook)
    rec.receive(*payload(tone(1.0), 48000))
    state = rec.widget.get_state()
    assert all(not isinstance(v, (bytes, memoryview)) for v in state.values())
    assert set(state) >= {"seconds", "status", "privacy"} and len(str(state)) < 20000


# --------------------------------------------------------------------------- say it

@pytest.mark.parametrize("out, label, scores", [
    ("seven", "seven", None),
    (np.str_("two"), "two", None),
    ({"yes": -3.0, "no": -1.5}, "no", {"no": -1.5, "yes": -3.0}),
    (("yes", {"yes": np.float32(0.9), "no": 0.1}), "yes", {"yes": pytest.approx(0.9), "no": 0.1}),
])
def test_answer_of(out, label, scores):
    assert widgets.answer_of(out) == (label, scores)


@pytest.mark.parametrize("out", [3, None, {}, ("x", {"a": "b"})])
def test_answer_of_bad(out):
    with pytest.raises(ParameterError, match="recogniser"):
        widgets.answer_of(out)


def _fake_recognizer(calls):
    def recognize(y, sr):
        calls.append((len(y), sr))
        return {"loud": float(np.max(np.abs(y))), "quiet": 0.05}
    return recognize


def test_say_it_static_analyses_the_example(capsys):
    calls = []
    ex = (tone(0.8, 16000, amp=0.2), 16000)
    s = widgets.say_it(_fake_recognizer(calls), example=ex, static=True)
    assert calls == [(12800, 16000)]
    assert s.result.label == "loud" and s.result.source == "example"
    assert s.result.scores["loud"] == pytest.approx(0.2, rel=1e-3)
    out = capsys.readouterr().out
    assert "needs JupyterLab" in out and "The recogniser says: 'loud'" in out
    assert widgets.say_it(_fake_recognizer([]), static=True, show=False).result is None


def test_say_it_reacts_to_a_recording_and_keeps_errors():
    calls = []
    s = widgets.say_it(_fake_recognizer(calls), example=(tone(0.5, 16000), 16000), static=False, show=False)
    assert s.result is None
    s.recorder.receive(*payload(tone(1.0, 48000, amp=0.4), 48000))
    assert calls == [(48000, 48000)] and s.result.label == "loud" and s.result.source == "microphone"
    # the player, the answer and the figure go straight into the widget's Output (not via `with out:`)
    outputs = s.box.children[1].outputs
    assert [o["output_type"] for o in outputs] == ["display_data", "stream", "display_data"]
    assert "<audio" in outputs[0]["data"]["text/html"] and "The recogniser says: 'loud'" in outputs[1]["text"]
    import base64

    assert base64.b64decode(outputs[2]["data"]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    s2 = widgets.say_it(lambda y, sr: 42, static=False, show=False)
    s2.recorder.receive(*payload(tone(1.0), 48000))
    assert s2.result is None and "recogniser answered 42" in s2.error
    assert "failed on this recording" in s2.box.children[1].outputs[-1]["text"]


def test_say_it_figure_compares_recording_and_example():
    fig = widgets._analysis_figure(tone(1.0, 48000), 48000, ("corpus example 'seven'", tone(0.6, 16000), 16000),
                                   name="you", title="t")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["you: spectrogram", "corpus example 'seven': spectrogram", "you: MFCC 0-12",
                      "corpus example 'seven': MFCC 0-12"]
    # both columns at 16 kHz after resampling: a 1 s recording spans 1 s
    assert fig.axes[2].get_images()[0].get_extent()[1] == pytest.approx(1.0, abs=0.02)


def test_say_it_figure_is_not_a_pyplot_figure():
    """A recording's callback draws outside any cell: a pyplot figure would be shown by the inline backend
    under whichever cell finished next (the browser test caught one under load). The figure is a bare
    Figure, never registered with pyplot, and IPython still renders it (the static view shows it)."""
    import matplotlib.pyplot as plt
    from IPython.core.pylabtools import print_figure

    before = plt.get_fignums()
    fig = widgets._analysis_figure(tone(1.0, 16000), 16000, name="you", title="t")
    assert plt.get_fignums() == before
    assert print_figure(fig, "png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_say_it_bad_arguments():
    with pytest.raises(ParameterError, match="recognize=3"):
        widgets.say_it(3, static=True)
    with pytest.raises(ParameterError, match="example="):
        widgets.say_it(lambda y, sr: "x", example="seven.wav", static=True)


def test_classifier_recognizer_gives_probabilities():
    from course_lib import data, pretrained

    model = pretrained.load("words_mfcc_logreg")
    clip = data.spoken_words(split="test", words=["seven"])[0]
    scores = widgets.classifier_recognizer(model)(clip.audio, clip.sr)
    assert set(scores) == set(model.config.labels)
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert max(scores, key=scores.get) == model.predict(clip.audio, sr=clip.sr)
    with pytest.raises(ParameterError, match="no .features"):
        widgets.classifier_recognizer(object())


def test_recorder_is_shown_once_per_cell(monkeypatch):
    """record() shows itself; as the cell's last value it must not be drawn a second time."""
    import types

    import IPython
    import IPython.display

    shown = []
    shell = types.SimpleNamespace(kernel=object(), execution_count=7)
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(IPython.display, "publish_display_data", lambda data, metadata=None: shown.append(data))
    rec = widgets.record(static=True, show=False)
    rec._ipython_display_()
    rec._ipython_display_()                      # the same cell: nothing
    assert len(shown) == 1 and "needs JupyterLab" in shown[0]["text/plain"]
    shell.execution_count = 8                    # a later cell shows it again
    rec._ipython_display_()
    assert len(shown) == 2
    live = widgets.record(static=False, show=False)
    live._ipython_display_()
    assert "application/vnd.jupyter.widget-view+json" in shown[-1]
