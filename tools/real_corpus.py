#!/usr/bin/env python
"""Rebuild ``data/real/``: real human recordings of the ten digits, from a local copy of FSDD.

    python tools/real_corpus.py /path/to/free-spoken-digit-dataset [--takes 10]

The Free Spoken Digit Dataset (Zohar Jackson, César Souza, Jason Flaks, Yuxin Pan, Hereman Nicolas,
Adhish Thite; https://github.com/Jakobovski/free-spoken-digit-dataset; CC BY-SA 4.0) holds 50 takes
of each digit by six adult speakers, recorded at 8 kHz on their own microphones. The course ships
takes 0..``takes``-1 of every digit and speaker (600 clips, 8 kHz, 16-bit FLAC, the audio unchanged)
as ``data/real/digits/<digit>_<speaker>_<take>.flac`` (FSDD's own naming), adds one manifest row per
file (kind ``real_digit``, ``engine="human"``, the speaker-disjoint split of
:data:`course_lib.datasets.REAL_DIGITS_SPLITS`, speech bounds as the corpus's words) and writes the
attribution and licence to ``data/real/LICENSE.md``. Rows of other kinds are untouched, and
``tools/make_corpus.py`` keeps these rows when it rebuilds the synthetic parts.

Learners do not run this: the files are committed. ``course_lib.data.real_digits()`` reads them.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

from course_lib.datasets import REAL_DIGITS_SPLITS  # noqa: E402
from course_lib.data import DIGITS  # noqa: E402

KIND = "real_digit"
LICENSE = """# Real recordings: Free Spoken Digit Dataset (subset)

`digits/` holds takes 0-{last} of every digit by the six speakers of the **Free Spoken Digit
Dataset** (FSDD), https://github.com/Jakobovski/free-spoken-digit-dataset, by Zohar Jackson,
César Souza, Jason Flaks, Yuxin Pan, Hereman Nicolas and Adhish Thite, licensed under the
**Creative Commons Attribution-ShareAlike 4.0 International** licence
(https://creativecommons.org/licenses/by-sa/4.0/). The recordings are unchanged (8 kHz, 16-bit),
stored as FLAC instead of WAV; file names are FSDD's (`<digit>_<speaker>_<take>`). This folder, as
a derivative of FSDD, is under the same licence. Rebuilt by `python tools/real_corpus.py <FSDD>`.
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fsdd", type=Path, help="a local copy of FSDD (the repository, or its recordings/ folder)")
    ap.add_argument("--takes", type=int, default=10)
    ap.add_argument("--data", type=Path, default=REPO / "data")
    args = ap.parse_args(argv)
    from make_corpus import MANIFEST_FIELDS, read_manifest, speech_bounds, write_manifest

    src = args.fsdd / "recordings" if (args.fsdd / "recordings").is_dir() else args.fsdd
    out = args.data / "real" / "digits"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rows = []
    for spk in sorted(REAL_DIGITS_SPLITS):
        for digit in range(10):
            for take in range(args.takes):
                p = src / f"{digit}_{spk}_{take}.wav"
                if not p.exists():
                    raise SystemExit(f"{p} is missing: is {args.fsdd} a complete copy of FSDD?")
                y, sr = sf.read(p, dtype="int16", always_2d=False)
                if y.ndim != 1:
                    raise SystemExit(f"{p}: expected mono, got {y.shape}")
                dest = out / f"{digit}_{spk}_{take}.flac"
                sf.write(dest, y, sr, subtype="PCM_16", format="FLAC")
                start, end = speech_bounds(y.astype(np.float32) / 32768.0, sr)
                rel = dest.relative_to(args.data).as_posix()
                rows.append({"path": rel, "kind": KIND, "label": DIGITS[digit], "speaker": spk,
                             "split": REAL_DIGITS_SPLITS[spk], "duration": f"{len(y) / sr:.4f}",
                             "sample_rate": str(sr), "engine": "human", "language": "en",
                             "speech_start": f"{start:.3f}", "speech_end": f"{end:.3f}",
                             "sha256": hashlib.sha256(dest.read_bytes()).hexdigest()})
    (args.data / "real" / "LICENSE.md").write_text(LICENSE.format(last=args.takes - 1))
    keep = [r for r in read_manifest(args.data) if r["kind"] != KIND]
    rows = [{k: r.get(k, "") for k in MANIFEST_FIELDS} for r in rows]
    write_manifest(args.data, sorted(keep + rows, key=lambda r: r["path"]))
    print(f"wrote {len(rows)} clips to {out} ({sum(p.stat().st_size for p in out.iterdir()) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
