"""Action-unit evidence, frame by frame, from blendshapes, another tool's AUs, or landmark geometry.

Three sources feed the same channels, the first that exists winning:

* the 52 Face Landmarker blendshapes, mapped to FACS action units with the
  subject's left and right kept apart (``L12``/``R12``) so unilateral actions
  such as contempt stay visible;
* landmark geometry: each frame's mesh is aligned to the subject's own neutral
  face (a similarity transform fitted on points that expressions barely move,
  which removes head translation, roll and scale), and regional displacements
  are measured in inter-ocular distances.  This keeps the legacy Face Mesh
  backend, which has no blendshapes, usable;

between them, **external AUs**: the ready-made intensities of a store imported
from an OpenFace 2.0 or Py-Feat CSV (``aus/values``, already 0..1), mapped by
:data:`EXTERNAL_AUS`.  Those tools score each unit for the whole face, so one
value feeds both sides' channels (``AU12`` → ``L12`` and ``R12``): contempt's
one-sidedness is not visible in them.  A unit the tool does not score (AU16 and
AU18 in both; AU25 is taken from the tool, not from lip landmarks) reads 0
wherever a face is present, which says "no evidence" to the spotter rather than
hiding the frame.

Channel names follow the labels format: ``AU1`` for a bilateral-only unit,
``L<n>``/``R<n>`` for sides.  Channel values grow with the action's intensity.

Lips parting (AU25) has no blendshape of its own: it is measured from the inner
lip landmarks in both sources.  In an open-mouth smile the Face Landmarker
raises ``mouthUpperUp`` and ``mouthLowerDown`` although no upper-lip raiser
(AU10) or lower-lip depressor (AU16) acts; a FACS coder scores that as
AU12+AU25, so :func:`explain_lip_parting` removes from AU10/AU16 what the
parting explains while AU12 is on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Blendshape → action unit, per side.  A value of one name is bilateral.
BLENDSHAPE_AUS: dict[str, tuple[str, ...]] = {
    "AU1": ("browInnerUp",),
    "AU2": ("browOuterUpLeft", "browOuterUpRight"),
    "AU4": ("browDownLeft", "browDownRight"),
    "AU5": ("eyeWideLeft", "eyeWideRight"),
    "AU6": ("cheekSquintLeft", "cheekSquintRight"),
    "AU7": ("eyeSquintLeft", "eyeSquintRight"),
    "AU9": ("noseSneerLeft", "noseSneerRight"),
    "AU10": ("mouthUpperUpLeft", "mouthUpperUpRight"),
    "AU12": ("mouthSmileLeft", "mouthSmileRight"),
    "AU14": ("mouthDimpleLeft", "mouthDimpleRight"),
    "AU15": ("mouthFrownLeft", "mouthFrownRight"),
    "AU16": ("mouthLowerDownLeft", "mouthLowerDownRight"),
    "AU17": ("mouthShrugLower",),
    "AU18": ("mouthPucker",),
    "AU20": ("mouthStretchLeft", "mouthStretchRight"),
    "AU23": ("mouthPressLeft", "mouthPressRight"),
    "AU26": ("jawOpen",),
    "AU45": ("eyeBlinkLeft", "eyeBlinkRight"),
}

#: Units that say nothing about emotion but move a lot: blinks, and the mouth
#: opening of speech.  They are kept as channels for suppression, not evidence.
BLINK_AU = "AU45"
SPEECH_AUS = ("AU26", "AU25", "AU16", "AU18")

def channel_names(au: str) -> tuple[str, ...]:
    """The channel names of one action unit: ``("L12", "R12")`` or ``("AU1",)``."""
    sources = BLENDSHAPE_AUS.get(au, (au,))
    number = au[2:]
    if len(sources) == 2:
        return (f"L{number}", f"R{number}")
    return (au,)


#: Another tool's AU column name → our action unit.  OpenFace 2.0 writes ``AU01_r`` ...
#: (imported as ``AU01``); Py-Feat writes ``AU01`` ... ``AU43``.  Py-Feat's AU43
#: (eyes closed) feeds the blink channel, as OpenFace's AU45 does.  Units not listed
#: (AU11, AU24, AU28) have no channel.
EXTERNAL_AUS: dict[str, str] = {
    "AU01": "AU1", "AU02": "AU2", "AU04": "AU4", "AU05": "AU5", "AU06": "AU6", "AU07": "AU7", "AU09": "AU9",
    "AU10": "AU10", "AU12": "AU12", "AU14": "AU14", "AU15": "AU15", "AU16": "AU16", "AU17": "AU17",
    "AU18": "AU18", "AU20": "AU20", "AU23": "AU23", "AU25": "AU25", "AU26": "AU26", "AU43": "AU45",
    "AU45": "AU45",
}


def external_channels(values: np.ndarray, names: list[str] | tuple[str, ...], present: np.ndarray) -> np.ndarray:
    """Map another tool's ``[T, K]`` AU intensities (0..1, columns ``names``) to ``[T, len(CHANNELS)]``.

    Both sides of a paired unit get the tool's one value; a channel no column
    feeds is 0 where a face is present; everything is NaN where none is.
    """
    present = np.asarray(present, dtype=bool)
    out = np.zeros((values.shape[0], len(CHANNELS)), dtype=np.float32)
    for k, name in enumerate(names):
        au = EXTERNAL_AUS.get(str(name))
        if au is None:
            continue
        column = np.nan_to_num(np.asarray(values[:, k], dtype=np.float32), nan=0.0)
        for channel in channel_names(au):
            c = CHANNELS.index(channel)
            out[:, c] = np.maximum(out[:, c], column)  # AU43 and AU45 on one channel: the larger
    out[~present] = np.nan
    return out


#: Units measured from landmarks in both sources (no blendshape carries them).
LANDMARK_AUS: tuple[str, ...] = ("AU25",)

ALL_AUS: tuple[str, ...] = tuple(BLENDSHAPE_AUS) + LANDMARK_AUS
CHANNELS: tuple[str, ...] = tuple(c for au in ALL_AUS for c in channel_names(au))
#: The version of the feature definition behind :data:`CHANNELS` and the spotter's
#: evidence.  A trained model records it; bump it whenever a channel's meaning,
#: order or scale changes, so a model trained on the old features is refused.
FEATURE_VERSION: int = 2  # 2: AU23 also reads the lips rolled in (BLENDSHAPE_EXTRA)
#: Channel index → action unit ("L12" → "AU12").
CHANNEL_AU: dict[str, str] = {c: au for au in ALL_AUS for c in channel_names(au)}


#: Blendshapes that also feed a unit's channels on both sides (the larger value wins).
#: AU23/AU24 (lip tightener, lip pressor): pressed lips narrow their red parts, which the
#: Face Landmarker reads as the lips rolled in (``mouthRoll*``) as much as pressed; EMFACS
#: treats 23 and 24 alike in anger, so one channel carries both.
BLENDSHAPE_EXTRA: dict[str, tuple[str, ...]] = {"AU23": ("mouthRollLower", "mouthRollUpper")}


def blendshape_channels(blendshapes: np.ndarray, names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Map ``[T, 52]`` blendshapes to ``[T, len(CHANNELS)]`` AU channels.

    The :data:`LANDMARK_AUS` columns are left NaN; :func:`compute_au_features`
    fills them from the landmarks.
    """
    index = {n: i for i, n in enumerate(names)}
    out = np.full((blendshapes.shape[0], len(CHANNELS)), np.nan, dtype=np.float32)
    col = 0
    for au in BLENDSHAPE_AUS:
        extra = [index[n] for n in BLENDSHAPE_EXTRA.get(au, ()) if n in index]
        for source in BLENDSHAPE_AUS[au]:
            out[:, col] = blendshapes[:, index[source]]
            if extra:
                out[:, col] = np.maximum(out[:, col], blendshapes[:, extra].max(axis=1))
            col += 1
    return out


