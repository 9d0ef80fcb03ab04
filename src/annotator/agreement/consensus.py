"""One labels set from several coders: majority emotion, median frames, the rest marked for adjudication.

Segments are grouped across coders with the same IoU ≥ 0.5 matching as
agreement (:func:`annotator.spotting.metrics.match`), each group holding at most
one segment per coder.  A group marked by every coder becomes a segment with the
median onset, apex and offset and the majority emotion; a tie between emotions,
or a group some coder did not mark, is kept with ``adjudication`` saying why,
so the workbench (or a person with the file) can step through exactly those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..labels import Labels, Segment, kind_for
from ..labels.model import now_iso
from ..spotting.metrics import match

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session

CONSENSUS_CODER = "consensus"


def _median(values: list[int]) -> int:
    # round half up, so the medians of onset <= apex <= offset keep that order
    return int(np.floor(np.median(values) + 0.5))


def groups(segments: Mapping[str, Sequence[Segment]]) -> list[dict[str, Segment]]:
    """Segments grouped across coders: ``[{coder: segment}]``, ordered by onset."""
    out: list[dict[str, Segment]] = []
    for coder, segs in segments.items():
        segs = [s for s in segs if s.status != "rejected"]
        # match against each group's first member, so a group's extent does not drift as it grows
        heads = [next(iter(g.values())) for g in out]
        taken = {}
        for i, j, _ in match(heads, segs):
            if coder not in out[i]:
                taken[j] = i
        for j, seg in enumerate(segs):
            if j in taken:
                out[taken[j]][coder] = seg
            else:
                out.append({coder: seg})
    out.sort(key=lambda g: min(s.onset for s in g.values()))
    return out


def consensus(segments: Mapping[str, Sequence[Segment]], fps: float, *, coder: str = CONSENSUS_CODER) -> list[Segment]:
    """The consensus segments of ``segments`` (``{coder: segments}``).

    Each result's ``source`` lists the coders that marked it; ``adjudication`` is
    ``"tie: a/b"`` when the emotions tie, ``"unmatched: only X"`` when not every
    coder marked it, and empty otherwise.
    """
    coders = list(segments)
    stamp = now_iso()
    out = []
    for group in groups(segments):
        members = list(group.values())
        votes = Counter(s.emotion for s in members).most_common()
        top = [e for e, n in votes if n == votes[0][1]]
        onset = _median([s.onset for s in members])
        offset = _median([s.offset for s in members])
        apex = min(max(_median([s.apex for s in members]), onset), offset)
        reasons = []
        if len(top) > 1:
            reasons.append(f"tie: {'/'.join(sorted(top))}")
        if len(group) < len(coders):
            reasons.append(f"unmatched: only {', '.join(c for c in coders if c in group)}")
        aus = Counter(a for s in members for a in s.aus)
        out.append(Segment(
            onset=onset, apex=apex, offset=offset, emotion=sorted(top)[0] if len(top) > 1 else top[0],
            kind=kind_for(onset, offset, fps), aus=[a for a, n in aus.items() if 2 * n > len(members)],
            status="proposed" if reasons else "accepted", source="+".join(c for c in coders if c in group),
            adjudication="; ".join(reasons), created=stamp, modified=stamp,
        ))
    return out


def session_consensus(session: "Session", coders: Sequence[str], *, coder: str = CONSENSUS_CODER) -> Labels:
    """The consensus of ``coders`` on ``session`` as a labels set for ``coder`` (not yet saved)."""
    from ..errors import AnnotatorError

    if len(coders) < 2:
        raise AnnotatorError(session.root, "a consensus needs at least two coders (pass --coders A,B)")
    if coder in coders:
        raise AnnotatorError(session.labels_path(coder), f"cannot write the consensus over coder {coder!r}'s own labels")
    for name in coders:
        if not session.has_labels(name):
            raise AnnotatorError(session.labels_path(name), f"coder {name!r} has no labels in this session")
    segments = {name: session.load_labels(name).segments for name in coders}
    labels = session.new_labels(coder)
    labels.segments = consensus(segments, session.fps, coder=coder)
    return labels
