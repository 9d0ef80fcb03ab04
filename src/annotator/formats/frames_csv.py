"""``frames-csv``: one row per frame of a session's tracks (write only).

Columns: ``frame`` (0-based, napari's slider), ``time`` (seconds, the video's own
clock), ``face_present``, the level of every action unit the spotter uses
(``AU1``, ``AU2``, ..., both sides averaged), then each emotion's per-frame score
and ``neutral``
(:func:`annotator.features.frame_table`).  It exports a session's tracks, not a
coder's labels, so it takes sessions rather than records, one at a time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import BaseFormat, FormatError
from .records import Record

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session


class FramesCsv(BaseFormat):
    """Per-frame AU levels and emotion scores of one session, as CSV."""

    name = "frames-csv"
    description = "per-frame AU levels and emotion scores of a session's tracks (CSV, one row per frame)"
    suffix = ".csv"
    frame_base = "0-based (napari's slider), every frame of the video"
    emotions = "a score column per emotion (joy ... disgust) and neutral, from the AU channels"
    can_read = False
    #: What this format writes: a session's tracks, not labels (``annotator export`` asks).
    exports = "frames"

    def write(self, records: list[Record], path: str | os.PathLike, **options: Any) -> list[str]:
        raise FormatError(path, "frames-csv exports a session's tracks, not labels: "
                                "`annotator export frames-csv SESSION -o FILE`")

    def write_session(self, session: "Session", path: str | os.PathLike, **options: Any) -> int:
        """Write ``session``'s per-frame table to ``path`` atomically; returns the number of rows.

        Raises
        ------
        SessionError
            When the session has no complete tracks (nothing is written).
        """
        from ..features import frame_table
        from ..io import atomic_write_text
        from ..tracking.store import load_tracks

        table = frame_table(load_tracks(session))  # refuses incomplete tracks before any write
        atomic_write_text(Path(path), table.to_csv(index=False, float_format="%.4f"))
        return len(table)


__all__ = ["FramesCsv"]
