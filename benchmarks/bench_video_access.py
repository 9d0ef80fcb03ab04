"""How fast is frame-exact access, relative to a plain sequential decode?

Writes (or takes with ``--video``) a 720p H.264 file with one keyframe every 250
frames, then measures in one run, on this machine:

* the sequential decode cost per frame (decode + the same RGB conversion), the
  unit every other figure is divided by;
* indexing (first open) and reopening (cached index);
* building the proxy, and its disk cost per frame;
* ±1 steps and random jumps with the proxy, and without it (seek path);
* OpenCV's ``CAP_PROP_POS_FRAMES`` seek: its cost and how often it returns the
  wrong frame (on this file, and on the VFR and edit-list test fixtures).

Goals: a step ≤ 2×, a random jump ≤ 3× the sequential cost per frame.  Nothing
here asserts on timings; the figures go in the README.

Usage::

    python benchmarks/bench_video_access.py [--video FILE] [--frames 600] [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def make_video(path: Path, frames: int) -> None:
    """720p H.264, 30 fps, keyframe every 250 frames, the astronaut drifting over noise."""
    from skimage.data import astronaut

    rng = np.random.default_rng(0)
    face = astronaut()
    h, w = 720, 1280
    background = (rng.normal(110, 25, size=(h // 8, w // 8, 3))).clip(0, 255).astype(np.uint8)
    background = np.kron(background, np.ones((8, 8, 1), np.uint8))
    # A few precomputed noise fields, cycled: camera-like grain without paying
    # for fresh noise on every frame.
    grain = [rng.normal(0, 3, size=(h, w, 3)).astype(np.int16) for _ in range(7)]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20", "g": "250", "keyint_min": "250", "sc_threshold": "0"}
        for i in range(frames):
            img = background.copy()
            x = int(380 + 300 * np.sin(i / 40))
            y = int(100 + 60 * np.sin(i / 23))
            img[y : y + 512, x : x + 512] = face
            img = (img.astype(np.int16) + grain[i % len(grain)]).clip(0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def sequential(path: Path) -> float:
    """Seconds per frame of decode + RGB conversion, the unit of every ratio."""
    from annotator.media.decoder import to_rgb

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        t = time.perf_counter()
        n = 0
        for frame in c.decode(stream):
            to_rgb(frame, 0)
            n += 1
        return (time.perf_counter() - t) / n


def timed(fn, items) -> np.ndarray:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - t)
    return np.asarray(out)


def access_costs(v, rng, repeats: int) -> dict[str, np.ndarray]:
    """Step forward, step backward and random-jump costs in seconds, cache emptied first."""
    n = len(v)
    res = {}
    v._cache.clear()
    start = int(rng.integers(n // 4, n // 2))
    v[start]
    res["step +1"] = timed(lambda i: v[i], range(start + 1, start + 1 + repeats))
    v._cache.clear()
    start = int(rng.integers(n // 2, n - 1))
    v[start]
    res["step -1"] = timed(lambda i: v[i], range(start - 1, start - 1 - repeats, -1))
    v._cache.clear()
    jumps = rng.integers(0, n, size=repeats)
    res["random"] = timed(lambda i: (v._cache.clear(), v[int(i)]), jumps)
    return res


def opencv_check(path: Path, exact, rng, repeats: int, number_of=None):
    """Cost of OpenCV's frame seek, and how many of its frames are not the requested one.

    ``exact(i)`` gives our frame *i*; with ``number_of`` (the fixtures' frame-number
    reader) the frame is identified directly, else by the nearest of ``exact(i-5 … i+5)``.
    """
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        return None
    n_cv = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    wrong, costs, differ = 0, [], 0
    idx = rng.integers(0, n_cv, size=repeats)
    for i in idx:
        i = int(i)
        t = time.perf_counter()
        cap.set(cv2.CAP_PROP_POS_FRAMES, i)
        ok, bgr = cap.read()
        costs.append(time.perf_counter() - t)
        if not ok:
            wrong += 1
            continue
        rgb = bgr[..., ::-1]
        if number_of is not None:
            wrong += number_of(rgb) != i
        else:
            lo, hi = max(i - 5, 0), min(i + 6, n_cv)
            errs = [np.abs(rgb.astype(np.int16) - exact(j)).mean() for j in range(lo, hi)]
            wrong += lo + int(np.argmin(errs)) != i
            differ += not np.array_equal(rgb, exact(i))
    cap.release()
    return np.asarray(costs), wrong, differ, len(idx), n_cv


def q(a: np.ndarray) -> tuple[float, float]:
    return float(np.median(a)), float(np.percentile(a, 95))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", type=Path, help="measure this file instead of a generated one")
    ap.add_argument("--frames", type=int, default=600, help="frames in the generated video (default 600)")
    ap.add_argument("--repeats", type=int, default=30, help="steps/jumps measured per case (default 30)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix="bench_video_"))
    # A private cache: the proxy of a benchmark file should not linger in ~/.cache.
    os.environ["ANNOTATOR_CACHE"] = str(tmp / "cache")
    from annotator.media import open_video

    rng = np.random.default_rng(args.seed)
    rows: list[tuple[str, str, str]] = []
    try:
        video = args.video
        if video is None:
            video = tmp / "bench_720p.mp4"
            t = time.perf_counter()
            make_video(video, args.frames)
            print(f"wrote {video.name}: {args.frames} frames in {time.perf_counter() - t:.1f} s", flush=True)

        seq = sequential(video)
        rows.append(("sequential decode+rgb", f"{seq * 1e3:.2f} ms/frame", "1.00×"))

        t = time.perf_counter()
        v = open_video(video, proxy=False)
        t_index = time.perf_counter() - t
        n = len(v)
        t = time.perf_counter()
        open_video(video, proxy=False).close()
        t_reopen = time.perf_counter() - t
        rows.append(("index (first open)", f"{t_index * 1e3:.0f} ms", f"{t_index / seq / n:.3f}× per frame"))
        rows.append(("reopen (cached index)", f"{t_reopen * 1e3:.1f} ms", ""))
        print(f"{v}, {len(v._index.keyframes)} keyframes", flush=True)

        results = {}
        results["no proxy"] = access_costs(v, rng, args.repeats)

        t = time.perf_counter()
        vp = open_video(video, proxy=True)
        t_build = time.perf_counter() - t
        mb = vp.proxy_path.stat().st_size / n / 1e6
        rows.append(("proxy build", f"{t_build:.1f} s ({t_build / n * 1e3:.2f} ms/frame)", f"{t_build / n / seq:.2f}×"))
        rows.append(("proxy disk", f"{mb:.2f} MB/frame", f"raw {vp.size / n / 1e6:.2f}"))
        results["proxy"] = access_costs(vp, rng, args.repeats)

        for mode in ("proxy", "no proxy"):
            for case, costs in results[mode].items():
                med, p95, mean = *q(costs), float(costs.mean())
                goal = "≤3×" if case == "random" else "≤2×"
                rows.append(
                    (
                        f"{mode}: {case}",
                        f"{med * 1e3:.2f} / {p95 * 1e3:.2f} / {mean * 1e3:.2f} ms",
                        f"{med / seq:.2f}× / {p95 / seq:.2f}× / {mean / seq:.2f}× (goal {goal})",
                    )
                )

        # Exact frames for the OpenCV check come from the proxy, i.e. our sequential decode.
        cv = opencv_check(video, lambda j: vp[j], rng, min(args.repeats, 20))
        if cv is not None:
            costs, wrong, differ, total, n_cv = cv
            med, p95, mean = *q(costs), float(costs.mean())
            rows.append(
                (
                    "opencv: random",
                    f"{med * 1e3:.2f} / {p95 * 1e3:.2f} / {mean * 1e3:.2f} ms",
                    f"{med / seq:.2f}× / {p95 / seq:.2f}× / {mean / seq:.2f}×",
                )
            )
            detail = f"pixels differ {differ}/{total}, frame count {n_cv} vs {n}"
            rows.append(("opencv: wrong frame", f"{wrong}/{total}", detail))
        v.close()
        vp.close()

        # The messy files: OpenCV against the frame numbers drawn into the fixtures.
        try:
            from tests.fixtures import videos as fx

            d = tmp / "fixtures"
            d.mkdir()
            for spec in (fx.make_h264_vfr_mp4(d), fx.make_editlist_mp4(d)):
                with open_video(spec.path) as fv:
                    first = spec.numbers[0]  # frames dropped by the edit list shift the numbers
                    cv = opencv_check(
                        spec.path,
                        fv.__getitem__,
                        rng,
                        20,
                        number_of=lambda rgb, first=first: fx.read_frame_number(rgb) - first,
                    )
                    if cv is not None:
                        _, wrong, _, total, n_cv = cv
                        rows.append((f"opencv on {spec.name}", f"wrong {wrong}/{total}", f"count {n_cv} vs {len(fv)}"))
        except ImportError:
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print(f"{'case':<{w0}}  {'median / p95 / mean (or value)':<{w1}}  ratio to sequential (same order)")
    for a, b, c in rows:
        print(f"{a:<{w0}}  {b:<{w1}}  {c}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
