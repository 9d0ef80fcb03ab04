"""How long ``annotator dataset`` takes per sample, against PyAV's own encode rate of the same frames.

The project is 20 copies of the tracked sample, each under its own subject, with
1,000 coded segments between them (50 per session, 5-20 frames each, at random
places, every emotion).  The dataset is built with the smallest settings by
default (H.264 clips, no crop, no padding, LOSO), then the same clips' frames,
decoded beforehand, are encoded again with PyAV alone with the same settings.
Printed: the time per sample of both and their ratio (what decoding, track
slices, features, manifest, hashing and the card add to the encoding itself).

    python benchmarks/bench_dataset.py [--session DIR] [--segments 1000] [--sessions 20]
                                       [--crop face] [--pad 3] [--format frames]
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


def make_project(work: Path, sample, n_sessions: int, n_segments: int, seed: int = 0):
    """``n_sessions`` copies of ``sample`` (video, tracks) under subjects s00.., with ``n_segments`` coded segments."""
    from annotator.labels import EMOTIONS
    from annotator.labels.file import make_segment
    from annotator.project import Project
    from annotator.session import Session

    rng = np.random.default_rng(seed)
    project_dir = work / "project"
    Project.init(project_dir)
    per = [n_segments // n_sessions + (1 if i < n_segments % n_sessions else 0) for i in range(n_sessions)]
    with Project.edit(project_dir) as project:
        for i in range(n_sessions):
            folder = work / "videos" / f"s{i:02d}"
            folder.mkdir(parents=True)
            shutil.copyfile(sample.video_path, folder / sample.video_path.name)
            shutil.copytree(sample.root, folder / sample.root.name,
                            ignore=shutil.ignore_patterns("labels", "*.lock", "*.lock.info"))
            (folder / sample.root.name / "labels").mkdir()
            entry = project.add_video(folder / sample.video_path.name, subject=f"s{i:02d}", consent=("dataset",))
            session = Session.open(entry.session)
            labels = session.new_labels("alice")
            for _ in range(per[i]):
                length = int(rng.integers(5, 21))
                onset = int(rng.integers(0, session.n_frames - length))
                apex = onset + int(rng.integers(0, length))
                labels.segments.append(make_segment(labels, onset, apex, onset + length - 1,
                                                    emotion=str(rng.choice(EMOTIONS))))
            session.save_labels(labels)
    return Project.open(project_dir)


def encode_reference(manifest, frames_of: dict, work: Path) -> float:
    """Seconds PyAV takes to encode every sample's frames (already decoded) with the dataset's settings."""
    from annotator.dataset.clips import encode_mp4

    target = work / "reference.mp4"
    total = 0.0
    for row in manifest.itertuples():
        frames = frames_of[row.session][row.start_frame: row.end_frame + 1]
        t = time.perf_counter()
        encode_mp4(frames, target, row.fps)
        total += time.perf_counter() - t
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--session", type=Path, help="a tracked session of the sample (default: track it)")
    parser.add_argument("--segments", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--crop", choices=("face",), default=None)
    parser.add_argument("--pad", type=int, default=0)
    parser.add_argument("--format", choices=("mp4", "frames"), default="mp4")
    args = parser.parse_args(argv)

    import pandas as pd

    from annotator.dataset import build_dataset
    from annotator.session import Session

    work = Path(tempfile.mkdtemp(prefix="bench-dataset-"))
    try:
        if args.session is None:
            from tests.fixtures.sample import track_sample

            print("tracking the sample (once) ...", flush=True)
            sample = track_sample(work / "sample")
        else:
            sample = Session.open(args.session)
        project = make_project(work, sample, args.sessions, args.segments)
        t = time.perf_counter()
        result = build_dataset(project, work / "dataset", split="loso", crop=args.crop, pad=args.pad,
                               format=args.format, size=224)
        built = time.perf_counter() - t
        manifest = result.manifest
        n = len(manifest)
        frames_total = int(manifest["n_frames"].sum())
        with sample.open_video() as video:
            decoded = np.asarray(video[0: len(video)])
        frames_of = {e.id: decoded for e in project.sessions}  # every session is a copy of the sample
        if args.crop:
            print("note: the reference encodes the uncropped frames (a 224 px crop encodes faster)")
        reference = encode_reference(manifest, frames_of, work)
        size = sum(p.stat().st_size for p in (work / "dataset").rglob("*") if p.is_file())
        per_sample, per_ref = built / n, reference / n
        print(f"\n{n} samples ({frames_total} frames, {frames_total / n:.1f} per sample) from {args.sessions} "
              f"sessions; format {args.format}, crop {args.crop or 'none'}, pad {args.pad}")
        rows = [
            ("annotator dataset, whole build", f"{built:.1f} s", f"{1000 * per_sample:.1f} ms/sample"),
            ("PyAV encode of the same frames alone", f"{reference:.1f} s", f"{1000 * per_ref:.1f} ms/sample"),
            ("ratio, dataset / encode", "", f"{per_sample / per_ref:.2f}x"),
            ("dataset on disk", f"{size / 1e6:.1f} MB", f"{size / n / 1e3:.0f} kB/sample"),
        ]
        width = max(len(r[0]) for r in rows)
        for name, total, each in rows:
            print(f"  {name:<{width}}  {total:>9}  {each}")
        pd.set_option("display.width", 120)
        print("\nsamples per split:", dict(sorted(manifest["split"].value_counts().items())))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
