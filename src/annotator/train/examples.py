"""Training examples from coders' labels: what every accept, reject and emotion change teaches.

A coder's file holds, for each proposal they reviewed, a copy with its status:

* ``accepted`` and ``edited`` copies (and segments the coder drew themselves)
  are expressions: positive examples for the spotter's calibration, and one
  emotion example each (the apex pattern, labelled with the coder's emotion,
  so an emotion change is a corrected label);
* ``rejected`` copies are not expressions: the spotter calibration counts a
  proposal there as a false positive (:func:`annotator.spotting.calibrate.calibrate`
  ignores rejected segments as truth).

:func:`gather` turns sessions into a :class:`TrainingSet`: per session its AU
features and labelled segments (what ``Spotter.fit`` takes), and per expression
its apex features (what the emotion pipeline takes), all read through the same
:func:`~annotator.spotting.apex.apex_features` that ``propose --model`` uses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import AnnotatorError
from ..features import AUFeatures, features_from_tracks
from ..labels import AUTO_CODER, EMOTIONS, Segment
from ..session import Session
from ..spotting.calibrate import reviewed_frames
from ..spotting.spotter import Spotter, apex_features

#: ``--coder consensus``: the consensus of every coder of a session.
CONSENSUS = "consensus"


@dataclass
class SessionExamples:
    """One session's share of a training set."""

    session: Session
    subject: str
    coder: str
    features: AUFeatures
    segments: list[Segment]  # the coder's segments, rejected ones included
    labels_sha256: str
    #: frames [T] that are evidence for the spotter calibration, None when the whole session is
    #: reviewed (:func:`annotator.spotting.calibrate.reviewed_frames`)
    reviewed: np.ndarray | None = None

    @property
    def positives(self) -> list[Segment]:
        return [s for s in self.segments if s.status != "rejected"]

    @property
    def rejected(self) -> list[Segment]:
        return [s for s in self.segments if s.status == "rejected"]


@dataclass
class TrainingSet:
    """Sessions with their labels, and the emotion examples drawn from them."""

    sessions: list[SessionExamples] = field(default_factory=list)
    X: np.ndarray | None = None  # [N, C] apex features
    y: np.ndarray | None = None  # [N] emotions
    groups: np.ndarray | None = None  # [N] subject of each example
    channels: tuple[str, ...] = ()
    #: [N] the example's cluster of neighbouring events ("<session>:<k>"), for cross-validating
    #: within a subject (:func:`event_clusters`); None where the times are unknown (a dataset)
    within: np.ndarray | None = None

    @property
    def subjects(self) -> list[str]:
        """Every subject, of the sessions and of the emotion examples."""
        found = {s.subject for s in self.sessions}
        if self.groups is not None:
            found |= {str(g) for g in self.groups.tolist()}
        return sorted(found)

    @property
    def n_rejected(self) -> int:
        return sum(len(s.rejected) for s in self.sessions)

    def data_sha256(self) -> str:
        """sha256 over every session's video hash, subject, coder and labels: the training data's identity."""
        h = hashlib.sha256()
        for s in sorted(self.sessions, key=lambda s: (s.session.sha256, s.coder)):
            h.update(f"{s.session.sha256}\0{s.subject}\0{s.coder}\0{s.labels_sha256}\n".encode())
        return h.hexdigest()


