"""Time course_lib.hmm's teaching forward / Viterbi against hmmlearn's compiled ones (same model).

Run from the repository root:

    python benchmarks/bench_hmm.py                    # T = 1000 frames, N = 8, 16, 32, 64 states
    python benchmarks/bench_hmm.py --frames 5000 --states 8 64 --repeat 9
    python benchmarks/bench_hmm.py --quality [--real /path/to/fsdd/recordings] [--loeo] [--ablation]

``--quality`` measures the recogniser instead of the speed (minutes): trains
``WordRecognizer()`` (default settings) on the corpus train split and prints
training time (wall and CPU), accuracy per test voice and overall (20 words and
the ten digits), the confusion matrix; the DTW baseline and PocketSphinx
(``course_lib.sphinx``, one-word grammar) on the same clips; connected-digit WER
on ``data.digit_strings(split="test")``, with the isolated-word models, after
embedded training on the training voices' strings, and with the test-time warp
search ``hmm.WARP_SEARCH`` (also on isolated words and on the real test speakers
in ``data/real``); unsupervised speaker adaptation (MLLR, ``hmm.evaluate_adapted``)
on the valid and test voices and the real speakers (``--only adapt`` runs just
that); with ``--real``, the three figures on
real recordings (FSDD layout, any folder of ``DIGIT_SPEAKER_TAKE.wav``; never
shipped): corpus test voices, real test speakers trained on synthetic voices only,
and trained on synthetic voices plus the three real training speakers -- each
real clip also resampled to 16 kHz and placed at a random offset inside 1 s of
quiet noise (:func:`in_noise_16k`); with ``--loeo``, leave-one-engine-out (HMM and
PocketSphinx on the same clips); with ``--ablation``, the effect of each
ingredient on the worst test voice (``--ablation-only VOICE`` runs just that, e.g.
in a second process). ``--json PATH`` merges the results into PATH
(``benchmarks/hmm_quality.json`` is the committed run that notebook 04 prints).

Setup: a random ergodic model (Dirichlet rows) with N states and random
emission log-likelihoods ``log_b (T, N)``; the same arrays go to
``course_lib.hmm.forward`` / ``viterbi`` (NumPy, vectorised over states, one
Python step per frame) and to hmmlearn 0.3.3's C++ ``_hmmc.forward_log`` /
``_hmmc.viterbi`` -- the kernels behind ``score`` and ``decode``, without
hmmlearn's emission computation, so both sides do exactly the same work.
Results are checked equal before timing (so a fast wrong answer cannot
win); each call runs once to warm up, then ``--repeat`` times interleaved;
the median is reported with the ratio course_lib / hmmlearn (> 1: slower).

What to expect: the NumPy step costs a fixed few microseconds of
interpreter overhead per frame plus ``O(N^2)`` vectorised work; the C++
loop costs ``O(N^2)`` exp/log per frame and nothing else. So the ratio is
largest for small N (overhead-bound) and approaches 1 as N grows.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _median_times(impls: dict, repeat: int) -> dict:
    for fn in impls.values():
        fn()
    times = {name: [] for name in impls}
    for _ in range(repeat):
        for name, fn in impls.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--states", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quality", action="store_true", help="measure accuracy instead of speed")
    parser.add_argument("--real", default=None, help="folder of real DIGIT_SPEAKER_TAKE.wav recordings")
    parser.add_argument("--real-takes", type=int, default=10, help="takes per digit and speaker from --real")
    parser.add_argument("--loeo", action="store_true", help="leave-one-engine-out")
    parser.add_argument("--ablation", action="store_true", help="ablation on the worst test voice")
    parser.add_argument("--skip-dtw", action="store_true")
    parser.add_argument("--loeo-clips", type=int, default=400, help="about this many test clips per held-out engine")
    parser.add_argument("--json", default=None, help="also write the --quality results here")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--ablation-only", metavar="VOICE", default=None,
                        help="run only the ablation, on this test voice (e.g. in a second process)")
    parser.add_argument("--only", choices=["main", "real", "loeo", "connected", "adapt"], default=None,
                        help="run one part (parts can run in parallel processes and --json merges them): "
                             "main = test voices, DTW, PocketSphinx, connected digits; connected = connected digits "
                             "and the warp search alone; real = the three real-speech "
                             "figures with digit models trained on the digit clips; loeo = leave-one-engine-out")
    parser.add_argument("--loeo-words", choices=["all", "digits"], default="all")
    parser.add_argument("--normalise", choices=["cmvn", "heq"], default="cmvn",
                        help="every recogniser's feature normalisation (RecognizerConfig.normalise; default cmvn)")
    parser.add_argument("--ablation-variants", default=None,
                        help="with --ablation-only: a comma-separated subset of the variants (by number, 0-7)")
    args = parser.parse_args(argv)
    if args.quality:
        return quality(args)

    from hmmlearn import _hmmc

    from course_lib import hmm

    rng = np.random.default_rng(0)
    print(f"T = {args.frames} frames; median of {args.repeat} runs; ratio = course_lib / hmmlearn")
    print(f"{'N':>4} {'forward ms':>11} {'hmmlearn':>9} {'ratio':>6}   {'viterbi ms':>10} {'hmmlearn':>9} {'ratio':>6}")
    for N in args.states:
        pi = rng.dirichlet(np.ones(N))
        A = rng.dirichlet(np.ones(N), size=N)
        log_pi, log_A = np.log(pi), np.log(A)
        log_b = rng.standard_normal((args.frames, N)) * 5
        ll, alpha = _hmmc.forward_log(pi, A, log_b)
        ours = hmm.forward(log_b, log_pi=log_pi, log_A=log_A)
        np.testing.assert_allclose(ours.log_alpha, alpha, rtol=1e-9)
        vll, vpath = _hmmc.viterbi(pi, A, log_b)
        v = hmm.viterbi(log_b, log_pi=log_pi, log_A=log_A)
        np.testing.assert_array_equal(v.path, vpath)
        np.testing.assert_allclose(v.log_prob, vll, rtol=1e-9)
        t = _median_times({
            "fwd": lambda: hmm.forward(log_b, log_pi=log_pi, log_A=log_A),
            "fwd_ref": lambda: _hmmc.forward_log(pi, A, log_b),
            "vit": lambda: hmm.viterbi(log_b, log_pi=log_pi, log_A=log_A),
            "vit_ref": lambda: _hmmc.viterbi(pi, A, log_b),
        }, args.repeat)
        print(f"{N:>4} {t['fwd'] * 1e3:>11.2f} {t['fwd_ref'] * 1e3:>9.2f} {t['fwd'] / t['fwd_ref']:>5.1f}x"
              f"   {t['vit'] * 1e3:>10.2f} {t['vit_ref'] * 1e3:>9.2f} {t['vit'] / t['vit_ref']:>5.1f}x")
    return 0


def _report(name, ev):
    print(f"{name}: {ev.accuracy:.1%} overall; per voice: "
          + ", ".join(f"{k} {v:.0%}" for k, v in ev.per_speaker.items()), flush=True)


#: Settings given to every recogniser this script trains (``--normalise``); empty: the defaults.
RECOGNIZER_KW: dict = {}


def _recognizer(**kw):
    from course_lib import hmm

    return hmm.WordRecognizer(**(RECOGNIZER_KW | kw))


def _real_arg(path) -> str:
    """``--real PATH`` as the command line should record it: the repository's own folder by name, any other
    folder (a private copy) as a placeholder."""
    import os

    if not path:
        return ""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rel = os.path.relpath(os.path.abspath(path), repo)
    return f"--real {rel}" if not rel.startswith("..") else "--real <FSDD recordings>"


def _ev(ev) -> dict:
    return {"accuracy": ev.accuracy, "per_voice": dict(ev.per_speaker)}


def _digit_view(rec):
    """The same recogniser restricted to the ten digit models (the real recordings are digits only)."""
    from course_lib import data, hmm

    d = hmm.WordRecognizer(seed=rec.seed)
    d.config = rec.config
    d.models_ = {w: rec.models_[w] for w in data.DIGITS}
    d.labels_ = list(data.DIGITS)
    return d


def in_noise_16k(clips, *, seed=0):
    """Each clip resampled to 16 kHz and placed at a random offset inside 1 s of low-level noise.

    The noise is white, at -65 to -50 dBFS RMS (a quiet room through a cheap
    microphone); the window is 1 s, or the clip plus 0.1 s when longer. What an
    app recording "say a digit" for a second hands the recogniser.
    """
    from course_lib import audio, data

    out = []
    for i, c in enumerate(clips):
        rng = np.random.default_rng([seed, i])
        y = audio.resample(np.asarray(c.audio, np.float64), orig_sr=c.sr, target_sr=16000)
        n = max(16000, len(y) + 1600)
        w = rng.standard_normal(n) * 10 ** (rng.uniform(-65, -50) / 20)
        off = int(rng.integers(0, n - len(y) + 1))
        w[off:off + len(y)] += y
        out.append(data.Clip(w.astype(np.float32), 16000, None, label=c.label, speaker=c.speaker,
                             engine=getattr(c, "engine", None)))
    return out


def quality(args) -> int:
    import json
    import time

    from course_lib import data, hmm, sphinx

    if args.normalise != "cmvn":
        RECOGNIZER_KW["normalise"] = args.normalise
    res = {"command": "python benchmarks/bench_hmm.py --quality " + " ".join(
        a for a in ["--loeo" if args.loeo else "", "--ablation" if args.ablation else "",
                    _real_arg(args.real), f"--normalise {args.normalise}" if args.normalise != "cmvn" else ""] if a)}
    train = data.spoken_words(split="train")
    test = data.spoken_words(split="test")
    test_digits = [c for c in test if c.label in data.DIGITS]
    if args.ablation_only:
        which = None if args.ablation_variants is None else [int(i) for i in args.ablation_variants.split(",")]
        res["ablation"] = _ablation(args.ablation_only, train, test, None, which=which)
        return _write(args, {"ablation_command": res["command"] + f" --ablation-only {args.ablation_only}"
                             + ("" if which is None else " --ablation-variants I,J,... (in parallel processes)"),
                             "ablation": res["ablation"]})
    if args.only == "real":
        t0 = time.perf_counter()
        digits = _recognizer().fit([c for c in train if c.label in data.DIGITS])
        print(f"digit models trained on the digit clips in {time.perf_counter() - t0:.0f} s", flush=True)
        res = {"real_command": res["command"] + " --only real"}
        _real(args, res, digits, train, test_digits, hmm.evaluate(digits, test_digits), None)
        return _write(args, res)
    if args.only == "connected":
        rec = _recognizer().fit(train, progress=args.progress)
        return _write(args, _connected(rec, train) | _warp_search(rec, test)
                      | {"connected_command": res["command"] + " --only connected"})
    if args.only == "adapt":
        rec = _recognizer().fit(train, progress=args.progress)
        return _write(args, _adaptation(args, rec, train, test)
                      | {"adaptation_command": res["command"] + " --only adapt"})
    if args.only == "loeo":
        res = {"loeo_command": res["command"] + f" --only loeo --loeo-words {args.loeo_words}"}
        _loeo(args, res, sphinx.SphinxRecognizer(sorted(data.WORDS)) if sphinx.available() else None)
        return _write(args, res)
    t0, c0 = time.perf_counter(), time.process_time()
    rec = _recognizer().fit(train, progress=args.progress)
    res["train"] = {"clips": len(train), "voices": len(data.speakers(split="train")),
                    "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                    "config": {k: (v.__name__ if callable(v) else v) for k, v in vars(rec.config).items()}}
    print(f"trained {len(rec.models_)} word models on {len(train)} clips "
          f"({res['train']['voices']} voices) in {res['train']['wall_s']:.1f} s "
          f"(CPU time {res['train']['cpu_s']:.1f} s)", flush=True)
    ev = hmm.evaluate(rec, test)
    _report("HMM, test voices, 20 words", ev)
    res["hmm_words"] = _ev(ev)
    res["confusion"] = {"labels": ev.labels, "matrix": ev.confusion.tolist()}
    print("confusion (rows spoken, columns recognised):", " ".join(ev.labels))
    for lab, row in zip(ev.labels, ev.confusion):
        print(f"  {lab:>6s} " + " ".join(f"{v:2d}" for v in row))
    digits = _digit_view(rec)
    ev_d = hmm.evaluate(digits, test_digits)
    _report("HMM, test voices, digits", ev_d)
    res["hmm_digits"] = _ev(ev_d)
    if not args.skip_dtw:
        dtw = hmm.DTWRecognizer().fit(train)
        e = hmm.evaluate(dtw, test)
        _report("DTW (5 templates per word), test voices, 20 words", e)
        res["dtw_words"] = _ev(e)
        dtw_d = hmm.DTWRecognizer().fit([c for c in train if c.label in data.DIGITS])
        e = hmm.evaluate(dtw_d, test_digits)
        _report("DTW, test voices, digits", e)
        res["dtw_digits"] = _ev(e)
    sph_words = sphinx.SphinxRecognizer(sorted(data.WORDS)) if sphinx.available() else None
    sph_digits = sphinx.SphinxRecognizer(data.DIGITS) if sphinx.available() else None
    if sph_words is not None:
        e = hmm.evaluate(sph_words, test)
        _report("PocketSphinx (20-word grammar), test voices", e)
        res["sphinx_words"] = _ev(e)
        e = hmm.evaluate(sph_digits, test_digits)
        _report("PocketSphinx (digit grammar), test voices", e)
        res["sphinx_digits"] = _ev(e)
    res.update(_connected(rec, train))
    res.update(_warp_search(rec, test))
    res.update(_adaptation(args, rec, train, test))
    if args.real and args.only is None:
        _real(args, res, digits, train, test_digits, ev_d, sph_digits)
    if args.loeo and args.only is None:
        _loeo(args, res, sph_words)
    if args.ablation:
        worst = min(ev.per_speaker, key=ev.per_speaker.get)
        res["ablation"] = _ablation(worst, train, test, ev.per_speaker[worst])
    return _write(args, res)


def _connected(rec, train) -> dict:
    """Connected-digit WER on the test voices' strings: with ``rec``'s word models as trained on isolated words,
    then with digit models trained on the digit clips and re-trained by embedded training on the training
    voices' digit strings plus those clips (``WordRecognizer.embedded_train``)."""
    import collections
    import time

    from course_lib import data, hmm, metrics

    def wer(recogniser, name):
        """``recogniser``: one for every voice, or ``{voice: recogniser}``."""
        strings = data.digit_strings(split="test")
        pick = recogniser.get if isinstance(recogniser, dict) else lambda v: recogniser
        hyps = [" ".join(pick(c.speaker).transcribe(c.audio, sr=c.sr, words=data.DIGITS)) for c in strings]
        per = collections.defaultdict(lambda: ([], []))
        for c, h in zip(strings, hyps):
            per[c.speaker][0].append(c.text)
            per[c.speaker][1].append(h)
        out = {"wer": metrics.wer([c.text for c in strings], hyps), "strings": len(strings),
               "per_voice": {k: metrics.wer(*v) for k, v in sorted(per.items())}}
        print(f"connected digits, {name}: WER {out['wer']:.1%} on {len(strings)} strings; per voice: "
              + ", ".join(f"{k} {v:.1%}" for k, v in out["per_voice"].items()), flush=True)
        return out

    res = {"connected_wer_isolated_models": wer(rec, "word models trained on isolated words")}
    t0, c0 = time.perf_counter(), time.process_time()
    digit_clips = [c for c in train if c.label in data.DIGITS]
    strings = data.digit_strings(split="train")
    emb = _recognizer().fit(digit_clips).embedded_train(list(strings) + digit_clips, n_iter=3)
    res["connected_wer"] = wer(emb, "digit models + embedded training on the training strings")
    res["connected_wer"]["training"] = {
        "clips": len(digit_clips), "strings": len(strings), "iterations": 3,
        "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
        "log_prob": [float(v) for v in emb.embedded_log_prob_]}
    res["connected_wer_warp_search"] = wer(emb.with_warps(), f"the same + warp search {hmm.WARP_SEARCH}")

    # the same models adapted (MLLR, no labels) to each test voice on that voice's isolated test digits
    words = [c for c in data.spoken_words(split="test") if c.label in data.DIGITS]
    adapted = {}
    for v in sorted({c.speaker for c in words}):
        mine = [c for c in words if c.speaker == v]
        adapted[v] = emb.adapt([c.audio for c in mine], sr=mine[0].sr, n_iter=3)
    res["connected_wer_mllr"] = wer(adapted, "the same adapted to each voice by MLLR on its isolated digits")
    res["connected_wer_mllr_warp_search"] = wer({v: r.with_warps() for v, r in adapted.items()},
                                                "the same adapted, + warp search")
    return res


