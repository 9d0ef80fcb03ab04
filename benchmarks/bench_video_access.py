"""How fast is frame-exact access, relative to a plain sequential decode?

Writes (or takes with ``--video``) a 720p H.264 file with one keyframe every 250
frames, then measures in one run, on this machine:

* the sequential decode cost per frame (decode + the same RGB conversion), the
  unit every other figure is divided by;
* indexing (first open) and reopening (cached index);
* building the proxy, and its disk cost per frame;
* ±1 steps and random jumps with the proxy, and without it (seek path);
* every proxy format side by side (LZ4 RGB, MagicYUV, FFV1, lossless x264): size,
  build, sequential read and random read, in wall and in CPU time, and every frame
  of every format compared with the source decode.  Random reads are measured like
  for like: blocks of 24 random reads against blocks of 24 frames of the sequential
  decode, in a random order each round, each ratio to the same round's sequential
  block; and, as before, one read at a time between the other formats' reads;
* MagicYUV's settings one at a time (slices, decoder threads, prediction), in
  blocks against the sequential decode;
* why the earlier FFV1 probe was slow: FFV1 decoded as it did (a new frame-threaded
  decoder per packet, ``bgr0``, range coder) against one kept decoder on the
  decoder's own yuv planes;
* OpenCV's ``CAP_PROP_POS_FRAMES`` seek: its cost and how often it returns the
  wrong frame (on this file, and on the VFR and edit-list test fixtures).

Goals: a step ≤ 2×, a random jump ≤ 3× the sequential cost per frame; the proxy
≥ 4× smaller than LZ4 RGB with a random read ≤ 1× a sequential decode, measured
both against the source's decode and against the same proxy read in order; and
what ``build_proxy()`` picks on its own (MagicYUV, or FFV1 when MagicYUV misses
the size goal and FFV1 does not).  Nothing
here asserts on timings; the figures go in docs/benchmarks.md.

Usage::

    python benchmarks/bench_video_access.py [--video FILE] [--frames 600] [--repeats 30] [--formats-only]
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


def seq_runs(path: Path, run: int):
    """A generator: each ``next`` decodes ``run`` frames from the top of the file
    (decode + RGB) and returns (wall, CPU) seconds per frame.

    The clock starts after the first two frames (the frame-threaded decoder's
    start-up) and stops at the last; the container is closed before returning,
    so no decoding thread works on into what is timed next.
    """
    from annotator.media.decoder import to_rgb

    while True:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            stream.codec_context.thread_type = "AUTO"
            k = 0
            for frame in c.decode(stream):
                to_rgb(frame, 0)
                k += 1
                if k == 2:
                    t, cpu = time.perf_counter(), time.process_time()
                if k == run + 2:
                    break
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        yield wall / (k - 2), cpu / (k - 2)


def _timed2(fn) -> tuple[float, float]:
    t, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - cpu


def compare_formats(video: Path, tmp: Path, rng, repeats: int) -> list[tuple[str, str, str]]:
    """Every proxy format built from ``video``, measured side by side (see the module doc)."""
    from annotator.media import open_video
    from annotator.media.proxy import FORMATS, LZ4, FramePack, write_pack

    rows = []
    packs, builds = {}, {}
    with open_video(video, proxy=False) as v:
        n, shape, raw = len(v), v.frame_shape, v.size / len(v)
        for fmt in FORMATS:
            d = tmp / f"pack-{fmt}"
            t = time.perf_counter()
            write_pack(d, (item[1:] for item in v._decode_run(0, n, raw=True)), n, shape, fmt=fmt, rotation=v.rotation)
            builds[fmt] = (time.perf_counter() - t) / n
            packs[fmt] = FramePack.open(d, n, shape)
            assert packs[fmt].format == fmt, f"{fmt} fell back to {packs[fmt].format}"
            print(f"built {fmt}: {builds[fmt] * 1e3:.1f} ms/frame", flush=True)
        # Every frame of every format against the source decode, and each format's sequential read.
        seq_read = {fmt: 0.0 for fmt in FORMATS}
        differ = {fmt: 0 for fmt in FORMATS}
        for i, rgb in v.iter_frames():
            for fmt, pack in packs.items():
                t = time.perf_counter()
                got = pack.read(i)
                seq_read[fmt] += time.perf_counter() - t
                differ[fmt] += not np.array_equal(got, rgb)
    # Random reads, measured two ways.  Wall time says what a user waits on an idle
    # machine; CPU time (all threads of this process) stays put when other jobs share
    # the cores.
    run = min(24, n - 2)
    blocks, seq_blocks = random_blocks(video, packs, n, rng, max(3, repeats // 3), run)
    seq, single = random_singles(video, packs, n, rng, repeats, run)
    unit, unit_cpu = np.median(np.asarray(seq_blocks), axis=0)
    unit1, unit1_cpu = np.median(np.asarray(seq), axis=0)
    lz4_size = packs[LZ4].path.stat().st_size
    rows.append(("formats: sequential decode+rgb", f"{unit * 1e3:.2f} ms/frame wall, {unit_cpu * 1e3:.2f} ms CPU "
                 f"(blocks of {run}; {unit1 * 1e3:.2f} / {unit1_cpu * 1e3:.2f} between single reads)", "1.00×"))
    for fmt, pack in packs.items():
        size = pack.path.stat().st_size
        rows.append((
            f"format {fmt}",
            f"{size / n / 1e6:.3f} MB/frame, {lz4_size / size:.2f}× smaller than LZ4 (raw {raw / size * n:.1f}×), "
            f"exact {n - differ[fmt]}/{n}",
            f"build {builds[fmt] / unit:.2f}×, sequential read {seq_read[fmt] / n / unit:.2f}×",
        ))
        b = np.asarray(blocks[fmt])  # per round: wall, CPU per read, and the p95 read
        paired = b[:, :2] / np.asarray(seq_blocks)
        rows.append((
            f"format {fmt}: random, blocks of {run}",
            f"{np.median(b[:, 0]) * 1e3:.2f} ms wall (p95 read {np.median(b[:, 2]) * 1e3:.2f}), "
            f"{np.median(b[:, 1]) * 1e3:.2f} ms CPU",
            f"{np.median(paired[:, 0]):.2f}× wall, {np.median(paired[:, 1]):.2f}× CPU (goal ≤1×; medians of "
            f"{len(b)} rounds, each to its own sequential block)",
        ))
        rows.append((
            f"format {fmt}: shuffled ÷ in order, same {run} frames",
            f"{np.median(b[:, 5]) * 1e3:.2f} / {np.median(b[:, 3]) * 1e3:.2f} ms wall, "
            f"{np.median(b[:, 6]) * 1e3:.2f} / {np.median(b[:, 4]) * 1e3:.2f} ms CPU",
            f"{np.median(b[:, 5] / b[:, 3]):.2f}× wall, {np.median(b[:, 6] / b[:, 4]):.2f}× CPU (a jump against "
            f"a step through the proxy; intra-only)",
        ))
        c = np.asarray(single[fmt])
        rows.append((
            f"format {fmt}: random, one read between others",
            f"{np.median(c[:, 0]) * 1e3:.2f} ms wall, {np.median(c[:, 1]) * 1e3:.2f} ms CPU",
            f"{np.median(c[:, 0]) / unit1:.2f}× wall, {np.median(c[:, 1]) / unit1_cpu:.2f}× CPU",
        ))
        pack.close()
    rows.append(automatic_choice(video, tmp, lz4_size, unit))
    return rows


def automatic_choice(video: Path, tmp: Path, lz4_size: int, unit: float) -> tuple[str, str, str]:
    """What ``build_proxy()`` picks on its own: MagicYUV, or FFV1 when MagicYUV's sampled
    frames miss the size goal and FFV1's do not (a second pass)."""
    from annotator.media import open_video
    from annotator.media.proxy import FramePack, SizeEstimate

    os.environ["ANNOTATOR_CACHE"] = str(tmp / "auto-cache")
    try:
        with open_video(video, proxy=False) as v:
            t = time.perf_counter()
            path = v.build_proxy()
            build = (time.perf_counter() - t) / len(v)
            pack = FramePack.open(path.parent, len(v), v.frame_shape)
            estimate = SizeEstimate.read(path.parent)
            fmt, size = pack.format, path.stat().st_size
            pack.close()
    finally:
        os.environ["ANNOTATOR_CACHE"] = str(tmp / "cache")
    sampled = f"sampled {estimate.frames} frames: {estimate.ratio:.2f}×" if estimate else "no estimate"
    return ("automatic choice (build_proxy)", f"{fmt}, {lz4_size / size:.2f}× smaller than LZ4 ({sampled})",
            f"build {build / unit:.2f}×")


