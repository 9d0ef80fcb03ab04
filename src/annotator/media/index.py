"""A demux-only index of a video stream: frame count, times and keyframes without decoding.

Reading every packet header of the video stream (no decoding) tells us, for each
packet in decode order, its file position, pts, dts and keyframe/discard flags.
From that we derive the frames a plain sequential decode outputs, in order:

* **pts mode** (MP4/MOV, Matroska/WebM and anything else that stores
  presentation times): the shown frames are the packets not flagged *discard*
  (an edit list that starts late makes FFmpeg's MOV demuxer flag the leading
  packets; the decoder decodes them for reference but never outputs them), sorted
  by pts.  A decoded frame is recognised by its pts.
* **counted mode** (AVI, elementary streams, or any file whose decoded pts do not
  match its packets'): the container has no trustworthy presentation times, so
  the *n*-th frame out of a decoder started at keyframe *k* is frame
  ``shown_before[k] + n``.  This assumes closed GOPs, which holds for the
  codecs AVI carries in practice.

A short probe decodes the first few frames to learn the rotation (from the
display matrix attached to decoded frames) and to check that decoded pts match
the packets'; if not, the index falls back to counted mode.

The index is cached as ``index.npz`` in ``cache_dir()/"video"/<key>/`` where the
key hashes the file's real path, size and mtime, so reopening a video is instant.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from ..errors import VideoError
from ..io import cache_dir

#: Bump when the cached layout or its derivation changes; old caches are then ignored.
INDEX_VERSION = 1
#: Stand-in for FFmpeg's AV_NOPTS_VALUE in the int64 arrays.
NOPTS = np.iinfo(np.int64).min
#: Frames the probe decodes to check that decoded pts match the packets' pts.
PROBE_FRAMES = 8


def cache_root() -> Path:
    """``cache_dir()/"video"``: per-video index and proxy directories live below it."""
    return cache_dir() / "video"


def video_key(path: str | os.PathLike) -> str:
    """Cache key of a file: a hash of its real path, size and mtime (not its bytes)."""
    real = os.path.realpath(path)
    st = os.stat(real)
    text = f"v{INDEX_VERSION}\0{real}\0{st.st_size}\0{st.st_mtime_ns}"
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:24]


# --------------------------------------------------------------------------- errors


def check_file(path: str | os.PathLike) -> int:
    """Size of ``path`` in bytes, or :class:`VideoError` when it cannot be a video."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise VideoError(path, "file not found") from None
    except OSError as exc:
        raise VideoError(path, f"cannot read the file ({exc.strerror})") from None
    if os.path.isdir(path):
        raise VideoError(path, "is a directory, not a video file")
    if st.st_size == 0:
        raise VideoError(path, "file is empty (0 bytes); copy it again")
    return st.st_size


def open_error(path: str | os.PathLike, exc: BaseException) -> VideoError:
    """Turn an exception from ``av.open`` into a one-line :class:`VideoError`."""
    if isinstance(exc, FileNotFoundError):
        return VideoError(path, "file not found")
    if isinstance(exc, IsADirectoryError):
        return VideoError(path, "is a directory, not a video file")
    if isinstance(exc, PermissionError):
        return VideoError(path, "permission denied")
    if isinstance(exc, av.error.InvalidDataError):
        if _looks_like_iso_bmff(path):
            return VideoError(
                path,
                "truncated or corrupt MP4/MOV: FFmpeg finds no usable 'moov' box "
                "(an unfinished recording or an incomplete copy?); copy or export it again",
            )
        return VideoError(path, "not a video file FFmpeg can read (invalid data)")
    if isinstance(exc, av.error.FFmpegError):
        return VideoError(path, f"cannot open the video ({exc.strerror or exc})")
    return VideoError(path, f"cannot open the video ({exc})")


