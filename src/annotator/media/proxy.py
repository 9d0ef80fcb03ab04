"""The frame proxy: every decoded frame, compressed losslessly, in one flat file.

Layout, in ``cache_dir()/"proxy"/<content key>/`` (:func:`proxy_dir_for`: the first
32 hex digits of the video's sha256, so every copy of a video shares one proxy):

``proxy.bin``
    The frames in order, each compressed on its own (intra-only), in one of the
    :data:`FORMATS`:

    ``"magicyuv"`` (the default, format version 2)
        The decoder's own frame (e.g. yuv420p, before the RGB conversion) coded
        with FFmpeg's MagicYUV (gradient prediction + Huffman, lossless, 4 slices
        decoded on two threads; median prediction is ~5 % smaller but takes ~1.7×
        the CPU to decode).  A read
        decodes that one packet and applies :func:`.decoder.to_rgb`, the very
        conversion a sequential decode applies, to the same planes.
    ``"ffv1"``
        The same with FFV1 (Golomb coder, 4 slices): 1.2-1.8× smaller than
        MagicYUV, 2-4× slower to decode.  Built on its own when MagicYUV misses
        the size goal (:data:`TARGET_RATIO`) on the sampled frames and FFV1 does
        not: clean or tiny footage (QCIF, clean HEVC), where LZ4 already
        shrinks RGB 3×.
    ``"x264"``
        Lossless H.264 (qp 0, every frame an IDR), on request only: as small as
        FFV1 and slower still (``benchmarks/bench_video_access.py`` measures every
        format side by side).
    ``"lz4-rgb"`` (format version 1, still read)
        The upright H×W×3 RGB array compressed with Blosc-LZ4.  Used when the
        decoder's pixel format is one MagicYUV cannot hold (10-bit, 4:1:1, …) or
        when a coded frame does not convert back to the very same RGB.
``proxy.npz``
    ``offsets`` (int64, n+1: frame *i* is bytes ``offsets[i]:offsets[i+1]``),
    ``shape`` (H, W, 3 upright), the format version and name, and for a coded
    proxy the codec's extradata, the pixel format, size, colour space and range
    of the decoder's frames, and the rotation; and the sizes of the sampled frames
    (one in :data:`SAMPLE_EVERY`) as LZ4 RGB, as coded and in the alternative
    format (:class:`SizeEstimate`).  Its modification time is refreshed
    on each use: ``annotator cache --max-size`` drops the least recently used
    proxies first.
``source``
    The real path of the video that built it (for ``annotator cache``).

Exactness is checked, not assumed: while building, every coded frame is decoded
back and converted, and must equal the RGB array of the sequential decode, else
the build starts again as ``"lz4-rgb"`` (which stores those arrays themselves).

Sizes (720p bench clip with grain): LZ4 RGB ~1.96 MB a frame, MagicYUV ~0.42 MB
(4.7× smaller).  Every format is intra-only, so a random read costs what a read in
order costs; against the source's own sequential decode, a MagicYUV read costs
1.2-1.6× its CPU on 360p-720p H.264, less on QCIF and HEVC, against ~0.5× for LZ4,
and FFV1 2-3× (see docs/benchmarks.md).  The build is one sequential decode with coding and
checking in two worker threads and writing in a third.

Writing is atomic: frames go to a temporary file that is renamed to
``proxy.bin`` when complete, and ``proxy.npz`` is written (atomically) last.
A proxy is used only when ``proxy.npz`` exists and agrees with ``proxy.bin``'s
size, so a crash mid-build, or a stale temporary file, is never read.
"""

from __future__ import annotations

import io
import os
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numcodecs import Blosc

from ..io import atomic_open, atomic_write_bytes, cache_dir
from .decoder import to_rgb

#: 1: Blosc-LZ4 RGB (no ``format`` field); 2: any of :data:`FORMATS`.
PROXY_VERSION = 2
BIN_NAME = "proxy.bin"
INDEX_NAME = "proxy.npz"
SOURCE_NAME = "source"
LZ4 = "lz4-rgb"
#: What new proxies are written in.
DEFAULT_FORMAT = "magicyuv"

