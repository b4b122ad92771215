"""Where to go next: pretrained recognisers from the Hugging Face Hub (wav2vec 2.0, Whisper).

Notebooks: 05_ctc_asr.ipynb, 06_transformer_asr.ipynb

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

**Whisper** (chapter 06) is chapter 06's encoder–decoder at scale: an 80-bin log-mel of 30 s
windows, a Transformer encoder, and an autoregressive decoder with cross-attention, trained on
680k hours of weakly supervised audio. Online::

    asr = hub.WhisperRecognizer.from_pretrained("openai/whisper-tiny.en")   # ~39 M parameters, ~150 MB
    asr.transcribe(y, sr=sr)

which is the ``transformers`` recipe ``WhisperProcessor`` (feature extractor + tokenizer) →
``WhisperForConditionalGeneration.generate`` (greedy) → ``batch_decode(skip_special_tokens=True)``.
Offline, :func:`save_tiny_whisper` writes a random 2-layer Whisper with a byte-level tokenizer
(the 256 byte symbols and Whisper's special tokens, no merges) and a generation config, which the
same ``from_pretrained`` loads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ParameterError

__all__ = ["MODEL_ID", "WHISPER_ID", "Wav2Vec2Recognizer", "WhisperRecognizer", "save_tiny_wav2vec2",
           "save_tiny_whisper", "torchaudio_bundle_model"]

#: The classic English wav2vec 2.0 CTC model (LibriSpeech 960 h fine-tuning), ~95 M parameters.
MODEL_ID = "facebook/wav2vec2-base-960h"

#: The smallest English Whisper (39 M parameters: 4 + 4 layers of width 384), a 30 s log-mel encoder-decoder.
WHISPER_ID = "openai/whisper-tiny.en"

#: Its output alphabet: "<pad>" (index 0) is the CTC blank, "|" the word delimiter.
_VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H", "S", "R", "D", "L", "U",
          "M", "W", "C", "F", "G", "Y", "P", "B", "V", "K", "'", "X", "J", "Q", "Z"]


def _load(processor_cls, model_cls, name_or_path: str, *, local_files_only: bool, tiny: str):
    """``(processor, model)`` from a Hub id or a folder; offline, an error that names the fix (``tiny``)."""
    try:
        processor = processor_cls.from_pretrained(name_or_path, local_files_only=local_files_only)
        model = model_cls.from_pretrained(name_or_path, local_files_only=local_files_only)
    except OSError as e:
        raise ParameterError(
            f"could not load {name_or_path!r} ({type(e).__name__}): a Hub model id needs a network "
            "connection the first time (then it is cached in ~/.cache/huggingface); offline, pass a "
            f"folder written by save_pretrained, e.g. hub.{tiny}(folder)") from None
    return processor, model


def _mono_at(y, *, sr: int, target_sr: int) -> np.ndarray:
    """``y`` checked (mono, finite, non-empty) as float32, resampled to the model's ``target_sr``."""
    from .. import audio, validation

    y = np.asarray(y, dtype=np.float32)
    validation.valid_audio(y, mono=True, name="y")
    return y if sr == target_sr else audio.resample(y, orig_sr=sr, target_sr=target_sr)


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

        processor, model = _load(AutoProcessor, AutoModelForCTC, name_or_path, local_files_only=local_files_only,
                                 tiny="save_tiny_wav2vec2")
        return cls(model, processor)

    def logits(self, y, *, sr: int):
        """Frame scores ``(frames, vocab)`` (20 ms frames) of one utterance, any sample rate."""
        import torch

        y = _mono_at(y, sr=sr, target_sr=self.sample_rate)
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