def _read_each(pack, frames) -> None:
    for i in frames:
        pack.read(i)


def random_blocks(video: Path, packs, n: int, rng, rounds: int, run: int):
    """Like for like: each round runs, in a random order, one block of ``run`` frames
    of the sequential decode and, per format, one block of ``run`` random reads.

    Returns, per format and round, (wall, CPU) per read and the round's p95 read,
    and per round the sequential block's (wall, CPU) per frame.  Each format's
    decoder, tables and buffers are as warm after its first read as the sequential
    decoder is after its first frames, and each block meets the same load.
    """
    runs = seq_runs(video, run)
    next(runs)  # warm-up
    seq, out = [], {fmt: [] for fmt in packs}
    for _ in range(rounds):
        for what in rng.permutation(["seq", *packs]):
            if what == "seq":
                seq.append(next(runs))
                continue
            pack, reads = packs[what], []
            wall, cpu = time.perf_counter(), time.process_time()
            for i in rng.integers(0, n, size=run):
                t = time.perf_counter()
                pack.read(int(i))
                reads.append(time.perf_counter() - t)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            # The same format read in order, from a random start (its own sequential read),
            # and the same frames again in a shuffled order: a jump against a step on the
            # same content.  Each frame is dropped at once, as in the random block.
            start = int(rng.integers(0, n - run + 1))
            order = list(range(start, start + run))
            timed, blocks = {}, {"own": order, "jump": [int(i) for i in rng.permutation(order)]}
            for name in rng.permutation(list(blocks)):
                timed[name] = _timed2(lambda pack=pack, frames=blocks[name]: _read_each(pack, frames))
            own, jump = timed["own"], timed["jump"]
            out[what].append((wall / run, cpu / run, float(np.percentile(reads, 95)),
                              own[0] / run, own[1] / run, jump[0] / run, jump[1] / run))
    runs.close()
    return out, seq


