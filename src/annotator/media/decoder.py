"""A decoder that knows which frame it is at, and seeks by its own index.

Container seeks are treated as hints.  After a seek we identify the packet we
landed on (by file position, else by pts/dts) in the :class:`VideoIndex`; if we
landed after the keyframe we wanted we seek earlier, if before it we drop packets
up to it, so decoding always starts *exactly* at the chosen keyframe.  Decoded
frames are then identified by pts (or by counting, see :mod:`.index`); when the
target frame is not among them (HEVC RASL pictures, open-GOP B-frames, a decoder
that skips something) we restart one keyframe earlier.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator

import av
import av.error
import numpy as np
from av.video.reformatter import VideoReformatter

from ..errors import VideoError
from .index import NOPTS, VideoIndex, open_container

#: Threads of the RGB conversion.  One: with a kept swscale context (see :func:`to_rgb`)
#: a single thread was the fastest in wall and CPU time at 360p and 720p (0.45 ms wall,
#: 0.29 ms CPU a 720p frame, against 0.59 / 0.31 ms for two kept threads and 0.88 /
#: 0.36 ms for two threads made afresh per frame), bit-identical (tests check every
#: fixture against PyAV's default conversion), and a kept context with no worker
#: threads stays safe across ``fork`` (a forked child has none of its parent's threads).
RGB_THREADS = 1
#: Keyframes to step back before giving up and decoding from the start of the file.
MAX_STEP_BACK = 3


#: One swscale context per thread (:func:`to_rgb`); a context is not thread-safe.
_RGB = threading.local()


def to_rgb(frame: av.VideoFrame, rotation: int) -> np.ndarray:
    """A decoded frame as a C-contiguous H×W×3 uint8 RGB array, rotated upright.

    This is *the* conversion: the proxy, random access and sequential iteration
    all use it, so every path returns the same bits.  Each thread keeps one
    swscale context: ``frame.reformat`` would make a new one for every frame (with
    two threads, a new thread pool each time: ~0.3 ms of CPU at 720p, 40 % of the
    conversion); a kept context gives the very same bits.
    """
    reformatter = getattr(_RGB, "reformatter", None)
    if reformatter is None:
        reformatter = _RGB.reformatter = VideoReformatter()
    rgb = reformatter.reformat(frame, format="rgb24", threads=RGB_THREADS).to_ndarray()
    if rotation:
        # The display matrix rotates counter-clockwise by ``rotation`` degrees, as
        # np.rot90 does for positive k on an image with rows going down.
        rgb = np.rot90(rgb, k=rotation // 90)
    return np.ascontiguousarray(rgb)


class Decoder:
    """One input container and codec context, positioned at a known frame.

    Parameters
    ----------
    path : str or os.PathLike
        The video file.
    index : VideoIndex
        Its index; frame numbers are positions in ``index.frame_pts``.
    """

    def __init__(self, path: str | os.PathLike, index: VideoIndex):
        self.path = path
        self.index = index
        self._container = None
        self._pts_to_frame: dict[int, int] | None = None
        self._pkt_lookup: dict | None = None
        self._lookup_by_pos = False
        self._open()

    # -- state ------------------------------------------------------------------------

    def _open(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = open_container(self.path)
        self._stream = self._container.streams[self.index.stream_index]
        # Frame threading is bit-exact and roughly halves decode time on two cores.
        self._stream.codec_context.thread_type = "AUTO"
        # From the top of the file the first packet is packet 0 even if unrecognised.
        self._reset(self._demux(0, prev=-1), first_frame=0)

    def _reset(self, packets: Iterator[tuple[int, av.Packet]], first_frame: int) -> None:
        self._packets = packets
        self._pending: deque[tuple[int, av.VideoFrame]] = deque()
        self._flushed = False
        #: Decode index of the last packet sent to the decoder.
        self.fed = -1
        #: Frame number of the last frame handed out (-1: none since the last seek).
        self.last_out = first_frame - 1
        #: Counted mode: frame number of the next frame the decoder outputs.
        self._counter = first_frame

    def close(self) -> None:
        # ``_packets`` is a generator of a bound method: a reference cycle that
        # would keep the stream, its codec buffers and the pending frames (tens
        # of MB at 720p) alive until the cyclic GC happens to run.
        self._packets = iter(())
        self._pending.clear()
        self._stream = None
        if self._container is not None:
            self._container.close()
            self._container = None

    # -- packets ----------------------------------------------------------------------

    def _identify(self, packet: av.Packet) -> int | None:
        """Decode index of ``packet`` in the index, or ``None`` when unknown."""
        if self._pkt_lookup is None:
            pos = self.index.pkt_pos
            self._lookup_by_pos = bool(np.all(pos >= 0)) and len(np.unique(pos)) == len(pos)
            if self._lookup_by_pos:
                self._pkt_lookup = {int(p): d for d, p in enumerate(pos)}
            else:
                pairs = zip(self.index.pkt_pts.tolist(), self.index.pkt_dts.tolist(), strict=True)
                self._pkt_lookup = {}
                for d, pair in enumerate(pairs):
                    self._pkt_lookup.setdefault(pair, d)
        if self._lookup_by_pos:
            return self._pkt_lookup.get(packet.pos if packet.pos is not None else -1)
        pts = NOPTS if packet.pts is None else packet.pts
        dts = NOPTS if packet.dts is None else packet.dts
        return self._pkt_lookup.get((pts, dts))

    def _demux(self, start: int, prev: int | None = None) -> Iterator[tuple[int, av.Packet]]:
        """Packets from the container's position on, numbered, dropping those before ``start``.

        ``prev`` is the number of the packet before the container's position, when known.
        """
        try:
            for packet in self._container.demux(self._stream):
                if packet.size == 0:
                    continue
                d = self._identify(packet)
                if d is None:
                    # Positions can differ from the index for exotic demuxers; packets
                    # still come in decode order, so continue the numbering.
                    if prev is None:
                        raise _Unknown
                    d = prev + 1
                prev = d
                if d < start:
                    continue
                yield d, packet
        except av.error.FFmpegError as exc:
            raise self._error(f"demuxing failed ({exc.strerror or exc})") from None

    def _error(self, what: str) -> VideoError:
        near = f" near frame {self.last_out + 1}" if self.last_out >= 0 else ""
        return VideoError(self.path, f"truncated or corrupt{near}: {what}")

    # -- positioning ------------------------------------------------------------------

    def _start(self, kd: int) -> None:
        """Position so that the next packet sent to the decoder is packet ``kd``."""
        first_frame = int(self.index.shown_before[kd])
        keys = self.index.keyframes
        k = int(np.searchsorted(keys, kd))
        # Candidate seek targets: the keyframe itself, then a few earlier ones in case
        # the container's own index puts us after it.
        for j in range(k, max(k - MAX_STEP_BACK, -1), -1):
            ts = self.index.seek_ts(int(keys[j]))
            if ts is None:
                break
            try:
                self._container.seek(ts, stream=self._stream, backward=True)
            except av.error.FFmpegError:
                break
            self._stream.codec_context.flush_buffers()
            packets = self._demux(kd)
            try:
                first = next(packets)
            except (StopIteration, _Unknown):
                continue
            if first[0] == kd:
                self._reset(_chain(first, packets), first_frame)
                return
        # Reopening reads from the first packet: always right, only slower.
        self._open()
        self._reset(self._demux(kd, prev=-1), first_frame)

    def _decode_more(self) -> bool:
        """Send one packet (or the final flush) to the decoder; False at end of stream."""
        if self._flushed:
            return False
        cc = self._stream.codec_context
        try:
            item = next(self._packets, None)
            if item is None:
                frames = cc.decode(None)
                self._flushed = True
            else:
                self.fed, packet = item
                frames = cc.decode(packet)
        except av.error.FFmpegError as exc:
            raise self._error(f"the decoder failed ({exc.strerror or exc})") from None
        except _Unknown:
            raise self._error("a packet is not in the index") from None
        for frame in frames:
            if self.index.counted:
                idx = self._counter
                self._counter += 1
            else:
                if self._pts_to_frame is None:
                    self._pts_to_frame = {int(p): i for i, p in enumerate(self.index.frame_pts)}
                idx = self._pts_to_frame.get(frame.pts) if frame.pts is not None else None
                if idx is None:
                    continue
            self._pending.append((idx, frame))
        return True

    def next_raw(self) -> tuple[int, av.VideoFrame] | None:
        """The next decoded frame and its number, or ``None`` at the end of the stream."""
        while not self._pending:
            if not self._decode_more():
                return None
        idx, frame = self._pending.popleft()
        self.last_out = idx
        return idx, frame

    def advance_to(self, i: int, on_frame: Callable[[int, av.VideoFrame], None] | None = None) -> av.VideoFrame:
        """Decode up to frame ``i`` and return it.

        Continues from the current position when that is no slower than seeking
        (``i`` is ahead and the keyframe to seek to has already been passed);
        otherwise seeks.  ``on_frame`` sees every frame decoded before ``i``.
        """
        keys = self.index.keyframes
        kd = int(self.index.frame_start[i])
        ahead = self.last_out < i and not (self._flushed and not self._pending)
        started = not (ahead and self.fed >= kd - 1)
        if started:
            self._start(kd)
        steps_back = 0
        while True:
            got = self.next_raw()
            if got is not None and got[0] < i:
                if on_frame is not None:
                    on_frame(*got)
                continue
            if got is not None and got[0] == i:
                return got[1]
            if not started:
                # Continuing missed it (should not happen): try a proper start first.
                started = True
                self._start(kd)
                continue
            # The decoder skipped frame i or ended before it: start one keyframe earlier.
            k = int(np.searchsorted(keys, kd)) - 1
            if k < 0 or steps_back > MAX_STEP_BACK:
                raise self._error(f"frame {i} is never output by the decoder")
            kd = int(keys[k])
            steps_back += 1
            self._start(kd)


class _Unknown(Exception):
    """The first packet after a seek is not in the index."""


def _chain(first, rest):
    yield first
    yield from rest
