"""Genre classification: hand-crafted features + logistic regression, and a CNN on log-mel patches.

Notebook: 08_music_analysis.ipynb

- **Baseline** (:func:`clip_features`, :class:`FeatureBaseline`): per clip the mean and
  standard deviation of 20 MFCCs and 12 chroma bins, the tempo and the onset
  envelope's autocorrelation at 1/4 ... 2 beats (the rhythm), standardised, then
  multinomial logistic regression (scikit-learn).
- **CNN** (:class:`GenreCNN`): chapter 07's :class:`course_lib.classify.AudioCNN` on
  ~1.5 s log-mel patches cut from each clip (every patch carries the clip's label);
  a clip's label is the vote (mean log-probability) of its patches.

Both take raw audio: ``.predict(y, *, sr)`` at any sample rate (resampled inside).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from ..audio import resample
from ..errors import ParameterError
from ..features import melspectrogram, mfcc
from ..spectral import power_to_db
from ..validation import check_positive_int, check_signal, check_sr
from .beats import autocorrelate, tempo
from .chords import chroma_stft
from .onsets import onset_strength

__all__ = ["GENRE_SR", "clip_features", "FeatureBaseline", "GenreCNNConfig", "GenreCNN", "log_mel_patches",
           "train_genre_cnn"]

#: The genre corpus's rate; every model works at it.
GENRE_SR = 11025


def _at_rate(y, sr):
    y = check_signal(y, mono=True)
    sr = check_sr(sr)
    if sr != GENRE_SR:
        y = resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=GENRE_SR)
    return np.asarray(y, dtype=np.float64)


def clip_features(y: np.ndarray, *, sr: int) -> np.ndarray:
    """A 72-number description of a clip: timbre, harmony, tempo and rhythm.

    Notebook: 08_music_analysis.ipynb

    ``[mean, std of 20 MFCCs (40), mean, std of 12 chroma (24), tempo / 100 (1),
    onset autocorrelation at 1/4, 1/3, 1/2, 2/3, 3/4, 1 and 2 beats over lag 0 (7)]``.
    The rhythm numbers ask "is there energy a quarter / third (swing) of a beat later?".

    Returns
    -------
    np.ndarray [shape=(72,)]
    """
    y = _at_rate(y, sr)
    sr = GENRE_SR
    M = mfcc(y, sr=sr, n_mfcc=20, n_fft=1024, hop_length=256)                 # (20, n_frames)
    C = chroma_stft(y, sr=sr, n_fft=2048, hop_length=256)                      # (12, n_frames)
    o = onset_strength(y, sr=sr, hop_length=128, n_fft=1024)
    bpm = tempo(o, sr=sr, hop_length=128)
    fps = sr / 128
    ac = autocorrelate(o - o.mean())
    ac = ac / max(ac[0], 1e-12)
    beat = 60.0 * fps / bpm
    rhythm = [ac[min(int(round(f * beat)), len(ac) - 1)] for f in (0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0, 2.0)]
    return np.concatenate([M.mean(1), M.std(1), C.mean(1), C.std(1), [bpm / 100.0], rhythm])


class FeatureBaseline:
    """Standardised :func:`clip_features` + multinomial logistic regression.

    Notebook: 08_music_analysis.ipynb
    """

    def __init__(self, *, C: float = 1.0):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))

    def fit(self, clips) -> "FeatureBaseline":
        X = np.stack([clip_features(c.audio, sr=c.sr) for c in clips])
        self.model.fit(X, [c.label for c in clips])
        return self

    def predict(self, y, *, sr: int) -> str:
        return str(self.model.predict(clip_features(y, sr=sr)[None])[0])


# --------------------------------------------------------------------------- CNN


def log_mel_patches(y: np.ndarray, *, sr: int, n_mels: int = 64, patch_frames: int = 64,
                    hop_frames: int = 32) -> np.ndarray:
    """Log-mel patches of a clip: ``(n_patches, n_mels, patch_frames)`` float32.

    Notebook: 08_music_analysis.ipynb

    Mel power (1024-point FFT, hop 256 at 11.025 kHz: 23 ms) in dB (ref: the clip's
    maximum, floor -80 dB), scaled by 1/40 and shifted by +1 so values sit near [-1, 1];
    patches of ``patch_frames`` frames (64 = 1.5 s: two beats or more at 92-132 BPM) every
    ``hop_frames``. A clip shorter than one patch is zero-padded.
    """
    y = _at_rate(y, sr)
    n_mels = check_positive_int(n_mels, name="n_mels")
    patch_frames = check_positive_int(patch_frames, name="patch_frames")
    hop_frames = check_positive_int(hop_frames, name="hop_frames")
    S = power_to_db(melspectrogram(y, sr=GENRE_SR, n_fft=1024, hop_length=256, n_mels=n_mels), ref=np.max)
    S = (S / 40.0 + 1.0).astype(np.float32)                                   # (n_mels, n_frames)
    if S.shape[1] < patch_frames:
        S = np.pad(S, ((0, 0), (0, patch_frames - S.shape[1])), constant_values=-1.0)
    starts = range(0, S.shape[1] - patch_frames + 1, hop_frames)
    return np.stack([S[:, s:s + patch_frames] for s in starts])              # (n_patches, n_mels, patch_frames)


@dataclass
class GenreCNNConfig:
    """Settings of :class:`GenreCNN`: the labels, the AudioCNN's channels and the patches."""

    labels: tuple = ("bossa", "funk", "reggae", "rock", "swing", "waltz")
    channels: tuple = (16, 32, 64)
    dropout: float = 0.2
    n_mels: int = 64
    patch_frames: int = 64
    hop_frames: int = 32

    def __post_init__(self):
        self.labels = tuple(self.labels)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ParameterError(f"labels={self.labels!r} must be at least two distinct names")
        for name in ("n_mels", "patch_frames", "hop_frames"):
            check_positive_int(getattr(self, name), name=name)


