"""The frame proxy: every decoded RGB frame, compressed losslessly, in one flat file.

Layout, in ``cache_dir()/"proxy"/<content key>/`` (:func:`proxy_dir_for`: the first
32 hex digits of the video's sha256, so every copy of a video shares one proxy):

``proxy.bin``
    The frames in order, each the upright H×W×3 uint8 array of the sequential
    decode compressed on its own with Blosc-LZ4 (level 5, no shuffle).
``proxy.npz``
    ``offsets`` (int64, n+1: frame *i* is bytes ``offsets[i]:offsets[i+1]``),
    ``shape`` (H, W, 3) and a format version.  Its modification time is
    refreshed on each use: ``annotator cache --max-size`` drops the least
    recently used proxies first.
``source``
    The real path of the video that built it (for ``annotator cache``).

Because the proxy stores the very arrays the decoder produced, reading it is
exact by construction, whatever the source's bit depth or colour space.  A read
is one ``pread`` plus an LZ4 decompression (~1.3 ms for a 720p frame, less than
half a sequential decode step).  The cost is disk: LZ4 shrinks decoded 720p
frames only to 50-75 % of raw (2.76 MB), i.e. 1.3-2.1 MB per 720p frame depending
on grain, 2.3-3.8 GB per minute at 30 fps.  The build is one sequential decode
with compression (two worker threads) and writing (one thread) overlapped; on two
cores it takes ~12 ms per 720p frame, about 4× the sequential decode, bounded by
LZ4 and the kernel's copy of the data into the page cache.

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
from pathlib import Path

import numpy as np
from numcodecs import Blosc

from ..io import atomic_open, atomic_write_bytes, cache_dir

PROXY_VERSION = 1
BIN_NAME = "proxy.bin"
INDEX_NAME = "proxy.npz"
SOURCE_NAME = "source"


def proxy_root() -> Path:
    """``cache_dir()/"proxy"``: one directory per video content."""
    return cache_dir() / "proxy"


def proxy_dir_for(sha256: str) -> Path:
    """Where the proxy of the video whose bytes hash to ``sha256`` lives."""
    return proxy_root() / sha256[:32]
#: Frames allowed in flight between the decoding thread and the writer.
MAX_IN_FLIGHT = 6
#: Compression workers during a build; each runs single-threaded Blosc.
COMPRESS_THREADS = 2

_CODEC = Blosc(cname="lz4", clevel=5, shuffle=Blosc.NOSHUFFLE)


class FramePack:
    """Read-only access to a complete proxy.

    Use :meth:`open`, which returns ``None`` unless the proxy is complete and
    matches the expected frame count and shape.  :meth:`read` is safe to call
    from several threads (``os.pread`` has no shared file position).
    """

    def __init__(self, directory: Path, offsets: np.ndarray, shape: tuple[int, int, int]):
        self.directory = directory
        self.offsets = offsets
        self.shape = shape
        self._fd = os.open(directory / BIN_NAME, os.O_RDONLY)

    @classmethod
    def open(cls, directory: Path | None, n_frames: int, shape: tuple[int, int, int]) -> FramePack | None:
        """The proxy in ``directory`` when complete and matching, else ``None``."""
        if directory is None:
            return None
        index, data = directory / INDEX_NAME, directory / BIN_NAME
        try:
            with np.load(index, allow_pickle=False) as z:
                if int(z["version"]) != PROXY_VERSION:
                    return None
                offsets = z["offsets"].astype(np.int64)
                got_shape = tuple(int(s) for s in z["shape"])
            size = data.stat().st_size
        except Exception:  # missing or unreadable index: treat as no proxy
            return None
        if got_shape != tuple(shape) or len(offsets) != n_frames + 1 or int(offsets[-1]) != size:
            return None
        try:
            pack = cls(directory, offsets, got_shape)
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
        buf = os.pread(self._fd, stop - start, start)
        out = np.empty(self.shape, np.uint8)
        _CODEC.decode(buf, out=out)
        return out

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


def write_pack(
    directory: Path,
    frames: Iterable[np.ndarray],
    n_frames: int,
    shape: tuple[int, int, int],
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Compress ``frames`` into ``directory/proxy.bin`` atomically and return its path.

    The caller's generator decodes on this thread while ``COMPRESS_THREADS`` workers
    compress (Blosc releases the GIL) and a writer thread appends the blobs in
    order, so decoding, compression and the kernel's copy into the page cache
    overlap.  ``progress(done, total)`` is called after each frame is written.
    Whatever goes wrong, the temporary file is removed and no index is written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    remove_pack(directory)
    offsets = [0]
    blobs: queue.Queue = queue.Queue(maxsize=MAX_IN_FLIGHT)
    failure: list[BaseException] = []

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
            for rgb in frames:
                if failure:
                    break
                if rgb.shape != tuple(shape):
                    raise ValueError(f"frame of shape {rgb.shape}, expected {shape}")
                blobs.put(pool.submit(_CODEC.encode, np.ascontiguousarray(rgb)))
        finally:
            blobs.put(None)
            thread.join()
        if failure:
            raise failure[0]
        if len(offsets) != n_frames + 1:
            raise ValueError(f"got {len(offsets) - 1} frames, expected {n_frames}")
    buf = io.BytesIO()
    np.savez(buf, version=np.int64(PROXY_VERSION), offsets=np.asarray(offsets, np.int64), shape=np.asarray(shape))
    atomic_write_bytes(directory / INDEX_NAME, buf.getvalue())
    return directory / BIN_NAME
