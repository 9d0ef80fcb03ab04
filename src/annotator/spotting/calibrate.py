"""What :meth:`Spotter.fit` learns from labelled videos.

Three things, each from the coders' truth and each with the prior kept when
the data cannot say:

* the peak threshold: the multiple of the prior threshold (from
  ``threshold_factors``) with the best pooled MEGC F1, ties going to the one
  nearest the prior;
* the event probability behind each proposal's confidence: a logistic
  regression of "hit a truth interval" on ``log(prominence / threshold)``;
* the emotion temperature: the one that minimises the negative log
  likelihood of the truth emotions of the hits (temperature scaling), read
  at the apex the proposals carry (:meth:`~.spotter.Spotter.settle_apexes`).

Only the reviewed part of a video is evidence (:func:`reviewed_frames`): a
proposal there that matches no truth is a false positive; one in the
unreviewed stretch of a partly reviewed session is neither a hit nor a false
positive, because nobody has said yet whether it is right.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..features.expression import PROPOSAL_LABELS, activations_from_z, emfacs_degrees, emotion_distribution
from ..labels.model import Segment
from .apex import apex_features
from .metrics import match


#: Temperatures tried by the calibration (rule degrees are 0..1).
TEMPERATURES = np.geomspace(0.03, 1.0, 40)


def _segments(found) -> list[Segment]:
    return [Segment(onset=on, apex=ap, offset=off) for on, ap, off, _, _ in found]


def reviewed_frames(n_frames: int, decisions: list[Segment], proposals: list[Segment]) -> np.ndarray | None:
    """The frames [T] of a session whose every proposal a coder has decided on; None when all of them.

    ``decisions`` are the coder's segments (accepted, edited and rejected copies
    of proposals keep the proposal's id; drawn ones are new), ``proposals`` the
    session's proposals (``auto.json``) the coder was shown.

    * Every proposal decided on (or none made): the whole session is reviewed
      (None), and a proposal the coder never saw there would have been rejected
      or drawn, so a calibrated one that matches nothing is a false positive.
    * Partly reviewed: the reviewed part runs from the first frame to the end of
      the coder's last decision in time (a coder works through the video, drawing
      missed events on the way), less the frames of each proposal still
      undecided there (skipped, or left for later).  Past that, nothing is known.
    """
    decided = {s.id for s in decisions}
    open_ = [p for p in proposals if p.id not in decided]
    if not open_:
        return None
    mask = np.zeros(n_frames, dtype=bool)
    if decisions:
        mask[: min(n_frames, max(s.offset for s in decisions) + 1)] = True
    for p in open_:
        mask[max(0, p.onset) : p.offset + 1] = False
    return mask


def counted_indices(truth: list[Segment], proposals: list[Segment], reviewed: np.ndarray | None) -> list[int]:
    """Positions in ``proposals`` of those that are evidence (see :func:`counted`)."""
    if reviewed is None:
        return list(range(len(proposals)))
    hit = {j for _, j, _ in match(truth, proposals)}
    last = len(reviewed) - 1
    return [j for j, p in enumerate(proposals) if j in hit or (last >= 0 and reviewed[min(max(p.apex, 0), last)])]


def counted(truth: list[Segment], proposals: list[Segment], reviewed: np.ndarray | None) -> list[Segment]:
    """The proposals that are evidence: each that matches a truth segment, and the others in the reviewed part.

    A proposal counts as reviewed by its apex frame (``reviewed`` from
    :func:`reviewed_frames`; None keeps every proposal).
    """
    return [proposals[j] for j in counted_indices(truth, proposals, reviewed)]


def calibrate(spotter: Any, X: list, y: list[list[Segment]], reviewed: list | None = None) -> dict[str, float]:
    """The fitted attributes of ``spotter`` (a :class:`~.spotter.Spotter`) for videos ``X`` with truths ``y``.

    ``X`` is a list of :class:`~annotator.features.aus.AUFeatures`; the spotter
    is passed in (not imported) so this module stays below it.  ``reviewed``
    gives per video the frames that are evidence (:func:`reviewed_frames`; None:
    all of every video).
    """
    truths = [[s for s in segs if s.status != "rejected"] for segs in y]
    reviewed = [None] * len(X) if reviewed is None else list(reviewed)
    evidence = []
    for f in X:
        z, e = spotter.evidence(f)
        evidence.append((f, z, e, spotter.apex_curve(f, z)))

    def run(threshold):
        out = []
        for (f, _, e, raw), t, mask in zip(evidence, truths, reviewed):
            found = spotter.intervals(e, f.present, f.fps, raw=raw, threshold=threshold)
            if mask is not None and found:
                found = [found[j] for j in counted_indices(t, _segments(found), mask)]
            out.append(found)
        return out

    def f1(found) -> float:
        hits = sum(len(match(t, _segments(p))) for t, p in zip(truths, found))
        denom = sum(len(t) for t in truths) + sum(len(p) for p in found)
        return 1.0 if denom == 0 else 2 * hits / denom

    factors = sorted(spotter.threshold_factors, key=lambda k: abs(np.log(k)))  # nearest the prior first
    best_f1, best_threshold, best_found = -1.0, spotter.threshold, None
    for factor in factors:
        threshold = spotter.threshold * factor
        found = run(threshold)
        score = f1(found)
        if score > best_f1 + 1e-12:
            best_f1, best_threshold, best_found = score, threshold, found

    # hits and misses at the chosen threshold, for the confidence and the temperature
    ratios, hit, patterns, targets = [], [], [], []
    for (f, z, _, _), t, found in zip(evidence, truths, best_found):
        if found:  # the apexes the proposals carry, where the emotion patterns are read
            found = spotter.settle_apexes(f, z, found)[0]
        pairs = {j: i for i, j, _ in match(t, _segments(found))}
        for j, (on, ap, off, _, prominence) in enumerate(found):
            ratios.append(np.log(max(prominence, 1e-9) / best_threshold))
            hit.append(j in pairs)
            if j in pairs:
                emotion = t[pairs[j]].emotion
                label = emotion if emotion in PROPOSAL_LABELS else "other"  # neutral: no rule fits
                patterns.append(apex_features(z, [(on, ap, off)])[0])
                targets.append(PROPOSAL_LABELS.index(label))
                channels = f.channels

    fitted = {"threshold_": float(best_threshold), "train_f1_": float(best_f1), "n_videos_": len(X)}
    fitted["confidence_slope_"], fitted["confidence_offset_"] = float(spotter.confidence_slope), 0.0
    if sum(hit) >= 2 and len(hit) - sum(hit) >= 2:
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression().fit(np.array(ratios)[:, None], np.array(hit))
        if lr.coef_[0, 0] > 0:  # a stronger peak must never mean a less likely event
            fitted["confidence_slope_"] = float(lr.coef_[0, 0])
            fitted["confidence_offset_"] = float(lr.intercept_[0])

    fitted["temperature_"] = float(spotter.temperature)
    if targets:
        degrees = emfacs_degrees(activations_from_z(np.stack(patterns), channels))
        rows = np.arange(len(targets))
        nll = [-np.log(emotion_distribution(degrees, t)[rows, targets] + 1e-12).mean() for t in TEMPERATURES]
        fitted["temperature_"] = float(TEMPERATURES[int(np.argmin(nll))])
    return fitted
