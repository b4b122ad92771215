"""Shipped checkpoints: list, verify, load — and the course's first example model.

Notebook: 00_welcome.ipynb

Some chapters promise a model that needs more training than a notebook
should run on a laptop. Those models are trained once by
``tools/train_models.py NAME`` (the course's own code, a fixed seed) and
shipped in ``data/models/``:

- ``NAME.safetensors`` — the weights (safetensors: loading runs no code, unlike pickle);
- ``NAME.json`` — the architecture and its config;
- ``NAME.record.json`` — how it was made: command, seed, corpus manifest
  hash, git commit, wall time, CPU/GPU, and its metrics on the test split;
- ``manifest.csv`` — one row per file with its sha256.

:func:`load` checks every file against the manifest and returns the model
ready to use: in eval mode, on :func:`course_lib.config.device`. Every
shipped model takes raw audio at any sample rate (resampled inside):
classifiers answer ``.predict(y, *, sr)`` with a label, recognisers
``.transcribe(y, *, sr)`` with text.

>>> from course_lib import pretrained
>>> "words_mfcc_logreg" in pretrained.available()
True
>>> model = pretrained.load("words_mfcc_logreg")
>>> import numpy as np
>>> model.predict(np.zeros(8000, np.float32) + 1e-3, sr=8000) in model.config.labels
True

The example model, :class:`MfccLogReg`, is a logistic regression on MFCC
statistics of a spoken word: the baseline that chapter 07's networks beat.
A new chapter adds its model class to :data:`ARCHITECTURES` and a recipe to
``tools/train_models.py``; nothing else changes.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from . import config as _config
from .errors import CourseLibError, ParameterError

__all__ = ["MODELS_DIR", "ARCHITECTURES", "CheckpointError", "available", "load", "save", "verify",
           "half_precision",
           "MfccStatsConfig", "mfcc_stats", "MfccLogReg"]

#: Where the shipped checkpoints live (``<repository>/data/models``).
MODELS_DIR = Path(__file__).resolve().parents[1] / "data" / "models"

#: Architecture name (as written in ``NAME.json``) -> ``"module:Class"``; the class has a
#: ``Config`` dataclass and is built as ``Class(Class.Config(**config))``.
ARCHITECTURES = {
    "MfccLogReg": "course_lib.pretrained:MfccLogReg",
}

_MANIFEST_FIELDS = ("name", "file", "sha256", "bytes")

#: Float tensors with at least this many elements are stored in half precision (see :func:`half_precision`).
HALF_MIN_NUMEL = 256
_HALF_MAX = float(torch.finfo(torch.float16).max)
_HALF_TINY = float(torch.finfo(torch.float16).tiny)           # the smallest normal float16


def half_precision(state: dict) -> dict:
    """A state dict as it is shipped: float32 tensors of :data:`HALF_MIN_NUMEL` elements or more
    in float16, the rest (biases, batch-norm statistics, counters) as they are.

    float16 keeps 11 significant bits, so each stored weight is within 2**-11 (0.05 %) of the
    trained one; :func:`load` copies them back into the float32 model. It halves what the
    checkpoints take in ``data/`` (issue #9's 150 MB budget). A tensor whose values float16
    cannot hold (beyond +-65504, or all below its smallest normal number) stays float32.
    """
    out = {}
    for k, v in state.items():
        out[k] = v
        if v.dtype == torch.float32 and v.numel() >= HALF_MIN_NUMEL:
            if _HALF_TINY <= float(v.detach().abs().max()) <= _HALF_MAX:
                out[k] = v.detach().to(torch.float16)
    return out


class CheckpointError(CourseLibError, OSError):
    """A shipped checkpoint is missing, corrupt or does not fit its model; the message names
    the file and the command that rebuilds it."""


def _rebuild(name: str) -> str:
    return (f"rebuild it with `python tools/train_models.py {name}` "
            f"(or restore the shipped files with `git checkout -- data/models/`)")


# --------------------------------------------------------------------------- manifest

def _manifest(models_dir: Path) -> list[dict]:
    path = models_dir / "manifest.csv"
    if not path.exists():
        raise CheckpointError(f"{path} is missing: restore it with `git checkout -- data/models/` "
                              "or train a model with `python tools/train_models.py NAME`")
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def available(*, models_dir=None) -> list[str]:
    """Names of the shipped checkpoints, sorted.

    Notebook: 00_welcome.ipynb
    """
    models_dir = Path(models_dir) if models_dir is not None else MODELS_DIR
    return sorted({r["name"] for r in _manifest(models_dir)})


def verify(name: str, *, models_dir=None) -> list[Path]:
    """Check every file of checkpoint ``name`` against its sha256; return their paths.

    Raises
    ------
    ParameterError
        ``name`` is not a shipped checkpoint.
    CheckpointError
        A file is missing or its sha256 differs (the message names it and the rebuild command).
    """
    models_dir = Path(models_dir) if models_dir is not None else MODELS_DIR
    rows = [r for r in _manifest(models_dir) if r["name"] == name]
    if not rows:
        raise ParameterError(f"name={name!r} is not a shipped checkpoint; available: {available(models_dir=models_dir)}")
    paths = []
    for r in rows:
        path = models_dir / r["file"]
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            raise CheckpointError(f"checkpoint file {path} is missing: {_rebuild(name)}") from None
        if digest != r["sha256"]:
            raise CheckpointError(
                f"checkpoint file {path} is corrupt: its sha256 {digest[:12]}... does not match "
                f"data/models/manifest.csv ({r['sha256'][:12]}...): {_rebuild(name)}"
            )
        paths.append(path)
    return paths


def _qualified(cls) -> str | None:
    """``"course_lib.module:Class"`` for a class defined in course_lib, else None."""
    module = getattr(cls, "__module__", "")
    return f"{module}:{cls.__name__}" if module.split(".")[0] == "course_lib" else None


def _architecture(arch: str):
    # A chapter's model class may be named by its place in course_lib ("course_lib.classify:KwsNet")
    # instead of a line in ARCHITECTURES; nothing outside course_lib is ever imported.
    if arch not in ARCHITECTURES and re.fullmatch(r"course_lib(\.[A-Za-z_]\w*)+:[A-Za-z_]\w*", arch):
        module, cls = arch.split(":")
        try:
            return getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError):
            raise CheckpointError(f"architecture {arch!r} is not in this version of course_lib; "
                                  "update the course or retrain the model") from None
    if arch not in ARCHITECTURES:
        raise CheckpointError(f"architecture {arch!r} is unknown to this version of course_lib "
                              f"(known: {sorted(ARCHITECTURES)}); update the course or retrain the model")
    module, cls = ARCHITECTURES[arch].split(":")
    return getattr(importlib.import_module(module), cls)


def load(name: str, *, device=None, models_dir=None) -> torch.nn.Module:
    """The shipped model ``name``, checksum verified, in eval mode on ``device``.

    Notebook: 00_welcome.ipynb

    Parameters
    ----------
    name : str
        One of :func:`available`.
    device : str or torch.device, optional
        Default :func:`course_lib.config.device` (``"cuda"`` when a GPU is usable).
    models_dir : path, optional
        Default :data:`MODELS_DIR` (``data/models``).

    Returns
    -------
    torch.nn.Module
        With ``.config`` (its dataclass), ``.record`` (the training record, a
        dict) and ``.predict(y, *, sr)`` (classifiers) or ``.transcribe(y, *, sr)``
        (recognisers).
    """
    from .train import load_weights

    models_dir = Path(models_dir) if models_dir is not None else MODELS_DIR
    paths = {p.name: p for p in verify(name, models_dir=models_dir)}
    for needed in (f"{name}.safetensors", f"{name}.json", f"{name}.record.json"):
        if needed not in paths:
            raise CheckpointError(f"data/models/manifest.csv lists no {needed} for {name!r}: {_rebuild(name)}")
    spec = json.loads(paths[f"{name}.json"].read_text())
    cls = _architecture(spec["architecture"])
    try:
        model = cls(cls.Config(**spec["config"]))
        model.load_state_dict(load_weights(paths[f"{name}.safetensors"]))
    except (TypeError, ParameterError, RuntimeError) as e:
        raise CheckpointError(f"checkpoint {paths[f'{name}.safetensors']} does not fit {spec['architecture']} "
                              f"({e}): {_rebuild(name)}") from None
    model.record = json.loads(paths[f"{name}.record.json"].read_text())
    return model.to(device or _config.device()).eval()


def save(model: torch.nn.Module, name: str, *, record: dict, models_dir=None, half: bool = True) -> list[Path]:
    """Write ``name``'s weights, config and training record and (re)list them in the manifest.

    Used by ``tools/train_models.py``; the model's class must be in :data:`ARCHITECTURES`
    or defined in a ``course_lib`` module (then ``NAME.json`` names it as
    ``"course_lib.module:Class"``), and have a ``config`` dataclass attribute. With ``half``
    (the default) the weights are stored by :func:`half_precision` and the record says so
    (``record["weights_dtype"] = "float16"``); the record's metrics are the float32 model's,
    and the checkpoint tests measure the model as :func:`load` gives it back.
    """
    from .train import save_weights

    models_dir = Path(models_dir) if models_dir is not None else MODELS_DIR
    arch = type(model).__name__
    if arch not in ARCHITECTURES:
        arch = _qualified(type(model))
    if arch is None:
        raise ParameterError(f"{type(model).__name__} is neither in pretrained.ARCHITECTURES nor a course_lib "
                             "class; add it to ARCHITECTURES or define it in a course_lib module")
    models_dir.mkdir(parents=True, exist_ok=True)
    files = [
        save_weights(models_dir / f"{name}.safetensors",
                     half_precision(model.state_dict()) if half else model.state_dict(), metadata={"name": name}),
        models_dir / f"{name}.json",
        models_dir / f"{name}.record.json",
    ]
    files[1].write_text(json.dumps({"architecture": arch, "config": _jsonable(asdict(model.config))},
                                   indent=1, sort_keys=True) + "\n")
    record = {**record, "weights_dtype": "float16"} if half else record
    files[2].write_text(json.dumps(_jsonable(record), indent=1, sort_keys=True) + "\n")
    path = models_dir / "manifest.csv"
    rows = [r for r in _manifest(models_dir) if r["name"] != name] if path.exists() else []
    rows += [{"name": name, "file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
              "bytes": p.stat().st_size} for p in files]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=_MANIFEST_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(rows, key=lambda r: (r["name"], r["file"])))
    return files


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    return obj


# --------------------------------------------------------------------------- the example model

@dataclass
class MfccStatsConfig:
    """Settings of :func:`mfcc_stats` and :class:`MfccLogReg`.

    Attributes
    ----------
    labels : tuple of str
        The classes, in output order.
    sr : int
        Rate the features are computed at (input audio is resampled to it).
    n_mfcc, n_fft, hop_length, n_mels : int
        MFCC settings (25 ms ... 10 ms frames at 16 kHz by default: 400 -> n_fft 512, hop 160).
    n_segments : int
        The speech part is cut into this many equal segments; each contributes its mean MFCC.
    top_db : float
        Frames more than this many dB below the loudest frame count as silence.
    """

    labels: tuple = ()
    sr: int = 16000
    n_mfcc: int = 20
    n_fft: int = 512
    hop_length: int = 160
    n_mels: int = 40
    n_segments: int = 5
    top_db: float = 35.0

    def __post_init__(self):
        self.labels = tuple(self.labels)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ParameterError(f"labels={self.labels!r} must be at least two distinct class names")
        for f in ("sr", "n_mfcc", "n_fft", "hop_length", "n_mels", "n_segments"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ParameterError(f"{f}={v!r} must be a positive integer")
        if not self.top_db > 0:
            raise ParameterError(f"top_db={self.top_db!r} must be a positive number of dB")

    @property
    def n_features(self) -> int:
        """Length of the :func:`mfcc_stats` vector: segment means, overall std, and log duration."""
        return self.n_mfcc * (self.n_segments + 1) + 1


def mfcc_stats(y, *, sr: int, config: MfccStatsConfig) -> np.ndarray:
    """A fixed-length summary of a spoken word: MFCC means over segments of its speech, and more.

    Notebook: 07_audio_classification.ipynb

    1. resample to ``config.sr``; MFCCs ``(n_mfcc, n_frames)``;
    2. keep the frames within ``top_db`` of the loudest (c0 is the frame's
       log energy, in dB up to a constant), from the first to the last such frame;
    3. cut them into ``n_segments`` equal parts: the mean MFCC of each (so the
       order of the sounds counts: "no" is not "on"), the standard deviation
       over all of them, and the log of the speech duration in seconds.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at ``sr``.
    sr : int
    config : MfccStatsConfig

    Returns
    -------
    np.ndarray [shape=(config.n_features,), dtype=float32]
    """
    from . import audio, features

    y = np.asarray(y, dtype=np.float32)
    audio.valid_audio(y, mono=True)
    sr = audio.check_sr(sr)
    if sr != config.sr:
        y = audio.resample(y, orig_sr=sr, target_sr=config.sr)
    min_len = config.n_fft
    if len(y) < min_len:
        y = np.pad(y, (0, min_len - len(y)))
    M = features.mfcc(y, sr=config.sr, n_mfcc=config.n_mfcc, n_fft=config.n_fft,
                      hop_length=config.hop_length, n_mels=config.n_mels)        # (n_mfcc, n_frames)
    # c0 of the orthonormal DCT is sqrt(n_mels) times the mean log-mel energy (dB)
    energy_db = M[0] / np.sqrt(config.n_mels)
    loud = np.flatnonzero(energy_db >= energy_db.max() - config.top_db)
    speech = M[:, loud[0]:loud[-1] + 1]
    parts = np.array_split(np.arange(speech.shape[1]), config.n_segments)
    means = [speech[:, p].mean(axis=1) if len(p) else speech.mean(axis=1) for p in parts]
    duration = speech.shape[1] * config.hop_length / config.sr
    return np.concatenate(means + [speech.std(axis=1), [np.log(duration)]]).astype(np.float32)


class MfccLogReg(torch.nn.Module):
    """Logistic regression on :func:`mfcc_stats`: a linear layer over standardised features.

    Notebook: 07_audio_classification.ipynb

    ``forward`` takes feature vectors (for training with :func:`course_lib.train.fit`);
    :meth:`predict` takes raw audio at any sample rate.

    >>> m = MfccLogReg(MfccLogReg.Config(labels=("yes", "no")))
    >>> m(torch.zeros(5, m.config.n_features)).shape
    torch.Size([5, 2])
    """

    Config = MfccStatsConfig

    def __init__(self, config: MfccStatsConfig):
        super().__init__()
        if not isinstance(config, MfccStatsConfig):
            raise ParameterError(f"config must be an MfccStatsConfig, got {type(config).__name__}")
        self.config = config
        d = config.n_features
        # standardisation, set from the training features by set_normalisation (saved with the weights)
        self.register_buffer("feature_mean", torch.zeros(d))
        self.register_buffer("feature_std", torch.ones(d))
        self.linear = torch.nn.Linear(d, len(config.labels))

    def set_normalisation(self, X) -> None:
        """Standardise with the mean and std of training features ``X`` (n_items, n_features)."""
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
        self.feature_mean.copy_(X.mean(dim=0))
        self.feature_std.copy_(X.std(dim=0).clamp_min(1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits.

        Parameters
        ----------
        x : torch.Tensor [shape=(batch, n_features)]

        Returns
        -------
        torch.Tensor [shape=(batch, n_labels)]
        """
        return self.linear((x - self.feature_mean) / self.feature_std)

    def features(self, y, *, sr: int) -> np.ndarray:
        """:func:`mfcc_stats` of raw audio ``y`` at ``sr``: ``(n_features,)``."""
        return mfcc_stats(y, sr=sr, config=self.config)

    @torch.no_grad()
    def predict(self, y, *, sr: int) -> str:
        """The label of one clip of raw audio ``y`` (mono, any sample rate ``sr``)."""
        x = torch.from_numpy(self.features(y, sr=sr))[None].to(self.feature_mean.device)   # (1, n_features)
        return self.config.labels[int(self(x).argmax(dim=-1))]
