"""How far coders agree on one video.

Segments are matched one-to-one between two coders at interval IoU ≥ 0.5, the
MEGC rule, with :func:`annotator.spotting.metrics.match`.  For matched pairs we
report the mean absolute onset/apex/offset difference in frames and in ms (from
the video's own timestamps), Cohen's kappa on the emotion
(:func:`sklearn.metrics.cohen_kappa_score`), and each coder's mean onset bias.
Frame-level kappa labels every frame of the video with the emotion of the
segment covering it, or ``none``.  With three or more coders, Fleiss' kappa
(:func:`statsmodels.stats.inter_rater.fleiss_kappa`) covers the segments every
coder marked, and every frame.  Action units are compared as well
(:mod:`annotator.agreement.aus`): the FACS agreement ratio on matched segments'
AUs, and per AU lane a frame-level kappa of presence and a weighted kappa of
the intensity.

A kappa is ``None`` where it is undefined: no matched pairs, or every label the
same on both sides (chance agreement is then 1).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..labels import EMOTION_LABELS, AUInterval, Segment
from ..spotting.metrics import IOU_THRESHOLD, match
from .aus import lane_agreement, mean_agreement_ratio
from .kappa import cohen_kappa

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session

NONE_LABEL = "none"


def _fleiss(rows: Sequence[Sequence[str]] | np.ndarray) -> float | None:
    """Fleiss' kappa of ``rows`` (one row per item, one column per coder): labels or integer codes."""
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    if len(rows) == 0:
        return None
    rows = np.asarray(rows)
    if rows.dtype.kind not in "iu":
        _, coded = np.unique(rows.astype(str), return_inverse=True)
        rows = coded.reshape(rows.shape)
    if len(np.unique(rows)) < 2:
        return None
    table, _ = aggregate_raters(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(fleiss_kappa(table, method="fleiss"))
    return None if np.isnan(value) else value


def frame_labels(segments: Sequence[Segment], n_frames: int) -> np.ndarray:
    """Each frame's emotion (``none`` where no segment covers it); later onsets win an overlap."""
    labels = (NONE_LABEL, *EMOTION_LABELS)
    return np.asarray(labels, dtype=object)[frame_codes(segments, n_frames)]


def frame_codes(segments: Sequence[Segment], n_frames: int) -> np.ndarray:
    """:func:`frame_labels` as integer codes: 0 for ``none``, ``1 + EMOTION_LABELS.index(e)`` for an emotion.

    The frame-level kappas run on these: scikit-learn and statsmodels count
    108,000 small integers far faster than as many strings.
    """
    code = {e: i + 1 for i, e in enumerate(EMOTION_LABELS)}
    out = np.zeros(n_frames, dtype=np.int16)
    for seg in sorted(segments, key=lambda s: (s.onset, s.offset)):
        out[seg.onset: min(seg.offset, n_frames - 1) + 1] = code[seg.emotion]
    return out


@dataclass
class PairAgreement:
    """Two coders on one video (``a`` is the reference for signs: bias is ``b − a``)."""

    a: str
    b: str
    matched: list[tuple[Segment, Segment, float]]
    unmatched_a: list[Segment]
    unmatched_b: list[Segment]
    mean_abs_frames: dict[str, float | None]
    mean_abs_ms: dict[str, float | None]
    emotion_kappa: float | None
    frame_kappa: float | None
    onset_bias_frames: float | None  # mean (b.onset − a.onset) over matched pairs
    au_ratio: float | None = None  # FACS agreement ratio of the matched segments' AUs
    au_lanes: dict[str, dict] = field(default_factory=dict)  # per AU lane: presence κ, intensity κ (weighted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "coders": [self.a, self.b], "matched": len(self.matched),
            "unmatched": {self.a: len(self.unmatched_a), self.b: len(self.unmatched_b)},
            "mean_abs_frames": self.mean_abs_frames, "mean_abs_ms": self.mean_abs_ms,
            "emotion_kappa": self.emotion_kappa, "frame_kappa": self.frame_kappa,
            "onset_bias_frames": self.onset_bias_frames,
            "au_agreement_ratio": self.au_ratio, "au_lanes": self.au_lanes,
        }


