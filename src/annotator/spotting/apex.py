"""Where a peak's apex is, and the AU pattern read there (one definition for spotting and training)."""

from __future__ import annotations

import numpy as np

from ..features.aus import CHANNEL_AU, LANDMARK_AUS, AUFeatures, channel_names
from ..features.expression import EMOTION_AUS


def raw_evidence(z: np.ndarray) -> np.ndarray:
    """The evidence before smoothing: per frame, the mean of the two strongest channels of ``z``."""
    if z.shape[1] < 2:
        return z.mean(axis=1)
    return np.sort(z, axis=1)[:, -2:].mean(axis=1)


def plateau_apex(curve: np.ndarray, onset: int, offset: int, hold_fraction: float = 0.1, hold_units: float = 1.0) -> int:
    """The first frame of the peak's plateau between ``onset`` and ``offset`` (FACS's apex).

    The plateau's height is the median of the frames within ``hold_fraction``
    of the interval's rise below the maximum (a median, because the maximum
    itself is the plateau's highest noise excursion).  The apex is the first
    frame from the onset that comes within ``min(hold_fraction * rise,
    hold_units)`` of that height: the fraction keeps a small peak's tolerance
    small, the cap in noise units keeps a big peak's slow ramp from counting
    as its plateau, where a 90 %-of-peak rule lands early.

    A creeping plateau: the onset is where the *smoothed* evidence leaves its
    valley, and on a fast real onset the unsmoothed curve is most of the way
    up by then (3.8 of 7.5 on a re-timed laugh), so that tolerance can shrink
    to a fraction of a noise unit, while the Face Landmarker's output still
    creeps up over a held apex (the same frame repeated: +0.85, +0.38, +0.16
    units as it settles).  Its apex came 2 frames late.  So a frame also counts
    when it is within ``hold_fraction`` of the rise from the valley before the
    onset (looking back as far as the rise is long; at most ``hold_units``)
    *and* is a knee, where the rise slows (its next step is smaller than the
    one into it): a creep decelerates from the knee on, a real onset that is
    still speeding up has not reached its peak (a real macro laugh's corners,
    +0.29 then +0.45, stay before the apex).

    An overshoot: a fast real brow raise's output peaks on the first held
    frame and settles lower over the repeated frame (34.0, 32.6, 31.3, then
    30.9), so the height is the settled level, which the rising curve crosses
    2 frames before the peak (29.7, then +3.2 and +4.3 units).  A frame from
    which the curve still rises by more than the knee's tolerance in *each* of
    the next two frames has not reached its peak and held, so it is passed
    over; one higher frame after it is a noise excursion and does not count.
    """
    c = np.asarray(curve, dtype=np.float64)
    y = c[onset : offset + 1]
    top = int(np.argmax(y))
    rise = y[top] - y[: top + 1].min()
    valley = float(np.min(c[max(0, onset - max(1, top)) : onset + 1]))
    tolerance = min(hold_fraction * rise, hold_units)
    knee_tolerance = min(hold_fraction * max(rise, y[top] - valley), hold_units)
    height = float(np.median(y[y >= y[top] - hold_fraction * rise]))
    for k in range(top + 1):
        frame = onset + k
        step = c[frame + 1] - c[frame] if frame < len(c) - 1 else 0.0
        if step > knee_tolerance and frame < len(c) - 2 and c[frame + 2] - c[frame] > knee_tolerance:
            continue  # still rising: not held yet
        if y[k] >= height - tolerance:
            return frame
        if y[k] >= height - knee_tolerance and 0 < frame < len(c) - 1 and step < c[frame] - c[frame - 1]:
            return frame
    return onset + top


#: A level within this of its ceiling (1.0) is pinned there: it stops rising while the face goes on.
SATURATED = 0.98


def saturated(features: AUFeatures, onset: int, offset: int) -> np.ndarray:
    """Channels [C] whose level reaches its ceiling between ``onset`` and ``offset``.

    Blendshapes and the lip gap (AU25, :func:`~annotator.features.aus.lip_part`)
    are scores in 0..1; geometry channels and an imported tool's AUs have no
    ceiling here.  A laugh's lips are fully apart (AU25 at 1.0) frames before
    its mouth corners peak.
    """
    bounded = np.array([features.source == "blendshapes" or CHANNEL_AU.get(c) in LANDMARK_AUS
                        for c in features.channels]) & (features.source != "external")
    top = np.nanmax(np.nan_to_num(features.values[onset : offset + 1], nan=0.0), axis=0)
    return bounded & (top >= SATURATED)


#: A unit carries the expression when it has risen, at the evidence's apex, by at least this
#: fraction of its emotion's strongest unit.
UNIT_FRACTION = 0.5


def emotion_apex(
    z: np.ndarray, features: AUFeatures, onset: int, apex: int, offset: int, emotion: str,
    hold_fraction: float = 0.1, hold_units: float = 1.0,
) -> int | None:
    """The apex on the plateau of the units that carry ``emotion``, or None (keep ``apex``).

    FACS's apex is where the expression peaks and holds.  The evidence (the
    two strongest channels of any unit) plateaus as soon as its two strongest
    channels do, and that can come early: a laugh's lips are pinned at their
    ceiling (AU25 at 1.0, :func:`saturated`) frames before its mouth corners
    (AU12) peak, and a smile's corners are within 2 % of their peak, the top
    two channels, while its lips are still parting.  Once the emotion is
    known, its units (:data:`EMOTION_AUS`) that are not saturated and have
    risen at the evidence's ``apex`` by at least ``UNIT_FRACTION`` of the
    strongest one carry it; the apex is :func:`plateau_apex` of their mean
    (each unit the mean of its sides, :func:`raw_evidence`), so a unit still
    rising holds the apex back.  Weak units stay out: their noise would
    decide the plateau.  The spotter keeps the later of this and the
    evidence's apex (an overshooting brow raise plateaus lower than its
    peak, and this alone would come early).  None when the emotion has no rule ("other", a
    model's own label) or none of its units is tracked, unsaturated and risen.
    """
    units = EMOTION_AUS.get(emotion)
    if not units:
        return None
    col = {name: i for i, name in enumerate(features.channels)}
    pinned = saturated(features, onset, offset)
    z = np.asarray(z)
    curves, risen = [], []
    for au in units:
        cols = [col[c] for c in channel_names(au) if c in col and not pinned[col[c]]]
        if not cols:
            continue
        curve = raw_evidence(z[:, cols])
        if not np.isfinite(curve[onset : offset + 1]).all():
            continue
        curves.append(curve)
        risen.append(float(curve[apex] - curve[onset : apex + 1].min()))
    if not risen or max(risen) <= 0:
        return None
    carrying = [c for c, r in zip(curves, risen) if r >= UNIT_FRACTION * max(risen)]
    return plateau_apex(np.mean(carrying, axis=0), onset, offset, hold_fraction, hold_units)


def apex_features(z: np.ndarray, intervals) -> np.ndarray:
    """The apex AU pattern ``[K, C]`` of each ``(onset, apex, offset)``: each channel's maximum within a frame of the apex.

    The one definition of a proposal's features: the spotter's emotion rules,
    training an emotion model and ``propose --model`` all read it.
    """
    z = np.asarray(z)
    rows = [z[max(on, ap - 1) : min(off, ap + 1) + 1].max(axis=0) for on, ap, off in intervals]
    return np.stack(rows) if rows else np.empty((0, z.shape[1]), dtype=z.dtype)
