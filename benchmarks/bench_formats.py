"""Export and import of 10,000 segments across 100 clips per format, and agreement over one hour.

Prints figures measured in this run (seconds, and segments per second).  The
records are built in memory (100 clips of 100 segments at 30 fps, a constant
clock), so what is timed is the format's own read and write, through the files.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from annotator.agreement import compare
from annotator.formats import Record, Timing, get_format
from annotator.labels import EMOTIONS, Segment

CLIPS, PER_CLIP, FPS = 100, 100, 30.0


def clip_segments(rng, n, frames_between=12):
    starts = np.cumsum(rng.integers(frames_between, frames_between * 3, size=n))
    out = []
    for s in starts:
        length = int(rng.integers(4, 30))
        out.append(Segment(onset=int(s), apex=int(s) + length // 3, offset=int(s) + length,
                           emotion=EMOTIONS[int(rng.integers(0, 7))], kind="micro" if length <= 14 else "macro",
                           aus=["AU6", "AU12"]))
    return out


def records(rng):
    out = []
    for c in range(CLIPS):
        segs = clip_segments(rng, PER_CLIP)
        frames = segs[-1].offset + 10
        out.append(Record(f"sub{c % 26:02d}", f"EP{c:03d}", "alice", FPS, segs, sha256="0" * 64, frames=frames,
                          timing=Timing.constant(FPS, frames), media=f"EP{c:03d}.mp4"))
    return out


def bench_format(name, recs, tmp: Path):
    fmt = get_format(name)
    n = sum(len(r.segments) for r in recs)
    t0 = time.perf_counter()
    if name == "eaf":  # one video per ELAN file
        paths = [tmp / f"{r.video}.eaf" for r in recs]
        for r, p in zip(recs, paths, strict=True):
            fmt.write([r], p)
    else:
        paths = [tmp / f"all{fmt.suffix}"]
        fmt.write(recs, paths[0])
    t1 = time.perf_counter()
    back = 0
    for r, p in zip(recs if name == "eaf" else [None], paths, strict=True):
        opts = {"timing": r.timing} if r is not None else {"fps": FPS}
        back += sum(len(x.segments) for x in fmt.read(p, **opts))
    t2 = time.perf_counter()
    assert back == n, (name, back, n)
    print(f"{name:12s} export {t1 - t0:6.2f} s ({n / (t1 - t0):8.0f} seg/s)   "
          f"import {t2 - t1:6.2f} s ({n / (t2 - t1):8.0f} seg/s)")


def _reference_pair_cost(a, b, frames):
    """What agreement cost before the sweep and the integer codes, in this run: every pair scored, string labels."""
    from sklearn.metrics import cohen_kappa_score

    from annotator.agreement.compare import frame_labels
    from annotator.spotting.metrics import match_all_pairs

    t0 = time.perf_counter()
    match_all_pairs(a, b)
    t1 = time.perf_counter()
    cohen_kappa_score(list(frame_labels(a, frames)), list(frame_labels(b, frames)))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def bench_agreement(rng, seconds: float = 3600, n: int = 2000):
    frames = int(seconds * FPS)
    a = clip_segments(rng, n, frames_between=25)
    a = [s for s in a if s.offset < frames]
    jitter = rng.integers(-2, 3, size=len(a))
    b = [s.replace(onset=max(0, s.onset + int(j)), apex=max(0, s.onset + int(j)) + (s.apex - s.onset))
         for s, j in zip(a, jitter, strict=True)]
    ms = Timing.constant(FPS, frames).ms()
    t0 = time.perf_counter()
    import sklearn.metrics  # noqa: F401 - paid once per process, by the first agreement of a CLI run
    import statsmodels.stats.inter_rater  # noqa: F401
    imports = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = compare({"alice": a, "bob": b}, frames, ms=ms)
    t1 = time.perf_counter()
    from annotator.agreement.compare import frame_codes
    from annotator.spotting.metrics import match

    t2 = time.perf_counter()
    match(a, b)
    t3 = time.perf_counter()
    from sklearn.metrics import cohen_kappa_score

    cohen_kappa_score(frame_codes(a, frames), frame_codes(b, frames))
    t4 = time.perf_counter()
    old_match, old_kappa = _reference_pair_cost(a, b, frames)
    print(f"agreement    {seconds:g} s ({frames} frames), {len(a)} + {len(b)} segments: {t1 - t0:.2f} s "
          f"({len(report.pairs[0].matched)} matched; goal < 1 s; plus {imports:.2f} s importing scikit-learn "
          "and statsmodels once per process)")
    print(f"  match: sweep {t3 - t2:.3f} s, all pairs {old_match:.3f} s ({old_match / (t3 - t2):.0f}x); "
          f"frame kappa: integer codes {t4 - t3:.3f} s, strings {old_kappa:.3f} s ({old_kappa / (t4 - t3):.1f}x)")


def main(argv: list[str] | None = None):
    global CLIPS, PER_CLIP
    smoke = "--smoke" in (sys.argv[1:] if argv is None else argv)  # tiny sizes: does it run? (tests)
    if smoke:
        CLIPS, PER_CLIP = 3, 5
    rng = np.random.default_rng(0)
    recs = records(rng)
    print(f"{CLIPS} clips x {PER_CLIP} segments = {CLIPS * PER_CLIP} segments per format")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("casme-csv", "casme-xlsx", "samm-xlsx", "casme2-xlsx", "megc-csv", "eaf"):
            sub = Path(tmp) / name
            sub.mkdir()
            bench_format(name, recs, sub)
    bench_agreement(rng, *((60, 40) if smoke else ()))


if __name__ == "__main__":
    main()
