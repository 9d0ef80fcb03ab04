"""Importing records into sessions: all or nothing, and never over a coder's file without ``force``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AnnotatorError
from ..labels import AUTO_CODER, Labels, valid_coder
from .records import Record, labels_from_record

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session


@dataclass(frozen=True)
class Planned:
    """One labels file an import will write."""

    session: "Session"
    labels: Labels
    path: Path
    replaces: bool


def pick_record(records: list[Record], session: "Session", source: str | os.PathLike, subject: str | None) -> list[Record]:
    """The records of ``records`` that belong to ``session``'s video.

    A file with one clip belongs to whatever session it is imported into.  A file
    with several (a dataset's whole table) is narrowed to the session's video stem,
    and to ``subject`` when given (CASME II repeats clip names across subjects).
    """
    if subject is not None:
        records = [r for r in records if r.subject == subject]
        if not records:
            raise AnnotatorError(source, f"has no clip of subject {subject!r}")
    clips = {r.key for r in records}
    if len(clips) <= 1:
        return records
    stem = session.video_path.stem
    mine = [r for r in records if r.video == stem]
    if not mine:
        raise AnnotatorError(source, f"holds {len(clips)} clips and none is named {stem!r}; pass --subject or "
                                     "import into the matching session")
    if len({r.subject for r in mine}) > 1:
        names = ", ".join(sorted({r.subject for r in mine}))
        raise AnnotatorError(source, f"clip {stem!r} appears for several subjects ({names}); pass --subject")
    return mine


def plan_import(
    session: "Session", records: list[Record], source: str | os.PathLike, *, coder: str | None = None,
    force: bool = False,
) -> list[Planned]:
    """The labels files importing ``records`` into ``session`` would write; checks everything first.

    Raises
    ------
    AnnotatorError
        Naming ``source`` and the row or element: a frame past the video's end, a
        bad coder name, or a coder file that exists (without ``force``).
    """
    by_coder: dict[str, list[Record]] = {}
    for rec in records:
        name = coder or rec.coder
        by_coder.setdefault(name, []).append(rec)
    out = []
    video = session.video_ref()
    for name, recs in by_coder.items():
        if name != AUTO_CODER and not valid_coder(name):
            raise AnnotatorError(source, f"coder {name!r} is not a valid coder name; pass --coder NAME")
        merged = Record(recs[0].subject, recs[0].video, name, video.fps,
                        [s for r in recs for s in r.segments], origins=[o for r in recs for o in _origins(r)],
                        au_intervals=[a for r in recs for a in r.au_intervals])
        try:
            labels = labels_from_record(merged, video, name)
        except AnnotatorError as exc:
            raise AnnotatorError(source, exc.message) from None
        path = session.labels_path(name)
        if path.exists() and not force:
            raise AnnotatorError(path, f"coder {name!r} already has labels here; pass --force to replace them "
                                       "or --coder to import under another name")
        out.append(Planned(session, labels, path, path.exists()))
    return out


def _origins(rec: Record) -> list[str]:
    return [rec.origin(i) for i in range(len(rec.segments))]


def apply_import(plans: list[Planned]) -> list[Path]:
    """Write the planned files (each atomically); a replaced file is swapped whole."""
    from ..io import atomic_write_json
    from ..labels import validate_labels_dict

    written = []
    for plan in plans:
        data = plan.labels.to_dict()
        validate_labels_dict(data, plan.path)
        # save_labels would refuse a foreign file; --force means the user chose to replace it
        atomic_write_json(plan.path, data)
        written.append(plan.path)
    return written
