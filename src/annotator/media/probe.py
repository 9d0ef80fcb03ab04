"""Index a video: demux it (:mod:`.index`), then decode its first frames (:mod:`.decoder`).

This module sits above both, so the index never needs the decoder.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import VideoError
from ..io import atomic_write_bytes
from .decoder import Decoder
from .index import PROBE_FRAMES, VideoIndex, demux_index


def load_or_build_index(path: str | os.PathLike, cache_dir: Path | None) -> VideoIndex:
    """The cached index of ``path`` when fresh, else a new one (cached when possible)."""
    cached = cache_dir / "index.npz" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        index = VideoIndex.from_file(cached)
        if index is not None:
            return index
    index = build_index(path)
    if cached is not None:
        try:
            atomic_write_bytes(cached, index.to_bytes())
        except OSError:
            pass  # a read-only cache only costs a re-index next time
    return index


def build_index(path: str | os.PathLike) -> VideoIndex:
    """Demux every packet of the video stream of ``path`` and probe its first frames.

    Raises
    ------
    VideoError
        When the file cannot be opened, has no video stream, is truncated, or its
        first frames cannot be decoded.
    """
    index = demux_index(path)
    _probe(path, index)
    if not index.fps:
        ts = index.timestamps()
        index.fps = (len(ts) - 1) / ts[-1] if len(ts) > 1 and ts[-1] > 0 else 0.0
    return index


def _probe(path, index: VideoIndex) -> None:
    """Decode the first frames: learn size and rotation, and check pts identify frames."""
    dec = Decoder(path, index)
    try:
        frames = []
        want = min(PROBE_FRAMES, index.n_frames)
        for _ in range(want):
            got = dec.next_raw()
            if got is None:
                break
            frames.append(got[1])
    finally:
        dec.close()
    if not frames:
        raise VideoError(path, "no frame could be decoded (corrupt or unsupported stream)")
    first = frames[0]
    index.width, index.height = first.width, first.height
    index.rotation = int(round((first.rotation or 0) / 90.0)) * 90 % 360
    if not index.counted:
        got_pts = [f.pts for f in frames]
        if got_pts != index.frame_pts[: len(frames)].tolist():
            # Decoded pts that do not follow the packets' (e.g. guessed by the demuxer)
            # cannot identify frames; count them instead.
            index.counted = True
            index._derive()
