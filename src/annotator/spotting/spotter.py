"""Spotting: intervals with onset, apex and offset, and a guess of the emotion.

The pipeline, per video:

1. a robust baseline per AU channel (a rolling median over several seconds,
   computed on a decimated signal so an hour of tracks stays fast) is
   subtracted, so resting asymmetries and slow drifts are not expressions;
2. each channel is scaled by its own noise level (MAD of frame-to-frame
   differences, with a floor), giving comparable z-like units;
3. blink frames mask the eye channels, fast head rotation and speech-like
   mouth oscillation mask what they contaminate, frames without a face count
   as nothing;
4. the evidence curve (mean of the two strongest channels) is thresholded
   with hysteresis; each peak's onset and offset are where it falls back
   to a fraction of its height;
5. the apex's AU pattern is scored against the EMFACS prototypes and turned
   into probabilities over the seven emotions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..features.aus import (
    ALTERNATIVES,
    BLINK_AU,
    CHANNEL_AU,
    PROTOTYPES,
    SPEECH_AUS,
    AUFeatures,
    channel_names,
)
from ..labels.model import EMOTIONS, MICRO_MAX_SECONDS, Segment, kind_for, now_iso

SPOTTER_ID = "annotator-spotter"
SPOTTER_VERSION = "1"

_EYE_AUS = ("AU5", "AU6", "AU7")


def rolling_median(x: np.ndarray, window: int, max_samples: int = 24) -> np.ndarray:
    """Centred rolling median of ``x`` [T, C] over ``window`` frames, NaN-aware.

    The median is computed on a decimated copy (at most ``max_samples`` per
    window) and interpolated back: a baseline changes slowly, and this keeps
    an hour of tracks well under a second.
    """
    import pandas as pd

    T = x.shape[0]
    if T == 0:
        return x.copy()
    step = max(1, window // max_samples)
    coarse = pd.DataFrame(x[::step])
    win = max(1, window // step) | 1
    med = coarse.rolling(win, center=True, min_periods=1).median().to_numpy()
    if step == 1:
        return med
    xs = np.arange(0, T, step)
    out = np.empty_like(x)
    grid = np.arange(T)
    for c in range(x.shape[1]):
        col = med[:, c]
        ok = np.isfinite(col)
        out[:, c] = np.interp(grid, xs[ok], col[ok]) if ok.any() else np.nan
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of True in ``mask`` (stop exclusive)."""
    if not mask.any():
        return []
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


