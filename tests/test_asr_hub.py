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