def _warp_search(rec, test) -> dict:
    """``rec`` (trained on isolated words) with the warp search ``hmm.WARP_SEARCH`` at test time: the test voices'
    20 words and digits, and the real FSDD test speakers in ``data/real`` (digits, as recorded), each beside
    the same models without it."""
    from course_lib import data, hmm

    warped = rec.with_warps()
    test_digits = [c for c in test if c.label in data.DIGITS]
    real = data.real_digits(split="test")
    out = {"warps": list(hmm.WARP_SEARCH)}
    for name, r, clips in (("words", warped, test), ("digits", _digit_view(warped), test_digits),
                           ("real test speakers, digits, as recorded", _digit_view(warped), real),
                           ("real test speakers, without the warp search", _digit_view(rec), real)):
        e = hmm.evaluate(r, clips)
        _report(f"HMM, {name}" if "without" in name else f"HMM + warp search, {name}", e)
        out[name] = _ev(e)
    return {"warp_search": out}


def _adaptation(args, rec, train, test) -> dict:
    """Unsupervised speaker adaptation (``hmm.evaluate_adapted``: per voice, MLLR from the recogniser's own
    hypotheses, 3 rounds) beside the same models without it: the valid and test voices (20 words; digits),
    the real FSDD speakers in ``data/real`` (synthetic-only digit models: the valid speaker, the training and
    valid speakers -- real speakers these models never heard that are not test speakers -- and the test
    speakers; with ``--real``, also the models
    trained on synthetic voices plus the three real training speakers)."""
    from course_lib import data, datasets, hmm

    digits = _digit_view(rec)
    valid = data.spoken_words(split="valid")
    sets = [("valid voices, 20 words", rec, valid), ("test voices, 20 words", rec, test),
            ("test voices, digits", digits, [c for c in test if c.label in data.DIGITS]),
            ("real valid speaker, digits, synthetic only", digits, data.real_digits(split="valid")),
            ("real training + valid speakers, digits, synthetic only", digits,
             data.real_digits(split="train") + data.real_digits(split="valid")),
            ("real test speakers, digits, synthetic only", digits, data.real_digits(split="test"))]
    if args.real:
        plus = _recognizer().fit([c for c in train if c.label in data.DIGITS]
                                        + datasets.real_digits(split="train", root=args.real, takes=args.real_takes))
        sets.append(("real test speakers, digits, synthetic + 3 real training speakers", plus,
                     datasets.real_digits(split="test", root=args.real, takes=args.real_takes)))
    out = {"n_iter": 3}
    for name, r, clips in sets:
        e0, e1 = hmm.evaluate(r, clips), hmm.evaluate_adapted(r, clips, n_iter=3)
        _report(f"HMM, {name}", e0)
        _report(f"HMM + MLLR per speaker, {name}", e1)
        out[name] = {"unadapted": _ev(e0), "adapted": _ev(e1)}
    return {"speaker_adaptation": out}


