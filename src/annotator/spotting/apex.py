"""Where a peak's apex is, and the AU pattern read there (one definition for spotting and training)."""

from __future__ import annotations

import numpy as np


def raw_evidence(z: np.ndarray) -> np.ndarray:
    """The evidence before smoothing: per frame, the mean of the two strongest channels of ``z``."""
    if z.shape[1] < 2:
        return z.mean(axis=1)
    return np.sort(z, axis=1)[:, -2:].mean(axis=1)


def plateau_apex(curve: np.ndarray, onset: int, offset: int, hold_fraction: float = 0.1, hold_units: float = 1.0) -> int:
    """The first frame of the peak's plateau between ``onset`` and ``offset`` (FACS's apex).

    The plateau's height is the median of the frames within ``hold_fraction``
    of the rise below the maximum (a median, because the maximum itself is
    the plateau's highest noise excursion).  The apex is the first frame from
    the onset that comes within ``min(hold_fraction * rise, hold_units)`` of
    that height: the fraction keeps a small peak's tolerance small, the cap
    in noise units keeps a big peak's slow ramp from counting as its plateau,
    where a 90 %-of-peak rule lands early.
    """
    y = np.asarray(curve[onset : offset + 1], dtype=np.float64)
    top = int(np.argmax(y))
    rise = y[top] - y[: top + 1].min()
    tolerance = min(hold_fraction * rise, hold_units)
    height = float(np.median(y[y >= y[top] - hold_fraction * rise]))
    return int(onset + int(np.argmax(y[: top + 1] >= height - tolerance)))


def apex_features(z: np.ndarray, intervals) -> np.ndarray:
    """The apex AU pattern ``[K, C]`` of each ``(onset, apex, offset)``: each channel's maximum within a frame of the apex.

    The one definition of a proposal's features: the spotter's emotion rules,
    training an emotion model and ``propose --model`` all read it.
    """
    z = np.asarray(z)
    rows = [z[max(on, ap - 1) : min(off, ap + 1) + 1].max(axis=0) for on, ap, off in intervals]
    return np.stack(rows) if rows else np.empty((0, z.shape[1]), dtype=z.dtype)