class WhisperRecognizer:
    """A ``transformers`` Whisper model and its processor behind the course's ``transcribe(y, *, sr)``.

    Build it with :meth:`from_pretrained` (a Hub id online, or a local folder). Whisper reads
    30 s windows: longer input is refused here (the Hub pipeline chunks it; see chapter 16's blocks).
    """

    def __init__(self, model, processor):
        self.model = model.eval()
        self.processor = processor
        fe = processor.feature_extractor
        self.sample_rate = int(fe.sampling_rate)
        self.max_seconds = float(fe.chunk_length)

    @classmethod
    def from_pretrained(cls, name_or_path: str = WHISPER_ID, *, local_files_only: bool = False):
        """``WhisperProcessor`` + ``WhisperForConditionalGeneration`` from the Hub id or folder ``name_or_path``."""
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        processor, model = _load(WhisperProcessor, WhisperForConditionalGeneration, name_or_path,
                                 local_files_only=local_files_only, tiny="save_tiny_whisper")
        return cls(model, processor)

    def features(self, y, *, sr: int):
        """The model's input: ``(1, 80, 3000)`` log-mel of ``y`` resampled to 16 kHz and padded to 30 s."""
        y = _mono_at(y, sr=sr, target_sr=self.sample_rate)
        if len(y) > self.max_seconds * self.sample_rate:
            raise ParameterError(f"y is {len(y) / self.sample_rate:.1f} s long; Whisper reads at most "
                                 f"{self.max_seconds:.0f} s at a time: cut it into windows")
        return self.processor(y, sampling_rate=self.sample_rate, return_tensors="pt").input_features

    def transcribe(self, y, *, sr: int, max_new_tokens: int = 64) -> str:
        """Greedy transcript, lower case (the course's normalisation)."""
        import torch

        feats = self.features(y, sr=sr)
        with torch.no_grad():
            ids = self.model.generate(feats, max_new_tokens=max_new_tokens, num_beams=1, do_sample=False)
        text = self.processor.batch_decode(ids, skip_special_tokens=True)[0]
        return " ".join(text.lower().split())


def _byte_symbols() -> list[str]:
    """GPT-2's byte-to-symbol table (what byte-level BPE tokenizers such as Whisper's use)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


#: Whisper's special tokens an English-only model's generate uses (after the 256 byte symbols)
_WHISPER_SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>",
                     "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]


def save_tiny_whisper(folder, *, seed: int = 0) -> Path:
    """Write a randomly initialised tiny English-only Whisper, its processor and generation config to ``folder``.

    The same classes and files as ``openai/whisper-tiny.en`` (config.json, generation_config.json,
    model.safetensors, tokenizer files, processor_config.json) and the same front end (80 mel bins,
    10 ms hop, 30 s windows), but 2 + 2 layers of width 32 and a byte-level vocabulary without merges
    (265 tokens instead of 51 864): :meth:`WhisperRecognizer.from_pretrained` loads it with the online path.
    """
    import torch
    from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor,
                              WhisperForConditionalGeneration, WhisperProcessor, WhisperTokenizer)

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    eot = "<|endoftext|>"
    tok = WhisperTokenizer(vocab={s: i for i, s in enumerate(_byte_symbols())}, merges=[], unk_token=eot,
                           bos_token=eot, eos_token=eot, pad_token=eot)
    tok.add_special_tokens({"additional_special_tokens": _WHISPER_SPECIALS[1:]})
    ids = {s: tok.convert_tokens_to_ids(s) for s in _WHISPER_SPECIALS}
    fe = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160, chunk_length=30, n_fft=400)
    WhisperProcessor(feature_extractor=fe, tokenizer=tok).save_pretrained(folder)
    special = dict(pad_token_id=ids[eot], bos_token_id=ids[eot], eos_token_id=ids[eot],
                   decoder_start_token_id=ids["<|startoftranscript|>"])
    config = WhisperConfig(vocab_size=len(tok), num_mel_bins=80, d_model=32, encoder_layers=2, decoder_layers=2,
                           encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                           decoder_ffn_dim=64, max_source_positions=1500, max_target_positions=128,
                           begin_suppress_tokens=[], suppress_tokens=[], **special)
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        **special, no_timestamps_token_id=ids["<|notimestamps|>"], is_multilingual=False, return_timestamps=False,
        begin_suppress_tokens=[], suppress_tokens=[])
    model.save_pretrained(folder)
    return folder