class GenreCNN(nn.Module):
    """Chapter 07's AudioCNN on log-mel patches, clip label by voting.

    Notebook: 08_music_analysis.ipynb

    ``forward(x)``: ``(batch, n_mels, patch_frames)`` -> ``(batch, n_labels)`` logits (training);
    ``predict(y, sr=sr)``: all patches of the clip, mean log-softmax (the vote), argmax.
    """

    Config = GenreCNNConfig

    def __init__(self, config: GenreCNNConfig | None = None):
        from ..classify import AudioCNN, AudioCNNConfig

        super().__init__()
        config = config or GenreCNNConfig()
        if not isinstance(config, GenreCNNConfig):
            raise ParameterError(f"config must be a GenreCNNConfig, got {type(config).__name__}")
        self.config = config
        self.net = AudioCNN(AudioCNNConfig(n_classes=len(config.labels), channels=config.channels,
                                           dropout=config.dropout))

    def forward(self, x):
        return self.net(x)

    def patches(self, y, *, sr):
        c = self.config
        return log_mel_patches(y, sr=sr, n_mels=c.n_mels, patch_frames=c.patch_frames, hop_frames=c.hop_frames)

    def predict_proba(self, y, *, sr: int) -> dict:
        import torch

        self.eval()
        dev = next(self.parameters()).device
        with torch.no_grad():
            x = torch.from_numpy(self.patches(y, sr=sr)).to(dev)                   # (n_patches, n_mels, frames)
            logp = torch.log_softmax(self(x), dim=-1)                                # (n_patches, n_labels)
        p = torch.softmax(logp.mean(0), dim=-1).cpu().numpy()                        # the vote
        return dict(zip(self.config.labels, map(float, p)))

    def predict(self, y, *, sr: int) -> str:
        p = self.predict_proba(y, sr=sr)
        return max(p, key=p.get)


def train_genre_cnn(train_clips, *, config: GenreCNNConfig | None = None, epochs: int = 30,
                    time_budget: float | None = None, valid_clips=None, seed: int = 0, lr: float = 2e-3,
                    progress: bool = True) -> tuple[GenreCNN, object]:
    """Train a :class:`GenreCNN` on every patch of ``train_clips`` (``Clip`` records) with ``train.fit``.

    Notebook: 08_music_analysis.ipynb

    Patches overlap by half, so a clip gives 5 of them; each read adds a random gain
    of +-6 dB (an offset of the log-mel image). Returns ``(model, history)``.
    """
    import torch

    from ..config import seed_everything
    from ..train import fit

    seed_everything(seed)
    model = GenreCNN(config)
    c = model.config
    index = {lab: i for i, lab in enumerate(c.labels)}
    full = [model.patches(clip.audio, sr=clip.sr) for clip in train_clips]
    X = np.concatenate(full)
    Y = np.concatenate([[index[clip.label]] * len(p) for clip, p in zip(train_clips, full)])

    class _Patches(torch.utils.data.Dataset):
        def __init__(self):
            self.rng = np.random.default_rng(seed)

        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            x = X[i]
            gain = self.rng.uniform(-0.15, 0.15)                      # +-6 dB in the 1/40-dB scale
            return torch.from_numpy(x + np.float32(gain)), int(Y[i])

    from ..train import accuracy

    valid, metrics = None, None
    if valid_clips:
        metrics = {"accuracy": accuracy}
        VX = np.concatenate([model.patches(clip.audio, sr=clip.sr) for clip in valid_clips])
        VY = np.concatenate([[index[clip.label]] * len(model.patches(clip.audio, sr=clip.sr))
                             for clip in valid_clips])
        valid = (torch.from_numpy(VX), torch.from_numpy(VY))
    history = fit(model, _Patches(), loss_fn=torch.nn.functional.cross_entropy, epochs=epochs,
                  time_budget=time_budget, lr=lr, batch_size=32, valid_data=valid, seed=seed, progress=progress,
                  metrics=metrics, monitor="valid_accuracy" if valid else None, desc="genre CNN", device="cpu")
    model.eval()
    return model, history
