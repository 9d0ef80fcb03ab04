"""annotator's own labels file (``annotator-json``): every field, 0-based frames.

Reading one inside a session (``clip.annot/labels/alice.json``) takes the subject
from the session; elsewhere the subject is unknown (empty) and evaluation matches
the clip by its video name alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..labels import Labels, VideoRef, load_labels, save_labels
from .base import BaseFormat, FormatError
from .records import Record, record_from_labels


def _subject_of(path: Path) -> str:
    # labels/<coder>.json sits in a session directory whose session.json names the subject
    meta = path.resolve().parent.parent / "session.json"
    try:
        data = json.loads(meta.read_text("utf-8"))
        return str(data.get("subject") or "")
    except (OSError, ValueError, AttributeError):
        return ""


class LabelsJson(BaseFormat):
    """annotator's labels file (JSON Schema ``schemas/labels.v2.schema.json``), one coder on one video."""

    name = "annotator-json"
    description = "annotator labels file (one coder, one video)"
    suffix = ".json"
    frame_base = "0-based frames (napari's slider)"
    emotions = "our names, unchanged"
    carries_au_intervals = True

    def sniff(self, path: Path) -> bool:
        try:
            return b'"annotator.labels"' in path.open("rb").read(4096)
        except OSError:
            return False

    def read(self, path: str | os.PathLike, **options) -> list[Record]:
        path = Path(path)
        labels = load_labels(path)
        rec = record_from_labels(labels, _subject_of(path))
        rec.segments = list(labels.sorted())  # the file's own content, rejected segments too
        return [rec]

    def write(self, records: list[Record], path: str | os.PathLike, **options) -> list[str]:
        if len(records) != 1:
            raise FormatError(path, f"an annotator labels file holds one coder on one video, not {len(records)} records")
        (rec,) = records
        if not rec.sha256:
            raise FormatError(path, f"{rec.video}: the video's sha256 is unknown, so a labels file cannot name it")
        video = VideoRef(path=rec.media or rec.video, sha256=rec.sha256, fps=rec.fps, frames=int(rec.frames or 0))
        save_labels(Labels(coder=rec.coder, video=video, segments=list(rec.segments),
                           au_intervals=list(rec.au_intervals)), path)
        return []
