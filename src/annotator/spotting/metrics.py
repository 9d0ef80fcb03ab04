"""The MEGC spotting metric, the apex error and the emotion accuracy of the hits.

A proposal hits a truth interval when their IoU, counting frames inclusively,
is at least 0.5.  Each truth interval is hit at most once: matching is
one-to-one, best IoU first, so two proposals on one truth give one true
positive and one false positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping

from ..labels.model import KINDS, Segment

IOU_THRESHOLD = 0.5


def interval_iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """IoU of two inclusive frame intervals ``(onset, offset)``."""
    inter = min(a[1], b[1]) - max(a[0], b[0]) + 1
    if inter <= 0:
        return 0.0
    union = (a[1] - a[0] + 1) + (b[1] - b[0] + 1) - inter
    return inter / union


def match(truth: list[Segment], pred: list[Segment], threshold: float = IOU_THRESHOLD) -> list[tuple[int, int, float]]:
    """One-to-one ``(truth_index, pred_index, iou)`` pairs with IoU ≥ ``threshold``, best first.

    Only pairs that can reach ``threshold`` are scored: a sort-and-sweep over the
    proposals' onsets.  With IoU ≥ t > 0 the proposal overlaps the truth and is at
    most ``len(truth) / t`` frames long, so its onset lies in
    ``[truth.onset - len(truth) / t, truth.offset]``.  The result equals scoring
    every pair (:func:`match_all_pairs`); a threshold ≤ 0 does score every pair.
    """
    if threshold <= 0:
        return match_all_pairs(truth, pred, threshold)
    import bisect

    order = sorted(range(len(pred)), key=lambda j: pred[j].onset)
    onsets = [pred[j].onset for j in order]
    pairs = []
    for i, t in enumerate(truth):
        span = t.offset - t.onset + 1
        lo = bisect.bisect_left(onsets, math.floor(t.onset - span / threshold))
        hi = bisect.bisect_right(onsets, t.offset)
        for k in range(lo, hi):
            j = order[k]
            p = pred[j]
            iou = interval_iou((t.onset, t.offset), (p.onset, p.offset))
            if iou >= threshold:
                pairs.append((iou, i, j))
    return _one_to_one(pairs)


def match_all_pairs(
    truth: list[Segment], pred: list[Segment], threshold: float = IOU_THRESHOLD
) -> list[tuple[int, int, float]]:
    """:func:`match` by scoring all ``len(truth) × len(pred)`` pairs (the reference it is tested against)."""
    pairs = []
    for i, t in enumerate(truth):
        for j, p in enumerate(pred):
            iou = interval_iou((t.onset, t.offset), (p.onset, p.offset))
            if iou >= threshold:
                pairs.append((iou, i, j))
    return _one_to_one(pairs)


def _one_to_one(pairs: list[tuple[float, int, int]]) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching, best IoU first (ties by truth, then proposal index)."""
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_t, used_p, out = set(), set(), []
    for iou, i, j in pairs:
        if i in used_t or j in used_p:
            continue
        used_t.add(i)
        used_p.add(j)
        out.append((i, j, iou))
    return out


@dataclass
class Scores:
    """Counts and rates of one evaluation slice."""

    truths: int = 0
    proposals: int = 0
    hits: int = 0
    apex_errors: list[int] = field(default_factory=list)
    emotion_hits: int = 0

    @property
    def precision(self) -> float | None:
        return self.hits / self.proposals if self.proposals else None

    @property
    def recall(self) -> float | None:
        return self.hits / self.truths if self.truths else None

    @property
    def f1(self) -> float | None:
        denom = self.proposals + self.truths
        if denom == 0:
            return None
        return 2 * self.hits / denom

    @property
    def apex_mae(self) -> float | None:
        return sum(self.apex_errors) / len(self.apex_errors) if self.apex_errors else None

    @property
    def emotion_accuracy(self) -> float | None:
        return self.emotion_hits / self.hits if self.hits else None

    def to_dict(self) -> dict:
        return {
            "truths": self.truths,
            "proposals": self.proposals,
            "hits": self.hits,
            "false_positives": self.proposals - self.hits,
            "misses": self.truths - self.hits,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "apex_mae_frames": self.apex_mae,
            "emotion_accuracy": self.emotion_accuracy,
        }


def _score(truth: list[Segment], pred: list[Segment], into: Scores) -> None:
    into.truths += len(truth)
    into.proposals += len(pred)
    for i, j, _ in match(truth, pred):
        into.hits += 1
        into.apex_errors.append(abs(truth[i].apex - pred[j].apex))
        into.emotion_hits += int(truth[i].emotion == pred[j].emotion)


def evaluate(
    truth: Mapping[Hashable, Iterable[Segment]], pred: Mapping[Hashable, Iterable[Segment]]
) -> dict[str, Scores]:
    """Scores over all videos: ``{"all": ..., "micro": ..., "macro": ...}``.

    ``truth`` and ``pred`` map a video key to its segments; rejected segments
    are ignored.  For the per-kind slices, truths and proposals are split by
    their own ``kind`` and matched within the slice, as in MEGC.
    """
    out = {"all": Scores(), **{k: Scores() for k in KINDS}}
    for key in sorted(set(truth) | set(pred), key=str):
        t = [s for s in truth.get(key, []) if s.status != "rejected"]
        p = [s for s in pred.get(key, []) if s.status != "rejected"]
        _score(t, p, out["all"])
        for kind in KINDS:
            _score([s for s in t if s.kind == kind], [s for s in p if s.kind == kind], out[kind])
    return out


def format_table(report: dict[str, Scores]) -> str:
    """A plain-text table of a report."""

    def fmt(v):
        return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    cols = ["truths", "proposals", "hits", "precision", "recall", "f1", "apex_mae_frames", "emotion_accuracy"]
    head = ["slice"] + cols
    rows = [[name] + [fmt(s.to_dict()[c]) for c in cols] for name, s in report.items()]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def report_dict(report: dict[str, Scores]) -> dict:
    return {name: s.to_dict() for name, s in report.items()}


__all__ = [
    "IOU_THRESHOLD", "Scores", "evaluate", "format_table", "interval_iou", "match", "match_all_pairs", "report_dict",
]
