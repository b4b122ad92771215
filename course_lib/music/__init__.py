"""Music analysis: onsets, tempo and beats, chroma and chords, genre (and, in
``generate``, symbolic music generation).

Notebook: 08_music_analysis.ipynb

``from course_lib import music`` gives the chapter 08 API::

    music.onset_strength(y, sr=sr)          # spectral flux envelope (= librosa's)
    music.beat_track(y, sr=sr)              # BeatResult(tempo, beats)
    music.chroma_stft(y, sr=sr)             # (12, n_frames) (= librosa's, tuning=0)
    music.recognize(y, sr=sr)               # ChordResult(labels, times, segments)

Genre classification lives in :mod:`course_lib.music.genre` (imports torch, so it is
not loaded here).
"""

from .beats import BeatResult, beat_f_measure, beat_track, click_track, dp_beats, tempo, tempo_error, tempogram
from .chords import (ChordResult, chord_templates, chroma_stft, read_lab, recognize, template_scores,
                     transition_matrix, write_lab)
from .onsets import onset_detect, onset_f_measure, onset_strength, peak_pick

__all__ = ["BeatResult", "beat_f_measure", "beat_track", "click_track", "dp_beats", "tempo", "tempo_error",
           "tempogram", "ChordResult", "chord_templates", "chroma_stft", "read_lab", "recognize",
           "template_scores", "transition_matrix", "write_lab", "onset_detect", "onset_f_measure",
           "onset_strength", "peak_pick"]