def random_singles(video: Path, packs, n: int, rng, repeats: int, run: int):
    """The earlier measure: one read of each format in turn, a sequential run every
    second round, so each read follows the other formats' work (their decoders'
    threads, tables and frames through the caches)."""
    runs = seq_runs(video, run)
    next(runs)
    seq, out = [], {fmt: [] for fmt in packs}
    for k, i in enumerate(rng.integers(0, n, size=repeats * 2)):
        if k % 2 == 0:
            seq.append(next(runs))
        for fmt in rng.permutation(list(packs)):
            out[fmt].append(_timed2(lambda fmt=fmt, i=i: packs[fmt].read(int(i))))
    runs.close()
    return seq, out


def ffv1_causes(video: Path, frames: int, repeats: int, rng) -> list[tuple[str, str, str]]:
    """FFV1 decoded the way the earlier probe did, and then one change at a time."""
    from fractions import Fraction

    from annotator.media.decoder import to_rgb

    with av.open(str(video)) as c:
        src = []
        for frame in c.decode(video=0):
            src.append(frame)
            if len(src) == frames:
                break
    f0 = src[0]

    def encode(pix_fmt, coder, yuv):
        enc = av.CodecContext.create("ffv1", "w")
        enc.width, enc.height, enc.pix_fmt, enc.time_base, enc.gop_size = f0.width, f0.height, pix_fmt, Fraction(1, 30), 1
        enc.options = {"level": "3", "slices": "4", "coder": coder, "context": "0", "slicecrc": "0"}
        out = []
        for k, frame in enumerate(src):
            fr = frame if yuv else av.VideoFrame.from_ndarray(to_rgb(frame, 0), format="rgb24").reformat(format=pix_fmt)
            fr.pts = k
            out += [bytes(p) for p in enc.encode(fr)]
        out += [bytes(p) for p in enc.encode(None)]
        return out, enc.extradata

    def decoder(extradata, threads):
        ctx = av.CodecContext.create("ffv1", "r")
        ctx.width, ctx.height, ctx.extradata = f0.width, f0.height, extradata
        ctx.thread_type, ctx.thread_count = threads, 2
        return ctx

    def one(ctx, blob):
        got = ctx.decode(av.Packet(blob))
        return got or ctx.decode(None)  # a frame-threaded decoder holds the frame back until flushed

    cases = []
    bgr0, ex_bgr0 = encode("bgr0", "1", False)
    yuv_r, ex_yuv_r = encode(f0.format.name, "1", True)
    yuv_g, ex_yuv_g = encode(f0.format.name, "0", True)

    def fresh(blobs, ex):
        return lambda i: one(decoder(ex, "AUTO"), blobs[i])[0].reformat(format="rgb24").to_ndarray()

    def kept(blobs, ex, yuv):
        ctx = decoder(ex, "SLICE")
        if yuv:
            return lambda i: to_rgb(one(ctx, blobs[i])[0], 0)
        return lambda i: one(ctx, blobs[i])[0].reformat(format="rgb24").to_ndarray()

    cases = [
        ("bgr0, range coder, new frame-threaded decoder per packet (the earlier probe)", bgr0, fresh(bgr0, ex_bgr0)),
        ("bgr0, range coder, one slice-threaded decoder", bgr0, kept(bgr0, ex_bgr0, False)),
        (f"{f0.format.name}, range coder, one decoder, to_rgb", yuv_r, kept(yuv_r, ex_yuv_r, True)),
        (f"{f0.format.name}, Golomb coder, one decoder, to_rgb (format ffv1)", yuv_g, kept(yuv_g, ex_yuv_g, True)),
    ]
    runs = seq_runs(video, min(24, len(src) - 2))
    next(runs)
    seq, cost = [], [[] for _ in cases]
    for k, i in enumerate(rng.integers(0, len(src), size=repeats)):
        if k % 2 == 0:
            seq.append(next(runs))
        for k, (_, _, read) in enumerate(cases):
            cost[k].append(_timed2(lambda read=read, i=i: read(int(i))))
    runs.close()
    unit, unit_cpu = np.median(np.asarray(seq), axis=0)
    rows = [("ffv1: sequential decode+rgb", f"{unit * 1e3:.2f} ms/frame wall, {unit_cpu * 1e3:.2f} ms CPU", "1.00×")]
    for (name, blobs, _), c in zip(cases, cost):
        med, med_cpu = np.median(np.asarray(c), axis=0)
        rows.append((f"ffv1: {name}",
                     f"{med * 1e3:.2f} ms wall, {med_cpu * 1e3:.2f} ms CPU, {sum(map(len, blobs)) / len(blobs) / 1e6:.3f} MB/frame",
                     f"{med / unit:.2f}× wall, {med_cpu / unit_cpu:.2f}× CPU"))
    return rows