def _looks_like_iso_bmff(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")


def open_container(path: str | os.PathLike) -> av.container.InputContainer:
    """``av.open`` for reading, with every failure turned into a :class:`VideoError`."""
    try:
        return av.open(os.fspath(path), "r")
    except (av.error.FFmpegError, OSError) as exc:
        raise open_error(path, exc) from None


def pick_video_stream(container, path) -> av.video.stream.VideoStream:
    """The first real video stream (cover art, flagged attached_pic, does not count)."""
    attached = av.stream.Disposition.attached_pic
    for stream in container.streams.video:
        if not (int(stream.disposition) & int(attached)):
            return stream
    raise VideoError(path, "has no video stream")


# --------------------------------------------------------------------------- the index


@dataclass
class VideoIndex:
    """Everything known about a video stream without decoding it.

    Packet arrays are in decode (file) order; frame arrays in presentation order.

    Attributes
    ----------
    stream_index : int
        Index of the video stream in the container.
    codec, format : str
        Decoder name and container format name, as FFmpeg reports them.
    width, height : int
        Size of the decoded (coded, unrotated) frames.
    rotation : int
        Counter-clockwise rotation, 0/90/180/270, that shows the frames upright.
    time_base : Fraction
        Unit of the pts/dts arrays, in seconds.
    fps : float
        Nominal (average) rate from the stream, else derived from the timestamps.
    counted : bool
        True when decoded frames are identified by counting (see module docstring).
    pkt_pos, pkt_pts, pkt_dts : np.ndarray of int64
        File offset (-1 unknown), pts and dts (:data:`NOPTS` unknown) per packet.
    pkt_key, pkt_discard : np.ndarray of bool
        Keyframe and discard flags per packet.
    """

    stream_index: int
    codec: str
    format: str
    width: int
    height: int
    rotation: int
    time_base: Fraction
    fps: float
    counted: bool
    pkt_pos: np.ndarray = field(repr=False)
    pkt_pts: np.ndarray = field(repr=False)
    pkt_dts: np.ndarray = field(repr=False)
    pkt_key: np.ndarray = field(repr=False)
    pkt_discard: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        self._derive()

    # -- derived tables ---------------------------------------------------------------

    def _derive(self) -> None:
        n_pkt = len(self.pkt_pts)
        shown = ~self.pkt_discard
        shown_idx = np.flatnonzero(shown)
        #: Number of shown packets before each packet (decode order).
        self.shown_before = np.concatenate([[0], np.cumsum(shown)]).astype(np.int64)[:n_pkt]
        keys = np.flatnonzero(self.pkt_key)
        if len(keys) == 0 or keys[0] != 0:
            # Without a keyframe flag on the first packet, only a start from the very
            # beginning is known to reproduce the sequential decode.
            keys = np.concatenate([[0], keys]).astype(np.int64)
        self.keyframes = keys.astype(np.int64)
        if self.counted:
            self.frame_pkt = np.full(len(shown_idx), -1, np.int64)
            times = self.pkt_dts[shown_idx]
            if np.any(times == NOPTS):
                times = np.round(np.arange(len(shown_idx)) / (self.fps or 1) / float(self.time_base))
            self.frame_pts = np.sort(times).astype(np.int64)
            # The frame a decoder started at keyframe k shows first is shown_before[k].
            starts = self.shown_before[keys]
            pos = np.searchsorted(starts, np.arange(len(shown_idx)), side="right") - 1
            self.frame_start = keys[np.maximum(pos, 0)]
        else:
            order = np.argsort(self.pkt_pts[shown_idx], kind="stable")
            self.frame_pkt = shown_idx[order].astype(np.int64)
            self.frame_pts = self.pkt_pts[self.frame_pkt]
            self.frame_start = self._start_keyframes(keys)

    def _start_keyframes(self, keys: np.ndarray) -> np.ndarray:
        """For each frame, the latest keyframe a fresh decoder can start from to show it.

        The keyframe must come before the frame's packet in decode order *and* not be
        shown after it: frames shown before their keyframe (HEVC RASL, open-GOP
        B-frames) reference the previous GOP and are skipped by a decoder that
        starts at that keyframe, so they need the keyframe before.
        """
        # An unknown keyframe pts is NOPTS, below every frame pts: "shown before all".
        key_pts = self.pkt_pts[keys]
        pos = np.searchsorted(keys, self.frame_pkt, side="right") - 1
        pos = np.maximum(pos, 0)
        while True:
            late = (pos > 0) & (key_pts[pos] > self.frame_pts)
            if not late.any():
                break
            pos[late] -= 1
        return keys[pos]

    # -- public helpers -----------------------------------------------------------------

    @property
    def n_frames(self) -> int:
        return len(self.frame_pts)

    def timestamps(self) -> np.ndarray:
        """Seconds of each frame relative to the first frame shown (float64)."""
        if self.n_frames == 0:
            return np.zeros(0, np.float64)
        rel = (self.frame_pts - self.frame_pts[0]).astype(np.float64)
        return rel * float(self.time_base)

    def start_time(self) -> float:
        """Stream time of the first shown frame in seconds (what ``timestamps`` subtracts)."""
        return float(self.frame_pts[0] * self.time_base) if self.n_frames else 0.0

    def seek_ts(self, pkt: int) -> int | None:
        """Timestamp to pass to ``container.seek`` to land at or before packet ``pkt``.

        The dts, when known, is the safer choice: it is never later than the pts, and
        MP4 and AVI index their samples by it; Matroska indexes by pts and has no dts
        on keyframes, so the pts is used there.
        """
        dts, pts = int(self.pkt_dts[pkt]), int(self.pkt_pts[pkt])
        if dts != NOPTS:
            return dts
        if pts != NOPTS:
            return pts
        return None

    # -- persistence --------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        meta = {
            "version": INDEX_VERSION,
            "stream_index": self.stream_index,
            "codec": self.codec,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "time_base": [self.time_base.numerator, self.time_base.denominator],
            "fps": self.fps,
            "counted": self.counted,
        }
        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
            pkt_pos=self.pkt_pos,
            pkt_pts=self.pkt_pts,
            pkt_dts=self.pkt_dts,
            pkt_key=self.pkt_key,
            pkt_discard=self.pkt_discard,
        )
        return buf.getvalue()

    @classmethod
    def from_file(cls, path: Path) -> VideoIndex | None:
        """Load a cached index, or ``None`` when it is missing, unreadable or outdated."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(z["meta"].tobytes().decode())
                if meta.get("version") != INDEX_VERSION:
                    return None
                arrays = {k: z[k] for k in ("pkt_pos", "pkt_pts", "pkt_dts", "pkt_key", "pkt_discard")}
        except Exception:  # any unreadable cache file (bad zip, old layout…) means re-index
            return None
        num, den = meta["time_base"]
        return cls(
            stream_index=meta["stream_index"],
            codec=meta["codec"],
            format=meta["format"],
            width=meta["width"],
            height=meta["height"],
            rotation=meta["rotation"],
            time_base=Fraction(num, den),
            fps=meta["fps"],
            counted=meta["counted"],
            **arrays,
        )


def demux_index(path: str | os.PathLike) -> VideoIndex:
    """Demux every packet of the video stream of ``path`` (no decoding).

    Size and rotation stay unknown (0) until :func:`annotator.media.probe.build_index`
    decodes the first frames.

    Raises
    ------
    VideoError
        When the file cannot be opened, has no video stream, or is truncated.
    """
    file_size = check_file(path)
    container = open_container(path)
    try:
        stream = pick_video_stream(container, path)
        pos, pts, dts, key, discard = [], [], [], [], []
        n_demuxed = 0
        past_eof = False
        try:
            for packet in container.demux(stream):
                if packet.size == 0:  # the flush packet PyAV appends at end of stream
                    continue
                n_demuxed += 1
                p = packet.pos
                pos.append(-1 if p is None else p)
                pts.append(NOPTS if packet.pts is None else packet.pts)
                dts.append(NOPTS if packet.dts is None else packet.dts)
                key.append(packet.is_keyframe)
                discard.append(packet.is_discard)
                if p is not None and p >= 0 and p + packet.size > file_size:
                    past_eof = True
        except av.error.FFmpegError as exc:
            raise VideoError(
                path, f"truncated or corrupt: demuxing failed after {n_demuxed} packets ({exc.strerror or exc})"
            ) from None
        if n_demuxed == 0:
            raise VideoError(path, "the video stream holds no frames")
        if past_eof:
            raise VideoError(path, "truncated: the file ends before its last video packets; copy or export it again")
        header_frames = stream.frames or 0
        if header_frames > n_demuxed:
            raise VideoError(
                path,
                f"truncated: the header lists {header_frames} video frames but only {n_demuxed} are in the file; "
                "copy or export it again",
            )
        pkt_pts = np.asarray(pts, np.int64)
        pkt_dts = np.asarray(dts, np.int64)
        time_base = stream.time_base or Fraction(1, 1)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        fmt = container.format.name
        counted = "avi" in fmt.split(",") or bool(np.any(pkt_pts[~np.asarray(discard, bool)] == NOPTS))
        _check_duration(path, container, stream, pkt_pts, time_base, fps)
        codec = stream.codec_context.name
        stream_index = stream.index
    finally:
        container.close()

    index = VideoIndex(
        stream_index=stream_index,
        codec=codec,
        format=fmt,
        width=0,
        height=0,
        rotation=0,
        time_base=Fraction(time_base),
        fps=fps,
        counted=counted,
        pkt_pos=np.asarray(pos, np.int64),
        pkt_pts=pkt_pts,
        pkt_dts=pkt_dts,
        pkt_key=np.asarray(key, bool),
        pkt_discard=np.asarray(discard, bool),
    )
    if index.n_frames == 0:
        raise VideoError(path, "every video packet is flagged discard: no frame to show")
    return index


def _check_duration(path, container, stream, pkt_pts, time_base, fps) -> None:
    """Say "truncated" when a lone video stream covers far less than the header promises.

    Matroska/WebM have no frame count in their header, only a duration; a file cut
    short demuxes cleanly up to the cut.  With other streams present the container
    duration may legitimately be longer (audio), so only a lone stream is judged.
    """
    if len(container.streams) != 1 or not container.duration or not fps:
        return
    valid = pkt_pts[pkt_pts != NOPTS]
    if len(valid) == 0:
        return
    span = float((valid.max() - valid.min()) * time_base) + 1.0 / fps
    promised = container.duration / 1_000_000
    if span < 0.9 * promised - 2.0 / fps:
        raise VideoError(
            path,
            f"truncated: the video stops at {span:.2f} s but the header says it lasts {promised:.2f} s; "
            "copy or export it again",
        )
