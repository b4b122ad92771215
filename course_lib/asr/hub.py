"""Where to go next: a pretrained wav2vec 2.0 recogniser from the Hugging Face Hub.

Notebook: 05_ctc_asr.ipynb

The course's recogniser is trained from scratch on a few hours of synthetic
voices. The field's recognisers are *pretrained* on thousands of hours of
real speech: wav2vec 2.0 (self-supervised on 53k hours, then fine-tuned with
**the same CTC loss as chapter 05** on 960 h of LibriSpeech) or Whisper
(an encoder-decoder trained on 680k hours). This module holds the code a
learner runs **online** to use one::

    from course_lib.asr import hub
    asr = hub.Wav2Vec2Recognizer.from_pretrained("facebook/wav2vec2-base-960h")   # downloads ~360 MB
    asr.transcribe(y, sr=sr)

which is, line for line, the ``transformers`` recipe::

    from transformers import AutoModelForCTC, AutoProcessor
    processor = AutoProcessor.from_pretrained(MODEL_ID)
    model = AutoModelForCTC.from_pretrained(MODEL_ID)
    inputs = processor(y16k, sampling_rate=16000, return_tensors="pt")
    ids = model(**inputs).logits.argmax(-1)            # greedy CTC: (batch, frames)
    text = processor.batch_decode(ids)[0]              # collapse repeats, drop the pad (= blank)

**The weights need a network** (the Hub). Offline — here, in CI — the same
code path runs on :func:`save_tiny_wav2vec2`: a randomly initialised,
few-thousand-parameter wav2vec 2.0 built from a config and written with
``save_pretrained``; ``from_pretrained(folder)`` then loads it exactly as it
would load the downloaded model (its transcripts are noise, of course).
``torchaudio.pipelines.WAV2VEC2_ASR_BASE_960H`` is the same network in
torchaudio (:func:`torchaudio_bundle_model` builds it, randomly
initialised, from the bundle's own architecture parameters, without the download).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ParameterError

__all__ = ["MODEL_ID", "Wav2Vec2Recognizer", "save_tiny_wav2vec2", "torchaudio_bundle_model"]

#: The classic English wav2vec 2.0 CTC model (LibriSpeech 960 h fine-tuning), ~95 M parameters.
MODEL_ID = "facebook/wav2vec2-base-960h"

#: Its output alphabet: "<pad>" (index 0) is the CTC blank, "|" the word delimiter.
_VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H", "S", "R", "D", "L", "U",
          "M", "W", "C", "F", "G", "Y", "P", "B", "V", "K", "'", "X", "J", "Q", "Z"]


class Wav2Vec2Recognizer:
    """A ``transformers`` CTC model and its processor behind the course's ``transcribe(y, *, sr)``.

    Build it with :meth:`from_pretrained` (a Hub id online, or a local folder).
    """

    def __init__(self, model, processor):
        self.model = model.eval()
        self.processor = processor
        self.sample_rate = int(processor.feature_extractor.sampling_rate)

    @classmethod
    def from_pretrained(cls, name_or_path: str = MODEL_ID, *, local_files_only: bool = False):
        """``AutoProcessor`` + ``AutoModelForCTC`` from the Hub id or folder ``name_or_path``."""
        from transformers import AutoModelForCTC, AutoProcessor

        try:
            processor = AutoProcessor.from_pretrained(name_or_path, local_files_only=local_files_only)
            model = AutoModelForCTC.from_pretrained(name_or_path, local_files_only=local_files_only)
        except OSError as e:
            raise ParameterError(
                f"could not load {name_or_path!r} ({type(e).__name__}): a Hub model id needs a network "
                "connection the first time (then it is cached in ~/.cache/huggingface); offline, pass a "
                "folder written by save_pretrained, e.g. hub.save_tiny_wav2vec2(folder)") from None
        return cls(model, processor)

    def logits(self, y, *, sr: int):
        """Frame scores ``(frames, vocab)`` (20 ms frames) of one utterance, any sample rate."""
        import torch

        from .. import audio, validation

        y = np.asarray(y, dtype=np.float32)
        validation.valid_audio(y, mono=True, name="y")
        if sr != self.sample_rate:
            y = audio.resample(y, orig_sr=sr, target_sr=self.sample_rate)
        inputs = self.processor(y, sampling_rate=self.sample_rate, return_tensors="pt")
        with torch.no_grad():
            return self.model(**inputs).logits[0]

    def transcribe(self, y, *, sr: int) -> str:
        """Greedy CTC transcript, lower case (the course's normalisation).

        ``batch_decode`` collapses repeated frames and then drops the pad (the blank); the other
        special tokens are removed from the text afterwards. Not ``skip_special_tokens=True``: with
        it (transformers 5.24) the pad is dropped *before* repeats are collapsed, so "c - c" reads
        "c" and double letters vanish (checked in tests/test_asr_hub.py).
        """
        ids = self.logits(y, sr=sr).argmax(-1)
        text = self.processor.batch_decode(ids[None])[0]
        for special in self.processor.tokenizer.all_special_tokens:     # <s>, </s>, <unk> (the pad is gone)
            text = text.replace(special, "")
        return " ".join(text.lower().split())


def save_tiny_wav2vec2(folder, *, seed: int = 0) -> Path:
    """Write a randomly initialised tiny wav2vec 2.0 CTC model and its processor to ``folder``.

    Same classes and files as ``facebook/wav2vec2-base-960h`` (config.json, model.safetensors,
    vocab.json, tokenizer_config.json, processor_config.json), same vocabulary, but 2 small layers instead of 12
    big ones: :meth:`Wav2Vec2Recognizer.from_pretrained` loads it with the online code path.
    """
    import json
    import tempfile

    import torch
    from transformers import (Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor,
                              Wav2Vec2ForCTC, Wav2Vec2Processor)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = Path(tmp) / "vocab.json"
        vocab.write_text(json.dumps({s: i for i, s in enumerate(_VOCAB)}))
        tokenizer = Wav2Vec2CTCTokenizer(str(vocab), unk_token="<unk>", pad_token="<pad>",
                                         word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    config = Wav2Vec2Config(vocab_size=len(_VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, conv_dim=(16, 16, 16, 16, 16, 16, 16),
                            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                            pad_token_id=0, ctc_loss_reduction="mean", do_stable_layer_norm=False)
    torch.manual_seed(seed)
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    return folder


def torchaudio_bundle_model(name: str = "WAV2VEC2_ASR_BASE_960H"):
    """``(model, labels, sample_rate)`` of a ``torchaudio.pipelines`` bundle, randomly initialised.

    Online, a learner writes ``bundle = torchaudio.pipelines.WAV2VEC2_ASR_BASE_960H;
    model = bundle.get_model()`` (which downloads the weights); here the architecture comes from the
    bundle's own parameters and the weights stay random (no network)."""
    import torchaudio

    bundle = getattr(torchaudio.pipelines, name, None)
    if bundle is None or not hasattr(bundle, "get_labels"):
        raise ParameterError(f"name={name!r} is not a torchaudio.pipelines ASR bundle, e.g. WAV2VEC2_ASR_BASE_960H")
    model = torchaudio.models.wav2vec2_model(**bundle._params)
    return model.eval(), bundle.get_labels(), bundle.sample_rate
