"""Spotting: intervals with onset, apex and offset, and a guess of the emotion.

The pipeline, per video:

1. a robust baseline per AU channel (a rolling median over several seconds,
   computed on a decimated signal so an hour of tracks stays fast) is
   subtracted, so resting asymmetries and slow drifts are not expressions;
2. each channel is scaled by its own noise level (MAD of the deviations,
   with a floor), giving comparable z-like units;
3. blink frames mask the eye channels, fast head rotation and speech-like
   mouth oscillation mask what they contaminate, frames without a face count
   as nothing;
4. the evidence curve (mean of the two strongest channels) is thresholded by
   peak prominence; each peak's onset and offset are where it falls back to a
   fraction of its height, and its apex is the first frame of the plateau
   (FACS: the peak reached and held) on the unsmoothed evidence;
5. the apex's AU pattern (:func:`apex_features`) goes through the EMFACS rules
   of :mod:`annotator.features.expression`;
6. the apex moves later if that emotion's own units are still rising there
   (:func:`~annotator.spotting.apex.emotion_apex`: a laugh's lips are fully
   apart before its corners peak), and the pattern is read there again.

:class:`Spotter` is a scikit-learn estimator over whole videos: ``X`` is a
list of :class:`~annotator.features.aus.AUFeatures` (one per video), ``y`` a
list of lists of :class:`~annotator.labels.model.Segment` (each video's truth).
``fit`` calibrates the threshold, the emotion temperature and the confidence
from labelled videos; ``predict`` gives each video's proposals; ``score`` is the
MEGC F1 (IoU >= 0.5) pooled over the videos.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from ..features.aus import BLINK_AU, CHANNEL_AU, SPEECH_AUS, AUFeatures, channel_names
from ..features.expression import PROPOSAL_LABELS, activations_from_z, emfacs_degrees, emotion_distribution
from ..labels.model import MICRO_MAX_SECONDS, Segment, kind_for, now_iso
from .apex import apex_features, emotion_apex, plateau_apex, raw_evidence

SPOTTER_ID = "annotator-spotter"
#: Bumped whenever the same tracks can give different proposals (their ids hash the source):
#: 3, the apex moved to the later of the evidence's and the emotion's own plateau.
SPOTTER_VERSION = "3"

__all__ = ["PROPOSAL_LABELS", "Spotter", "apex_features", "plateau_apex", "raw_evidence", "rolling_median"]

_EYE_AUS = ("AU5", "AU6", "AU7")
#: Lip actions of speech's consonants (AU17 chin raiser, mouthShrugLower; AU23 press; the pucker,
#: AU18, is in SPEECH_AUS): they count as mouth movements of speech, masked while it lasts.
LIP_AUS = ("AU17", "AU23")
#: Level, in noise units, above which a mouth unit counts as moving (:meth:`Spotter.talking`).
_MOVING = 3.0
#: Factor on the evidence of frames with head motion (:meth:`Spotter.turning`).
_TURN_DAMPING = 0.2


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


class Spotter(BaseEstimator):
    """Find expression intervals in AU features; a scikit-learn estimator over videos.

    ``__init__`` only stores the parameters.  An unfitted spotter uses them as
    its prior; :meth:`fit` replaces the threshold, the temperature and the
    confidence slope by values calibrated on labelled videos (the fitted
    attributes end in ``_``).

    Parameters
    ----------
    baseline_seconds : float
        Window of the rolling-median baseline.  Expressions much longer than
        half of it fade into the baseline.
    threshold : float
        Peak prominence, in noise units, a candidate must reach.
    low_threshold : float
        Evidence level at which a candidate's interval ends.
    edge_fraction : float
        Onset and offset are where evidence falls to this fraction of the way
        from the valley to the peak.
    hold_fraction : float
        Frames within this fraction of the rise (at most ``hold_units``) below
        the peak make the plateau whose first frame is the apex.
    hold_units : float
        Cap, in noise units, of that tolerance.  1.5 rather than 1: on real
        footage the Face Landmarker's output still creeps up for a frame or
        two over a held apex (re-timed carphone clips, seed 0), and a cap of 1
        put those apexes 2 frames late.
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
    rigid_motion_limit : float
        Whole-face motion (shift in face sizes, log scale, in-plane radians) beyond
        which a frame whose shape does not change is damped (:meth:`rigid`).
    rigid_deformation_floor : float
        Shape change, in face sizes, below which such a frame counts as rigid.
        0.013: on re-timed real clips every true event deforms the face by 0.020
        or more, and the moving ``takeo`` still by 0.010-0.012 (a thin margin).
    rigid_deformation_ratio : float
        ... and below this fraction of the motion: a real face's own head movement
        comes with its expression (at the deformation's peak of a real surprise the
        ratio is 0.22 or more; the moving still's is under 0.06).
    micro_max_seconds : float
        Longest micro-expression.
    temperature : float
        Softness of the emotion probabilities (rule degrees are 0..1).
    confidence_slope : float
        Steepness of the event probability in ``log(prominence / threshold)``.
    threshold_factors : tuple of float
        Multiples of ``threshold`` that :meth:`fit` tries.
    source : str
        The ``source`` written into each proposal.

    Attributes
    ----------
    threshold_, temperature_, confidence_slope_, confidence_offset_ : float
        Calibrated by :meth:`fit`.
    train_f1_ : float
        MEGC F1 on the training videos at ``threshold_``.
    """

    def __init__(
        self,
        baseline_seconds: float = 6.0,
        threshold: float = 6.0,
        low_threshold: float = 2.0,
        edge_fraction: float = 0.15,
        hold_fraction: float = 0.1,
        hold_units: float = 1.5,
        min_seconds: float = 1 / 25,
        max_seconds: float = 4.0,
        noise_floor: float = 0.02,
        head_speed_limit: float = 90.0,
        head_angle_limit: float = 12.0,
        rigid_motion_limit: float = 0.02,
        rigid_deformation_floor: float = 0.013,
        rigid_deformation_ratio: float = 0.15,
        micro_max_seconds: float = MICRO_MAX_SECONDS,
        temperature: float = 0.15,
        confidence_slope: float = 2.0,
        threshold_factors: tuple = (0.6, 0.8, 1.0, 1.25, 1.6, 2.0),
        source: str = f"{SPOTTER_ID}/{SPOTTER_VERSION}",
    ):
        self.baseline_seconds = baseline_seconds
        self.threshold = threshold
        self.low_threshold = low_threshold
        self.edge_fraction = edge_fraction
        self.hold_fraction = hold_fraction
        self.hold_units = hold_units
        self.min_seconds = min_seconds
        self.max_seconds = max_seconds
        self.noise_floor = noise_floor
        self.head_speed_limit = head_speed_limit
        self.head_angle_limit = head_angle_limit
        self.rigid_motion_limit = rigid_motion_limit
        self.rigid_deformation_floor = rigid_deformation_floor
        self.rigid_deformation_ratio = rigid_deformation_ratio
        self.micro_max_seconds = micro_max_seconds
        self.temperature = temperature
        self.confidence_slope = confidence_slope
        self.threshold_factors = threshold_factors
        self.source = source

    # the prior until fit() calibrates
    def _param(self, name: str) -> float:
        return getattr(self, name + "_", getattr(self, name))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.requires_fit = False  # the parameters are a working prior
        return tags

    # -- the estimator API ----------------------------------------------------------
    def fit(self, X, y, reviewed=None):
        """Calibrate on labelled videos.

        Parameters
        ----------
        X : list of AUFeatures
            One per video.
        y : list of list of Segment
            Each video's truth (rejected segments are ignored).
        reviewed : list of (bool array [T] or None), optional
            Per video, the frames a coder has reviewed
            (:func:`annotator.spotting.calibrate.reviewed_frames`); None (the
            default, or for one video) means all of it.  A proposal whose apex
            lies outside is neither a hit nor a false positive, unless it
            matches a truth segment.

        Returns
        -------
        self
        """
        from .calibrate import calibrate

        X, y = _check_xy(X, y)
        if reviewed is not None and len(reviewed) != len(X):
            raise ValueError(f"X has {len(X)} videos but reviewed has {len(reviewed)} masks")
        for name, value in calibrate(self, X, y, reviewed).items():
            setattr(self, name, value)
        return self

    def predict(self, X) -> list[list[Segment]]:
        """Proposals for each video of ``X`` (a list of AUFeatures)."""
        return [self.spot(f) for f in _check_x(X)]

    def score(self, X, y) -> float:
        """MEGC spotting F1 (interval IoU >= 0.5), pooled over the videos; 1.0 when both are empty."""
        from .metrics import evaluate

        X, y = _check_xy(X, y)
        pred = self.predict(X)
        f1 = evaluate(dict(enumerate(y)), dict(enumerate(pred)))["all"].f1
        return 1.0 if f1 is None else float(f1)

    # -- evidence ------------------------------------------------------------------
    def deviations(self, features: AUFeatures) -> np.ndarray:
        """Each channel's deviation above its baseline in noise units [T, C], before any mask."""
        x = features.values.astype(np.float64)
        T, C = x.shape
        window = max(3, int(round(self.baseline_seconds * features.fps)))
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
        return np.clip(z, 0.0, None)

    def evidence(self, features: AUFeatures) -> tuple[np.ndarray, np.ndarray]:
        """``(z, e)``: per-channel scaled deviation [T, C] and evidence curve [T]."""
        z = self.deviations(features)
        fps = features.fps
        C = z.shape[1]
        channels = features.channels
        col = {name: i for i, name in enumerate(channels)}
        blink_cols = [col[c] for c in channel_names(BLINK_AU)]
        eye_cols = [col[c] for au in _EYE_AUS for c in channel_names(au)]
        brow_cols = [col[c] for au in ("AU4",) for c in channel_names(au)]
        speech_cols = [col[c] for au in SPEECH_AUS for c in channel_names(au)]

        # blinks: the lids close fast and the eye and brow channels follow
        blink = z[:, blink_cols].max(axis=1)
        blinking = blink > self.threshold  # the prior: blinks do not depend on calibration
        if blinking.any():
            grow = max(1, int(round(0.05 * fps)))
            blinking = np.convolve(blinking, np.ones(2 * grow + 1), mode="same") > 0
            z[np.ix_(blinking, eye_cols)] = 0.0
            z[np.ix_(blinking, brow_cols)] *= 0.25
        z[:, blink_cols] = 0.0

        # speech: the mouth moves at syllable rate, the jaw opening and the lips pressing,
        # puckering or shrugging for the consonants; while it does, no mouth channel is evidence
        talking = self.talking(z, channels, fps)
        z[np.ix_(talking, speech_cols + [col[c] for au in LIP_AUS for c in channel_names(au)])] = 0.0

        z[self.turning(features)] *= _TURN_DAMPING
        z[~features.present] = 0.0

        top2 = np.sort(z, axis=1)[:, -2:] if C >= 2 else z
        e = top2.mean(axis=1)
        e = np.convolve(e, np.ones(3) / 3.0, mode="same")
        return z, e

    def turning(self, features: AUFeatures) -> np.ndarray:
        """Frames [T] whose evidence head motion damps.

        Head turns move every channel a little at once, both while the head
        moves and while it is held away from where it usually is.
        """
        fps = features.fps
        window = max(3, int(round(self.baseline_seconds * fps)))
        speed = np.nan_to_num(features.head_speed, nan=0.0)
        turning = speed > self.head_speed_limit
        if features.head_angles is not None and np.isfinite(features.head_angles).any():
            angles = features.head_angles
            away = np.linalg.norm(angles - rolling_median(angles, window), axis=1)
            turning |= np.nan_to_num(away, nan=0.0) > self.head_angle_limit
        turning |= self.rigid(features)
        if turning.any():
            grow = max(1, int(round(0.1 * fps)))
            turning = np.convolve(turning, np.ones(2 * grow + 1), mode="same") > 0
        return turning

    def rigid(self, features: AUFeatures) -> np.ndarray:
        """Frames [T] where the face moves as a whole and its shape does not change.

        The face is away from its usual place, size or in-plane angle by more
        than ``rigid_motion_limit`` (:func:`annotator.features.rigid.rigid_motion`),
        while the landmarks, once that similarity is undone, stay within
        ``rigid_deformation_floor`` face sizes of the usual shape, and within
        ``rigid_deformation_ratio`` of the motion.  What the
        blendshapes do then is the landmarker reacting to the motion, not an
        expression (a real still rolled and zoomed raised its mouthSmile by 0.18).
        """
        rigid = getattr(features, "rigid", None)
        if rigid is None:
            return np.zeros(len(features.present), dtype=bool)
        motion, deformation = np.nan_to_num(rigid[:, 0], nan=0.0), np.nan_to_num(rigid[:, 1], nan=np.inf)
        unexplained = np.minimum(self.rigid_deformation_floor, self.rigid_deformation_ratio * motion)
        return (motion > self.rigid_motion_limit) & (deformation < unexplained)

    def apex_curve(self, features: AUFeatures, z: np.ndarray) -> np.ndarray:
        """The unsmoothed evidence [T] whose plateau gives each apex.

        The head-motion damping is undone: it decides whether a peak counts,
        not where its plateau starts.  A one-frame jitter of the head pose
        (a blink inside a fast brow raise does it on real footage) would
        otherwise damp the first frames of the plateau, and the apex would
        land where the damping ends.
        """
        return raw_evidence(self._undamped(features, z))

    def _undamped(self, features: AUFeatures, z: np.ndarray) -> np.ndarray:
        """``z`` with the head-motion damping undone (see :meth:`apex_curve`)."""
        z = z.copy()
        z[self.turning(features)] /= _TURN_DAMPING
        return z

    @classmethod
    def talking(cls, z: np.ndarray, channels: tuple[str, ...], fps: float) -> np.ndarray:
        """Frames [T] of speech: the mouth moves three or more times within 1.5 s.

        A movement is the jaw or lips opening (:data:`SPEECH_AUS`), or the lips
        pressing, puckering or shrugging (:data:`LIP_AUS`), whichever comes: speech
        alternates them, and on real talking (carphone) a word's lip press with a brow
        flash otherwise reached the threshold between two jaw openings.

        A mouth movement made while both lip corners are pulled (AU12 on both
        sides above the same level: a smile or a laugh) is the smile's, not a
        syllable's, and does not count.  A broad smile parts the lips and
        presses their corners for as long as it lasts, and its relaxing chin
        twitched twice after it (re-timed real smile, seed 1): three movements
        within 1.5 s, read as talking, which zeroed the smile's own mouth
        channels.  Speech's corners stay down (carphone: AU12 under 1.6 units).
        """
        col = {name: i for i, name in enumerate(channels)}
        jaw = [col[c] for au in SPEECH_AUS for c in channel_names(au)]
        lips = [col[c] for au in LIP_AUS for c in channel_names(au)]
        smiling = z[:, [col[c] for c in channel_names("AU12")]].min(axis=1) > _MOVING
        return (cls._oscillating(z[:, jaw].max(axis=1), fps, smiling)
                | cls._oscillating(z[:, jaw + lips].max(axis=1), fps, smiling))

    @staticmethod
    def _oscillating(signal: np.ndarray, fps: float, smiling: np.ndarray | None = None) -> np.ndarray:
        """Frames within a second of three or more mouth openings in a row (speech).

        An opening that overlaps a ``smiling`` frame is not counted.
        """
        T = len(signal)
        active = signal > _MOVING
        starts = [s for s, e in _runs(active) if smiling is None or not smiling[s:e].any()]
        out = np.zeros(T, dtype=bool)
        span = int(round(1.5 * fps))
        for i in range(len(starts) - 2):
            if starts[i + 2] - starts[i] <= span:
                out[max(0, starts[i] - int(fps * 0.3)) : min(T, starts[i + 2] + int(fps * 0.6))] = True
        return out

    # -- intervals -----------------------------------------------------------------
    def intervals(
        self, e: np.ndarray, present: np.ndarray, fps: float, *,
        raw: np.ndarray | None = None, threshold: float | None = None,
    ) -> list[tuple[int, int, int, float, float]]:
        """``(onset, apex, offset, peak, prominence)`` for each peak of the evidence curve.

        Peaks must stand out by ``threshold`` from the valleys around them
        (their prominence), so two events close in time stay apart.  Onset and
        offset are where the curve falls back to ``edge_fraction`` of the way
        from its valley to the peak, without crossing frames that have no face.
        The apex is :func:`plateau_apex` of ``raw`` (the unsmoothed evidence,
        whose plateau starts where the expression's does; smoothing delays it), or of ``e``.
        """
        from scipy.signal import find_peaks

        threshold = self._param("threshold") if threshold is None else threshold
        raw = e if raw is None else raw
        T = len(e)
        if T == 0:
            return []
        min_frames = max(1, int(np.ceil(self.min_seconds * fps - 1e-9)))
        max_frames = int(round(self.max_seconds * fps))
        reach = max(1, int(round(self.max_seconds * fps)))
        padded = np.concatenate([[0.0], e, [0.0]])
        peaks, props = find_peaks(
            padded, height=threshold, prominence=threshold, wlen=2 * reach + 1,
            distance=max(1, int(round(0.1 * fps))),
        )
        out: list[tuple[int, int, int, float, float]] = []
        for k, top in enumerate(peaks - 1):
            peak = float(e[top])
            prominence = float(props["prominences"][k])
            left_base = float(padded[props["left_bases"][k]])
            right_base = float(padded[props["right_bases"][k]])
            left_level = max(left_base + self.edge_fraction * (peak - left_base), self.low_threshold)
            right_level = max(right_base + self.edge_fraction * (peak - right_base), self.low_threshold)
            onset = top
            while onset > 0 and top - onset < reach and e[onset - 1] > left_level and present[onset - 1]:
                onset -= 1
            offset = top
            while offset < T - 1 and offset - top < reach and e[offset + 1] > right_level and present[offset + 1]:
                offset += 1
            n = offset - onset + 1
            if n < min_frames or n > max_frames:
                continue
            apex = plateau_apex(raw, onset, offset, self.hold_fraction, self.hold_units)
            if out and onset <= out[-1][2]:
                # two peaks of one event (no valley between them): keep one interval
                prev = out[-1]
                onset_, offset_ = min(prev[0], onset), max(prev[2], offset)
                apex_ = plateau_apex(raw, onset_, offset_, self.hold_fraction, self.hold_units)
                out[-1] = (onset_, apex_, offset_, max(peak, prev[3]), max(prominence, prev[4]))
                continue
            out.append((int(onset), int(apex), int(offset), peak, prominence))
        return out

    # -- emotion -------------------------------------------------------------------
    def emotion_probabilities(self, z_apex: np.ndarray, channels: tuple[str, ...]) -> np.ndarray:
        """Probabilities ``[K, 8]`` over :data:`PROPOSAL_LABELS` for ``K`` apex AU patterns ``[K, C]``.

        The EMFACS rules of :func:`annotator.features.expression.emfacs_degrees`
        on the apex's activations, softened by the (calibrated) temperature;
        the last column is "other" (no rule fits).
        """
        degrees = emfacs_degrees(activations_from_z(z_apex, channels))
        return emotion_distribution(degrees, self._param("temperature"))

    def emotion_scores(self, z_apex: np.ndarray, channels: tuple[str, ...]) -> dict[str, float]:
        """Probabilities over :data:`PROPOSAL_LABELS` for one apex AU pattern ``[C]``."""
        return _rounded_scores(self.emotion_probabilities(np.asarray(z_apex)[None, :], channels)[0])

    def event_probability(self, prominence: np.ndarray) -> np.ndarray:
        """How likely a peak of this prominence is a real expression (logistic in its log ratio to the threshold)."""
        ratio = np.log(np.maximum(np.asarray(prominence, dtype=np.float64), 1e-9) / self._param("threshold"))
        offset = getattr(self, "confidence_offset_", 0.0)
        return 1.0 / (1.0 + np.exp(-(self._param("confidence_slope") * ratio + offset)))

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
        return sorted(out, key=lambda a: int(a.lstrip("LRAU")))

    # -- all together ----------------------------------------------------------------
    def spot(self, features: AUFeatures) -> list[Segment]:
        """Proposals (status ``proposed``) for one video's features."""
        return self.spot_evidence(features, *self.evidence(features))

    def _read_apexes(self, z: np.ndarray, found, channels: tuple[str, ...], classifier=None):
        """The apex patterns of ``found`` and their emotion labels and probabilities."""
        z_apex = apex_features(z, [(on, ap, off) for on, ap, off, _, _ in found])
        if classifier is None:
            return z_apex, PROPOSAL_LABELS, self.emotion_probabilities(z_apex, channels)
        return z_apex, tuple(str(c) for c in classifier.classes_), classifier.predict_proba(z_apex)

    def settle_apexes(self, features: AUFeatures, z: np.ndarray, found, classifier=None):
        """``(found, z_apex, labels, probs)``: the intervals of :meth:`intervals` with their final apexes.

        Held means held by the evidence and by the emotion's own units: the later of the two
        plateau starts (a laugh's lips saturate, a smile's lips still part after its corners
        peak, :func:`~annotator.spotting.apex.emotion_apex`), then everything is read again at
        that apex.  The units are read unmasked: the masks decide whether a peak counts and
        what it is, not where each unit holds (a broad smile's parting lips and press can pass
        for speech's mouth movements).  The proposals carry these apexes, and the calibration
        reads its emotion patterns at them.
        """
        z_apex, labels, probs = self._read_apexes(z, found, features.channels, classifier)
        units = self.deviations(features)
        moved = []
        for k, (onset, apex, offset, peak, prominence) in enumerate(found):
            emotion = labels[int(np.argmax(probs[k]))]
            better = emotion_apex(units, features, onset, apex, offset, emotion,
                                  self.hold_fraction, self.hold_units)
            moved.append((onset, apex if better is None else max(apex, better), offset, peak, prominence))
        if moved != list(found):
            found = moved
            z_apex, labels, probs = self._read_apexes(z, found, features.channels, classifier)
        return list(found), z_apex, labels, probs

    def spot_evidence(self, features: AUFeatures, z: np.ndarray, e: np.ndarray, classifier=None) -> list[Segment]:
        """Proposals from evidence already computed by :meth:`evidence` (``z``, ``e``).

        ``classifier`` (a fitted scikit-learn classifier over
        :func:`apex_features`, such as a trained
        :class:`~annotator.spotting.emotion_model.EmotionModel`) replaces the
        EMFACS rules for the emotion; confidence and uncertainty then use its
        probabilities.

        Each proposal's ``confidence`` is the probability that it is right:
        that the peak is a real expression (:meth:`event_probability`) times
        the probability of its emotion.  Its ``uncertainty`` (margin sampling,
        for least-confident-first review) is one minus the event probability
        times the margin between the two likeliest emotions.
        """
        fps = features.fps
        stamp = now_iso()
        undamped = self._undamped(features, z)
        found = self.intervals(e, features.present, fps, raw=raw_evidence(undamped))
        if not found:
            return []
        found, z_apex, labels, probs = self.settle_apexes(features, z, found, classifier)
        p_event = self.event_probability(np.array([f[4] for f in found]))
        out = []
        for k, (onset, apex, offset, peak, _) in enumerate(found):
            ranked = np.sort(probs[k])[::-1] if probs.shape[1] > 1 else np.array([probs[k, 0], 0.0])
            out.append(Segment(
                onset=int(onset),
                apex=int(apex),
                offset=int(offset),
                emotion=labels[int(np.argmax(probs[k]))],
                kind=kind_for(onset, offset, fps, self.micro_max_seconds),
                emotion_scores=_rounded_scores(probs[k], labels),
                aus=self.apex_aus(z_apex[k], features.channels),
                intensity=round(float(np.tanh(peak / 40.0)), 4),
                confidence=round(float(p_event[k] * ranked[0]), 4),
                uncertainty=round(float(1.0 - p_event[k] * (ranked[0] - ranked[1])), 4),
                status="proposed",
                source=self.source,
                created=stamp,
                modified=stamp,
            ))
        return out


def _check_x(X) -> list[AUFeatures]:
    X = list(X)
    for f in X:
        if not isinstance(f, AUFeatures):
            raise TypeError(f"X must be a list of AUFeatures, one per video; got {type(f).__name__}")
    return X


def _check_xy(X, y) -> tuple[list[AUFeatures], list[list[Segment]]]:
    X, y = _check_x(X), [list(segments) for segments in y]
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} videos but y has {len(y)} lists of segments")
    return X, y


def _rounded_scores(probs: np.ndarray, labels: tuple[str, ...] = PROPOSAL_LABELS) -> dict[str, float]:
    """Label → probability, rounded as the labels file stores it."""
    return {e: round(float(p), 4) for e, p in zip(labels, probs)}
