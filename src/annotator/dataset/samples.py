"""Which labelled segments of a project become samples, checked before anything is written.

One sample per labelled segment (accepted or edited; rejected segments, open
proposals and consensus segments awaiting adjudication are left out, and counted).
Every check that can refuse the dataset runs here, before the first file is made:
incomplete tracks, a video that changed or ends before a segment, no samples left.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..agreement import CONSENSUS_CODER, session_consensus
from ..errors import AnnotatorError
from ..labels import EMOTIONS, Segment
from ..project import Project, ProjectSession

KEPT_STATUSES = ("accepted", "edited")
SOLE_CODER = "coded by one coder only: their labels stand for the consensus"


@dataclass(frozen=True)
class SampleSpec:
    """One sample: a segment of one session, with the clip's frame range ``[start, stop]``."""

    entry: ProjectSession
    segment: Segment
    coders: str
    start: int
    stop: int

    @property
    def subject(self) -> str:
        return self.entry.subject


@dataclass
class Plan:
    samples: list[SampleSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    frames: dict[str, int] = field(default_factory=dict)  # session id → decodable frames


def _labels_for(session, coder: str, notes: list[str]):
    """The segments to use from one session, and who coded them."""
    if coder != CONSENSUS_CODER:
        if not session.has_labels(coder):
            notes.append(f"{session.root}: no labels by {coder}; left out")
            return [], ""
        return session.load_labels(coder).segments, coder
    if session.has_labels(CONSENSUS_CODER):
        return session.load_labels(CONSENSUS_CODER).segments, None  # each segment's source names its coders
    coders = [c for c in session.coders() if c != CONSENSUS_CODER]
    if not coders:
        notes.append(f"{session.root}: not coded yet; left out")
        return [], ""
    if len(coders) == 1:
        notes.append(SOLE_CODER)
        return session.load_labels(coders[0]).segments, coders[0]
    return session_consensus(session, coders).segments, None


def plan_samples(project: Project, *, coder: str = CONSENSUS_CODER, pad: int = 0,
                 emotions: Sequence[str] = EMOTIONS) -> Plan:
    """Collect and check the samples of ``project`` (see the module docstring).

    Raises
    ------
    AnnotatorError
        A session's tracks are incomplete or damaged, its video is missing, changed
        or shorter than a segment, or no sample is left.
    """
    from ..tracking.store import load_tracks

    if pad < 0:
        raise AnnotatorError(None, f"--pad must be 0 or more frames, got {pad}")
    if not project.sessions:
        raise AnnotatorError(project.root, "has no sessions; add some with `annotator project add`")
    plan = Plan()
    left_out: Counter = Counter()
    for entry in project.sessions:
        session = entry.open()
        segments, who = _labels_for(session, coder, plan.notes)
        kept = []
        for seg in segments:
            if seg.adjudication:
                left_out["awaiting adjudication"] += 1
            elif seg.status not in KEPT_STATUSES:
                left_out[f"{seg.status}"] += 1
            elif seg.emotion not in emotions:
                left_out[f"emotion {seg.emotion}"] += 1
            else:
                kept.append(seg)
        if not kept:
            continue
        load_tracks(session)  # refuses incomplete or damaged tracks, naming the store
        with session.open_video() as video:
            if video.sha256 != session.sha256:
                raise AnnotatorError(video.path, f"has changed since {session.root} was made from it (sha256 differs)")
            frames = len(video)
        plan.frames[entry.id] = frames
        for seg in sorted(kept, key=lambda s: (s.onset, s.offset, s.id)):
            if seg.offset >= frames:
                raise AnnotatorError(session.labels_dir, f"segment {seg.id} ({seg.onset}-{seg.offset}) ends past "
                                     f"the end of {Path(video.path).name} ({frames} frames); fix its offset")
            plan.samples.append(SampleSpec(entry, seg, who if who is not None else seg.source or coder,
                                           max(0, seg.onset - pad), min(frames - 1, seg.offset + pad)))
    sole = plan.notes.count(SOLE_CODER)
    if sole:
        plan.notes = [n for n in plan.notes if n != SOLE_CODER]
        plan.notes.append(f"{sole} session{'s' if sole > 1 else ''} {SOLE_CODER}")
    for reason, n in sorted(left_out.items()):
        plan.notes.append(f"{n} segment{'s' if n > 1 else ''} left out: {reason}")
    counts = Counter(s.segment.emotion for s in plan.samples)
    missing = [e for e in emotions if not counts[e]]
    if not plan.samples:
        raise AnnotatorError(project.root, f"no labelled segments to make samples of (by {coder}, emotions "
                                           f"{', '.join(emotions)}); code some sessions first")
    if missing:
        plan.notes.append(f"no samples of {', '.join(missing)}")
    return plan
