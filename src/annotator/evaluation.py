"""Reading truth and predictions for ``annotator evaluate`` (labels files or CSV exports)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import AnnotatorError
from .labels import load_labels
from .labels.model import Segment


def load_segments(path: str | os.PathLike, coder: str | None = None) -> dict[str, list[Segment]]:
    """Segments per video (keyed by the video's file stem) from a labels file or a CSV export.

    A CSV holding several coders for one video needs ``coder`` to pick one.
    """
    path = Path(path)
    if not path.exists():
        raise AnnotatorError(path, "no such file")
    if path.suffix.lower() == ".csv":
        from .formats import get_format

        table = get_format("casme-csv").read(path)
        out: dict[str, list[Segment]] = {}
        coders: dict[str, set[str]] = {}
        for (_subject, video, who), segments in table.items():
            if coder is not None and who != coder:
                continue
            coders.setdefault(video, set()).add(who)
            out.setdefault(video, []).extend(segments)
        several = {v: c for v, c in coders.items() if len(c) > 1}
        if several:
            video, names = next(iter(several.items()))
            raise AnnotatorError(path, f"video {video!r} has several coders ({', '.join(sorted(names))}); pick one with --truth-coder/--pred-coder")
        return out
    labels = load_labels(path)
    if coder is not None and labels.coder != coder:
        raise AnnotatorError(path, f"holds coder {labels.coder!r}, not {coder!r}")
    return {Path(labels.video.path).stem: labels.segments}


def evaluate_files(truth: str | os.PathLike, pred: str | os.PathLike, *, truth_coder=None, pred_coder=None):
    """The MEGC report of ``pred`` against ``truth`` (see :mod:`annotator.spotting.metrics`)."""
    from .spotting.metrics import evaluate

    t = load_segments(truth, truth_coder)
    p = load_segments(pred, pred_coder)
    if t and p and not set(t) & set(p):
        raise AnnotatorError(pred, f"shares no video with {truth} (videos {sorted(p)[:3]} vs {sorted(t)[:3]})")
    return evaluate(t, p)


def report_json(report) -> str:
    from .spotting.metrics import report_dict

    return json.dumps(report_dict(report), indent=2)
