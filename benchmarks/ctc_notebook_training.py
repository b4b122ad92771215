#!/usr/bin/env python
"""Notebook 05's full-mode training (section 5's cell, outside Jupyter), then greedy CER on its 100 test sentences.

    python benchmarks/ctc_notebook_training.py old 480 1     # the notebook's recipe, 480 s, one thread
    python benchmarks/ctc_notebook_training.py old2 480 1    # the same with n_conv=2 (40 ms output steps)
    python benchmarks/ctc_notebook_training.py new 480 1     # n_conv=2, warm-up AdamW, sentences + words + digits

Arguments: variant, time budget (s), torch threads. Prints one JSON line: epochs, valid loss per epoch,
CER / WER on the first 25 test sentences of each test voice (as the notebook evaluates), per voice.
Measured December 2026 on one thread beside another training run: old 8.9 %, old2 9.5 % (60 epochs in
425 s), new 17.4 % (the warm-up schedule's decay and the extra words slow a short run down).
"""
import sys, time, json
import numpy as np, torch
from course_lib import augment, data, metrics, train
from course_lib.asr import training
from course_lib.asr.models import CTCConfig, CTCRecognizer
from course_lib.asr.text import CharTokenizer
from course_lib.asr.transformer_training import WarmupAdamW
from course_lib.batching import collate_padded, BucketBatchSampler
variant = sys.argv[1]; budget = float(sys.argv[2]); threads = int(sys.argv[3])
torch.set_num_threads(threads)
tok = CharTokenizer()
train_clips = data.sentences(split="train", check=False)
test_clips = data.sentences(split="test", check=False)
class Sentences(torch.utils.data.Dataset):
    def __init__(self, clips, *, augment_audio=False, seed=0):
        self.clips, self.augment_audio = clips, augment_audio
        self.rng = np.random.default_rng(seed)
    def __len__(self): return len(self.clips)
    def __getitem__(self, i):
        c = self.clips[i]; y = c.audio
        if self.augment_audio:
            y = augment.recording_chain(y, sr=c.sr, rng=self.rng, p_reverb=0.3, p_telephone=0.1)
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)), torch.tensor(tok.encode(training.clip_text(c)))
spec_gen = torch.Generator().manual_seed(0)
def ctc_step(model, batch):
    wav, tgt = batch
    feats, flen = model.waveform_features(wav.x, wav.lengths)
    if model.training:
        feats = augment.spec_augment(feats, flen, generator=spec_gen)
    out = model(feats, flen)
    return torch.nn.functional.ctc_loss(out.log_probs, tgt.x.clamp(min=0), out.lengths, tgt.lengths, zero_infinity=True)
torch.manual_seed(0)
if variant == "old2":
    cfg = CTCConfig(hidden=128, n_layers=2, channels=64, n_conv=2, dropout=0.1); opt = None; clips = train_clips
elif variant == "old":
    cfg = CTCConfig(hidden=128, n_layers=2, channels=64, n_conv=1, dropout=0.1); opt = None; clips = train_clips
else:
    cfg = CTCConfig(hidden=128, n_layers=2, channels=64, n_conv=2, dropout=0.1)
    opt = lambda p: WarmupAdamW(p, lr=1.5e-3, warmup_steps=200, weight_decay=0.01)
    clips = train_clips if variant == "new_sent" else training.training_clips("train")
model = CTCRecognizer(cfg)
valid_clips = data.sentences(split="valid", check=False)[:100]
ds = Sentences(clips, augment_audio=True)
sampler = BucketBatchSampler([len(c.audio) for c in clips], batch_size=16, seed=0)
t0 = time.time()
history = train.fit(model, ds, step_fn=ctc_step, optimizer=opt, valid_data=Sentences(valid_clips), collate_fn=collate_padded,
                    batch_size=16, batch_sampler=sampler, lr=2e-3, epochs=60, time_budget=budget, seed=0, desc="CTC", progress=False)
wall = time.time() - t0
model.eval()
ev = [c for v in sorted({c.speaker for c in test_clips}) for c in [c for c in test_clips if c.speaker == v][:25]]
r = training.evaluate(model, ev, progress=False)
print(json.dumps({"variant": variant, "budget": budget, "threads": threads, "wall": wall, "epochs": len(history.epochs),
                  "valid_loss": [round(e["valid_loss"], 3) for e in history.epochs], "cer": r["cer"], "wer": r["wer"],
                  "per_voice": {v: round(x["cer"], 3) for v, x in r["per_voice"].items()}}))
