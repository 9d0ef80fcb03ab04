"""``annotator batch`` on a 2-worker LocalCluster against ``annotator track --workers 2`` (no assertions).

Prints, measured in one run on the same corpus (clips made from
:func:`bench_tracking.make_video`, 1280x720 H.264, face and pose):

(a) throughput, batch / track, with the cluster already running (what a long
    batch sees) and end to end (the cluster's start-up included); goal >= 0.95;
(b) the scheduler's overhead per block: the wall time of no-op tasks, one per
    block, through the same ``client.get_executor()`` the batch uses, and the
    wall-time difference between the two runs divided by the blocks;
(c) the peak RSS of each worker process during the batch (psutil, 4 samples a second);
(d) that both runs wrote identical arrays.

The orders alternate over ``--repeat`` rounds (track first, then batch first)
so that a machine that changes speed does not favour one side.

With ``--long-minutes M`` it measures what one worker needs instead: one
M-minute 1280x720 clip (made once into ``$ANNOTATOR_CACHE/bench``, never
committed) tracked by ``annotator batch`` on a 2-worker LocalCluster, with
(e) the peak RSS of each worker process (psutil, once a second) and the
throughput, and (f) the scheduler's overhead per block: the workers' wall
time not spent inside a task (Dask's task stream), per block.

Usage::

    python benchmarks/bench_batch.py                       # quick: 3 clips of 384 frames
    python benchmarks/bench_batch.py --clips 4 --frames 768 --repeat 2
    nice python benchmarks/bench_batch.py --long-minutes 10  # memory per worker, 10 min of 720p
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tracking import make_video  # noqa: E402


def same_arrays(a: Path, b: Path) -> bool:
    import zarr

    ga, gb = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    for name in ["time", "face/present", "face/landmarks", "face/blendshapes", "face/matrix", "pose/landmarks"]:
        x, y = np.asarray(ga[name][:]), np.asarray(gb[name][:])
        if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            return False
    return True


def run_track(videos: list[Path], out: Path) -> float:
    from annotator.tracking.run import track_videos

    t0 = time.perf_counter()
    track_videos(videos, out_dir=out, workers=2, progress=False)
    return time.perf_counter() - t0


def run_batch_on(client, videos: list[Path], out: Path, every: float = 0.25,
                 log_every: float | None = None) -> tuple[float, dict[str, int]]:
    from annotator.batch.run import run_batch

    peaks: dict[str, int] = {}
    stop = threading.Event()

    def rss() -> int:
        import psutil

        return psutil.Process().memory_info().rss

    def sample() -> None:
        logged = time.perf_counter()
        while not stop.wait(every):
            try:
                for addr, value in client.run(rss).items():
                    peaks[addr] = max(peaks.get(addr, 0), value)
            except Exception:  # noqa: BLE001 - a worker between tasks may not answer at once
                pass
            if log_every and time.perf_counter() - logged >= log_every:
                # So that a run stopped early (a loaded machine) still leaves its figures.
                logged = time.perf_counter()
                print(f"  {logged - t0:.0f} s: peak RSS per worker so far "
                      + ", ".join(f"{v / 2**20:.0f} MB" for v in sorted(peaks.values())), file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    report = run_batch(videos, out, client=client, progress=False)
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    assert report.ok, report.format_table()
    return wall, peaks


def _noop(x):
    return x


def scheduler_overhead(client, n: int) -> float:
    """Seconds per task of ``n`` no-op tasks through ``get_executor`` (submit to result)."""
    from concurrent.futures import wait

    ex = client.get_executor(retries=3, pure=False)
    wait([ex.submit(_noop, i) for i in range(8)])  # warm the connection
    t0 = time.perf_counter()
    wait([ex.submit(_noop, i) for i in range(n)])
    return (time.perf_counter() - t0) / n


def long_video(minutes: float) -> tuple[float, int, dict]:
    """(e) and (f) on one ``minutes``-long 720p clip: wall time, frames, peak RSS per worker, overhead."""
    from distributed import get_task_stream

    from annotator.batch.cluster import connect
    from annotator.io import cache_dir

    frames = int(round(minutes * 60 * 30))
    folder = cache_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    video = make_video(folder / f"long720p_{frames}.mp4", frames)
    made = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="bench_batch_long_"))
    try:
        with connect(None, workers=2, retries=3) as client:
            client.wait_for_workers(2)
            with get_task_stream(client) as stream:
                wall, peaks = run_batch_on(client, [video], tmp / "out", every=1.0, log_every=60.0)
            per_task = scheduler_overhead(client, 200)
        tasks = [t for t in stream.data if "track_blocks" in str(t.get("key", ""))]
        busy = sum(s["stop"] - s["start"] for t in tasks for s in t["startstops"] if s["action"] == "compute")
        blocks = -(-frames // 192)
        idle = (2 * wall - busy) / blocks
        print(f"long clip: {frames} frames ({minutes:g} min, 1280x720 30 fps, face + pose), {blocks} blocks in "
              f"{len(tasks)} tasks; made in {made:.0f} s (cached: {video}); {os.cpu_count()} cores")
        print(f"(e) batch on 2 workers: {wall:.1f} s, {frames / wall:.1f} frames/s; peak RSS per worker: "
              + ", ".join(f"{v / 2**20:.0f} MB" for v in sorted(peaks.values())))
        print(f"(f) scheduler round trip per no-op task: {per_task * 1000:.2f} ms; worker time outside tasks "
              f"per block: {idle * 1000:.0f} ms ({idle / (2 * wall / blocks) * 100:.1f}% of a block's share)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--frames", type=int, default=384, help="frames per clip (192 per block)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds, alternating which side runs first")
    parser.add_argument("--long-minutes", type=float, default=None,
                        help="measure memory per worker on one clip this long instead (10 for the figure)")
    args = parser.parse_args(argv)
    if args.long_minutes:
        return long_video(args.long_minutes)

    from annotator.batch.cluster import connect

    tmp = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    try:
        videos = [make_video(tmp / f"clip{i}.mp4", args.frames) for i in range(args.clips)]
        frames = args.clips * args.frames
        blocks = args.clips * -(-args.frames // 192)
        t_start = time.perf_counter()
        with connect(None, workers=2, retries=3) as client:
            client.wait_for_workers(2)
            startup = time.perf_counter() - t_start
            tracks, batches, peaks = [], [], {}
            for r in range(args.repeat):
                order = ["track", "batch"] if r % 2 == 0 else ["batch", "track"]
                for side in order:
                    out = tmp / f"{side}{r}"
                    if side == "track":
                        tracks.append(run_track(videos, out))
                    else:
                        wall, p = run_batch_on(client, videos, out)
                        batches.append(wall)
                        for k, v in p.items():
                            peaks[k] = max(peaks.get(k, 0), v)
            per_task = scheduler_overhead(client, 200)
        same = all(same_arrays(tmp / f"track0/{v.stem}.annot/tracks.zarr", tmp / f"batch0/{v.stem}.annot/tracks.zarr") for v in videos)
        t_track, t_batch = min(tracks), min(batches)
        print(f"corpus: {args.clips} clips x {args.frames} frames (1280x720, face + pose) = {frames} frames, {blocks} blocks; "
              f"{os.cpu_count()} cores; best of {args.repeat}")
        print(f"(a) track --workers 2: {t_track:.1f} s ({frames / t_track:.1f} frames/s); "
              f"batch on a running 2-worker LocalCluster: {t_batch:.1f} s ({frames / t_batch:.1f} frames/s)")
        print(f"    ratio batch/track, cluster running: {t_track / t_batch:.3f}  (goal >= 0.95)")
        print(f"    ratio batch/track, end to end (cluster start {startup:.1f} s): {t_track / (t_batch + startup):.3f}")
        print(f"(b) scheduler round trip per no-op task: {per_task * 1000:.2f} ms; "
              f"wall difference per block: {(t_batch - t_track) / blocks * 1000:+.0f} ms")
        print("(c) peak RSS per worker: " + ", ".join(f"{v / 2**20:.0f} MB" for v in sorted(peaks.values())))
        print(f"(d) identical arrays: {same}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