# -- landmark geometry -------------------------------------------------------------
# Mesh indices (MediaPipe canonical face mesh).  "Left" is the subject's left,
# which is the image's right in a frontal, non-mirrored view.
_STABLE = np.array([33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 234, 454, 10, 152])
_EYE_OUTER = (33, 263)  # subject's right, left
_SIDES = {
    # name: (right-side index, left-side index)
    "inner_brow": (55, 285),
    "mid_brow": (105, 334),
    "outer_brow": (46, 276),
    "upper_lid": (159, 386),
    "lower_lid": (145, 374),
    "mouth_corner": (61, 291),
    "upper_lip_side": (40, 270),
    "nose_wing": (98, 327),
    "cheek": (205, 425),
}
_UPPER_LIP, _LOWER_LIP, _UPPER_LIP_TOP, _LOWER_LIP_BOTTOM, _NOSE_TIP, _CHIN = 13, 14, 0, 17, 1, 152


#: Lip gap, in inter-ocular distances, that reads as lips clearly parted (AU25 ≈ 0.5).
_LIP_GAP_HALF = 0.08


def lip_part(landmarks: np.ndarray, present: np.ndarray) -> np.ndarray:
    """AU25 (lips part) per frame ``[T]``: the inner-lip gap over the eye span, NaN where no face.

    The gap is absolute (closed lips read 0 on any face), so it needs no
    neutral face and serves both sources.
    """
    pts = np.asarray(landmarks, dtype=np.float64)[..., :2]
    gap = np.linalg.norm(pts[:, _LOWER_LIP] - pts[:, _UPPER_LIP], axis=1)
    iod = np.linalg.norm(pts[:, _EYE_OUTER[0]] - pts[:, _EYE_OUTER[1]], axis=1)
    with np.errstate(all="ignore"):
        value = 0.5 * gap / (_LIP_GAP_HALF * np.where(iod > 0, iod, np.nan))
    value = np.clip(value, 0.0, 1.0).astype(np.float32)
    value[~np.asarray(present, dtype=bool)] = np.nan
    return value


