"""What the workbench shows at the cursor: timecode, frame, each AU's value, the per-frame emotion, the phase.

A plain model over arrays computed once per session, so a frame step costs a
few index lookups and one string; the workbench's readout widget only shows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..labels.model import Segment


def timecode(seconds: float, fps: float) -> str:
    """``HH:MM:SS:FF`` (non-drop-frame, frames counted at ``fps`` rounded up) for a time in seconds."""
    if not math.isfinite(seconds) or seconds < 0:
        return "--:--:--:--"
    base = max(1, math.ceil(fps - 1e-9))
    total = int(round(seconds * fps))
    ff = total % base
    whole = total // base
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{ff:02d}"


@dataclass(frozen=True)
class FrameReading:
    """One frame's readout."""

    frame: int
    seconds: float
    timecode: str
    aus: dict[str, float]
    emotion: str | None
    emotion_p: float | None
    phase: str | None
    #: The AUs the coder marked on their lanes at this frame, FACS notation (``6+R12C``); ``""`` none.
    coded: str = ""

    def format_text(self) -> str:
        """One line: ``00:00:07:15 · 7.500 s · frame 225 | AU12 0.81 … | joy 0.74 | apex | coded 6+R12C``."""
        parts = [f"{self.timecode} · {self.seconds:.3f} s · frame {self.frame}"]
        if self.aus:
            parts.append(" ".join(f"{k} {'–' if not math.isfinite(v) else f'{v:.2f}'}" for k, v in self.aus.items()))
        parts.append("no face" if self.emotion is None else f"{self.emotion} {self.emotion_p:.2f}")
        parts.append(f"phase {self.phase}" if self.phase else "outside the current segment")
        if self.coded:
            parts.append(f"coded {self.coded}")
        return " | ".join(parts)


class CursorReadout:
    """Readings at any frame of one video.

    Parameters
    ----------
    time : array [T]
        Presentation time of each frame, in seconds.
    fps : float
    curves : dict of str to array [T]
        The AU channels to show, in order.
    emotions : array [T, K], optional
        Per-frame probabilities (NaN without a face), columns ``emotion_names``.
    emotion_names : sequence of str
    """

    def __init__(self, time, fps: float, curves: dict, emotions=None, emotion_names=()):
        self.time = np.asarray(time, dtype=np.float64)
        self.fps = float(fps)
        self.names = tuple(curves)
        self.values = (np.column_stack([np.asarray(curves[n], dtype=np.float64) for n in self.names])
                       if self.names else np.zeros((len(self.time), 0)))
        self.emotion_names = tuple(emotion_names)
        if emotions is not None and len(self.emotion_names):
            p = np.asarray(emotions, dtype=np.float64)
            ok = np.isfinite(p).all(axis=1)
            self._top = np.where(ok, np.argmax(np.nan_to_num(p, nan=-1.0), axis=1), -1)
            self._top_p = np.where(ok, np.nanmax(np.where(np.isfinite(p), p, -1.0), axis=1), np.nan)
        else:
            self._top = np.full(len(self.time), -1)
            self._top_p = np.full(len(self.time), np.nan)

    def at(self, frame: int, segment: "Segment | None" = None, intervals=()) -> FrameReading:
        """The reading at ``frame`` (clipped to the video), with ``segment``'s phase there.

        ``intervals`` (the coder's AU intervals) give the AUs coded at ``frame``.
        """
        n = len(self.time)
        f = int(min(max(0, frame), n - 1)) if n else 0
        seconds = float(self.time[f]) if n else f / self.fps
        top = int(self._top[f]) if n else -1
        return FrameReading(
            frame=f, seconds=seconds, timecode=timecode(seconds, self.fps),
            aus={name: float(self.values[f, i]) for i, name in enumerate(self.names)} if n else {},
            emotion=self.emotion_names[top] if top >= 0 else None,
            emotion_p=float(self._top_p[f]) if top >= 0 else None,
            phase=segment.phase(f) if segment is not None else None,
            coded=self._coded(intervals, f),
        )

    def _coded(self, intervals, frame: int) -> str:
        """The AUs coded at ``frame``, by AU number; the intervals' arrays are kept while the list is the same."""
        from ..labels.facs import format_aus, lane_sort_key

        if not intervals:
            return ""
        # The list itself is kept (so its id is never reused by another); edits make a new list.
        cached = getattr(self, "_coded_list", None)
        if intervals is not cached or len(intervals) != self._coded_len:
            ordered = sorted(intervals, key=lambda a: (lane_sort_key(a.au), a.onset))
            self._coded_spans = np.array([(a.onset, a.offset) for a in ordered], np.int64).reshape(-1, 2)
            self._coded_codes = [a.code for a in ordered]
            self._coded_list, self._coded_len = intervals, len(intervals)
        hits = np.flatnonzero((self._coded_spans[:, 0] <= frame) & (frame <= self._coded_spans[:, 1]))
        return format_aus(self._coded_codes[i] for i in hits)


__all__ = ["CursorReadout", "FrameReading", "timecode"]