#: The size goal (issue 17): a proxy at least this many times smaller than LZ4 RGB.
TARGET_RATIO = 4.0
#: What the default format gives way to when, on the sampled frames, it falls short of
#: :data:`TARGET_RATIO` and this format does not (clean or small footage: QCIF, clean
#: HEVC).  FFV1 is 1.2-1.8× smaller than MagicYUV and 2-4× slower to decode, still one
#: intra frame a read.  (FFV1 keeps 10-bit planes bit-exactly too, but swscale converts
#: its decoded frames to other RGB than the source's, up to 21 levels apart, so 10-bit
#: sources stay LZ4 RGB.)
ALTERNATIVE = {"magicyuv": "ffv1"}
#: One frame in this many (the first included) is also sized as LZ4 RGB and in the
#: alternative format while building, to estimate both ratios: at 720p an FFV1 and an
#: LZ4 coding (~25 ms) every 30 frames, ~0.8 ms a frame on the coding threads.
SAMPLE_EVERY = 30

#: Coded formats: (encoder, decoder, encoder options).  Every frame is coded alone.
CODECS: dict[str, tuple[str, str, dict[str, str]]] = {
    "magicyuv": ("magicyuv", "magicyuv", {"pred": "gradient", "slices": "4"}),
    "ffv1": ("ffv1", "ffv1", {"level": "3", "slices": "4", "coder": "0", "context": "0", "slicecrc": "0"}),
    "x264": ("libx264", "h264", {"qp": "0", "preset": "veryfast", "tune": "zerolatency"}),
}
FORMATS = (LZ4, *CODECS)


def proxy_root() -> Path:
    """``cache_dir()/"proxy"``: one directory per video content."""
    return cache_dir() / "proxy"


def proxy_dir_for(sha256: str) -> Path:
    """Where the proxy of the video whose bytes hash to ``sha256`` lives."""
    return proxy_root() / sha256[:32]


#: Threads of the kept decoder of a coded proxy (slice threads: one frame at a time).
DECODE_THREADS = 2
#: Frames allowed in flight between the decoding thread and the writer.
MAX_IN_FLIGHT = 6
#: Coding workers during a build; each runs single-threaded.
COMPRESS_THREADS = 2

_LZ4 = Blosc(cname="lz4", clevel=5, shuffle=Blosc.NOSHUFFLE)


class NotExact(Exception):
    """A coded frame did not convert back to the sequential decode's RGB array."""


def can_code(fmt: str, frame: av.VideoFrame) -> bool:
    """Whether ``fmt``'s encoder takes the decoder's ``frame`` as it is."""
    if fmt == LZ4:
        return True
    try:
        formats = av.Codec(CODECS[fmt][0], "w").video_formats or ()
    except Exception:  # codec missing from this FFmpeg build
        return False
    return frame.format.name in {f.name for f in formats}


class _Meta:
    """What a coded frame needs besides its bytes to become the same RGB array."""

    def __init__(self, fmt: str, pix_fmt: str, width: int, height: int, colorspace: int,
                 color_range: int, rotation: int, extradata: bytes | None):
        self.fmt, self.pix_fmt, self.width, self.height = fmt, pix_fmt, width, height
        self.colorspace, self.color_range, self.rotation = colorspace, color_range, rotation
        self.extradata = extradata or None

    @classmethod
    def of(cls, fmt: str, frame: av.VideoFrame, rotation: int, extradata: bytes | None = None) -> _Meta:
        return cls(fmt, frame.format.name, frame.width, frame.height, int(frame.colorspace),
                   int(frame.color_range), rotation, extradata)

    def decoder(self) -> av.CodecContext:
        ctx = av.CodecContext.create(CODECS[self.fmt][1], "r")
        ctx.width, ctx.height = self.width, self.height
        if self.extradata:
            ctx.extradata = self.extradata
        ctx.thread_type, ctx.thread_count = "SLICE", DECODE_THREADS
        return ctx

    def rgb(self, ctx: av.CodecContext, packet: av.Packet) -> np.ndarray:
        """The RGB array of one coded frame; ``packet`` must be padded (see :func:`read_packet`)."""
        frames = ctx.decode(packet)
        if len(frames) != 1:
            raise NotExact(f"a packet gave {len(frames)} frames")
        frame = frames[0]
        frame.colorspace, frame.color_range = self.colorspace, self.color_range
        return to_rgb(frame, self.rotation)


def read_packet(fd: int, offset: int, size: int, path: Path) -> av.Packet:
    """``size`` bytes at ``offset`` of ``fd``, read straight into a new packet.

    ``av.Packet(size)`` is FFmpeg's own allocation, with the zeroed padding its
    bitstream readers may read past the end (``av.Packet(bytes)`` wraps the bytes
    object as it is, without padding), and the kernel copies the bytes into it
    once, with no ``bytes`` object in between.
    """
    packet = av.Packet(size)
    got = os.preadv(fd, [packet], offset)
    if got != size:
        raise OSError(f"{path}: proxy truncated (frame at byte {offset}: read {got} of {size} bytes)")
    return packet