def explain_lip_parting(values: np.ndarray, channels: tuple[str, ...] = CHANNELS) -> np.ndarray:
    """Remove from AU10/AU16 what lips parting in a smile explains; a corrected copy.

    On each side, while AU12 is on (fully from a smile channel of 0.3), up to
    the AU25 level is taken off the upper-lip raiser and the lower-lip
    depressor.  Without a smile nothing changes, so the AU10 of disgust
    (which also parts the lips) stays.
    """
    out = np.array(values, dtype=np.float32, copy=True)
    col = {c: i for i, c in enumerate(channels)}
    if "AU25" not in col:
        return out
    part = np.nan_to_num(out[:, col["AU25"]], nan=0.0)
    for side in ("L", "R"):
        smile = np.clip(np.nan_to_num(out[:, col[f"{side}12"]], nan=0.0) / 0.3, 0.0, 1.0)
        explained = part * smile
        for au in ("10", "16"):
            c = col[f"{side}{au}"]
            out[:, c] = np.maximum(out[:, c] - explained, 0.0)
    return out


def _similarity_align(points: np.ndarray, template: np.ndarray, stable: np.ndarray) -> np.ndarray:
    """Align each frame's 2-D ``points`` [T, N, 2] to ``template`` [N, 2] (Umeyama, no reflection)."""
    src = points[:, stable]  # [T, S, 2]
    dst = template[stable]
    mu_s = src.mean(axis=1, keepdims=True)
    mu_d = dst.mean(axis=0)
    xs = src - mu_s
    xd = dst - mu_d
    # complex-number form of the 2-D similarity: z_d ≈ a * z_s
    zs = xs[..., 0] + 1j * xs[..., 1]
    zd = xd[:, 0] + 1j * xd[:, 1]
    num = (np.conj(zs) * zd[None, :]).sum(axis=1)
    den = (np.abs(zs) ** 2).sum(axis=1)
    a = num / np.where(den > 0, den, np.nan)
    z = (points[..., 0] - mu_s[..., 0]) + 1j * (points[..., 1] - mu_s[..., 1])
    aligned = a[:, None] * z
    return np.stack([aligned.real + mu_d[0], aligned.imag + mu_d[1]], axis=-1)


