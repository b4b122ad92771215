"""The pretrained-model path (transformers / torchaudio.pipelines), exercised offline.

A learner online loads ``facebook/wav2vec2-base-960h`` with ``AutoProcessor`` and
``AutoModelForCTC``; here the very same ``from_pretrained`` path loads a tiny randomly
initialised model that ``save_pretrained`` wrote, so no download happens.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

from course_lib.asr import hub  # noqa: E402
from course_lib.errors import ParameterError  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = hub.save_tiny_wav2vec2(tmp_path_factory.mktemp("w2v2"), seed=0)
    return folder, hub.Wav2Vec2Recognizer.from_pretrained(str(folder), local_files_only=True)


def test_the_hub_files_are_written(tiny):
    folder, _ = tiny
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "vocab.json", "tokenizer_config.json"} <= names
    # transformers 5 writes the feature extractor inside processor_config.json (4.x: preprocessor_config.json)
    assert names & {"processor_config.json", "preprocessor_config.json"}


def test_from_pretrained_loads_the_saved_weights(tiny):
    """The loaded model is the saved one, weight for weight (the path really reads the folder)."""
    from safetensors.torch import load_file

    folder, asr = tiny
    saved = load_file(folder / "model.safetensors")
    state = asr.model.state_dict()
    assert set(saved) <= set(state)
    for k, v in saved.items():
        torch.testing.assert_close(state[k], v, rtol=0, atol=0)


def test_transcribe_is_greedy_ctc_decoding_of_the_logits(tiny):
    """transcribe = processor.batch_decode(argmax): compare with our own greedy CTC decoding
    (collapse repeats, drop the pad = blank, "|" = space) of the same logits, at 8 kHz input."""
    from course_lib.asr import ctc

    _, asr = tiny
    y = np.random.default_rng(0).normal(scale=0.1, size=8000).astype(np.float32)   # 1 s at 8 kHz
    logits = asr.logits(y, sr=8000)
    assert logits.shape[-1] == len(hub._VOCAB) and 45 <= logits.shape[0] <= 50      # 20 ms frames of 1 s
    # the tokenizer collapses repeated frames, then drops the pad (blank) and the other special tokens
    ids = [i for i in ctc.collapse(logits.argmax(-1).tolist(), blank=0)
           if hub._VOCAB[i] not in ("<s>", "</s>", "<unk>")]
    ours = "".join(" " if hub._VOCAB[i] == "|" else hub._VOCAB[i] for i in ids)
    assert asr.transcribe(y, sr=8000) == " ".join(ours.lower().split())
    # skip_special_tokens=True drops the blank before collapsing: this random model's frames hold a
    # "C - C" (pad between), which must read "cc" and reads "c" that way
    skipped = asr.processor.batch_decode(logits.argmax(-1)[None], skip_special_tokens=True)[0].lower()
    assert len(skipped.replace(" ", "")) < len(ours.replace(" ", ""))


def test_offline_hub_id_says_a_network_is_needed():
    with pytest.raises(ParameterError, match="network"):
        hub.Wav2Vec2Recognizer.from_pretrained("course-offline/does-not-exist", local_files_only=True)


def test_torchaudio_bundle_architecture_without_download():
    """WAV2VEC2_ASR_BASE_960H: 29 labels ('-' blank first), 16 kHz, 94.4 M parameters (the base model)."""
    model, labels, sr = hub.torchaudio_bundle_model()
    assert labels[0] == "-" and labels[1] == "|" and len(labels) == 29 and sr == 16000
    n = sum(p.numel() for p in model.parameters())
    assert 94_000_000 < n < 95_000_000
    with pytest.raises(ParameterError, match="bundle"):
        hub.torchaudio_bundle_model("NOT_A_BUNDLE")


# --------------------------------------------------------------------------- Whisper (chapter 06)

@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory):
    folder = hub.save_tiny_whisper(tmp_path_factory.mktemp("whisper"), seed=0)
    return folder, hub.WhisperRecognizer.from_pretrained(str(folder), local_files_only=True)


def test_whisper_hub_files_and_architecture(tiny_whisper):
    """The files openai/whisper-tiny.en has on the Hub, and an encoder-decoder with cross-attention."""
    from transformers import WhisperForConditionalGeneration

    folder, asr = tiny_whisper
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "generation_config.json", "model.safetensors", "tokenizer_config.json"} <= names
    assert names & {"processor_config.json", "preprocessor_config.json"}
    assert isinstance(asr.model, WhisperForConditionalGeneration)
    cfg = asr.model.config
    assert (cfg.encoder_layers, cfg.decoder_layers, cfg.d_model, cfg.num_mel_bins) == (2, 2, 32, 80)
    assert hasattr(asr.model.model.decoder.layers[0], "encoder_attn")       # the decoder attends to the encoder
    assert asr.processor.tokenizer.convert_ids_to_tokens(cfg.decoder_start_token_id) == "<|startoftranscript|>"


def test_whisper_features_are_the_whisper_log_mel(tiny_whisper):
    """Re-derived with librosa: |STFT|^2 (n_fft 400, hop 160, Hann, centred, last frame dropped) of the
    input resampled to 16 kHz and zero-padded to 30 s, Slaney mel (80), log10 floored at 1e-10, clamped
    to 8 decades below the maximum, (x + 4) / 4. Tolerance 1e-4: float32 FFTs, and the resampler is ours."""
    import librosa

    from course_lib import audio

    _, asr = tiny_whisper
    y8 = np.random.default_rng(1).normal(scale=0.1, size=8000).astype(np.float32)    # 1 s at 8 kHz
    feats = asr.features(y8, sr=8000)[0].numpy()
    assert feats.shape == (80, 3000)                                              # 30 s of 10 ms frames
    y = np.zeros(480_000, np.float32)
    y16 = audio.resample(y8, orig_sr=8000, target_sr=16000)
    y[: len(y16)] = y16
    power = np.abs(librosa.stft(y, n_fft=400, hop_length=160, window="hann", center=True, pad_mode="reflect")) ** 2
    mel = librosa.filters.mel(sr=16000, n_fft=400, n_mels=80, htk=False, norm="slaney") @ power[:, :-1]
    log = np.log10(np.maximum(mel, 1e-10))
    ref = (np.maximum(log, log.max() - 8.0) + 4.0) / 4.0
    np.testing.assert_allclose(feats, ref, atol=1e-4, rtol=0)


def test_whisper_transcribe_is_greedy_decoding(tiny_whisper):
    """generate() re-derived: feed <|startoftranscript|> <|notimestamps|>, append the argmax until
    <|endoftext|> or the cap; transcribe is that, decoded without special tokens. Deterministic per seed."""
    from course_lib import data

    folder, asr = tiny_whisper
    clip = data.sentences(split="test", check=False)[0]
    feats = asr.features(clip.audio, sr=clip.sr)
    tok = asr.processor.tokenizer
    ids = [tok.convert_tokens_to_ids("<|startoftranscript|>"), tok.convert_tokens_to_ids("<|notimestamps|>")]
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    with torch.no_grad():
        enc = asr.model.model.encoder(feats).last_hidden_state
        while len(ids) < 2 + 20:
            logits = asr.model(encoder_outputs=(enc,), decoder_input_ids=torch.tensor([ids])).logits[0, -1]
            ids.append(int(logits.argmax()))
            if ids[-1] == eot:
                break
    ours = " ".join(tok.decode(ids, skip_special_tokens=True).lower().split())
    assert asr.transcribe(clip.audio, sr=clip.sr, max_new_tokens=20) == ours
    again = hub.WhisperRecognizer.from_pretrained(str(folder), local_files_only=True)
    assert again.transcribe(clip.audio, sr=clip.sr, max_new_tokens=20) == ours


def test_whisper_bad_input_and_offline_id(tiny_whisper):
    _, asr = tiny_whisper
    with pytest.raises(ParameterError, match="30 s"):
        asr.transcribe(np.zeros(31 * 16000, np.float32), sr=16000)
    with pytest.raises(ParameterError):
        asr.transcribe(np.array([0.0, np.nan, 0.1], np.float32), sr=16000)
    with pytest.raises(ParameterError):
        asr.transcribe(np.zeros((2, 16000), np.float32), sr=16000)
    with pytest.raises(ParameterError):
        asr.transcribe(np.zeros(0, np.float32), sr=16000)
    with pytest.raises(ParameterError, match="network"):
        hub.WhisperRecognizer.from_pretrained("course-offline/does-not-exist", local_files_only=True)


def test_save_tiny_whisper_weights_are_set_by_the_seed(tmp_path):
    """The same seed writes the same weights (and so the same transcript); another seed, other weights."""
    from safetensors.torch import load_file

    a, b, c = (load_file(hub.save_tiny_whisper(tmp_path / name, seed=s) / "model.safetensors")
               for name, s in (("a", 0), ("b", 0), ("c", 1)))
    assert set(a) == set(b) == set(c)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_whisper_transcript_drops_special_tokens_and_is_normalised(tiny_whisper, monkeypatch):
    """A known answer for the step after generate(): the random model only loops on one byte, so its
    output cannot show case or spacing; here generate returns fixed ids (prompt, text, end of text)."""
    _, asr = tiny_whisper
    tok = asr.processor.tokenizer
    text_ids = tok.encode(" Hello  World,\tOK", add_special_tokens=False)
    assert tok.decode(text_ids) == " Hello  World,\tOK"                       # byte-level: a lossless round trip
    ids = [tok.convert_tokens_to_ids(s) for s in ("<|startoftranscript|>", "<|notimestamps|>")] + text_ids
    ids.append(tok.convert_tokens_to_ids("<|endoftext|>"))
    monkeypatch.setattr(asr.model, "generate", lambda *args, **kwargs: torch.tensor([ids]))
    assert asr.transcribe(np.zeros(16000, np.float32), sr=16000) == "hello world, ok"
