"""Where a peak's apex is, and the AU pattern read there (one definition for spotting and training)."""

from __future__ import annotations

import numpy as np


def raw_evidence(z: np.ndarray) -> np.ndarray:
    """The evidence before smoothing: per frame, the mean of the two strongest channels of ``z``."""
    if z.shape[1] < 2:
        return z.mean(axis=1)
    return np.sort(z, axis=1)[:, -2:].mean(axis=1)


def plateau_apex(curve: np.ndarray, onset: int, offset: int, hold_fraction: float = 0.2) -> int:
    """The first frame of the peak's plateau between ``onset`` and ``offset`` (FACS's apex).

    The plateau is the run of frames around the maximum within
    ``hold_fraction`` of the rise from the onset; a ramp-then-hold line is
    fitted from the onset to the plateau's end, and the apex is its knee.  On
    a fast or a slow onset the knee is where the hold begins, where a
    fraction-of-peak rule lands early on slow onsets.
    """
    y = np.asarray(curve[onset : offset + 1], dtype=np.float64)
    top = int(np.argmax(y))
    rise = y[top] - y[: top + 1].min()
    if top == 0 or rise <= 0:
        return int(onset + top)
    level = y[top] - hold_fraction * rise
    end = top
    while end + 1 < len(y) and y[end + 1] >= level:
        end += 1
    y = y[: end + 1]
    n = len(y)
    knee = np.arange(n)[:, None]  # candidate knees, one per row
    t = np.arange(n)[None, :]
    hold = (np.cumsum(y[::-1])[::-1] / (n - np.arange(n)))[:, None]  # mean of y[knee:]
    ramp = y[0] + (hold - y[0]) * t / np.maximum(knee, 1)
    model = np.where(t < knee, ramp, hold)
    sse = ((model - y[None, :]) ** 2).sum(axis=1)
    return int(onset + int(np.argmin(sse)))


def apex_features(z: np.ndarray, intervals) -> np.ndarray:
    """The apex AU pattern ``[K, C]`` of each ``(onset, apex, offset)``: each channel's maximum within a frame of the apex.

    The one definition of a proposal's features: the spotter's emotion rules,
    training an emotion model and ``propose --model`` all read it.
    """
    z = np.asarray(z)
    rows = [z[max(on, ap - 1) : min(off, ap + 1) + 1].max(axis=0) for on, ap, off in intervals]
    return np.stack(rows) if rows else np.empty((0, z.shape[1]), dtype=z.dtype)