def _labels_digest(segments: Sequence[Segment]) -> str:
    # what the labels say, not when they were written: timestamps left out
    rows = sorted(
        (s.onset, s.apex, s.offset, s.emotion, s.status, s.kind) for s in segments
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def _human_coders(session: Session) -> list[str]:
    return [c for c in session.coders() if c != AUTO_CODER]


def session_segments(session: Session, coder: str | None) -> tuple[str, list[Segment]]:
    """``(coder, segments)``: whose labels a session contributes, and the segments.

    ``coder`` None takes the session's only coder; with several, one must be named.
    """
    coders = _human_coders(session)
    if coder == CONSENSUS:
        if session.has_labels(CONSENSUS):  # merged (and maybe adjudicated) by `annotator merge`
            return CONSENSUS, session.load_labels(CONSENSUS).segments
        from ..agreement.consensus import session_consensus

        return CONSENSUS, session_consensus(session, coders).segments
    if coder is None:
        if not coders:
            raise AnnotatorError(session.root, "no coder's labels to learn from; review its proposals first")
        if len(coders) > 1:
            raise AnnotatorError(
                session.root, f"several coders ({', '.join(coders)}): pass --coder NAME or --coder consensus"
            )
        coder = coders[0]
    if not session.has_labels(coder):
        raise AnnotatorError(session.labels_path(coder), f"coder {coder!r} has no labels in this session")
    return coder, session.load_labels(coder).segments


def reviewed_part(session: Session, segments: Sequence[Segment], n_frames: int,
                  coder: str | None = None) -> np.ndarray | None:
    """The frames of ``session`` that ``segments`` (``coder``'s) have reviewed; None when all of them.

    Judged against the session's proposals (``auto.json``; a damaged one counts
    as none), by :func:`~annotator.spotting.calibrate.reviewed_frames`.  The
    consensus's segments are new ones, so for it the decisions are every coder's.
    """
    def own(name: str) -> list[Segment]:
        try:
            return session.load_labels(name).segments if session.has_labels(name) else []
        except AnnotatorError:  # a damaged file decides nothing
            return []

    decisions = list(segments)
    if coder == CONSENSUS:
        decisions += [s for name in _human_coders(session) if name != CONSENSUS for s in own(name)]
    return reviewed_frames(n_frames, decisions, own(AUTO_CODER))


def session_features(session: Session) -> AUFeatures:
    """The AU features of a session's complete tracks (incomplete ones are refused)."""
    from ..tracking.store import load_tracks

    if not session.tracks_path.exists():
        raise AnnotatorError(session.root, "not tracked; run `annotator track` first")
    tracks = load_tracks(session)
    if not tracks.complete:
        raise AnnotatorError(session.tracks_path, "tracks are incomplete; rerun `annotator track` to finish them")
    return features_from_tracks(tracks)


def emotion_rows(features: AUFeatures, segments: Sequence[Segment], spotter: Spotter | None = None):
    """``(X, y)``: the apex features and emotion of each expression among ``segments``.

    Only the seven emotions teach the classifier; ``neutral``/``other`` and
    rejected segments do not.
    """
    spotter = spotter or Spotter()
    keep = [s for s in segments if s.status != "rejected" and s.emotion in EMOTIONS]
    if not keep:
        return np.empty((0, len(features.channels))), np.empty(0, dtype=object)
    z, _ = spotter.evidence(features)
    last = len(z) - 1
    intervals = [(min(s.onset, last), min(s.apex, last), min(s.offset, last)) for s in keep]
    return apex_features(z, intervals), np.array([s.emotion for s in keep], dtype=object)


#: Events closer than this (seconds, offset to next onset) share a cluster: their apex features are
#: read from overlapping stretches of the same smoothed evidence, so one must not test the other.
NEIGHBOUR_S = 0.5


def event_clusters(segments: Sequence[Segment], fps: float, prefix: str = "") -> np.ndarray:
    """Per segment (in the given order) ``prefix:k``, ``k`` its cluster of neighbouring events in time.

    Sorted by onset, an event starts a new cluster unless it begins within
    :data:`NEIGHBOUR_S` of the end of the events before it.
    """
    gap = NEIGHBOUR_S * (fps if fps and fps > 0 else 30.0)
    out = np.empty(len(segments), dtype=object)
    k, end = -1, None
    for i in sorted(range(len(segments)), key=lambda i: (segments[i].onset, segments[i].offset)):
        s = segments[i]
        if end is None or s.onset - end > gap:
            k += 1
        end = s.offset if end is None else max(end, s.offset)
        out[i] = f"{prefix}:{k}"
    return out


def gather(sessions: Sequence[Session], *, coder: str | None = None) -> TrainingSet:
    """Every session's labelled segments and emotion examples, for ``coder`` (or ``"consensus"``)."""
    if not sessions:
        raise AnnotatorError(None, "no sessions to train on")
    out = TrainingSet()
    xs, ys, gs, ws = [], [], [], []
    spotter = Spotter()
    for n, session in enumerate(sessions):
        name, segments = session_segments(session, coder)
        for s in segments:
            if s.offset >= session.n_frames:
                raise AnnotatorError(
                    session.labels_path(name),
                    f"segment {s.id} ends at frame {s.offset}, past the video's last frame {session.n_frames - 1}",
                )
        features = session_features(session)
        subject = session.subject or session.name
        out.sessions.append(SessionExamples(session, subject, name, features, list(segments),
                                            _labels_digest(segments),
                                            reviewed_part(session, segments, len(features.present), name)))
        X, y = emotion_rows(features, segments, spotter)
        xs.append(X)
        ys.append(y)
        gs.append(np.full(len(y), subject, dtype=object))
        taught = [s for s in segments if s.status != "rejected" and s.emotion in EMOTIONS]  # emotion_rows' rows
        ws.append(event_clusters(taught, float(session.fps or 0.0), str(n)))
        out.channels = tuple(features.channels)
    out.X = np.concatenate(xs) if xs else np.empty((0, 0))
    out.y = np.concatenate(ys) if ys else np.empty(0, dtype=object)
    out.groups = np.concatenate(gs) if gs else np.empty(0, dtype=object)
    out.within = np.concatenate(ws) if ws else np.empty(0, dtype=object)
    return out
