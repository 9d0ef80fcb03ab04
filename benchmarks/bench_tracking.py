"""Tracking throughput and memory, measured side by side in one run (no assertions).

Prints three figures for the README:

(a) the full pipeline (decode + face + pose + store) with 1 worker, against the
    raw inference rate of the same models on frames already decoded from the
    same video, in one process (goal: ratio >= 0.9);
(b) 2 workers against 1 (goal: ratio >= 1.8 on 2 free cores);
(c) the peak memory (RSS of the ``annotator track`` process plus its workers,
    sampled with psutil) while tracking a long 720p video (goal: flat, < 1.5 GB).

The test video is scikit-image's astronaut moving over a 1280x720 background,
encoded with PyAV (H.264).  Rates are reported in the steady state (from the
first progress report to the last, which leaves out process start-up and model
loading) and end to end.

``--warmup-study VIDEO`` instead measures how many warm-up frames a fresh
tracker needs (how :data:`annotator.tracking.worker.WARMUP_FRAMES` was chosen):
for starts in the middle of a real clip, the largest blendshape and landmark
differences over the first 10 frames between a fresh tracker warmed up on the
``w`` frames before and a steady track from the clip's start, beside the
track's own frame-to-frame change; then, for the video's start, no warm-up
against replaying frames forward or reversed, holding the first frame (what
tracking does), reversed frames then a hold, and tracking the first frames
backwards; last, the "history spread": the same frames tracked with real
context from the other side (the clip played backwards), how much the
landmarker's output depends on its history at all.  A warm-up length longer
than the earliest start is skipped (it would need frames before frame 0).

Usage::

    python benchmarks/bench_tracking.py      # quick: 768-frame clip, 0.5 min long video
    python benchmarks/bench_tracking.py --warmup-study carphone_pristine.mp4
    python benchmarks/bench_tracking.py --warmup-study single_face.mp4 --starts 16,24,32,40
    python benchmarks/bench_tracking.py --clip-blocks 8 --repeat 3 --minutes 10   # the README figures
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

W, H, FPS = 1280, 720, 30


# -- the test video --------------------------------------------------------------------------
def make_video(path: Path, frames: int) -> Path:
    """The astronaut's head drifting left and right across a 1280x720 frame.

    The portrait is cropped to head and shoulders and scaled to the full frame
    height: the Face Landmarker's detector misses faces much smaller than that
    in a 1280-wide frame.
    """
    import av
    from skimage.data import astronaut
    from skimage.transform import resize

    if path.exists():
        return path
    face = (resize(astronaut()[0:400, 60:460], (H, H), anti_aliasing=True) * 255).astype(np.uint8)
    yy, xx = np.mgrid[0:H, 0:W]
    background = np.stack([60 + 40 * xx / W, 70 + 30 * yy / H, 90 + 0 * xx], -1).astype(np.uint8)
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast", "g": "60"}
        for i in range(frames):
            x = int((W - H) / 2 * (1 + np.sin(2 * np.pi * i / (FPS * 8))))
            frame = background.copy()
            frame[:, x : x + H] = face
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    os.replace(tmp, path)
    return path


# -- (a) raw inference ------------------------------------------------------------------------
def raw_inference_rate(video: Path, n_frames: int, inferences: int) -> tuple[float, float]:
    """``(frames/s, CPU s per frame)`` of face + pose on frames decoded beforehand, one instance each."""
    from annotator.media import open_video
    from annotator.tracking.face import FaceBackend, FaceTracker
    from annotator.tracking.pose import PoseTracker

    with open_video(video) as v:
        frames = [rgb for _, rgb in v.iter_frames(0, min(n_frames, len(v)))]
    backend = FaceBackend.resolve()
    # Warm up once, so library initialisation is not counted (the pipeline's
    # steady-state rate leaves it out too).
    with FaceTracker(backend) as face, PoseTracker() as pose:
        face.process(frames[0], 0)
        pose.process(frames[0])
    with FaceTracker(backend) as face, PoseTracker() as pose:
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(inferences):
            rgb = frames[i % len(frames)]
            face.process(rgb, i * 33)
            pose.process(rgb)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return inferences / elapsed, cpu / inferences


# -- (a), (b) the pipeline --------------------------------------------------------------------
def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the workers)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def pipeline_rates(video: Path, out: Path, workers: int, chunk_frames: int) -> tuple[float, float, float, float]:
    """``(steady frames/s, end-to-end frames/s, start-up s, CPU s per frame)`` of track_videos."""
    from annotator.tracking.run import track_videos

    shutil.rmtree(out, ignore_errors=True)
    cpu0 = cpu_seconds()
    reports: list[tuple[float, int]] = []
    t0 = time.perf_counter()
    (session,) = track_videos(
        [video], out_dir=out, workers=workers, progress=False, chunk_frames=chunk_frames,
        on_progress=lambda done, total: reports.append((time.perf_counter(), done)),
    )
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    total = session.n_frames
    (t_first, n_first), (t_last, n_last) = reports[0], reports[-1]
    steady = (n_last - n_first) / (t_last - t_first) if t_last > t_first else float("nan")
    return steady, total / wall, t_first - t0, cpu / total


def same_tracks(a: Path, b: Path) -> bool:
    import zarr

    ga, gb = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    names = ["time", "face/present", "face/landmarks", "face/blendshapes", "face/matrix", "pose/present", "pose/landmarks"]
    return all(np.array_equal(ga[n][:], gb[n][:], equal_nan=ga[n].dtype.kind == "f") for n in names)


# -- the warm-up study ---------------------------------------------------------------------------
#: Warm-up lengths the study compares at a start in the middle of a clip.
STUDY_WARMUPS = (0, 2, 4, 8, 12, 16, 24)


def warmup_study(video: Path, starts=(24, 40, 56, 72, 88), k: int = 10) -> None:
    """Print how far a fresh Face Landmarker is from a steady one, by warm-up length and lead-in.

    The steady reference is one forward track of the whole clip (after a 32-frame
    reversed lead-in), so at every start it has real history.  "History spread"
    tracks the same clip time-reversed from its end: at the same frames that track
    has as much real context, only from the other side, so its distance from the
    forward track is how much the landmarker's output depends on its history at
    all, the floor no lead-in can go below.
    """
    from annotator.media import open_video
    from annotator.tracking.face import FaceBackend, FaceTracker
    from annotator.tracking.worker import WARMUP_FRAMES

    backend = FaceBackend.resolve()
    with open_video(video) as v:
        frames = [rgb for _, rgb in v.iter_frames(0, len(v))]
        ms = np.round(np.asarray(v.timestamps) * 1000).astype(np.int64)
    lead, W = 32, WARMUP_FRAMES
    after = max(k, 8 + 1) + W  # the frames after a start that the lead-ins below use
    if min(starts) < 1 or max(starts) + after > len(frames) or len(frames) <= lead:
        raise SystemExit(f"{video}: {len(frames)} frames; each start needs a frame before it and {after} "
                         f"from it on, and the clip more than {lead} (--starts)")

    def run(seq):  # [(frame, ms)] -> (blendshapes, landmarks) per entry; NaN where no face
        with FaceTracker(backend) as face:
            out = [face.process(frames[i], int(t)) for i, t in seq]
        blend = np.array([r.blendshapes if r.present else np.full(r.blendshapes.shape, np.nan) for r in out])
        lms = np.array([r.landmarks if r.present else np.full(r.landmarks.shape, np.nan) for r in out])
        return blend, lms

    warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)  # frames without a face
    ref_b, ref_l = (a[lead:] for a in run([(j, -ms[j]) for j in range(lead, 0, -1)] + [(i, ms[i]) for i in range(len(frames))]))
    step_b = np.nanmax(np.abs(np.diff(ref_b, axis=0)), axis=1)
    step_l = np.nanmax(np.abs(np.diff(ref_l, axis=0)).reshape(len(ref_l) - 1, -1), axis=1)
    print(f"steady track's frame-to-frame change: blendshapes median {np.nanmedian(step_b):.3f} "
          f"(90th percentile {np.nanpercentile(step_b, 90):.3f}), landmarks median {np.nanmedian(step_l):.2f} px")

    def errors(track):  # track(s) -> (blendshapes, landmarks) of frames s..s+k-1
        eb, el = [], []
        for s in starts:
            b, lms = track(s)
            eb.append(np.nanmax(np.abs(b - ref_b[s : s + k]), axis=1))
            el.append(np.nanmax(np.abs(lms - ref_l[s : s + k]).reshape(k, -1), axis=1))
        mean_b, mean_l = float(np.nanmean(eb)), float(np.nanmean(el))
        eb, el = np.nanmax(eb, axis=0), np.nanmax(el, axis=0)
        return (f"blendshapes max {np.nanmax(eb):.3f} (frame 0: {eb[0]:.2f}, mean {mean_b:.3f}), "
                f"landmarks max {np.nanmax(el):.2f} px (mean {mean_l:.2f})")

    def fresh(make_lead):  # a fresh tracker: the lead-in, then frames s..s+k-1
        def track(s):
            pre = make_lead(s)
            return tuple(a[len(pre):] for a in run(pre + [(i, ms[i]) for i in range(s, s + k)]))
        return track

    print(f"a fresh tracker at frames {starts}, warmed up on the w frames before (first {k} frames):")
    for w in STUDY_WARMUPS:
        if w > min(starts):  # frames before 0 do not exist (negative indices would wrap round to the end)
            print(f"  w={w:2d}: skipped, start {min(starts)} has only {min(starts)} frames before it")
            continue
        print(f"  w={w:2d}: " + errors(fresh(lambda s, w=w: [(i, ms[i]) for i in range(s - w, s)])))

    def mirrored(s, j):  # the time of the lead-in's entry j frames before s: s's time minus (t[s+j] - t[s])
        return ms[s] - (ms[s + j] - ms[s])

    print("at a video's start (no frames before it):")
    print("  none:             " + errors(fresh(lambda s: [])))
    for w in (8, W):
        print(f"  forward   w={w:2d}:  " + errors(fresh(lambda s, w=w: [(s + j, ms[s] - (ms[s + w] - ms[s + j])) for j in range(w)])))
        print(f"  reverse   w={w:2d}:  " + errors(fresh(lambda s, w=w: [(s + j, mirrored(s, j)) for j in range(w, 0, -1)])))
    # what tracking does (annotator.tracking.worker): frame 0 held at the reversed lead-in's times
    for w in (8, W):
        print(f"  held      w={w:2d}:  " + errors(fresh(lambda s, w=w: [(s, mirrored(s, j)) for j in range(w, 0, -1)])))
    print(f"  reverse {W} + held 8: " + errors(fresh(
        lambda s: [(s + j, mirrored(s, j + 8)) for j in range(W, 0, -1)] + [(s, mirrored(s, j)) for j in range(8, 0, -1)])))

    def backward(s):  # frames s..s+k-1 tracked time-reversed, after W frames of warm-up on the frames after them
        b, lms = run([(i, -ms[i]) for i in range(s + k + W - 1, s - 1, -1)])
        return b[W:][::-1], lms[W:][::-1]

    print(f"  backward w={W:2d}:   " + errors(backward))
    back_b, back_l = (a[::-1] for a in run([(i, -ms[i]) for i in range(len(frames) - 1, -1, -1)]))
    print("history spread (the whole clip tracked time-reversed, against the forward track):")
    print("  at the same frames: " + errors(lambda s: (back_b[s : s + k], back_l[s : s + k])))


# -- (c) memory ------------------------------------------------------------------------------
def tree_rss(proc) -> tuple[int, int]:
    """RSS of ``proc`` and the sum over its descendants, in bytes."""
    import psutil

    own = proc.memory_info().rss
    children = 0
    for p in proc.children(recursive=True):
        try:
            children += p.memory_info().rss
        except psutil.Error:
            pass
    return own, children


def track_memory(video: Path, out: Path, workers: int) -> tuple[float, list[tuple[float, int, int]]]:
    """Run ``annotator track`` in a fresh process; sample its tree's RSS every 0.25 s."""
    import psutil

    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "annotator", "track", str(video), "-o", str(out), "--workers", str(workers), "-q"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    samples: list[tuple[float, int, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                samples.append((time.perf_counter() - t0, *tree_rss(ps)))
            except psutil.Error:
                pass
            stop.wait(0.25)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode:
        raise SystemExit(f"annotator track failed: {err.strip()}")
    return time.perf_counter() - t0, samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip-blocks", type=int, default=4,
                        help="clip length for (a) and (b), in blocks of chunk_frames (default 4: even for 1 and 2 workers)")
    parser.add_argument("--minutes", type=float, default=0.5, help="length of the long video for (c) (default 0.5; use 10)")
    parser.add_argument("--repeat", type=int, default=1, help="alternate the (a)/(b) runs this many times, keep the best")
    parser.add_argument("--raw-frames", type=int, default=96, help="frames decoded into memory for the raw rate")
    parser.add_argument("--chunk-frames", type=int, default=None, help="chunk/block size (default: the store's)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep videos and sessions here (default: a temp dir)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--warmup-study", type=Path, default=None, metavar="VIDEO",
                        help="only measure how many warm-up frames a fresh tracker needs, on a real clip")
    parser.add_argument("--starts", default="24,40,56,72,88",
                        help="frames where the warm-up study starts fresh trackers (comma-separated; 10 frames follow each)")
    args = parser.parse_args(argv)

    from annotator.tracking.run import resolve_chunk_frames
    from annotator.tracking.worker import _silence_native_logs

    _silence_native_logs()  # MediaPipe's INFO lines from the raw-rate models in this process
    if args.warmup_study is not None:
        warmup_study(args.warmup_study, starts=tuple(int(v) for v in args.starts.split(",")))
        return 0

    chunk = resolve_chunk_frames(args.chunk_frames)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_tracking_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        clip_frames = args.clip_blocks * chunk
        long_frames = int(round(args.minutes * 60 * FPS))
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; chunk_frames {chunk}")
        t = time.perf_counter()
        clip = make_video(work / f"astronaut_{W}x{H}_{clip_frames}f.mp4", clip_frames)
        print(f"clip: {clip_frames} frames {W}x{H} @ {FPS} fps (made in {time.perf_counter() - t:.0f} s)")

        # Alternate the measurements and keep the best of each: on a shared
        # machine other work slows some runs down, never speeds one up.
        raws, ones, twos = [], [], []
        for _ in range(args.repeat):
            raws.append(raw_inference_rate(clip, args.raw_frames, max(chunk, 2 * args.raw_frames)))
            ones.append(pipeline_rates(clip, work / "w1", 1, chunk))
            twos.append(pipeline_rates(clip, work / "w2", 2, chunk))
        raw, raw_cpu = max(raws)
        s1, e1, st1, c1 = max(ones)
        s2, e2, st2, c2 = max(twos)
        print(f"(a) raw inference, face + pose on decoded frames, 1 process: {raw:6.2f} frames/s")
        print(f"    pipeline, 1 worker:  {s1:6.2f} frames/s steady, {e1:6.2f} end to end (start-up {st1:.1f} s)")
        print(f"    ratio pipeline / raw: {s1 / raw:.2f} steady, {e1 / raw:.2f} end to end   (goal >= 0.9)")
        print(f"    CPU per frame: raw {1000 * raw_cpu:.0f} ms, pipeline {1000 * c1:.0f} ms "
              f"(decode, IPC and store included; ratio {raw_cpu / c1:.2f})")
        print(f"(b) pipeline, 2 workers: {s2:6.2f} frames/s steady, {e2:6.2f} end to end (start-up {st2:.1f} s)")
        print(f"    ratio 2 workers / 1:  {s2 / s1:.2f} steady, {e2 / e1:.2f} end to end   (goal >= 1.8)")
        # Wall-clock scaling needs two idle cores; CPU per frame shows whether the
        # second worker adds work (it should not) when the machine is shared.
        print(f"    CPU per frame: {1000 * c1:.0f} ms with 1 worker, {1000 * c2:.0f} ms with 2; "
              f"cores kept busy: {c1 * e1:.2f} with 1 worker, {c2 * e2:.2f} with 2 "
              f"(load average now {os.getloadavg()[0]:.1f})")
        same = same_tracks(work / "w1" / f"{clip.stem}.annot" / "tracks.zarr", work / "w2" / f"{clip.stem}.annot" / "tracks.zarr")
        print(f"    same arrays with 1 and 2 workers: {same}")

        if not args.skip_memory and long_frames > 0:
            t = time.perf_counter()
            long = make_video(work / f"astronaut_{W}x{H}_{long_frames}f.mp4", long_frames)
            print(f"long video: {long_frames} frames ({args.minutes:g} min, made in {time.perf_counter() - t:.0f} s)")
            wall, samples = track_memory(long, work / "long", os.cpu_count() or 1)
            arr = np.array([(own, kids) for _, own, kids in samples], float) / 2**30
            rss = arr.sum(axis=1)
            tenths = [float(np.max(part)) for part in np.array_split(rss, 10) if len(part)]
            print(
                f"(c) long video, {os.cpu_count()} workers: {long_frames / wall:.2f} frames/s end to end; "
                f"peak RSS (parent + workers) {rss.max():.2f} GB   (goal: flat, < 1.5 GB)"
            )
            print(f"    peak parent {arr[:, 0].max():.2f} GB, peak workers together {arr[:, 1].max():.2f} GB")
            print("    peak RSS by tenth of the run (GB): " + " ".join(f"{x:.2f}" for x in tenths))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