class FramePack:
    """Read-only access to a complete proxy.

    Use :meth:`open`, which returns ``None`` unless the proxy is complete and
    matches the expected frame count and shape.  :meth:`read` is safe to call
    from several threads (``os.pread`` has no shared file position, and each
    thread decodes with a codec context of its own).
    """

    def __init__(self, directory: Path, offsets: np.ndarray, shape: tuple[int, int, int], meta: _Meta | None = None):
        self.directory = directory
        self.offsets = offsets
        self.shape = shape
        self.meta = meta
        self.format = LZ4 if meta is None else meta.fmt
        self._local = threading.local()
        self._fd = os.open(directory / BIN_NAME, os.O_RDONLY)

    @classmethod
    def open(cls, directory: Path | None, n_frames: int, shape: tuple[int, int, int]) -> FramePack | None:
        """The proxy in ``directory`` when complete and matching, else ``None``."""
        if directory is None:
            return None
        index, data = directory / INDEX_NAME, directory / BIN_NAME
        try:
            with np.load(index, allow_pickle=False) as z:
                version = int(z["version"])
                offsets = z["offsets"].astype(np.int64)
                got_shape = tuple(int(s) for s in z["shape"])
                meta = None
                if version == PROXY_VERSION and str(z["format"]) != LZ4:
                    meta = _Meta(str(z["format"]), str(z["pix_fmt"]), int(z["width"]), int(z["height"]),
                                 int(z["colorspace"]), int(z["color_range"]), int(z["rotation"]),
                                 z["extradata"].tobytes())
                    if meta.fmt not in CODECS:
                        return None
                elif version not in (1, PROXY_VERSION):
                    return None
            size = data.stat().st_size
        except Exception:  # missing or unreadable index: treat as no proxy
            return None
        if got_shape != tuple(shape) or len(offsets) != n_frames + 1 or int(offsets[-1]) != size:
            return None
        try:
            pack = cls(directory, offsets, got_shape, meta)
        except OSError:
            return None
        try:
            os.utime(index)  # last used, for the cache's size limit
        except OSError:
            pass
        return pack

    @property
    def path(self) -> Path:
        return self.directory / BIN_NAME

    def read(self, i: int) -> np.ndarray:
        """Frame ``i`` as a new writable H×W×3 uint8 array."""
        start, stop = int(self.offsets[i]), int(self.offsets[i + 1])
        if self.meta is None:
            out = np.empty(self.shape, np.uint8)
            _LZ4.decode(os.pread(self._fd, stop - start, start), out=out)
            return out
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = self._local.ctx = self.meta.decoder()
        return self.meta.rgb(ctx, read_packet(self._fd, start, stop - start, self.path))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def remove_pack(directory: Path) -> None:
    """Delete a proxy's index first, so a half-replaced proxy is never used."""
    for name in (INDEX_NAME, BIN_NAME):
        try:
            os.unlink(directory / name)
        except FileNotFoundError:
            pass


@dataclass
class SizeEstimate:
    """Bytes of the sampled frames: as LZ4 RGB, as coded, and in the alternative format
    (``alt`` is 0 when the alternative could not code one of them)."""

    frames: int = 0
    lz4: int = 0
    coded: int = 0
    alt: int = 0
    alt_format: str = ""

    @property
    def ratio(self) -> float:
        """How many times smaller than LZ4 RGB the proxy is (on the sampled frames)."""
        return self.lz4 / self.coded if self.coded else 0.0

    @property
    def alt_ratio(self) -> float:
        return self.lz4 / self.alt if self.alt else 0.0

    def better_format(self) -> str | None:
        """The alternative format, when the proxy misses :data:`TARGET_RATIO` and it does
        better by at least a tenth; else ``None``."""
        if self.alt_format and self.ratio < TARGET_RATIO and self.alt_ratio > 1.1 * self.ratio:
            return self.alt_format
        return None

    def fields(self) -> dict[str, np.ndarray]:
        return {"sample_frames": np.int64(self.frames), "sample_lz4": np.int64(self.lz4),
                "sample_coded": np.int64(self.coded), "sample_alt": np.int64(self.alt),
                "sample_alt_format": np.asarray(self.alt_format)}

    @classmethod
    def from_index(cls, z) -> SizeEstimate | None:
        """The estimate in an open index (``np.load``); ``None`` when it has none (older proxies)."""
        try:
            return cls(int(z["sample_frames"]), int(z["sample_lz4"]), int(z["sample_coded"]),
                       int(z["sample_alt"]), str(z["sample_alt_format"]))
        except (KeyError, TypeError, ValueError):
            return None

    @classmethod
    def read(cls, directory: Path) -> SizeEstimate | None:
        """The estimate in a proxy's index; ``None`` when it has none or cannot be read."""
        try:
            with np.load(directory / INDEX_NAME, allow_pickle=False) as z:
                return cls.from_index(z)
        except Exception:  # missing or unreadable index
            return None