@dataclass
class Agreement:
    """All coders on one video."""

    coders: list[str]
    n_frames: int
    pairs: list[PairAgreement]
    fleiss_emotion: float | None = None
    fleiss_frames: float | None = None
    onset_bias: dict[str, float | None] = field(default_factory=dict)
    unmatched: list[tuple[str, Segment, list[str]]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "coders": self.coders, "frames": self.n_frames, "iou_threshold": IOU_THRESHOLD,
            "pairs": [p.to_dict() for p in self.pairs],
            "fleiss_emotion": self.fleiss_emotion, "fleiss_frames": self.fleiss_frames,
            "onset_bias_frames": self.onset_bias,
            "unmatched": [
                {"coder": c, "id": s.id, "onset": s.onset, "apex": s.apex, "offset": s.offset,
                 "emotion": s.emotion, "unmatched_by": others}
                for c, s, others in self.unmatched
            ],
        }

    def format_text(self) -> str:
        def f(v, digits=3):
            return "-" if v is None else f"{v:.{digits}f}"

        lines = [f"coders {', '.join(self.coders)} over {self.n_frames} frames (match at IoU ≥ {IOU_THRESHOLD})"]
        for p in self.pairs:
            d, m = p.mean_abs_frames, p.mean_abs_ms
            lines.append(
                f"  {p.a} vs {p.b}: {len(p.matched)} matched, {len(p.unmatched_a)}+{len(p.unmatched_b)} unmatched; "
                f"|Δ| onset/apex/offset {f(d['onset'], 2)}/{f(d['apex'], 2)}/{f(d['offset'], 2)} frames "
                f"({f(m['onset'], 1)}/{f(m['apex'], 1)}/{f(m['offset'], 1)} ms); "
                f"emotion κ {f(p.emotion_kappa)}, frame κ {f(p.frame_kappa)}"
            )
            if p.au_ratio is not None or p.au_lanes:
                lanes = "; ".join(f"{lane} κ {f(v['kappa'])} (intensity κw {f(v['intensity_kappa'])})"
                                  for lane, v in p.au_lanes.items())
                lines.append(f"    AUs: agreement ratio {f(p.au_ratio)} on matched segments"
                             + (f"; lanes: {lanes}" if lanes else ""))
        if len(self.coders) >= 3:
            lines.append(f"  Fleiss κ: emotion {f(self.fleiss_emotion)}, frames {f(self.fleiss_frames)}")
        lines.append("  onset bias (frames, vs the others): " + ", ".join(
            f"{c} {'-' if b is None else f'{b:+.2f}'}" for c, b in self.onset_bias.items()))
        for coder, seg, others in self.unmatched:
            lines.append(f"  unmatched: {coder} {seg.onset}–{seg.offset} (apex {seg.apex}) {seg.emotion} "
                         f"[{seg.id}], not marked by {', '.join(others)}")
        return "\n".join(lines)


def _pair(a: str, b: str, sa: list[Segment], sb: list[Segment], n_frames: int, ms: np.ndarray | None,
          ia: Sequence[AUInterval] = (), ib: Sequence[AUInterval] = ()) -> PairAgreement:
    pairs = match(sa, sb)
    matched = [(sa[i], sb[j], iou) for i, j, iou in pairs]
    used_a, used_b = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
    abs_frames: dict[str, float | None] = {}
    abs_ms: dict[str, float | None] = {}
    for name in ("onset", "apex", "offset"):
        if not matched:
            abs_frames[name] = abs_ms[name] = None
            continue
        fa = np.array([getattr(x, name) for x, _, _ in matched])
        fb = np.array([getattr(y, name) for _, y, _ in matched])
        abs_frames[name] = float(np.mean(np.abs(fa - fb)))
        if ms is not None:
            # offsets are compared at the end of their frame, as ELAN shows them
            shift = 1 if name == "offset" else 0
            abs_ms[name] = float(np.mean(np.abs(ms[fa + shift] - ms[fb + shift])))
        else:
            abs_ms[name] = None
    bias = float(np.mean([y.onset - x.onset for x, y, _ in matched])) if matched else None
    return PairAgreement(
        a, b, matched, [s for i, s in enumerate(sa) if i not in used_a], [s for j, s in enumerate(sb) if j not in used_b],
        abs_frames, abs_ms, cohen_kappa([x.emotion for x, _, _ in matched], [y.emotion for _, y, _ in matched]),
        cohen_kappa(frame_codes(sa, n_frames), frame_codes(sb, n_frames)), bias,
        mean_agreement_ratio([(x, y) for x, y, _ in matched]), lane_agreement(ia, ib, n_frames),
    )


