"""Discovery of format plugins and the rows they export."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterable, Protocol

from ..errors import AnnotatorError
from ..labels.model import AUTO_CODER, Segment

ENTRY_POINT_GROUP = "annotator.formats"


@dataclass(frozen=True)
class ExportRow:
    """One segment with the context every format needs."""

    subject: str
    video: str  # file stem of the video, the clip's name in the datasets' tables
    coder: str
    fps: float
    segment: Segment


class Format(Protocol):
    name: str
    description: str
    suffix: str

    def export(self, rows: list[ExportRow], path: str | os.PathLike) -> None: ...


def available_formats() -> dict[str, type]:
    """``{name: format class}`` of every installed format plugin."""
    out = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        out[ep.name] = ep
    return dict(sorted(out.items()))


def get_format(name: str) -> Format:
    eps = available_formats()
    if name not in eps:
        known = ", ".join(eps) or "none installed"
        raise AnnotatorError(None, f"unknown format {name!r} (available: {known})")
    return eps[name].load()()


def collect_rows(sessions: Iterable, coder: str | None = None, *, include_proposals: bool = False) -> list[ExportRow]:
    """Rows of every coder's labels (or one coder's) in ``sessions``.

    Proposals (``labels/auto.json``) are included only when asked for or when
    ``coder == AUTO_CODER``; rejected segments are never exported.
    """
    rows = []
    for session in sessions:
        coders = session.coders()
        if coder is not None:
            if not session.has_labels(coder):
                raise AnnotatorError(session.labels_path(coder), f"coder {coder!r} has no labels in this session")
            coders = [coder]
        elif include_proposals and session.has_labels(AUTO_CODER):
            coders = coders + [AUTO_CODER]
        for name in coders:
            labels = session.load_labels(name)
            for seg in labels.sorted():
                if seg.status == "rejected":
                    continue
                rows.append(ExportRow(session.subject, Path(session.video_path).stem, name, labels.video.fps, seg))
    return rows