def magicyuv_knobs(video: Path, frames: int, rounds: int, rng) -> list[tuple[str, str, str]]:
    """MagicYUV's settings, one at a time: slices, decoder threads, prediction.

    Each variant codes the first ``frames`` frames and reads them in blocks of 24
    random reads (decode + ``to_rgb``), against 24-frame sequential blocks, in a
    random order each round, as :func:`random_blocks` does.
    """
    from fractions import Fraction

    from annotator.media.decoder import to_rgb

    with av.open(str(video)) as c:
        src = [f for _, f in zip(range(frames), c.decode(video=0))]
    f0 = src[0]

    def coded(pred, slices):
        enc = av.CodecContext.create("magicyuv", "w")
        enc.width, enc.height, enc.pix_fmt = f0.width, f0.height, f0.format.name
        enc.time_base, enc.gop_size, enc.thread_count = Fraction(1, 30), 1, 1
        enc.options = {"pred": pred, "slices": str(slices)}
        out = []
        for k, frame in enumerate(src):
            frame.pts = k
            out += list(enc.encode(frame))
        return out

    variants = []
    for pred, slices, threads in [("gradient", 4, 2), ("gradient", 4, 1), ("gradient", 8, 2), ("gradient", 16, 2),
                                  ("gradient", 16, 1), ("left", 4, 2), ("median", 4, 2)]:
        packets = coded(pred, slices)
        ctx = av.CodecContext.create("magicyuv", "r")
        ctx.width, ctx.height = f0.width, f0.height
        ctx.thread_type, ctx.thread_count = "SLICE", threads
        variants.append((f"pred {pred}, {slices} slices, {threads} decoder thread{'s' * (threads > 1)}", packets, ctx))
    run = min(24, len(src) - 2)
    runs = seq_runs(video, run)
    next(runs)
    seq, cost = [], [[] for _ in variants]
    for _ in range(rounds):
        for k in rng.permutation(len(variants) + 1):
            if k == len(variants):
                seq.append(next(runs))
                continue
            _, packets, ctx = variants[k]
            idx = rng.integers(0, len(packets), size=run)
            wall, cpu = _timed2(lambda ctx=ctx, packets=packets, idx=idx: [
                to_rgb(ctx.decode(packets[int(i)])[0], 0) is None for i in idx])
            cost[k].append((wall / run, cpu / run))
    runs.close()
    seq = np.asarray(seq)
    unit, unit_cpu = np.median(seq, axis=0)
    rows = [("magicyuv: sequential decode+rgb", f"{unit * 1e3:.2f} ms/frame wall, {unit_cpu * 1e3:.2f} ms CPU", "1.00×")]
    for (name, packets, _), c in zip(variants, cost):
        c = np.asarray(c)
        paired = np.median(c / seq, axis=0)
        rows.append((f"magicyuv: {name}",
                     f"{np.median(c[:, 0]) * 1e3:.2f} ms wall, {np.median(c[:, 1]) * 1e3:.2f} ms CPU, "
                     f"{sum(p.size for p in packets) / len(packets) / 1e6:.3f} MB/frame",
                     f"{paired[0]:.2f}× wall, {paired[1]:.2f}× CPU"))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", type=Path, help="measure this file instead of a generated one")
    ap.add_argument("--frames", type=int, default=600, help="frames in the generated video (default 600)")
    ap.add_argument("--repeats", type=int, default=30, help="steps/jumps measured per case (default 30)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--formats-only", action="store_true", help="only the proxy formats and the FFV1 causes")
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

        rows += compare_formats(video, tmp, rng, args.repeats)
        rows += ffv1_causes(video, min(args.frames, 60), args.repeats, rng)
        rows += magicyuv_knobs(video, min(args.frames, 90), max(3, args.repeats // 3), rng)
        if args.formats_only:
            return _print(rows)

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

        jump, step = np.median(results["proxy"]["random"]), np.median(results["proxy"]["step +1"])
        rows.append(("proxy: random ÷ proxy: step +1", f"{jump * 1e3:.2f} / {step * 1e3:.2f} ms",
                     f"{jump / step:.2f}× (a jump against a step, both through VideoSource)"))
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
    return _print(rows)


def _print(rows) -> int:
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print(f"{'case':<{w0}}  {'median / p95 / mean (or value)':<{w1}}  ratio to sequential (same order)")
    for a, b, c in rows:
        print(f"{a:<{w0}}  {b:<{w1}}  {c}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