def _real(args, res, digits, train, test_digits, ev_d, sph_digits):
    """The three figures on real recordings (FSDD); ``digits`` is the synthetic-only digit recogniser."""
    from course_lib import data, datasets, hmm, sphinx

    if sph_digits is None and sphinx.available():
        sph_digits = sphinx.SphinxRecognizer(data.DIGITS)
    real_test = datasets.real_digits(split="test", root=args.real, takes=args.real_takes)
    real_train = datasets.real_digits(split="train", root=args.real, takes=args.real_takes)
    noisy = in_noise_16k(real_test)
    out = {"clips": len(real_test), "takes": args.real_takes}
    out["synthetic only"] = {"corpus test voices": _ev(ev_d), "as recorded": _ev(hmm.evaluate(digits, real_test)),
                             "16 kHz in 1 s of noise": _ev(hmm.evaluate(digits, noisy))}
    plus = _recognizer().fit([c for c in train if c.label in data.DIGITS] + real_train)
    out["synthetic + 3 real training speakers"] = {
        "corpus test voices": _ev(hmm.evaluate(plus, test_digits)),
        "as recorded": _ev(hmm.evaluate(plus, real_test)),
        "16 kHz in 1 s of noise": _ev(hmm.evaluate(plus, noisy))}
    if sph_digits is not None:
        out["PocketSphinx"] = {"corpus test voices": _ev(hmm.evaluate(sph_digits, test_digits)),
                               "as recorded": _ev(hmm.evaluate(sph_digits, real_test)),
                               "16 kHz in 1 s of noise": _ev(hmm.evaluate(sph_digits, noisy))}
    for name, d in out.items():
        if isinstance(d, dict):
            for k, e in d.items():
                print(f"real digits, {name}, {k}: {e['accuracy']:.1%} ("
                      + ", ".join(f"{s} {v:.0%}" for s, v in e["per_voice"].items()) + ")", flush=True)
    res["real"] = out


