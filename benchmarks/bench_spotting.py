"""How long proposing takes over one hour of tracks (108,000 frames at 30 fps).

The hour is the tracked sample tiled end to end with a little noise, so it holds
real blendshapes, landmarks and head poses and 1,800 planted events.  Printed:
the time of each stage, and the ratio to the 2 s budget and to the hour itself.

    python benchmarks/bench_spotting.py [--session DIR] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def hour_of_tracks(tracks, frames: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    reps = -(-frames // tracks.n_frames)
    tile = lambda a: np.concatenate([a] * reps)[:frames]  # noqa: E731
    blend = tile(tracks.face_blendshapes)
    blend = np.clip(blend + rng.normal(0, 0.005, blend.shape).astype(np.float32), 0, 1)
    lm = tile(tracks.face_landmarks) + rng.normal(0, 0.2, (frames, 478, 3)).astype(np.float32)
    return dict(
        present=tile(tracks.face_present), landmarks=lm, time=np.arange(frames) / tracks.fps,
        fps=tracks.fps, blendshapes=blend, blendshape_names=tracks.blendshape_names,
        matrix=tile(tracks.face_matrix),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--session", type=Path, help="a tracked session (default: track the sample)")
    parser.add_argument("--frames", type=int, default=108_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from annotator.features.aus import compute_au_features
    from annotator.session import Session
    from annotator.spotting.spotter import Spotter
    from annotator.tracking.store import load_tracks

    if args.session is None:
        from tests.fixtures.sample import track_sample

        work = Path(tempfile.mkdtemp(prefix="bench-spot-"))
        print("tracking the sample once ...", flush=True)
        session = track_sample(work)
    else:
        work, session = None, Session.open(args.session)
    tracks = load_tracks(session)
    data = hour_of_tracks(tracks, args.frames)
    hours = args.frames / tracks.fps / 3600

    feats_t, spot_t, n = [], [], 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        feats = compute_au_features(**data)
        t1 = time.perf_counter()
        segments = Spotter().spot(feats)
        t2 = time.perf_counter()
        feats_t.append(t1 - t0)
        spot_t.append(t2 - t1)
        n = len(segments)
    total = np.array(feats_t) + np.array(spot_t)
    best = float(total.min())
    print(f"\n{args.frames} frames ({hours:.2f} h at {tracks.fps:g} fps), {n} proposals, best of {args.repeats}")
    print(f"{'stage':<28}{'seconds':>10}")
    print(f"{'features (AU channels)':<28}{min(feats_t):>10.3f}")
    print(f"{'spotting + emotion':<28}{min(spot_t):>10.3f}")
    print(f"{'total':<28}{best:>10.3f}")
    print(f"{'first run (cold imports)':<28}{float(total[0]):>10.3f}")
    print(f"{'ratio to the 2 s budget':<28}{best / 2.0:>10.3f}   (goal ≤ 1)")
    print(f"{'ratio to real time':<28}{best / (hours * 3600):>10.5f}")
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