@dataclass
class Spotter:
    """Find expression intervals in AU features.

    Parameters follow scikit-learn's convention: ``__init__`` only stores them.

    Parameters
    ----------
    baseline_seconds : float
        Window of the rolling-median baseline.  Expressions much longer than
        half of it fade into the baseline.
    threshold : float
        Peak evidence, in noise units, a candidate must reach.
    low_threshold : float
        Evidence level at which a candidate's hysteresis region ends.
    edge_fraction : float
        Onset and offset are where evidence falls to this fraction of the peak.
    apex_fraction : float
        The apex is the first frame whose evidence reaches this fraction of the peak.
    min_seconds : float
        Shortest expression (a micro-expression lasts at least 1/25 s).
    max_seconds : float
        Longest interval reported.
    noise_floor : float
        Smallest noise scale of a channel, in channel units.
    head_speed_limit : float
        Degrees per second above which head rotation masks the evidence.
    head_angle_limit : float
        Degrees away from the usual head pose (its rolling median) beyond
        which the evidence is masked.
    micro_max_seconds : float
        Longest micro-expression.
    temperature : float
        Softness of the emotion probabilities.
    """

    baseline_seconds: float = 6.0
    threshold: float = 6.0
    low_threshold: float = 2.0
    edge_fraction: float = 0.15
    apex_fraction: float = 0.9
    min_seconds: float = 1 / 25
    max_seconds: float = 4.0
    noise_floor: float = 0.02
    head_speed_limit: float = 90.0
    head_angle_limit: float = 12.0
    micro_max_seconds: float = MICRO_MAX_SECONDS
    temperature: float = 0.35
    source: str = field(default=f"{SPOTTER_ID}/{SPOTTER_VERSION}")

    # -- evidence ------------------------------------------------------------------
    def evidence(self, features: AUFeatures) -> tuple[np.ndarray, np.ndarray]:
        """``(z, e)``: per-channel scaled deviation [T, C] and evidence curve [T]."""
        x = features.values.astype(np.float64)
        fps = features.fps
        T, C = x.shape
        window = max(3, int(round(self.baseline_seconds * fps)))
        base = rolling_median(x, window)
        dev = x - base
        # The noise of a channel is how far it strays from its baseline at rest:
        # the median absolute deviation ignores the (brief) expressions themselves.
        if T > 1 and np.isfinite(dev).any():
            with np.errstate(all="ignore"):
                mad = np.nanmedian(np.abs(dev), axis=0)
        else:
            mad = np.zeros(C)
        scale = np.maximum(np.nan_to_num(mad * 1.4826, nan=self.noise_floor), self.noise_floor)
        z = dev / scale
        z = np.where(np.isfinite(z), z, 0.0)
        z = np.clip(z, 0.0, None)

        channels = features.channels
        col = {name: i for i, name in enumerate(channels)}
        blink_cols = [col[c] for c in channel_names(BLINK_AU)]
        eye_cols = [col[c] for au in _EYE_AUS for c in channel_names(au)]
        brow_cols = [col[c] for au in ("AU4",) for c in channel_names(au)]
        speech_cols = [col[c] for au in SPEECH_AUS for c in channel_names(au)]

        # blinks: the lids close fast and the eye and brow channels follow
        blink = z[:, blink_cols].max(axis=1)
        blinking = blink > self.threshold
        if blinking.any():
            grow = max(1, int(round(0.05 * fps)))
            blinking = np.convolve(blinking, np.ones(2 * grow + 1), mode="same") > 0
            z[np.ix_(blinking, eye_cols)] = 0.0
            z[np.ix_(blinking, brow_cols)] *= 0.25
        z[:, blink_cols] = 0.0

        # speech: the jaw oscillates at syllable rate; mouth-only opening is not evidence
        jaw = z[:, speech_cols].max(axis=1)
        talking = self._oscillating(jaw, fps)
        z[np.ix_(talking, speech_cols)] = 0.0

        # Head turns move every channel a little at once, both while the head
        # moves and while it is held away from where it usually is.
        speed = np.nan_to_num(features.head_speed, nan=0.0)
        turning = speed > self.head_speed_limit
        if features.head_angles is not None and np.isfinite(features.head_angles).any():
            angles = features.head_angles
            away = np.linalg.norm(angles - rolling_median(angles, window), axis=1)
            turning |= np.nan_to_num(away, nan=0.0) > self.head_angle_limit
        if turning.any():
            grow = max(1, int(round(0.1 * fps)))
            turning = np.convolve(turning, np.ones(2 * grow + 1), mode="same") > 0
            z[turning] *= 0.2
        z[~features.present] = 0.0

        top2 = np.sort(z, axis=1)[:, -2:] if C >= 2 else z
        e = top2.mean(axis=1)
        e = np.convolve(e, np.ones(3) / 3.0, mode="same")
        return z, e

    @staticmethod
    def _oscillating(signal: np.ndarray, fps: float) -> np.ndarray:
        """Frames within a second of three or more mouth openings in a row (speech)."""
        T = len(signal)
        active = signal > 3.0
        starts = [s for s, _ in _runs(active)]
        out = np.zeros(T, dtype=bool)
        span = int(round(1.5 * fps))
        for i in range(len(starts) - 2):
            if starts[i + 2] - starts[i] <= span:
                out[max(0, starts[i] - int(fps * 0.3)) : min(T, starts[i + 2] + int(fps * 0.6))] = True
        return out

    # -- intervals -----------------------------------------------------------------
    def intervals(self, e: np.ndarray, present: np.ndarray, fps: float) -> list[tuple[int, int, int, float]]:
        """``(onset, apex, offset, peak)`` for each peak of the evidence curve.

        Peaks must stand out by ``threshold`` from the valleys around them
        (their prominence), so two events close in time stay apart.  Onset and
        offset are where the curve falls back to ``edge_fraction`` of the way
        from its valley to the peak, without crossing frames that have no face.
        """
        from scipy.signal import find_peaks

        T = len(e)
        if T == 0:
            return []
        min_frames = max(1, int(np.ceil(self.min_seconds * fps - 1e-9)))
        max_frames = int(round(self.max_seconds * fps))
        reach = max(1, int(round(self.max_seconds * fps)))
        padded = np.concatenate([[0.0], e, [0.0]])
        peaks, props = find_peaks(
            padded, height=self.threshold, prominence=self.threshold, wlen=2 * reach + 1,
            distance=max(1, int(round(0.1 * fps))),
        )
        out: list[tuple[int, int, int, float]] = []
        for k, apex in enumerate(peaks - 1):
            peak = float(e[apex])
            left_base = float(padded[props["left_bases"][k]])
            right_base = float(padded[props["right_bases"][k]])
            left_level = max(left_base + self.edge_fraction * (peak - left_base), self.low_threshold)
            right_level = max(right_base + self.edge_fraction * (peak - right_base), self.low_threshold)
            onset = apex
            while onset > 0 and apex - onset < reach and e[onset - 1] > left_level and present[onset - 1]:
                onset -= 1
            offset = apex
            while offset < T - 1 and offset - apex < reach and e[offset + 1] > right_level and present[offset + 1]:
                offset += 1
            n = offset - onset + 1
            if n < min_frames or n > max_frames:
                continue
            # FACS's apex is where the expression first reaches its peak; on a held
            # expression the curve's maximum wanders along the plateau.
            apex = onset + int(np.argmax(e[onset : apex + 1] >= self.apex_fraction * peak))
            if out and onset <= out[-1][2]:
                # two peaks of one event (no valley between them): keep one interval
                prev = out[-1]
                apex_, peak_ = (apex, peak) if peak > prev[3] else (prev[1], prev[3])
                out[-1] = (min(prev[0], onset), apex_, max(prev[2], offset), peak_)
                continue
            out.append((int(onset), int(apex), int(offset), peak))
        return out

    # -- emotion -------------------------------------------------------------------
    def emotion_probabilities(self, z_apex: np.ndarray, channels: tuple[str, ...]) -> np.ndarray:
        """Probabilities ``[K, 7]`` over :data:`EMOTIONS` for ``K`` apex AU patterns ``[K, C]``.

        Each action unit's activation is ``tanh(z / 8)`` averaged over its sides.
        An emotion scores the mean activation of its prototype's units, less a
        penalty for active units outside it; contempt scores the asymmetry of
        AU12/AU14 (a symmetric smile is joy).  A softmax turns scores into
        probabilities.
        """
        z_apex = np.atleast_2d(np.asarray(z_apex, dtype=np.float64))
        K = z_apex.shape[0]
        col = {name: i for i, name in enumerate(channels)}
        aus = list(dict.fromkeys(CHANNEL_AU[c] for c in channels))
        au_i = {au: i for i, au in enumerate(aus)}
        act = np.empty((K, len(aus)))
        side = np.zeros((K, len(aus)))
        for au, i in au_i.items():
            cols = [col[c] for c in channel_names(au)]
            vals = z_apex[:, cols]
            act[:, i] = np.tanh(vals.mean(axis=1) / 8.0)
            if len(cols) == 2:
                side[:, i] = np.tanh(np.abs(vals[:, 0] - vals[:, 1]) / 8.0)
        a = lambda au: act[:, au_i[au]] if au in au_i else np.zeros(K)  # noqa: E731
        lateral = lambda au: side[:, au_i[au]] if au in au_i else np.zeros(K)  # noqa: E731
        active = act > 0.25
        n_active = np.maximum(1, active.sum(axis=1))
        raw = {}
        for emotion in EMOTIONS:
            proto = PROTOTYPES[emotion]
            alternatives = ALTERNATIVES.get(emotion, {})
            support = np.mean(
                [np.max([a(x) for x in alternatives.get(au, (au,))], axis=0) for au in proto], axis=0
            )
            inside = set(proto) | {x for alts in alternatives.values() for x in alts} | set(SPEECH_AUS)
            outside = np.array([au not in inside for au in aus])
            # present units outside the prototype speak against it
            foreign = (act * active)[:, outside].sum(axis=1)
            raw[emotion] = support - 0.25 * foreign / n_active
        asym = 0.5 * (lateral("AU12") + lateral("AU14"))
        raw["contempt"] = raw["contempt"] * 0.3 + asym
        raw["joy"] = raw["joy"] - 0.5 * asym
        # a mean over many units dilutes the long prototypes; anchor on their key units
        raw["surprise"] = 0.5 * raw["surprise"] + 0.5 * np.minimum(a("AU1"), a("AU2"))
        raw["fear"] = 0.5 * raw["fear"] + 0.5 * np.minimum.reduce([a("AU1"), a("AU4"), a("AU20") + 0.2])
        scores = np.stack([raw[e] for e in EMOTIONS], axis=1) / self.temperature
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def emotion_scores(self, z_apex: np.ndarray, channels: tuple[str, ...]) -> dict[str, float]:
        """Probabilities over :data:`EMOTIONS` for one apex AU pattern ``[C]``."""
        return _rounded_scores(self.emotion_probabilities(z_apex[None, :], channels)[0])

    @staticmethod
    def apex_aus(z_apex: np.ndarray, channels: tuple[str, ...], threshold: float = 4.0) -> list[str]:
        """Action units active at the apex: ``AU12`` when both sides, ``L12`` when one."""
        col = {name: i for i, name in enumerate(channels)}
        out = []
        for au in dict.fromkeys(CHANNEL_AU[c] for c in channels):
            if au == BLINK_AU:
                continue
            names = channel_names(au)
            on = [z_apex[col[c]] >= threshold for c in names]
            if len(names) == 1:
                if on[0]:
                    out.append(au)
            elif all(on):
                out.append(au)
            elif any(on):
                strong = np.array([z_apex[col[c]] for c in names])
                if strong.min() >= 0.5 * strong.max():
                    out.append(au)
                else:
                    out.append(names[int(np.argmax(strong))])
        return out

    # -- all together ----------------------------------------------------------------
    def spot(self, features: AUFeatures) -> list[Segment]:
        """Proposals (status ``proposed``) for one video's features."""
        return self.spot_evidence(features, *self.evidence(features))

    def spot_evidence(self, features: AUFeatures, z: np.ndarray, e: np.ndarray) -> list[Segment]:
        """Proposals from evidence already computed by :meth:`evidence` (``z``, ``e``)."""
        fps = features.fps
        stamp = now_iso()
        found = self.intervals(e, features.present, fps)
        if not found:
            return []
        # the apex pattern: each channel's strongest value within a frame of the apex
        z_apex = np.stack([z[max(on, ap - 1) : min(off, ap + 1) + 1].max(axis=0) for on, ap, off, _ in found])
        probs = self.emotion_probabilities(z_apex, features.channels)
        out = []
        for k, (onset, apex, offset, peak) in enumerate(found):
            scores = _rounded_scores(probs[k])
            confidence = float(1.0 / (1.0 + np.exp(-(peak - self.threshold) / (0.5 * self.threshold))))
            out.append(
                Segment(
                    onset=int(onset),
                    apex=int(apex),
                    offset=int(offset),
                    emotion=EMOTIONS[int(np.argmax(probs[k]))],
                    kind=kind_for(onset, offset, fps, self.micro_max_seconds),
                    emotion_scores=scores,
                    aus=self.apex_aus(z_apex[k], features.channels),
                    intensity=round(float(np.tanh(peak / 40.0)), 4),
                    confidence=round(confidence, 4),
                    status="proposed",
                    source=self.source,
                    created=stamp,
                    modified=stamp,
                )
            )
        return out


def _rounded_scores(probs: np.ndarray) -> dict[str, float]:
    """Emotion → probability, rounded as the labels file stores it."""
    return {e: round(float(p), 4) for e, p in zip(EMOTIONS, probs)}
