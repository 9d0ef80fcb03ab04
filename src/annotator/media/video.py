"""Frame-exact, fast random access to a video: :func:`open_video` and :class:`VideoSource`.

Frame *i* is, bit for bit, the *i*-th frame of a plain sequential decode of the
file (every frame the decoder outputs, converted by :func:`.decoder.to_rgb`,
then rotated upright), whatever the order of access.  Three paths serve it:

1. a small LRU cache of recent frames;
2. the proxy (:mod:`.proxy`) when one is built: one intra-coded frame to decode,
   in any order, about 1-1.6× a sequential decode step (against ~50× for a random
   seek in a long GOP);
3. otherwise the original file: a +1 step continues the live decoder (one
   decode, no seek); anything else seeks to the keyframe our own index says
   (:mod:`.decoder`) and decodes forward, which costs on average half a GOP.
   Stepping backwards converts the frames just before the target into the
   cache, so only one step in ``cache_frames`` pays for a seek.

Frame counts, rates, sizes and times come from a demux-only index
(:mod:`.index`), cached so that reopening is instant.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import VideoError
from ..io import atomic_write_text, sha256_file
from .decoder import Decoder, to_rgb
from .frames import FrameSource
from .images import ImageSequence, is_image_source
from .index import VideoIndex, cache_root, check_file, video_key
from .probe import load_or_build_index
from .proxy import (
    BIN_NAME,
    DEFAULT_FORMAT,
    LZ4,
    SOURCE_NAME,
    FramePack,
    NotExact,
    SizeEstimate,
    proxy_dir_for,
    replace_pack,
    write_pack,
)

ProxyMode = Literal["auto"] | bool


def open_video(
    path: str | os.PathLike,
    *,
    proxy: ProxyMode = "auto",
    cache_frames: int = 16,
    fps: float | None = None,
) -> FrameSource:
    """Open a video, a photo or a folder of numbered frames for frame-exact random access.

    Parameters
    ----------
    path : str or os.PathLike
        Any video file FFmpeg reads (MP4/MOV, MKV/WebM, AVI, …), an image
        (JPEG, PNG, BMP, TIFF), or a folder of numbered images (see :mod:`.images`).
    proxy : {"auto", True, False}
        Videos only: ``"auto"`` reads from a proxy when one was built before, and
        otherwise decodes the original (it never builds one implicitly); ``True``
        builds the proxy now if missing (one sequential decode); ``False`` never
        uses one.  Images need none.
    cache_frames : int
        How many recent RGB frames to keep in memory.
    fps : float, optional
        Photos and frame folders only: their frame rate (default 1 for a photo,
        30 for a folder).  A video file keeps the times of its own stream.

    Returns
    -------
    FrameSource
        A :class:`VideoSource` for a video file, an :class:`~.images.ImageSequence`
        for a photo or a folder; both the same lazy ``(T, H, W, 3)`` uint8 array.

    Raises
    ------
    VideoError
        When the file is missing, empty, not a video or image, has no video
        stream, or is truncated; for a folder, see :func:`.images.scan_folder`.
    ValueError
        For an unknown ``proxy`` mode, or ``fps`` given for a video file.
    """
    if proxy not in ("auto", True, False):
        raise ValueError(f"proxy must be 'auto', True or False, not {proxy!r}")
    if is_image_source(path):
        return ImageSequence(path, fps=fps, cache_frames=cache_frames)
    if fps is not None:
        raise ValueError(f"{path}: fps applies to photos and frame folders; a video file keeps its own timestamps")
    return VideoSource(path, proxy=proxy, cache_frames=cache_frames)


class VideoSource(FrameSource):
    """A video file as a lazy, read-only ``(T, H, W, 3)`` uint8 RGB array.

    Indexing follows numpy exactly, on every axis (see :class:`.frames.FrameSource`):
    ``v[i]`` (negative allowed) is one H×W×3 frame, ``v[a:b:s]`` and ``v[[i, j]]``
    stack frames, and trailing keys such as ``v[i, ...]`` or ``v[2:4, :10, :10]``
    apply to the frames as they would to ``np.stack(frames)``.  Single frames are
    returned read-only because they are shared with the cache; copy them to draw
    on them.  Converting the whole object with ``np.asarray`` raises, so that
    nothing decodes a whole video by accident; ``v[:]`` does it on purpose.

    Safe to use from several threads: frame access is serialised by a lock.

    Parameters
    ----------
    path : str or os.PathLike
        The video file.
    proxy : {"auto", True, False}
        See :func:`open_video`.
    cache_frames : int
        Size of the LRU cache of RGB frames.

    Attributes
    ----------
    path : Path
        The file, as given.
    fps : float
        Nominal (average) frame rate of the stream.
    codec : str
        FFmpeg's decoder name, e.g. ``"h264"``, ``"hevc"``, ``"vp9"``.
    rotation : int
        Counter-clockwise rotation in degrees (0, 90, 180, 270) from the display
        matrix, already applied to every frame returned.
    width, height : int
        Size of the upright frames.
    """

    def __init__(self, path: str | os.PathLike, *, proxy: ProxyMode = "auto", cache_frames: int = 16):
        if proxy not in ("auto", True, False):
            raise ValueError(f"proxy must be 'auto', True or False, not {proxy!r}")
        self.path = Path(path)
        self._proxy_mode = proxy
        self._cache_size = max(int(cache_frames), 1)
        check_file(self.path)
        self._dir = _cache_dir_for(self.path)
        self._index: VideoIndex = load_or_build_index(self.path, self._dir)
        ix = self._index
        self.rotation = ix.rotation
        self.codec = ix.codec
        self.fps = float(ix.fps)
        if ix.rotation % 180:
            self.width, self.height = ix.height, ix.width
        else:
            self.width, self.height = ix.width, ix.height
        self._timestamps = ix.timestamps()
        self._timestamps.flags.writeable = False
        self._lock = threading.RLock()
        self._decoder: Decoder | None = None
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._last_request: int | None = None
        self._closed = False
        self._pack: FramePack | None = None
        if proxy is not False:
            # Only a hash already known: opening never reads the whole file to look for a proxy.
            self._pack = FramePack.open(self._proxy_dir(hash_now=False), len(self), self.frame_shape)
        if proxy is True and self._pack is None:
            self.build_proxy()

    # -- array-like surface -------------------------------------------------------------

    def __len__(self) -> int:
        return self._index.n_frames

    @property
    def timestamps(self) -> np.ndarray:
        """Presentation time of each frame in seconds, relative to the first frame.

        Taken from the stream's pts (not from ``fps``), so variable-frame-rate files
        get their true times.  The first frame is at 0.0; add :attr:`start_time`
        for times on the stream's own clock.  Read-only float64 array.
        """
        return self._timestamps

    @property
    def start_time(self) -> float:
        """Stream time of the first frame in seconds (what :attr:`timestamps` subtracts)."""
        return self._index.start_time()

    def _known_sha256(self) -> str | None:
        """The hash kept beside the index, or ``None`` when it was never computed."""
        kept = None if self._dir is None else self._dir / "sha256"
        if kept is not None:
            try:
                text = kept.read_text(encoding="ascii").strip()
                if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
                    return text
            except (OSError, UnicodeDecodeError):
                pass
        return None

    def _proxy_dir(self, hash_now: bool) -> Path | None:
        """The proxy's directory, keyed by the file's content (``None`` without a cache,
        or when the hash is unknown and not ``hash_now``)."""
        if self._dir is None:
            return None
        digest = self.sha256 if hash_now else self._known_sha256()
        return None if digest is None else proxy_dir_for(digest)

    @cached_property
    def sha256(self) -> str:
        """sha256 of the file's bytes (hex).

        Kept in the cache beside the index, under the same key (real path, size,
        modification time): hashing an hour of footage takes seconds, and
        ``annotator track`` asks on every run and every resume.  The proxy is
        keyed by it, so copies of a video share one proxy.
        """
        known = self._known_sha256()
        if known is not None:
            return known
        kept = None if self._dir is None else self._dir / "sha256"
        digest = sha256_file(self.path)
        if kept is not None:
            try:
                atomic_write_text(kept, digest + "\n")
            except OSError:
                pass  # a read-only cache only costs the hash next time
        return digest

    def __repr__(self) -> str:
        return self._describe() + (", proxy)" if self._pack is not None else ")")

    def __reduce__(self):
        # Dask workers get a fresh handle on the same file, not the live decoder.
        return (_reopen, (os.fspath(self.path), self._proxy_mode, self._cache_size))

    def close(self) -> None:
        """Release the decoder, the proxy file and the cache; later reads raise."""
        with self._lock:
            self._closed = True
            if self._decoder is not None:
                self._decoder.close()
                self._decoder = None
            if self._pack is not None:
                self._pack.close()
                self._pack = None
            self._cache.clear()

    # -- frame access -------------------------------------------------------------------

    def _frame(self, i: int) -> np.ndarray:
        with self._lock:
            self._check_open()
            backward = self._last_request is not None and i < self._last_request
            self._last_request = i
            hit = self._cache.get(i)
            if hit is not None:
                self._cache.move_to_end(i)
                return hit
            if self._pack is not None:
                return self._remember(i, self._pack.read(i))
            if self._decoder is None:
                self._decoder = Decoder(self.path, self._index)
            on_frame = None
            if backward:
                # Stepping back through a GOP would otherwise re-decode it per step.
                first = i - self._cache_size + 1

                def on_frame(idx, frame):
                    if idx >= first and idx not in self._cache:
                        self._remember(idx, self._rgb(idx, frame))

            try:
                frame = self._decoder.advance_to(i, on_frame)
            except BaseException:
                # A decoder that failed half-way is in no known state: start afresh next time.
                self._decoder.close()
                self._decoder = None
                raise
            return self._remember(i, self._rgb(i, frame))

    def _rgb(self, i: int, frame) -> np.ndarray:
        """:func:`.decoder.to_rgb`, refusing frames whose size differs from the first."""
        rgb = to_rgb(frame, self.rotation)
        if rgb.shape != self.frame_shape:
            raise VideoError(
                self.path,
                f"frame {i} is {rgb.shape[1]}×{rgb.shape[0]} but the video starts at "
                f"{self.width}×{self.height}; size changes mid-stream are not supported",
            )
        return rgb

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, rgb)`` for frames ``start … stop-1`` in one forward pass.

        Reads the proxy when one is in use; otherwise decodes once from the
        keyframe before ``start`` with a decoder of its own, so it neither
        disturbs nor waits for random access.  The arrays equal ``v[index]``
        and are new, writable arrays.
        """
        n = len(self)
        start, stop, _ = slice(start, stop).indices(n)
        if start >= stop:
            return
        self._check_open()
        pack = self._pack
        if pack is not None:
            for i in range(start, stop):
                yield i, pack.read(i)
            return
        yield from self._decode_run(start, stop)

    def _decode_run(self, start: int, stop: int, raw: bool = False) -> Iterator[tuple]:
        """``(index, rgb)`` for ``start … stop-1`` from the original file, one decoder,
        one pass; a frame the index predicts but the decoder does not give is an error.
        With ``raw``, ``(index, rgb, frame)``: the decoder's frame too."""
        dec = Decoder(self.path, self._index)
        try:
            frame = dec.advance_to(start)
            rgb = self._rgb(start, frame)
            yield (start, rgb, frame) if raw else (start, rgb)
            for expected in range(start + 1, stop):
                got = dec.next_raw()
                if got is None or got[0] != expected:
                    raise VideoError(
                        self.path, f"the decoder skipped frame {expected} that the index predicts"
                    )
                rgb = self._rgb(expected, got[1])
                yield (expected, rgb, got[1]) if raw else (expected, rgb)
        finally:
            dec.close()

    # -- proxy --------------------------------------------------------------------------

    @property
    def has_proxy(self) -> bool:
        """True when a complete proxy for this file exists (and, unless
        ``proxy=False``, is now used for reads)."""
        with self._lock:
            if self._pack is not None:
                return True
            pack = FramePack.open(self._proxy_dir(hash_now=False), len(self), self.frame_shape)
            if pack is None:
                return False
            if self._proxy_mode is False or self._closed:
                pack.close()
            else:
                self._pack = pack  # built meanwhile, e.g. by another process
            return True

    @property
    def proxy_path(self) -> Path | None:
        """Where this file's proxy lives (or would live); ``None`` without a cache dir."""
        directory = self._proxy_dir(hash_now=True)
        return None if directory is None else directory / "proxy.bin"

    def build_proxy(
        self, progress: Callable[[int, int], None] | None = None, *, proxy_format: str | None = None
    ) -> Path:
        """Decode the whole file once into the proxy and return its path.

        Costs one sequential decode (conversion to RGB included) with coding and
        checking overlapped, and ~0.4 MB of disk per 720p frame in the default
        format (see :mod:`.proxy`).  Random access keeps working meanwhile.
        Unless the source was opened with ``proxy=False``, later reads use the proxy.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(done, total)`` after each frame (again from 0 if a
            coded frame fails the exactness check and the build restarts as LZ4 RGB,
            or when a second pass builds the alternative format).
        proxy_format : str, optional
            One of :data:`.proxy.FORMATS`, used as it is (LZ4 RGB if its frames do
            not convert back exactly).  By default MagicYUV, and when its sampled
            frames are less than :data:`.proxy.TARGET_RATIO` times smaller than LZ4
            RGB and FFV1's are, a second pass builds FFV1 and keeps it if smaller;
            the MagicYUV proxy serves reads meanwhile.
        """
        self._check_open()
        if self._dir is None:
            raise VideoError(self.path, "no writable cache directory to hold the proxy (set $ANNOTATOR_CACHE)")
        directory = self._proxy_dir(hash_now=True)
        try:
            path = self._write_pack(directory, (proxy_format or DEFAULT_FORMAT, LZ4), progress)
            self._use_pack(directory)
            # Short of the size goal where the alternative format is not (clean or tiny
            # footage): build that one beside it, reading the first meanwhile.
            better = None if proxy_format else (SizeEstimate.read(directory) or SizeEstimate()).better_format()
            if better is not None:
                self._replace_with(directory, better, progress)
        except OSError as exc:
            raise VideoError(self.path, f"cannot write the proxy in {directory} ({exc.strerror or exc})") from None
        try:  # what `annotator cache` lists as the proxy's video (the last copy that built it)
            atomic_write_text(directory / SOURCE_NAME, os.path.realpath(self.path) + "\n")
        except OSError:
            pass
        return path

    def _write_pack(self, directory: Path, formats, progress) -> Path:
        """One pass of the decoder into ``directory`` per format tried: the first of
        ``formats`` whose coded frames convert back exactly (the last one's
        :class:`NotExact` is raised)."""
        n = len(self)

        def one_pass(fmt: str) -> Path:
            frames = (item[1:] for item in self._decode_run(0, n, raw=True))
            return write_pack(directory, frames, n, self.frame_shape, progress, fmt=fmt, rotation=self.rotation)

        for fmt in formats[:-1]:
            try:
                return one_pass(fmt)
            except NotExact:  # this decoder's frames do not survive the codec: try the next
                pass
        return one_pass(formats[-1])

    def _use_pack(self, directory: Path) -> None:
        with self._lock:
            if self._proxy_mode is not False and not self._closed:
                if self._pack is not None:
                    self._pack.close()
                self._pack = FramePack.open(directory, len(self), self.frame_shape)

    def _replace_with(self, directory: Path, fmt: str, progress) -> None:
        """Build the proxy again in ``fmt`` (in ``directory/alt``) and keep it if smaller.

        Only a saving: when this pass fails (its frames not exact, or the disk full
        part-way) the first proxy, complete and in use, stays, and nothing of this
        pass is left behind.
        """
        alt = directory / "alt"
        try:
            self._write_pack(alt, (fmt,), progress)
            if (alt / BIN_NAME).stat().st_size < (directory / BIN_NAME).stat().st_size:
                replace_pack(alt, directory)
                self._use_pack(directory)
        except (NotExact, OSError):
            pass  # the first proxy stays
        finally:
            shutil.rmtree(alt, ignore_errors=True)


def _cache_dir_for(path: Path) -> Path | None:
    """This video's directory in the cache, or ``None`` when the cache is unusable."""
    try:
        d = cache_root() / video_key(path)
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return d


def _reopen(path: str, proxy: ProxyMode, cache_frames: int) -> VideoSource:
    return VideoSource(path, proxy=proxy, cache_frames=cache_frames)