def neutral_face(landmarks: np.ndarray, present: np.ndarray) -> np.ndarray | None:
    """The subject's neutral 2-D mesh, estimated robustly from the video itself.

    Frames are aligned to a first median template, then the per-point median
    over all frames with a face is taken: expressions are brief, so the median
    sits on the resting face.
    """
    pts = landmarks[present][..., :2].astype(np.float64)
    if len(pts) == 0:
        return None
    step = max(1, len(pts) // 2000)  # a few thousand frames estimate a median well
    pts = pts[::step]
    template = np.median(pts, axis=0)
    for _ in range(2):
        template = np.median(_similarity_align(pts, template, _STABLE), axis=0)
    return template


def geometry_channels(landmarks: np.ndarray, present: np.ndarray) -> np.ndarray:
    """AU channels from landmark geometry, ``[T, len(CHANNELS)]`` (NaN where no face).

    Displacements are measured against the neutral face after similarity
    alignment, in inter-ocular distances, and scaled so a clear action is
    around 0.3-0.6, the range of the blendshapes.
    """
    T = landmarks.shape[0]
    out = np.full((T, len(CHANNELS)), np.nan, dtype=np.float32)
    template = neutral_face(landmarks, present)
    if template is None:
        return out
    idx = np.flatnonzero(present)
    aligned = _similarity_align(landmarks[idx][..., :2].astype(np.float64), template, _STABLE)
    d = aligned - template[None]  # displacement, image axes (y grows downwards)
    iod = float(np.linalg.norm(template[_EYE_OUTER[0]] - template[_EYE_OUTER[1]]))
    d /= iod
    gain = 12.0  # 0.04 IOD (a clear but small action) → ~0.5
    up = lambda i: -d[:, i, 1]  # noqa: E731 - upward displacement
    centre_x = template[[_EYE_OUTER[0], _EYE_OUTER[1]], 0].mean()

    def outward(i):
        sign = 1.0 if template[i, 0] > centre_x else -1.0
        return sign * d[:, i, 0]

    def side_pair(name, fn):
        r, l = _SIDES[name]
        return fn(l), fn(r)  # (subject's left, subject's right)

    def eye_open(upper, lower):
        return aligned[:, lower, 1] - aligned[:, upper, 1] - (template[lower, 1] - template[upper, 1])

    values: dict[str, np.ndarray] = {}
    inner_l, inner_r = side_pair("inner_brow", up)
    values["AU1"] = 0.5 * (inner_l + inner_r)
    values["L2"], values["R2"] = side_pair("outer_brow", up)
    # AU4: brows down and drawn together
    together_l, together_r = side_pair("inner_brow", lambda i: -outward(i))
    values["L4"], values["R4"] = -inner_l + together_l, -inner_r + together_r
    lid_l = eye_open(_SIDES["upper_lid"][1], _SIDES["lower_lid"][1]) / iod
    lid_r = eye_open(_SIDES["upper_lid"][0], _SIDES["lower_lid"][0]) / iod
    values["L5"], values["R5"] = lid_l, lid_r
    values["L6"], values["R6"] = side_pair("cheek", up)
    values["L7"], values["R7"] = -lid_l * 0.5, -lid_r * 0.5
    values["L9"], values["R9"] = side_pair("nose_wing", up)
    values["L10"], values["R10"] = side_pair("upper_lip_side", up)
    corner_up_l, corner_up_r = side_pair("mouth_corner", up)
    corner_out_l, corner_out_r = side_pair("mouth_corner", outward)
    values["L12"], values["R12"] = corner_up_l + 0.5 * corner_out_l, corner_up_r + 0.5 * corner_out_r
    values["L14"], values["R14"] = -corner_out_l * 0.5, -corner_out_r * 0.5
    values["L15"], values["R15"] = -corner_up_l, -corner_up_r
    lower_down = d[:, _LOWER_LIP, 1]
    values["L16"] = values["R16"] = lower_down
    values["AU17"] = -d[:, _LOWER_LIP_BOTTOM, 1]
    values["AU18"] = -(corner_out_l + corner_out_r) * 0.5
    values["L20"], values["R20"] = corner_out_l - 0.5 * np.abs(corner_up_l), corner_out_r - 0.5 * np.abs(corner_up_r)
    lip_height = (aligned[:, _LOWER_LIP_BOTTOM, 1] - aligned[:, _UPPER_LIP_TOP, 1]) / iod
    lip_height -= (template[_LOWER_LIP_BOTTOM, 1] - template[_UPPER_LIP_TOP, 1]) / iod
    values["L23"] = values["R23"] = -lip_height
    values["AU26"] = d[:, _CHIN, 1]
    values["L45"], values["R45"] = -lid_l, -lid_r
    for col, name in enumerate(CHANNELS):
        if name in values:
            out[idx, col] = np.clip(gain * values[name], 0.0, None)
    return out


@dataclass
class AUFeatures:
    """AU channels of one video.

    Attributes
    ----------
    values : ndarray [T, C]
        Evidence per channel (NaN where no face).
    channels : tuple of str
        Channel names (:data:`CHANNELS`).
    present : ndarray [T] bool
    source : str
        ``"blendshapes"``, ``"external"`` (an imported tool's AUs) or ``"geometry"``.
    head_speed : ndarray [T]
        Head rotation speed in degrees per second (NaN when unknown).
    fps : float
    head_angles : ndarray [T, 3], optional
        Yaw, pitch and roll of the head in degrees (NaN when unknown).
    """

    values: np.ndarray
    channels: tuple[str, ...]
    present: np.ndarray
    source: str
    head_speed: np.ndarray
    fps: float
    head_angles: np.ndarray | None = None
    #: ``[T, 2]``: whole-face rigid motion and the shape change it leaves unexplained
    #: (:func:`annotator.features.rigid.rigid_motion`), or None.
    rigid: np.ndarray | None = None

    def to_frame(self):
        """The channels as a pandas DataFrame indexed by frame."""
        import pandas as pd

        df = pd.DataFrame(self.values, columns=list(self.channels))
        df.index.name = "frame"
        df["present"] = self.present
        df["head_speed"] = self.head_speed
        return df

    def au(self, au: str) -> np.ndarray:
        """Both sides of one action unit averaged, ``[T]``."""
        cols = [self.channels.index(c) for c in channel_names(au)]
        return self.values[:, cols].mean(axis=1)


def _rotations(matrix: np.ndarray) -> np.ndarray:
    """The rotation part ``[T, 3, 3]`` of 4×4 transforms, each column's scale removed."""
    rot = np.asarray(matrix)[:, :3, :3].astype(np.float64)
    norms = np.linalg.norm(rot, axis=1, keepdims=True)
    return rot / np.where(norms > 0, norms, np.nan)


def head_speed(matrix: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Rotation speed of the head, degrees per second, from the 4×4 transform per frame."""
    T = matrix.shape[0]
    speed = np.full(T, np.nan, dtype=np.float32)
    if T < 2:
        return speed
    rot = _rotations(matrix)
    rel = np.einsum("tij,tik->tjk", rot[:-1], rot[1:])  # R_{t}^T R_{t+1}
    cos = np.clip((np.trace(rel, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.degrees(np.arccos(cos))
    dt = np.diff(time)
    dt = np.where(dt > 0, dt, np.nan)
    speed[1:] = angle / dt
    speed[0] = speed[1]
    return speed


def head_angles(matrix: np.ndarray) -> np.ndarray:
    """Yaw, pitch and roll in degrees ``[T, 3]`` from the 4×4 transform per frame."""
    rot = _rotations(matrix)
    yaw = np.degrees(np.arcsin(np.clip(-rot[:, 2, 0], -1, 1)))
    pitch = np.degrees(np.arctan2(rot[:, 2, 1], rot[:, 2, 2]))
    roll = np.degrees(np.arctan2(rot[:, 1, 0], rot[:, 0, 0]))
    return np.stack([yaw, pitch, roll], axis=1)


def compute_au_features(
    *,
    present: np.ndarray,
    landmarks: np.ndarray,
    time: np.ndarray,
    fps: float,
    blendshapes: np.ndarray | None = None,
    blendshape_names: list[str] | tuple[str, ...] | None = None,
    matrix: np.ndarray | None = None,
    external_aus: np.ndarray | None = None,
    external_au_names: list[str] | tuple[str, ...] | None = None,
) -> AUFeatures:
    """AU evidence per frame: blendshapes when the backend gave them, else another tool's AUs, else geometry.

    ``external_aus`` ``[T, K]`` (0..1) with ``external_au_names`` are an imported
    store's ``aus/values`` (see :func:`external_channels`).
    """
    present = np.asarray(present, dtype=bool)
    have_blendshapes = (
        blendshapes is not None
        and blendshape_names is not None
        and present.any()
        and np.isfinite(blendshapes[present]).all()
    )
    if have_blendshapes:
        values = blendshape_channels(np.asarray(blendshapes, dtype=np.float32), blendshape_names)
        values[~present] = np.nan
        source = "blendshapes"
    elif external_aus is not None and external_au_names is not None:
        values = external_channels(np.asarray(external_aus, dtype=np.float32), external_au_names, present)
        source = "external"
    else:
        values = geometry_channels(np.asarray(landmarks, dtype=np.float32), present)
        source = "geometry"
    if source != "external":  # the same measure from the mesh; the tools score AU25 themselves
        for au in LANDMARK_AUS:
            values[:, CHANNELS.index(au)] = lip_part(landmarks, present)
    values = explain_lip_parting(values)
    if matrix is not None and np.isfinite(matrix[present]).any():
        speed = head_speed(np.asarray(matrix), np.asarray(time))
        angles = head_angles(np.asarray(matrix))
    else:
        speed = np.full(len(present), np.nan, dtype=np.float32)
        angles = np.full((len(present), 3), np.nan)
    speed[~present] = np.nan
    angles[~present] = np.nan
    from .rigid import rigid_motion

    rigid = np.stack(rigid_motion(np.asarray(landmarks), present, fps), axis=1) if landmarks is not None else None
    return AUFeatures(values, CHANNELS, present, source, speed, float(fps), angles, rigid)
