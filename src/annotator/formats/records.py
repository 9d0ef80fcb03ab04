"""What every format reads and writes: one coder's segments on one video, with its clock.

A :class:`Record` is the unit a format carries.  It names the clip the way the
datasets do (subject and video stem), identifies the video by sha256 when known,
and holds the video's own presentation timestamps so that a time-based format
(ELAN) can turn frames into milliseconds and back on variable-frame-rate footage.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import numpy as np

from ..errors import AnnotatorError
from ..labels import AUTO_CODER, AUInterval, Labels, Segment, VideoRef

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session


@dataclass(frozen=True)
class Timing:
    """A video's clock: frame ``i`` is displayed from ``times[i]`` until ``times[i + 1]``.

    Parameters
    ----------
    times : ndarray
        Presentation time of every frame, in seconds (``[T]`` float64).
    fps : float
        Nominal rate, used for the display length of the last frame.
    """

    times: np.ndarray
    fps: float

    @classmethod
    def constant(cls, fps: float, frames: int) -> "Timing":
        """The clock of a constant-rate video starting at 0 (used when no timestamps exist)."""
        return cls(np.arange(int(frames), dtype=np.float64) / float(fps), float(fps))

    @property
    def n_frames(self) -> int:
        return int(len(self.times))

    def ms(self) -> np.ndarray:
        """Frame start times in integer ms, plus the end of the last frame (``[T + 1]``).

        ELAN stores unsigned integer milliseconds; rounding once here, and mapping
        back against the same rounded array, makes frame → ms → frame exact.
        """
        times = np.asarray(self.times, np.float64)
        end = times[-1] + 1.0 / self.fps if len(times) else 0.0
        out = np.rint(np.append(times, end) * 1000.0).astype(np.int64)
        return out

    def frame_start_ms(self, frame: int) -> int:
        return int(self.ms()[frame])

    def frame_at_ms(self, ms: int) -> int | None:
        """The frame displayed at ``ms``, or ``None`` before the first frame or after the last."""
        edges = self.ms()
        i = int(np.searchsorted(edges, ms, side="right")) - 1
        return i if 0 <= i < len(edges) - 1 else None

    def frame_ending_at_ms(self, ms: int) -> int | None:
        """The last frame displayed before ``ms`` (an interval's exclusive end), or ``None``."""
        edges = self.ms()
        i = int(np.searchsorted(edges, ms, side="left")) - 1
        return i if 0 <= i < len(edges) - 1 else None


@dataclass
class Record:
    """One coder's segments on one video, as a format reads or writes them.

    Parameters
    ----------
    subject : str
        The subject, as the datasets name them (``sub01``, ``006``).
    video : str
        The video's file stem, the clip's name in the datasets' tables (``EP02_01f``).
    coder : str
        Who made the segments (:data:`~annotator.labels.AUTO_CODER` for proposals).
    fps : float
        Nominal frame rate.
    segments : list of Segment
        0-based frames, as on napari's slider.
    sha256 : str, optional
        The video's checksum, when the source knows it.
    frames : int, optional
        Number of frames of the video, when known.
    timing : Timing, optional
        The video's presentation timestamps.
    media : str, optional
        The video's file name (ELAN links it).
    origins : list of str
        Where each segment came from in the source file (``"row 14"``), for messages.
    au_intervals : list of AUInterval
        The coder's AU lanes (only formats with :attr:`carries_au_intervals` keep them).
    """

    subject: str
    video: str
    coder: str
    fps: float
    segments: list[Segment] = field(default_factory=list)
    sha256: str | None = None
    frames: int | None = None
    timing: Timing | None = None
    media: str | None = None
    origins: list[str] = field(default_factory=list)
    au_intervals: list[AUInterval] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        """``(subject, video)``: the clip, as evaluation keys it (clip names repeat across subjects)."""
        return (self.subject, self.video)

    def clock(self) -> Timing:
        """The record's timing, or a constant-rate one from ``fps`` and the frames known."""
        if self.timing is not None:
            return self.timing
        frames = self.frames
        if frames is None:
            frames = max((s.offset for s in self.segments), default=-1) + 2
        return Timing.constant(self.fps, frames)

    def origin(self, i: int) -> str:
        return self.origins[i] if i < len(self.origins) else f"segment {i + 1}"

    def replace(self, **changes) -> "Record":
        return dataclasses.replace(self, **changes)


def session_timing(session: "Session") -> Timing:
    """The session's frame clock: ``tracks.zarr/time`` when tracked, else the video's timestamps.

    Falls back to a constant-rate clock only when neither is readable, since
    ``session.json`` alone records the nominal rate.
    """
    path = session.tracks_path
    if path.is_dir():
        try:
            import zarr

            times = np.asarray(zarr.open_group(store=str(path), mode="r")["time"][:], np.float64)
            if len(times) == session.n_frames and np.isfinite(times).all():
                return Timing(times, session.fps)
        except Exception:  # noqa: BLE001 - a damaged store falls through to the video
            pass
    if session.video_path.exists():
        with session.open_video() as video:
            return Timing(np.asarray(video.timestamps, np.float64), session.fps)
    return Timing.constant(session.fps, session.n_frames)


def record_from_labels(labels: Labels, subject: str, *, timing: Timing | None = None) -> Record:
    """A record of a labels file (rejected segments dropped)."""
    from pathlib import Path

    segments = [s for s in labels.sorted() if s.status != "rejected"]
    return Record(
        subject=subject, video=Path(labels.video.path).stem, coder=labels.coder, fps=labels.video.fps,
        segments=segments, sha256=labels.video.sha256, frames=labels.video.frames, timing=timing,
        media=labels.video.path, au_intervals=labels.sorted_intervals(),
    )


def au_intervals_left_out(fmt, records: list[Record]) -> list[str]:
    """What an export says when ``fmt`` has no place for the records' AU lanes (``[]`` when it has)."""
    if getattr(fmt, "carries_au_intervals", False):
        return []
    n = sum(len(r.au_intervals) for r in records)
    if not n:
        return []
    return [f"{n} AU interval{'s' if n != 1 else ''} (the AU lanes) left out: {fmt.name} has no place for them; "
            "export to eaf or annotator-json to keep them"]


@dataclass
class Collected:
    """Records gathered from sessions, and what was left out (so an export can say so)."""

    records: list[Record]
    skipped_proposals: int = 0
    skipped_rejected: int = 0

    @property
    def n_segments(self) -> int:
        return sum(len(r.segments) for r in self.records)

    def notes(self) -> list[str]:
        """One line per kind of segment left out, saying how to include it."""
        out = []
        if self.skipped_proposals:
            out.append(f"{self.skipped_proposals} proposals skipped; pass --proposals to include them")
        if self.skipped_rejected:
            out.append(f"{self.skipped_rejected} rejected segments skipped")
        return out


def collect_records(
    sessions: Iterable["Session"], coder: str | None = None, *, include_proposals: bool = False,
    with_timing: bool = True,
) -> Collected:
    """Every coder's records (or one coder's) in ``sessions``.

    Proposals (``labels/auto.json``) are included when asked for or when
    ``coder == AUTO_CODER``, and counted as skipped otherwise; rejected segments
    are never exported.
    """
    out = Collected([])
    for session in sessions:
        coders = session.coders()
        if coder is not None:
            if not session.has_labels(coder):
                raise AnnotatorError(session.labels_path(coder), f"coder {coder!r} has no labels in this session")
            coders = [coder]
        elif session.has_labels(AUTO_CODER):
            if include_proposals:
                coders = coders + [AUTO_CODER]
            else:
                auto = session.load_labels(AUTO_CODER)
                out.skipped_proposals += sum(s.status != "rejected" for s in auto.segments)
        timing = session_timing(session) if with_timing and coders else None
        for name in coders:
            labels = session.load_labels(name)
            out.skipped_rejected += sum(s.status == "rejected" for s in labels.segments)
            rec = record_from_labels(labels, session.subject, timing=timing)
            rec.media = session.video_path.name
            out.records.append(rec)
    return out


def labels_from_record(record: Record, video: VideoRef, coder: str) -> Labels:
    """The labels file a record becomes in a session, checked against the video's length.

    Raises
    ------
    AnnotatorError
        Naming the segment's origin when a frame lies past the end of the video.
    """
    segments = []
    for i, seg in enumerate(record.segments):
        if video.frames and seg.offset >= video.frames:
            raise AnnotatorError(
                None, f"{record.origin(i)}: frame {seg.offset} is past the end of the video ({video.frames} frames, "
                f"last is {video.frames - 1})"
            )
        segments.append(seg)
    for a in record.au_intervals:
        if video.frames and a.offset >= video.frames:
            raise AnnotatorError(None, f"AU {a.au} interval {a.onset}–{a.offset}: frame {a.offset} is past the end "
                                       f"of the video ({video.frames} frames, last is {video.frames - 1})")
    return Labels(coder=coder, video=video, segments=segments, au_intervals=list(record.au_intervals))


__all__ = [
    "Collected", "Record", "Timing", "au_intervals_left_out", "collect_records", "labels_from_record", "record_from_labels",
    "session_timing",
]