def compare(segments: Mapping[str, Sequence[Segment]], n_frames: int, *, ms: np.ndarray | None = None,
            intervals: Mapping[str, Sequence[AUInterval]] | None = None) -> Agreement:
    """Agreement of the coders in ``segments`` (``{coder: segments}``) on one video.

    Parameters
    ----------
    segments : mapping
        Each coder's segments; rejected ones are ignored.
    n_frames : int
        Frames of the video, for the frame-level kappa.
    ms : ndarray, optional
        Frame start times in ms plus the end of the last frame
        (:meth:`annotator.formats.Timing.ms`), for differences in ms.
    intervals : mapping, optional
        Each coder's AU-lane intervals, for the lanes' agreement.
    """
    coders = list(segments)
    if len(coders) < 2:
        raise ValueError(f"agreement needs at least two coders, got {len(coders)}")
    segs = {c: sorted((s for s in segments[c] if s.status != "rejected"), key=lambda s: (s.onset, s.offset, s.id))
            for c in coders}
    lanes = intervals or {}
    pairs = [_pair(a, b, segs[a], segs[b], n_frames, ms, lanes.get(a, ()), lanes.get(b, ()))
             for a, b in itertools.combinations(coders, 2)]
    out = Agreement(coders, n_frames, pairs)
    # onset bias: a coder's mean onset minus its partners', over all its matched pairs
    diffs: dict[str, list[int]] = {c: [] for c in coders}
    missed_by: dict[tuple[str, str], list[str]] = {}
    for p in pairs:
        for x, y, _ in p.matched:
            diffs[p.a].append(x.onset - y.onset)
            diffs[p.b].append(y.onset - x.onset)
        for s in p.unmatched_a:
            missed_by.setdefault((p.a, s.id), []).append(p.b)
        for s in p.unmatched_b:
            missed_by.setdefault((p.b, s.id), []).append(p.a)
    out.onset_bias = {c: (float(np.mean(d)) if d else None) for c, d in diffs.items()}
    by_id = {(c, s.id): s for c in coders for s in segs[c]}
    out.unmatched = [(c, by_id[(c, sid)], others) for (c, sid), others in missed_by.items()]
    out.unmatched.sort(key=lambda u: (u[1].onset, u[0]))
    if len(coders) >= 3:
        out.fleiss_emotion = _fleiss(_full_clusters(coders, segs))
        out.fleiss_frames = _fleiss(np.stack([frame_codes(segs[c], n_frames) for c in coders], axis=1))
    return out


def _full_clusters(coders: list[str], segs: dict[str, list[Segment]]) -> list[list[str]]:
    """Emotion rows of the segments every coder marked (matched to the first coder's)."""
    ref = segs[coders[0]]
    partners = {c: {i: j for i, j, _ in match(ref, segs[c])} for c in coders[1:]}
    rows = []
    for i, seg in enumerate(ref):
        if all(i in partners[c] for c in coders[1:]):
            rows.append([seg.emotion] + [segs[c][partners[c][i]].emotion for c in coders[1:]])
    return rows


def session_agreement(session: "Session", coders: Sequence[str] | None = None) -> Agreement:
    """Agreement of ``coders`` (default: every coder with a labels file) on a session."""
    from ..errors import AnnotatorError
    from ..formats import session_timing

    names = list(dict.fromkeys(coders)) if coders else session.coders()  # a coder named twice is one coder
    if len(names) < 2:
        raise AnnotatorError(session.root, f"agreement needs two coders; this session has {', '.join(names) or 'none'}"
                                           " (pass --coders A,B)")
    for name in names:
        if not session.has_labels(name):
            raise AnnotatorError(session.labels_path(name), f"coder {name!r} has no labels in this session")
    labels = {name: session.load_labels(name) for name in names}
    return compare({n: lab.segments for n, lab in labels.items()}, session.n_frames, ms=session_timing(session).ms(),
                   intervals={n: lab.au_intervals for n, lab in labels.items()})