def _loeo(args, res, sph_words):
    from course_lib import data, hmm

    words = data.DIGITS if args.loeo_words == "digits" else None
    if words is not None and sph_words is not None:
        from course_lib import sphinx

        sph_words = sphinx.SphinxRecognizer(data.DIGITS)
    res["loeo"] = {}
    for engine in data.engines():
        split = data.leave_one_engine_out(engine, words=words)
        tst = split.test[::max(1, len(split.test) // args.loeo_clips)]
        r = _recognizer().fit(split.train)
        row = {"test_clips": len(tst), "words": args.loeo_words, "hmm": _ev(hmm.evaluate(r, tst))}
        if sph_words is not None:
            row["sphinx"] = _ev(hmm.evaluate(sph_words, tst))
        res["loeo"][engine] = row
        print(f"leave-one-engine-out {engine} ({len(tst)} clips, every voice of the engine): HMM "
              f"{row['hmm']['accuracy']:.1%} (worst voice {min(row['hmm']['per_voice'].values()):.0%})"
              + (f"; PocketSphinx {row['sphinx']['accuracy']:.1%}" if "sphinx" in row else ""), flush=True)


def _write(args, res) -> int:
    """Print nothing more; merge ``res`` into the ``--json`` file (two processes may fill one file)."""
    import json
    import os

    if args.json:
        old = {}
        if os.path.exists(args.json):
            with open(args.json) as f:
                old = json.load(f)
        for key, value in res.items():      # the ablation may come in parts, from several processes
            if key == "ablation" and isinstance(old.get(key), dict):
                old[key].update(value)
            else:
                old[key] = value
        with open(args.json, "w") as f:
            json.dump(old, f, indent=1, default=float)
        print(f"wrote {args.json}")
    return 0


def _ablation(worst, train, test, default_acc, which=None):
    from course_lib import data, hmm

    clips = [c for c in test if c.speaker == worst]
    if not clips:
        raise SystemExit(f"no test clips of voice {worst!r}; test voices: {data.speakers(split='test')}")
    if default_acc is None and which is None:
        default_acc = hmm.evaluate(_recognizer().fit(train), clips).accuracy
    voices = data.speakers(split="train")
    print(f"ablation on the worst test voice {worst} (defaults: {default_acc}):")
    out = {"voice": worst}
    if default_acc is not None:
        out["defaults"] = default_acc
    variants = [
        ("no delta features (MFCC only)", {"deltas": False}, train), ("no CMVN", {"normalise": False}, train),
        ("1 Gaussian per state", {"n_mix": 1}, train), ("2 Gaussians per state", {"n_mix": 2}, train),
        ("no augmentation", {"n_augment": 0}, train),
        ("Baum-Welch only (flat start, 5 iterations)", {"n_viterbi": 0, "n_iter": 5}, train),
        ("16 training voices", {}, [c for c in train if c.speaker in voices[::max(1, len(voices) // 16)]]),
        ("4 training voices", {}, [c for c in train if c.speaker in voices[::max(1, len(voices) // 4)]]),
    ]
    for k, (name, kw, tr) in enumerate(variants):
        if which is not None and k not in which:
            continue
        acc = hmm.evaluate(_recognizer(**kw).fit(tr), clips).accuracy
        out[name] = acc
        print(f"  {name:44s} {acc:.0%}", flush=True)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