def replace_pack(source: Path, directory: Path) -> None:
    """Move the complete proxy in ``source`` over the one in ``directory``.

    The old index goes first, the new index last, so a reader opening meanwhile finds
    no proxy (and reads the video) rather than one file of each; a reader that
    already has the old proxy open keeps reading its unlinked file.
    """
    os.unlink(directory / INDEX_NAME)
    os.replace(source / BIN_NAME, directory / BIN_NAME)
    os.replace(source / INDEX_NAME, directory / INDEX_NAME)


class _Coder:
    """Codes and checks frames on the worker threads, one codec pair per thread."""

    def __init__(self, fmt: str, first: av.VideoFrame | None, rotation: int, alt: str | None = None):
        self.fmt = fmt
        self.meta = None if fmt == LZ4 else _Meta.of(fmt, first, rotation)
        self.alt = alt if alt in CODECS and first is not None and can_code(alt, first) else None
        self.estimate = SizeEstimate(alt_format=self.alt or "")
        self._alt_failed = False
        self._local = threading.local()
        self._lock = threading.Lock()
        if self.meta is not None:
            try:
                self._contexts()  # the first encoder's extradata goes to every decoder
            except av.FFmpegError as exc:
                raise NotExact(f"{fmt}: {exc}") from None

    def _encoder(self, fmt: str) -> av.CodecContext:
        name, _, options = CODECS[fmt]
        enc = av.CodecContext.create(name, "w")
        enc.width, enc.height, enc.pix_fmt = self.meta.width, self.meta.height, self.meta.pix_fmt
        enc.time_base, enc.gop_size, enc.thread_count = Fraction(1, 30), 1, 1
        enc.options = dict(options)
        enc.open()
        return enc

    def _alt_size(self, frame: av.VideoFrame) -> int:
        """Bytes of ``frame`` in the alternative format (sized only, not kept)."""
        enc = getattr(self._local, "alt", None)
        if enc is None:
            enc = self._local.alt = self._encoder(self.alt)
        packets = enc.encode(frame)
        return sum(p.size for p in packets)

    def _contexts(self) -> tuple[av.CodecContext, av.CodecContext]:
        pair = getattr(self._local, "pair", None)
        if pair is None:
            enc = self._encoder(self.fmt)
            with self._lock:  # the decoder needs the extradata of the first encoder
                if self.meta.extradata is None and enc.extradata:
                    self.meta.extradata = enc.extradata
            pair = self._local.pair = (enc, self.meta.decoder())
            self._local.pts = 0
        return pair

    def code(self, rgb: np.ndarray, frame: av.VideoFrame | None, sample: bool = False) -> bytes:
        """``frame`` coded (checked against ``rgb``); a ``sample`` is also sized as LZ4 RGB
        and in the alternative format, for :class:`SizeEstimate`."""
        rgb = np.ascontiguousarray(rgb)
        blob = self._code(rgb, frame)
        if sample:
            lz4 = len(blob) if self.meta is None else len(_LZ4.encode(rgb))
            try:
                alt = self._alt_size(frame) if self.alt else 0
            except av.FFmpegError:
                alt = 0
            with self._lock:
                e = self.estimate
                e.frames, e.lz4, e.coded = e.frames + 1, e.lz4 + lz4, e.coded + len(blob)
                self._alt_failed |= not alt
                e.alt = 0 if self._alt_failed else e.alt + alt  # a partial sum would mislead
        return blob

    def _code(self, rgb: np.ndarray, frame: av.VideoFrame | None) -> bytes:
        if self.meta is None:
            return _LZ4.encode(rgb)
        if (frame.format.name, frame.width, frame.height) != (self.meta.pix_fmt, self.meta.width, self.meta.height):
            raise NotExact("the decoder's frames change format mid-stream")
        try:
            enc, dec = self._contexts()
            frame.pts = self._local.pts = self._local.pts + 1
            packets = enc.encode(frame)
            if len(packets) != 1:
                raise NotExact(f"the encoder gave {len(packets)} packets for a frame")
            blob = bytes(packets[0])
            same = np.array_equal(self.meta.rgb(dec, packets[0]), rgb)  # the encoder's packet is padded
        except av.FFmpegError as exc:  # a frame this codec refuses: the caller stores RGB
            raise NotExact(f"{self.fmt}: {exc}") from None
        if not same:
            raise NotExact("a coded frame converts to different RGB")
        return blob


