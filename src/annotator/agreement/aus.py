"""How far two coders agree on action units.

Two measures, the ones FACS reliability studies report:

* on matched segments, the FACS manual's agreement ratio: twice the number of
  AUs both coders scored, over the number of AUs the two scored in all, per
  pair of segments, then the mean over the pairs in which either scored an
  AU.  Sides count (``R12`` is not ``12``); intensities do not.
* on the AU lanes, per lane either coder used: Cohen's kappa of presence,
  frame by frame over the video, and on the frames both coders mark with a
  scored intensity, Cohen's kappa of the intensity weighted linearly over
  A-E (:func:`sklearn.metrics.cohen_kappa_score`).

A figure is ``None`` where it is undefined (nothing to compare, or one label
everywhere on both sides).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..labels import AUInterval, Segment
from ..labels.facs import INTENSITIES, lane_sort_key, parse_aus
from .kappa import cohen_kappa


def agreement_ratio(a: Segment, b: Segment) -> float | None:
    """2·|A∩B| / (|A| + |B|) over the AUs of two segments (side kept, intensity dropped); None when neither has any."""
    ua = {au.lane for au in parse_aus(a.aus)}
    ub = {au.lane for au in parse_aus(b.aus)}
    if not ua and not ub:
        return None
    return 2 * len(ua & ub) / (len(ua) + len(ub))


def mean_agreement_ratio(pairs: Sequence[tuple[Segment, Segment]]) -> float | None:
    """The mean :func:`agreement_ratio` over the pairs in which either coder scored an AU."""
    ratios = [r for r in (agreement_ratio(x, y) for x, y in pairs) if r is not None]
    return float(np.mean(ratios)) if ratios else None


def _lane_frames(intervals: Sequence[AUInterval], lane: str, n_frames: int) -> np.ndarray:
    """Per frame: 0 unmarked, 1 marked without intensity, 2..6 intensity A..E."""
    out = np.zeros(n_frames, dtype=np.int8)
    for iv in intervals:
        if iv.au == lane:
            code = 2 + INTENSITIES.index(iv.intensity) if iv.intensity else 1
            out[iv.onset : min(iv.offset, n_frames - 1) + 1] = code
    return out


def lane_agreement(ia: Sequence[AUInterval], ib: Sequence[AUInterval], n_frames: int) -> dict[str, dict]:
    """Per lane either coder used: ``{"kappa": presence κ, "intensity_kappa": weighted κ, "frames_both": n}``."""
    out: dict[str, dict] = {}
    for lane in sorted({iv.au for iv in (*ia, *ib)}, key=lane_sort_key):
        fa, fb = _lane_frames(ia, lane, n_frames), _lane_frames(ib, lane, n_frames)
        scored = (fa >= 2) & (fb >= 2)
        out[lane] = {
            "kappa": cohen_kappa(fa > 0, fb > 0),
            "intensity_kappa": cohen_kappa(fa[scored], fb[scored], weights="linear", labels=list(range(2, 7))),
            "frames_both": int(((fa > 0) & (fb > 0)).sum()),
        }
    return out
