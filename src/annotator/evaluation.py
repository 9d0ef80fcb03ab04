"""Reading truth and predictions for ``annotator evaluate`` (labels files or any readable format).

Clips are keyed by ``(subject, video)``: CASME II reuses clip names such as
``EP02_01f`` across subjects, so the video name alone would merge two clips.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import AnnotatorError
from .labels.model import Segment

Key = tuple[str, str]


def load_segments(path: str | os.PathLike, coder: str | None = None, *, format: str | None = None) -> dict[Key, list[Segment]]:
    """Segments per clip ``(subject, video)`` from a labels file or an export.

    A file holding several coders for one clip needs ``coder`` to pick one.  The
    subject is ``""`` when the file does not say (a labels file outside a session,
    a MEGC submission).
    """
    from .formats import load_file

    path = Path(path)
    if not path.exists():
        raise AnnotatorError(path, "no such file")
    out: dict[Key, list[Segment]] = {}
    coders: dict[Key, set[str]] = {}
    for rec in load_file(path, format):
        if coder is not None and rec.coder != coder:
            continue
        coders.setdefault(rec.key, set()).add(rec.coder)
        out.setdefault(rec.key, []).extend(rec.segments)
    several = {k: c for k, c in coders.items() if len(c) > 1}
    if several:
        (subject, video), names = next(iter(several.items()))
        raise AnnotatorError(path, f"clip {subject + '/' if subject else ''}{video} has several coders "
                                   f"({', '.join(sorted(names))}); pick one with --truth-coder/--pred-coder")
    if coder is not None and not out:
        raise AnnotatorError(path, f"holds no segments of coder {coder!r}")
    return out


def align_keys(truth: dict[Key, list], pred: dict[Key, list]) -> dict[Key, list]:
    """``pred`` re-keyed onto ``truth``'s clips where one side does not know the subject.

    A key with an empty subject matches the clip of that video name on the other
    side when exactly one exists; otherwise it is left alone (and counts as its
    own clip).
    """
    by_video: dict[str, list[Key]] = {}
    for key in truth:
        by_video.setdefault(key[1], []).append(key)
    out: dict[Key, list] = {}
    for key, segs in pred.items():
        target = key
        if key not in truth:
            options = by_video.get(key[1], [])
            if len(options) == 1 and (key[0] == "" or options[0][0] == ""):
                target = options[0]
        out.setdefault(target, []).extend(segs)
    return out


def evaluate_files(truth: str | os.PathLike, pred: str | os.PathLike, *, truth_coder=None, pred_coder=None):
    """The MEGC report of ``pred`` against ``truth`` (see :mod:`annotator.spotting.metrics`)."""
    from .spotting.metrics import evaluate

    t = load_segments(truth, truth_coder)
    p = align_keys(t, load_segments(pred, pred_coder))
    if t and p and not set(t) & set(p):
        show = lambda keys: [f"{s}/{v}" if s else v for s, v in sorted(keys)[:3]]  # noqa: E731
        raise AnnotatorError(pred, f"shares no clip with {truth} (clips {show(p)} vs {show(t)})")
    return evaluate(t, p)


def report_json(report) -> str:
    from .spotting.metrics import report_dict

    return json.dumps(report_dict(report), indent=2)