def write_pack(
    directory: Path,
    frames: Iterable[tuple[np.ndarray, av.VideoFrame | None]],
    n_frames: int,
    shape: tuple[int, int, int],
    progress: Callable[[int, int], None] | None = None,
    *,
    fmt: str = DEFAULT_FORMAT,
    rotation: int = 0,
    sample_every: int = SAMPLE_EVERY,
) -> Path:
    """Code ``frames`` into ``directory/proxy.bin`` atomically and return its path.

    ``frames`` yields ``(rgb, frame)``: the upright RGB array of the sequential
    decode and the decoder's frame it came from (``None`` is allowed for
    ``"lz4-rgb"``).  When the first frame's pixel format cannot be coded in
    ``fmt``, the proxy is ``"lz4-rgb"``.
    One frame in ``sample_every`` is also sized as LZ4 RGB and in the alternative;
    the index keeps the sums (:meth:`SizeEstimate.read`).  Raises :class:`NotExact` (leaving
    nothing behind) when a coded frame does not convert back to its RGB array;
    the caller then builds again in ``"lz4-rgb"``.

    The caller's generator decodes on this thread while ``COMPRESS_THREADS``
    workers code and check (codecs release the GIL) and a writer thread appends
    the blobs in order, so decoding, coding and the kernel's copy into the page
    cache overlap.  ``progress(done, total)`` is called after each frame is
    written.  Whatever goes wrong, the temporary file is removed and no index is
    written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown proxy format {fmt!r}; one of {', '.join(FORMATS)}")
    directory.mkdir(parents=True, exist_ok=True)
    remove_pack(directory)
    offsets = [0]
    blobs: queue.Queue = queue.Queue(maxsize=MAX_IN_FLIGHT)
    failure: list[BaseException] = []
    coder: _Coder | None = None
    submitted = 0

    def writer(fh) -> None:
        try:
            while (future := blobs.get()) is not None:
                blob = future.result()
                fh.write(blob)
                offsets.append(offsets[-1] + len(blob))
                if progress is not None:
                    progress(len(offsets) - 1, n_frames)
        except BaseException as exc:
            failure.append(exc)
            # Keep consuming so the producer never blocks on a full queue.
            while blobs.get() is not None:
                pass

    pool = ThreadPoolExecutor(COMPRESS_THREADS, thread_name_prefix="proxy")
    with atomic_open(directory / BIN_NAME) as fh, pool:
        thread = threading.Thread(target=writer, args=(fh,), name="proxy-writer", daemon=True)
        thread.start()
        try:
            for rgb, frame in frames:
                if failure:
                    break
                if rgb.shape != tuple(shape):
                    raise ValueError(f"frame of shape {rgb.shape}, expected {shape}")
                if coder is None:
                    chosen = fmt if frame is not None and can_code(fmt, frame) else LZ4
                    coder = _Coder(chosen, frame, rotation, ALTERNATIVE.get(fmt) if chosen == fmt else None)
                blobs.put(pool.submit(coder.code, rgb, frame, submitted % sample_every == 0))
                submitted += 1
        finally:
            blobs.put(None)
            thread.join()
        if failure:
            raise failure[0]
        if len(offsets) != n_frames + 1:
            raise ValueError(f"got {len(offsets) - 1} frames, expected {n_frames}")
    fields = {"version": np.int64(PROXY_VERSION), "offsets": np.asarray(offsets, np.int64),
              "shape": np.asarray(shape), "format": np.asarray(LZ4)}
    meta = None if coder is None else coder.meta
    if coder is not None:
        fields.update(coder.estimate.fields())
    if meta is not None:
        fields.update(format=np.asarray(meta.fmt), pix_fmt=np.asarray(meta.pix_fmt),
                      width=np.int64(meta.width), height=np.int64(meta.height),
                      colorspace=np.int64(meta.colorspace), color_range=np.int64(meta.color_range),
                      rotation=np.int64(meta.rotation),
                      extradata=np.frombuffer(meta.extradata or b"", np.uint8))
    buf = io.BytesIO()
    np.savez(buf, **fields)
    atomic_write_bytes(directory / INDEX_NAME, buf.getvalue())
    return directory / BIN_NAME
