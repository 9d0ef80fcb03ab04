"""Build the bundled sample: the astronaut portrait animated with planted expressions.

The still (``skimage.data.astronaut()``, NASA, public domain) smiles, so the
script first warps a neutral base face out of the smile, then plants five
expression events on it (three micro, two macro) by moving face-mesh
landmarks and interpolating a dense displacement field (thin-plate spline)
that ``cv2.remap`` applies. A slow global head motion and mild sensor noise
are added on top; neither counts as an expression.

Outputs (in ``--out``, default: this script's folder)::

    astronaut.mp4          H.264 yuv420p, 30 fps, 480x480, 300 frames
    astronaut.truth.json   the planted events, in the annotator labels format

Usage::

    python sample_data/make_sample.py [--out DIR] [--check] [--check-only]

``--check`` runs the Face Landmarker on the written video and prints, per
event, the blendshapes that rise most at the apex over the neutral baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
VIDEO_NAME = "astronaut.mp4"
TRUTH_NAME = "astronaut.truth.json"

FPS = 30
N_FRAMES = 300
SIZE = 480
#: Square crop of the 512x512 still (x0, y0, side) that frames the face.
CROP = (125, 22, 200)
SEED = 20240611
NOISE_SIGMA = 1.2
CRF = 19
#: Fixed stamp for the truth segments so that reruns write identical files.
STAMP = "2024-06-11T00:00:00Z"


def _use_checkout() -> None:
    """Make ``annotator`` importable when run from a checkout that is not installed."""
    try:
        import annotator  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(HERE.parent / "src"))


# --- MediaPipe face-mesh indices (canonical 478-point topology) -------------
# "R"/"L" are the subject's right/left: R is on the image's left.
MOUTH_CORNERS_R = [61, 78]
MOUTH_CORNERS_L = [291, 308]
UPPER_LIP_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LOWER_LIP_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
# Inner-lip pairs (upper, lower), from the right corner to the left corner.
INNER_PAIRS = [(78, 78), (191, 95), (80, 88), (81, 178), (82, 87), (13, 14),
               (312, 317), (311, 402), (310, 318), (415, 324), (308, 308)]
BROW_R = [70, 63, 105, 66, 107, 46, 53, 52, 65, 55]
BROW_L = [300, 293, 334, 296, 336, 276, 283, 282, 295, 285]
BROW_R_LOWER = [46, 53, 52, 65, 55]
BROW_L_LOWER = [276, 283, 282, 295, 285]
BROW_INNER = [107, 55, 66, 65, 336, 285, 296, 295]
EYE_R_CORNERS = (33, 133)
EYE_L_CORNERS = (263, 362)
EYE_R_UPPER = [246, 161, 160, 159, 158, 157, 173]
EYE_R_LOWER = [7, 163, 144, 145, 153, 154, 155]
EYE_L_UPPER = [466, 388, 387, 386, 385, 384, 398]
EYE_L_LOWER = [249, 390, 373, 374, 380, 381, 382]
IRIS = list(range(468, 478))
CHEEK_R = [50, 101, 36, 205, 187, 123, 117, 118, 119, 100]
CHEEK_L = [280, 330, 266, 425, 411, 352, 346, 347, 348, 329]
NOSE_SIDES = [98, 327, 64, 294, 48, 278, 129, 358, 102, 331, 49, 279, 219, 439, 115, 344, 131, 360,
              209, 429, 198, 420, 236, 456, 3, 248, 51, 281]
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]


# --- events -----------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """One planted expression.

    Parameters
    ----------
    name : str
        Key of the displacement recipe in :func:`expression_displacements`.
    emotion : str
        Emotion label written to the truth file.
    aus : tuple of str
        FACS action units the warp imitates.
    onset : int
        First frame with a non-zero warp.
    rise, hold, fall : int
        Frames of the raised-cosine rise (the last one at full strength),
        extra frames held at full strength, and frames of the fall.
    notes : str
        What the warp does, written to the truth file.
    gain : float
        Multiplier on the recipe's displacements at the apex.
    """

    name: str
    emotion: str
    aus: tuple[str, ...]
    onset: int
    rise: int
    hold: int
    fall: int
    notes: str = ""
    gain: float = 1.0

    @property
    def offset(self) -> int:
        """Last frame with a non-zero warp."""
        return self.onset + self.rise + self.hold + self.fall - 1

    @property
    def apex(self) -> int:
        """Middle frame of the full-strength stretch."""
        return self.onset + self.rise - 1 + self.hold // 2

    def weight(self, frame: int) -> float:
        """Warp strength (0..1) at ``frame``; exactly 0 outside onset..offset."""
        k = frame - self.onset
        if k < 0 or frame > self.offset:
            return 0.0
        if k < self.rise:  # half raised cosine up, reaching 1 on its last frame
            return 0.5 * (1.0 - np.cos(np.pi * (k + 1) / self.rise))
        k -= self.rise
        if k < self.hold:
            return 1.0
        k -= self.hold  # half raised cosine down, one step short of 0 on the last frame
        return 0.5 * (1.0 + np.cos(np.pi * (k + 1) / (self.fall + 1)))


# Gaps of >= 35 neutral frames separate the events; the first 36 frames are neutral
# so that a spotter has a baseline before anything happens.
EVENTS: tuple[Event, ...] = (
    Event("joy", "joy", ("AU6", "AU12"), onset=36, rise=4, hold=1, fall=6,
          notes="lip corners up and out, cheeks and lower lids up"),
    Event("surprise", "surprise", ("AU1", "AU2", "AU5", "AU26"), onset=84, rise=5, hold=1, fall=7,
          notes="brows up, upper lids up, jaw drops and the lips part"),
    Event("disgust", "disgust", ("AU9", "AU10", "AU15"), onset=132, rise=5, hold=1, fall=6,
          notes="nose sides and upper lip up (lips part), inner brows down, lip corners down"),
    Event("sadness", "sadness", ("AU1", "AU4", "AU15"), onset=180, rise=10, hold=14, fall=16,
          notes="inner brows up and together, lip corners down and out"),
    Event("anger", "anger", ("AU4", "AU7", "AU23"), onset=256, rise=7, hold=6, fall=11,
          notes="brows down and together, lids narrowed, lips tightened"),
)


# --- landmark helpers ---------------------------------------------------------
def detect_landmarks(image: np.ndarray) -> np.ndarray:
    """The 478 face-mesh landmarks of ``image`` in pixel coordinates, shape (478, 2).

    Uses the legacy Face Mesh graph, which ships inside the mediapipe wheel
    (no model download).
    """
    import mediapipe as mp

    h, w = image.shape[:2]
    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, refine_landmarks=True, max_num_faces=1
    ) as mesh:
        result = mesh.process(np.ascontiguousarray(image))
    if not result.multi_face_landmarks:
        raise RuntimeError("no face found on the still")
    lms = result.multi_face_landmarks[0].landmark
    return np.array([[p.x * w, p.y * h] for p in lms], dtype=np.float64)


def spread(points: np.ndarray, idx: list[int], vecs, sigma: float, mask=None, h: float | None = None):
    """Displacements of all ``points`` from vectors attached to the landmarks ``idx``.

    Each point receives a Gaussian-weighted average of the vectors of nearby
    handle landmarks (bandwidth ``h``), faded by its distance to the nearest
    handle (``sigma``). Handles themselves get their own vector exactly when
    they are far apart compared with ``h``.

    Parameters
    ----------
    points : ndarray, shape (N, 2)
    idx : list of int
        Handle landmarks.
    vecs : array-like, shape (2,) or (len(idx), 2)
        One vector for all handles, or one per handle.
    sigma : float
        Fall-off distance (pixels) away from the handles.
    mask : ndarray, shape (N,), optional
        Per-point factor in 0..1 (e.g. "only above the eye").
    h : float, optional
        Averaging bandwidth between handles; defaults to ``sigma / 2``.
    """
    handles = points[idx]
    vecs = np.broadcast_to(np.asarray(vecs, dtype=np.float64), (len(idx), 2))
    d = np.linalg.norm(points[:, None, :] - handles[None, :, :], axis=2)
    h = sigma / 2 if h is None else h
    k = np.exp(-0.5 * (d / h) ** 2) + 1e-12
    avg = (k @ vecs) / k.sum(axis=1, keepdims=True)
    fade = np.exp(-0.5 * (d.min(axis=1) / sigma) ** 2)
    if mask is not None:
        fade = fade * mask
    return avg * fade[:, None]


def side_of(points: np.ndarray, a: np.ndarray, b: np.ndarray, soft: float) -> np.ndarray:
    """Soft 0..1 mask: 1 on the image-upper side of the line ``a``-``b``, 0 below.

    ``soft`` is the width (pixels) of the transition across the line.
    """
    t = b - a
    n = np.array([t[1], -t[0]]) / np.linalg.norm(t)  # normal pointing up (image y grows down)
    if n[1] > 0:
        n = -n
    s = (points - a) @ n
    return 1.0 / (1.0 + np.exp(-s / max(soft, 1e-6)))


def between(points: np.ndarray, low_idx: list[int], high_idx: list[int]) -> np.ndarray:
    """0..1 ramp from the polyline ``low_idx`` (0) up to ``high_idx`` (1), 1 above it.

    Used so that a brow can move while the eyelid below it stays put: the skin
    in between stretches gradually instead of folding.
    """
    lo = points[low_idx]
    hi = points[high_idx]
    lo = lo[np.argsort(lo[:, 0])]
    hi = hi[np.argsort(hi[:, 0])]
    x = points[:, 0]
    y_lo = np.interp(x, lo[:, 0], lo[:, 1])
    y_hi = np.interp(x, hi[:, 0], hi[:, 1])
    ramp = (y_lo - points[:, 1]) / np.maximum(y_lo - y_hi, 1.0)
    return np.clip(ramp, 0.0, 1.0)


def mouth_midline(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and gap of the inner-lip midline at each inner pair, right corner first."""
    up = points[[u for u, _ in INNER_PAIRS]]
    lo = points[[l for _, l in INNER_PAIRS]]
    mid = (up + lo) / 2
    gap = lo[:, 1] - up[:, 1]
    order = np.argsort(mid[:, 0])
    return mid[order, 0], mid[order, 1], gap[order]


def below_mouth(points: np.ndarray, soft: float) -> np.ndarray:
    """Soft 0..1 mask: 1 below the inner-lip midline, 0 above."""
    mx, my, _ = mouth_midline(points)
    y_mid = np.interp(points[:, 0], mx, my)
    return 1.0 / (1.0 + np.exp(-(points[:, 1] - y_mid) / soft))


def _contour_y(landmarks: np.ndarray, idx: list[int], x: np.ndarray) -> np.ndarray:
    """y of the polyline through ``landmarks[idx]`` (sorted by x) at each ``x``."""
    c = landmarks[idx]
    c = c[np.argsort(c[:, 0])]
    return np.interp(x, c[:, 0], c[:, 1])


def lip_closure(landmarks: np.ndarray, unit: float, residual: float, at: np.ndarray | None = None) -> np.ndarray:
    """Vertical displacements that close the parted lips down to a ``residual``-pixel line.

    Between the inner lip contours (the teeth) the gap is squeezed linearly
    about its midline; the lips themselves translate by half of the local gap
    each, and the skin beyond the outer lip contours follows with a fall-off.
    The map is monotone down every column, so it never folds.

    Parameters
    ----------
    landmarks : ndarray, shape (478, 2)
        Landmarks of the face with parted lips.
    unit : float
        Face unit (pixels), sets the fall-off.
    residual : float
        Width (pixels) left between the lips.
    at : ndarray, shape (M, 2), optional
        Where to evaluate; defaults to the landmarks themselves.

    Returns
    -------
    ndarray, shape (M, 2)
    """
    pts = landmarks if at is None else at
    x, y = pts[:, 0], pts[:, 1]
    y_ui = _contour_y(landmarks, [u for u, _ in INNER_PAIRS], x)
    y_li = _contour_y(landmarks, [l for _, l in INNER_PAIRS], x)
    y_uo = _contour_y(landmarks, UPPER_LIP_OUTER, x)
    y_lo = _contour_y(landmarks, LOWER_LIP_OUTER, x)
    gap = (y_li - y_ui).clip(0)
    y_mid = (y_ui + y_li) / 2
    c = (gap - residual).clip(0) / 2
    # Fade outside the inner mouth corners so that the cheeks do not move.
    left, right = landmarks[78, 0], landmarks[308, 0]
    outside = np.maximum(left - x, x - right).clip(0)
    lateral = np.exp(-0.5 * (outside / (0.08 * (right - left))) ** 2)
    inside = (y >= y_ui) & (y <= y_li) & (gap > 0)
    squeezed = (y - y_mid) * (np.minimum(residual / np.maximum(gap, 1e-6), 1.0) - 1.0)
    beyond = np.where(y < y_mid, (y_uo - y).clip(0), (y - y_lo).clip(0))
    fade = np.exp(-0.5 * (beyond / (4 * unit)) ** 2)
    shifted = np.where(y < y_mid, c, -c) * fade
    out = np.zeros_like(pts, dtype=np.float64)
    out[:, 1] = np.where(inside, squeezed, shifted) * lateral
    return out


def closure_backward(landmarks: np.ndarray, unit: float, residual: float, size: int,
                     oversample: int = 8) -> np.ndarray:
    """Backward field (size, size, 2) of :func:`lip_closure`, inverted exactly column by column.

    The closure only moves pixels vertically and is monotone in y, so each
    column's inverse is a 1-D interpolation of finely sampled forward positions.
    """
    ys = np.arange(0, size * oversample, dtype=np.float64) / oversample
    back = np.zeros((size, size, 2), np.float32)
    grid_y = np.arange(size, dtype=np.float64)
    for col in range(size):
        pts = np.stack([np.full_like(ys, col), ys], axis=1)
        fwd = ys + lip_closure(landmarks, unit, residual, at=pts)[:, 1]
        back[:, col, 1] = np.interp(grid_y, fwd, ys) - grid_y
    return back


def shade_mouth(image: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The still with the teeth between the parted lips painted over as a dark mouth interior.

    Closing the lips squeezes the teeth into a sliver that would show as a
    white line; a dark interior gives the dark line of closed lips instead,
    and a dark gap when an expression parts the lips again. A trace of the
    dimmed teeth is kept so that the gap is not a flat void.
    """
    import cv2

    inner = np.array([p[u] for u, _ in INNER_PAIRS] + [p[l] for _, l in INNER_PAIRS[::-1]])
    mask = np.zeros(image.shape[:2], np.float32)
    cv2.fillPoly(mask, [np.round(inner * 8).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=3)
    mask = cv2.GaussianBlur(mask, (0, 0), 0.7)[..., None]
    dark = np.array([64, 32, 30], np.float32)  # the colour of the lip line at the mouth corners
    interior = 0.75 * dark + 0.25 * 0.4 * image.astype(np.float32)
    out = image.astype(np.float32) * (1.0 - mask) + interior * mask
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def mouth_bend(points: np.ndarray, unit: float, down: float, inward: float, reach: float = 5.0,
               profile: str = "parabola") -> np.ndarray:
    """Displacements that bend the mouth: corners down (or up, ``down < 0``) and in.

    With ``profile="parabola"`` the vertical shift grows with the square of the
    distance from the mouth centre, so the lip line bends as a whole (a
    smile's curve is undone by a parabola); with ``"corners"`` it is confined
    to the outer third of the mouth (the pull of the depressor muscles). The
    shift depends on x only, fading over ``reach`` face units above and below
    the lip line, so lips move together and never cross; beyond the corners
    it fades out.
    """
    mx, my, _ = mouth_midline(points)
    cx = (points[61, 0] + points[291, 0]) / 2
    half = abs(points[291, 0] - points[61, 0]) / 2
    x, y = points[:, 0], points[:, 1]
    r = (x - cx) / half
    beyond = (np.abs(r) - 1.0).clip(0)
    lateral = np.exp(-0.5 * (beyond / 0.35) ** 2)
    vertical = np.exp(-0.5 * ((y - np.interp(x, mx, my)) / (reach * unit)) ** 2)
    w = lateral * vertical
    if profile == "parabola":
        shape = np.minimum(r**2, 1.0)
    elif profile == "corners":
        shape = np.exp(-0.5 * ((np.abs(r).clip(max=1.0) - 1.0) / 0.3) ** 2)
    else:
        raise ValueError(f"unknown profile {profile!r}")
    out = np.zeros_like(points)
    out[:, 1] = down * unit * shape * w
    out[:, 0] = -inward * unit * np.clip(r, -1.0, 1.0) * shape * w
    return out


# --- recipes ------------------------------------------------------------------
def face_unit(points: np.ndarray) -> float:
    """One hundredth of the face height (forehead top to chin), in pixels."""
    return float(np.linalg.norm(points[10] - points[152]) / 100.0)


#: Dark line left between the closed lips, in face units.
LIP_LINE = 0.4


def neutral_displacements(p: np.ndarray) -> np.ndarray:
    """Landmark displacements that relax the astronaut's smile (after the lips are closed).

    ``p`` are the landmarks once :func:`lip_closure` has closed the lips.
    """
    u = face_unit(p)
    d = np.zeros_like(p)
    # AU12 off: lip corners in and down; the red of the lips comes along.
    d += mouth_bend(p, u, down=6.5, inward=3.0)
    # AU6 off: cheeks and lower lids drop back.
    below_eyes = 1.0 - np.maximum(_eye_above(p, EYE_R_CORNERS), _eye_above(p, EYE_L_CORNERS))
    d += spread(p, CHEEK_R + CHEEK_L, (0.0, 1.8 * u), sigma=5 * u, mask=below_eyes)
    d += spread(p, EYE_R_LOWER + EYE_L_LOWER, (0.0, 0.9 * u), sigma=1.5 * u, mask=below_eyes)
    d[IRIS] = 0.0
    return d


def _eye_above(p: np.ndarray, corners: tuple[int, int]) -> np.ndarray:
    """1 above the line through an eye's corners, 0 below (soft over ~1 px)."""
    return side_of(p, p[corners[0]], p[corners[1]], soft=0.8)


def _inward(p: np.ndarray, idx: list[int], amount: float) -> np.ndarray:
    """Per-handle horizontal vectors pointing towards the face midline."""
    mid_x = p[[168, 6, 197, 1]][:, 0].mean()
    sign = np.sign(mid_x - p[idx, 0])
    return np.stack([sign * amount, np.zeros(len(idx))], axis=1)


def _brow_mask(p: np.ndarray) -> np.ndarray:
    """1 on and above the brows, ramping to 0 at the upper lids; 0 below the eyes."""
    r = between(p, EYE_R_UPPER + list(EYE_R_CORNERS), BROW_R_LOWER)
    l = between(p, EYE_L_UPPER + list(EYE_L_CORNERS), BROW_L_LOWER)
    mid_x = p[168, 0]
    return np.where(p[:, 0] < mid_x, r, l)


def _corners(q: np.ndarray, unit: float, out: float, down: float, sigma: float = 3.0) -> np.ndarray:
    """Lip corners moved ``out`` (away from the midline) and ``down``, face units."""
    d = spread(q, MOUTH_CORNERS_R, (-out * unit, down * unit), sigma=sigma * unit, h=2 * unit)
    return d + spread(q, MOUTH_CORNERS_L, (out * unit, down * unit), sigma=sigma * unit, h=2 * unit)


def _mouth_frame(q: np.ndarray):
    """Mouth centre x, half width, and each point's midline y and lateral position r (-1..1 at the corners)."""
    mx, my, _ = mouth_midline(q)
    cx = (q[61, 0] + q[291, 0]) / 2
    half = abs(q[291, 0] - q[61, 0]) / 2
    return cx, half, np.interp(q[:, 0], mx, my), (q[:, 0] - cx) / half


def expression_displacements(name: str, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apex landmark displacements of the expression ``name`` on the neutral face ``q``.

    Returns
    -------
    squeeze, opening : ndarray, shape (478, 2)
        ``squeeze`` holds everything that keeps the lips together (it is
        fitted forward and inverted, which stays clean where skin is
        compressed); ``opening`` holds the moves that part the closed lips
        (fitted backward, which stays clean where a gap opens). Either may be 0.
    """
    u = face_unit(q)
    sq = np.zeros_like(q)
    op = np.zeros_like(q)
    brow_mask = _brow_mask(q)
    above_eyes = np.maximum(_eye_above(q, EYE_R_CORNERS), _eye_above(q, EYE_L_CORNERS))
    below_eyes = 1.0 - above_eyes
    lower = below_mouth(q, soft=0.3 * u)
    cx, half, y_mid, r = _mouth_frame(q)
    if name == "joy":  # AU6 cheek raiser + AU12 lip corner puller
        sq += mouth_bend(q, u, down=-3.0, inward=-1.5)
        sq += spread(q, CHEEK_R + CHEEK_L, (0.0, -1.6 * u), sigma=5 * u, mask=below_eyes)
        sq += spread(q, EYE_R_LOWER + EYE_L_LOWER, (0.0, -0.8 * u), sigma=1.2 * u, mask=below_eyes)
    elif name == "surprise":  # AU1+AU2 brows up, AU5 upper lids up, AU26 jaw drop
        sq += spread(q, BROW_R + BROW_L, (0.0, -3.5 * u), sigma=7 * u, mask=brow_mask)
        sq += spread(q, EYE_R_UPPER + EYE_L_UPPER, (0.0, -1.3 * u), sigma=1.2 * u, mask=above_eyes)
        # The jaw drops as a whole; at the lips the drop tapers to 0 at the corners, and the
        # corners come in and down a little so that the opening is an oval, not a smile's "U".
        depth = (q[:, 1] - y_mid).clip(0)
        blend = np.clip(depth / (6 * u), 0.0, 1.0)
        profile = (1 - r**2).clip(0) * (1 - blend) + blend * np.exp(-0.5 * (r / 3) ** 2)
        under_chin = np.exp(-0.5 * ((q[:, 1] - q[152, 1]).clip(0) / (8 * u)) ** 2)
        op[:, 1] += 4.0 * u * lower * profile * under_chin
        op += mouth_bend(q, u, down=2.5, inward=2.0)
    elif name == "disgust":  # AU9 nose wrinkler + AU10 upper lip raiser + AU15 corners down
        sq += spread(q, NOSE_SIDES, (0.0, -2.5 * u), sigma=3 * u, mask=below_eyes)
        sq += spread(q, BROW_INNER, (0.0, 1.5 * u), sigma=3 * u, mask=brow_mask)
        sq += spread(q, BROW_INNER, _inward(q, BROW_INNER, 1.0 * u), sigma=3 * u, mask=brow_mask)
        sq += spread(q, EYE_R_LOWER + EYE_L_LOWER, (0.0, -0.6 * u), sigma=1.2 * u, mask=below_eyes)
        # AU10 lifts the upper lip most on either side of the philtrum (an "M").
        sideways = np.exp(-0.5 * ((np.abs(r) - 0.45) / 0.4) ** 2)
        near = np.exp(-0.5 * ((q[:, 1] - y_mid) / (6 * u)) ** 2)
        op[:, 1] += -6.0 * u * (1.0 - lower) * sideways * near
        op += _corners(q, u, out=1.5, down=3.0)
    elif name == "sadness":  # AU1 inner brows up + AU4 brows together + AU15 corners down
        sq += spread(q, BROW_INNER, (0.0, -3.0 * u), sigma=5 * u, mask=brow_mask)
        sq += spread(q, BROW_INNER, _inward(q, BROW_INNER, 1.0 * u), sigma=5 * u, mask=brow_mask)
        sq += mouth_bend(q, u, down=5.5, inward=-3.0, reach=6.0, profile="corners")
    elif name == "anger":  # AU4 brows down and together + AU7 lids tighten + AU23 lips tighten
        sq += spread(q, BROW_R + BROW_L, (0.0, 3.5 * u), sigma=7 * u, mask=brow_mask)
        sq += spread(q, BROW_INNER, (0.0, 1.2 * u), sigma=5 * u, mask=brow_mask)
        sq += spread(q, BROW_INNER, _inward(q, BROW_INNER, 1.8 * u), sigma=6 * u, mask=brow_mask)
        sq += spread(q, EYE_R_LOWER + EYE_L_LOWER, (0.0, -1.2 * u), sigma=1.2 * u, mask=below_eyes)
        sq += spread(q, EYE_R_UPPER + EYE_L_UPPER, (0.0, 0.8 * u), sigma=1.0 * u, mask=above_eyes)
        # AU23: the red of both lips narrows towards the lip line, which itself stays put.
        off_line = 1.0 - np.exp(-0.5 * ((q[:, 1] - y_mid) / (0.8 * u)) ** 2)
        sq += spread(q, UPPER_LIP_OUTER[1:-1], (0.0, 1.2 * u), sigma=1.5 * u, h=2 * u,
                     mask=(1.0 - lower) * off_line)
        sq += spread(q, LOWER_LIP_OUTER[1:-1], (0.0, -1.2 * u), sigma=1.5 * u, h=2 * u, mask=lower * off_line)
    else:
        raise ValueError(f"unknown expression {name!r}")
    # Closed lips touch: both lips of each inner pair move together in the squeeze
    # (a spline through two points a pixel apart that move differently would fold).
    for up, lo in INNER_PAIRS:
        sq[[up, lo]] = sq[[up, lo]].mean(axis=0)
    sq[IRIS] = 0.0  # the eyeballs do not move with the skin
    op[IRIS] = 0.0
    return sq, op


# --- dense fields ---------------------------------------------------------------
def anchor_points(p: np.ndarray, size: int) -> np.ndarray:
    """Fixed points: a ring outside the face oval and the frame border."""
    centre = p[FACE_OVAL].mean(axis=0)
    ring = centre + 1.35 * (p[FACE_OVAL] - centre)
    edge = np.linspace(0, size - 1, 9)
    border = np.concatenate([
        np.stack([edge, np.zeros_like(edge)], 1), np.stack([edge, np.full_like(edge, size - 1)], 1),
        np.stack([np.zeros_like(edge), edge], 1)[1:-1], np.stack([np.full_like(edge, size - 1), edge], 1)[1:-1],
    ])
    return np.concatenate([ring, border])


def _tps_field(centres: np.ndarray, values: np.ndarray, size: int, step: int = 2) -> np.ndarray:
    """Thin-plate spline through ``values`` at ``centres``, sampled on a (size, size, 2) grid.

    The spline is evaluated every ``step`` pixels and interpolated linearly in
    between: the fields are smooth on that scale and this is ``step**2``
    times cheaper.
    """
    import cv2
    from scipy.interpolate import RBFInterpolator

    rbf = RBFInterpolator(centres, values, kernel="thin_plate_spline", smoothing=1e-3)
    n = (size - 1) // step + 2
    cy, cx = np.mgrid[0:n, 0:n].astype(np.float64) * step
    coarse = rbf(np.stack([cx.ravel(), cy.ravel()], axis=1)).reshape(n, n, 2).astype(np.float32)
    gy, gx = (np.mgrid[0:size, 0:size].astype(np.float32) / step)
    return np.stack([cv2.remap(np.ascontiguousarray(coarse[..., k]), gx, gy, cv2.INTER_LINEAR)
                     for k in range(2)], axis=-1)


def backward_field(p: np.ndarray, disp: np.ndarray, anchors: np.ndarray, size: int) -> np.ndarray:
    """Thin-plate-spline backward field of the warp that moves ``p`` by ``disp``, (size, size, 2).

    The field is fitted where the landmarks land (``p + disp``) with the values
    ``-disp`` (and 0 at the anchors), so that ``x + field(x)`` is the pixel to
    sample for output pixel ``x``: exact at the landmarks, no inversion needed,
    and well behaved where a warp opens a gap (the lips parting) because there
    the backward map is gentle.
    """
    centres = np.concatenate([p + disp, anchors])
    values = np.concatenate([-disp, np.zeros_like(anchors)])
    return _tps_field(centres, values, size)


def forward_field(p: np.ndarray, disp: np.ndarray, anchors: np.ndarray, size: int) -> np.ndarray:
    """Thin-plate-spline forward field taking the value ``disp`` at ``p`` and 0 at the anchors."""
    centres = np.concatenate([p, anchors])
    values = np.concatenate([disp, np.zeros_like(anchors)])
    field = _tps_field(centres, values, size)
    # A warp that folds has no inverse: refuse it rather than render garbage.
    fx, fy = field[..., 0], field[..., 1]
    det = (np.gradient(fx, axis=1) + 1) * (np.gradient(fy, axis=0) + 1) - np.gradient(fx, axis=0) * np.gradient(fy, axis=1)
    if det.min() < 0.1:
        iy, ix = np.unravel_index(det.argmin(), det.shape)
        raise ValueError(f"warp folds near pixel ({ix}, {iy}) (Jacobian {det.min():.2f}); lower the amplitudes")
    return field


def invert_forward(field: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Backward field of the forward warp ``x -> x + field(x)``, by damped Newton steps.

    Plain fixed-point iteration diverges where the warp squeezes hard (the
    lips closing over the teeth shrink a 16-pixel gap to under a pixel);
    Newton's method with the field's Jacobian converges there as long as the
    warp does not fold.
    """
    import cv2

    size = field.shape[0]
    fx, fy = np.ascontiguousarray(field[..., 0]), np.ascontiguousarray(field[..., 1])
    # Jacobian of x + field(x), per pixel.
    jxx, jxy = np.gradient(fx, axis=1) + 1.0, np.gradient(fx, axis=0)
    jyx, jyy = np.gradient(fy, axis=1), np.gradient(fy, axis=0) + 1.0
    jac = [np.ascontiguousarray(a, dtype=np.float32) for a in (jxx, jxy, jyx, jyy)]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    px, py = xx - fx, yy - fy  # first guess
    for _ in range(iterations):
        def at(a):
            return cv2.remap(a, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

        rx, ry = px + at(fx) - xx, py + at(fy) - yy
        a, b, c, d = (at(j) for j in jac)
        det = a * d - b * c
        det = np.where(np.abs(det) < 1e-3, np.copysign(1e-3, det), det)
        sx, sy = (d * rx - b * ry) / det, (a * ry - c * rx) / det
        # Damping: never step more than 2 px at once, so a poor local Jacobian cannot fling a point away.
        norm = np.maximum(np.hypot(sx, sy) / 2.0, 1.0)
        px, py = px - sx / norm, py - sy / norm
    return np.stack([px - xx, py - yy], axis=-1)


def head_motion(frame: int) -> tuple[float, float, float]:
    """Roll (degrees) and translation (pixels) of the slow global head motion."""
    t = frame / FPS
    roll = 2.0 * np.sin(2 * np.pi * t / 9.0 + 0.4)
    tx = 4.0 * np.sin(2 * np.pi * t / 7.0)
    ty = 2.5 * np.sin(2 * np.pi * t / 11.0 + 1.1)
    return roll, tx, ty


# --- rendering -----------------------------------------------------------------
class Renderer:
    """Everything fixed across frames: the still, the neutral map and the event fields."""

    def __init__(self) -> None:
        import cv2
        from skimage import data

        still = data.astronaut()  # RGB uint8, 512x512
        p_still = detect_landmarks(still)
        self.src = shade_mouth(still, p_still)
        x0, y0, side = CROP
        scale = SIZE / side
        # Frame coordinates of the still's landmarks (pixel-centre convention).
        p = (p_still - [x0, y0] + 0.5) * scale - 0.5
        self.xx, self.yy = [a.astype(np.float32) for a in np.mgrid[0:SIZE, 0:SIZE][::-1]]
        # Neutral base, in two steps: close the lips (an exact column-wise map, because
        # squeezing the teeth into a sliver is too steep for a spline), then relax the
        # smile (a spline fitted forward on the closed-lip landmarks, inverted by Newton).
        unit = face_unit(p)
        close_back = closure_backward(p, unit, LIP_LINE * unit, SIZE)
        p = p + lip_closure(p, unit, LIP_LINE * unit)
        n_disp = neutral_displacements(p)
        relax_back = invert_forward(forward_field(p, n_disp, anchor_points(p, SIZE), SIZE))
        nx, ny = self.xx + relax_back[..., 0], self.yy + relax_back[..., 1]
        nx, ny = (a + cv2.remap(close_back[..., k], nx, ny, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                  for k, a in ((0, nx), (1, ny)))
        self.nsx = (x0 + (nx + 0.5) / scale - 0.5).astype(np.float32)
        self.nsy = (y0 + (ny + 0.5) / scale - 0.5).astype(np.float32)
        self.q = q = p + n_disp  # neutral landmarks
        self.unit = face_unit(q)
        q_anchors = anchor_points(q, SIZE)
        self.fields: dict[str, list[np.ndarray]] = {}
        self.peaks: dict[str, float] = {}
        for ev in EVENTS:
            squeeze, opening = (ev.gain * d for d in expression_displacements(ev.name, q))
            self.peaks[ev.name] = float(np.linalg.norm(squeeze + opening, axis=1).max())
            fields = []
            if np.abs(opening).max() > 0:
                fields.append(backward_field(q, opening, q_anchors, SIZE))
            if np.abs(squeeze).max() > 0:
                fields.append(invert_forward(forward_field(q, squeeze, q_anchors, SIZE)))
            self.fields[ev.name] = fields
        self.centre = q[FACE_OVAL].mean(axis=0).astype(np.float32)

    def frame(self, i: int, motion: bool = True, weights: dict[str, float] | None = None) -> np.ndarray:
        """Frame ``i`` as RGB uint8, without noise.

        ``weights`` overrides the event strengths (used for previews).
        """
        import cv2

        hx, hy = self.xx, self.yy
        if motion:
            roll, tx, ty = head_motion(i)
            # Backward head motion: undo the translation, then the roll about the face centre.
            c, s = np.cos(np.radians(roll)), np.sin(np.radians(roll))
            rx, ry = self.xx - self.centre[0] - tx, self.yy - self.centre[1] - ty
            hx = (c * rx + s * ry + self.centre[0]).astype(np.float32)
            hy = (-s * rx + c * ry + self.centre[1]).astype(np.float32)
        for ev in EVENTS:
            w = ev.weight(i) if weights is None else weights.get(ev.name, 0.0)
            if w > 0:
                # Scaling the apex field by w approximates the partial warp; it is exact at
                # the apex and stays monotone (no folds) because w <= 1.
                for f in self.fields[ev.name]:
                    dx = cv2.remap(f[..., 0], hx, hy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                    dy = cv2.remap(f[..., 1], hx, hy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                    hx, hy = hx + w * dx, hy + w * dy
        mx = cv2.remap(self.nsx, hx, hy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        my = cv2.remap(self.nsy, hx, hy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return cv2.remap(self.src, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range YUV 4:2:0 planes stacked as (H * 3 / 2, W) uint8.

    Converting here rather than letting PyAV reformat inside ``encode`` keeps
    the written bytes identical across runs (the implicit conversion was not).
    """
    x = rgb.astype(np.float32)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    cb = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0
    cr = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0
    h, w = y.shape

    def half(c: np.ndarray) -> np.ndarray:
        return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    planes = [y, half(cb).reshape(h // 4, w), half(cr).reshape(h // 4, w)]
    return np.clip(np.rint(np.concatenate(planes)), 0, 255).astype(np.uint8)


def build(out_dir: Path, renderer: Renderer) -> tuple[Path, Path]:
    """Render the video and write the truth file; return both paths."""
    import av

    rng = np.random.default_rng(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    video_path = out_dir / VIDEO_NAME
    tmp_path = out_dir / f".{VIDEO_NAME}.tmp.mp4"
    with av.open(str(tmp_path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width = stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        # One thread and fixed settings keep the bytes identical across reruns. Macroblock-tree
        # rate control is off because with it this libx264 build (AVX-512 machine) gave
        # different bytes for identical input in about one run in two.
        stream.codec_context.options = {"crf": str(CRF), "preset": "medium", "g": "30", "keyint_min": "30",
                                        "sc_threshold": "0", "threads": "1", "x264-params": "mbtree=0"}
        stream.thread_count = 1
        # Tag what rgb_to_yuv420p writes: BT.601, limited range.
        stream.codec_context.colorspace = 6  # AVCOL_SPC_SMPTE170M
        stream.codec_context.color_primaries = 6  # AVCOL_PRI_SMPTE170M
        stream.codec_context.color_trc = 6  # AVCOL_TRC_SMPTE170M
        stream.codec_context.color_range = 1  # AVCOL_RANGE_MPEG
        for i in range(N_FRAMES):
            img = renderer.frame(i)
            # Mild sensor noise, fixed seed.
            noisy = img.astype(np.float32) + rng.normal(0.0, NOISE_SIGMA, img.shape).astype(np.float32)
            img = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
            # Keep the planes referenced until encode() has consumed them: the frame may
            # borrow this buffer, and a freed temporary made the output differ between runs.
            yuv = rgb_to_yuv420p(img)
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
            del frame, yuv
        for packet in stream.encode():
            container.mux(packet)
    tmp_path.replace(video_path)
    truth_path = write_truth(out_dir, video_path, renderer.peaks, renderer.unit)
    return video_path, truth_path


def preview(renderer: Renderer, folder: Path) -> Path:
    """Write a contact sheet: the still's crop, the neutral base and each apex (no motion, no noise)."""
    import cv2

    x0, y0, side = CROP
    still = cv2.resize(renderer.src[y0:y0 + side, x0:x0 + side], (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    tiles = [("source (teeth shaded)", still), ("neutral", renderer.frame(0, motion=False, weights={}))]
    tiles += [(ev.name, renderer.frame(0, motion=False, weights={ev.name: 1.0})) for ev in EVENTS]
    out = []
    for name, img in tiles:
        img = np.ascontiguousarray(img[:, :, ::-1])  # RGB -> BGR for OpenCV
        cv2.putText(img, name, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
        out.append(img)
    while len(out) % 4:
        out.append(np.zeros_like(out[0]))
    rows = [np.hstack(out[k:k + 4]) for k in range(0, len(out), 4)]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "astronaut_preview.png"
    cv2.imwrite(str(path), np.vstack(rows))
    return path


def write_truth(out_dir: Path, video_path: Path, peaks: dict[str, float], unit: float) -> Path:
    """Write the planted events as an accepted labels file of coder ``truth``."""
    _use_checkout()
    from annotator.errors import LabelsError
    from annotator.labels import Labels, VideoRef, load_labels, make_segment, save_labels

    sha = hashlib.sha256(video_path.read_bytes()).hexdigest()
    labels = Labels(coder="truth", video=VideoRef(path=video_path.name, sha256=sha, fps=float(FPS),
                                                  frames=N_FRAMES))
    for k, ev in enumerate(EVENTS, 1):
        # The segment is exactly the span where the warp is on, and the apex its peak.
        weights = [ev.weight(i) for i in range(N_FRAMES)]
        assert [i for i, w in enumerate(weights) if w > 0] == list(range(ev.onset, ev.offset + 1))
        assert weights[ev.apex] == max(weights) == 1.0
        # Intensity: largest landmark displacement at the apex over 10 % of the face height.
        intensity = round(min(1.0, peaks[ev.name] / (10 * unit)), 3)
        labels.segments.append(make_segment(
            labels, ev.onset, ev.apex, ev.offset, id=f"truth-{k:02d}-{ev.name}", emotion=ev.emotion,
            aus=list(ev.aus), intensity=intensity, status="accepted", source="truth",
            notes=f"planted: {ev.notes}", created=STAMP, modified=STAMP,
        ))
    truth_path = out_dir / TRUTH_NAME
    if truth_path.exists():
        # save_labels refuses to replace a file of another video; ours is regenerated
        # with the video, so drop our previous truth (and only a valid truth file).
        try:
            old = load_labels(truth_path)
        except LabelsError:
            raise SystemExit(f"{truth_path} is not a valid labels file; not overwriting it")
        if old.coder != "truth":
            raise SystemExit(f"{truth_path} belongs to coder {old.coder!r}; not overwriting it")
        if old.video.sha256 != sha:
            truth_path.unlink()
    save_labels(labels, truth_path)
    return truth_path


# --- check ---------------------------------------------------------------------
EXPECTED = {
    "joy": ("mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft", "cheekSquintRight"),
    "surprise": ("browInnerUp", "browOuterUpLeft", "browOuterUpRight", "eyeWideLeft", "eyeWideRight", "jawOpen"),
    "disgust": ("noseSneerLeft", "noseSneerRight", "mouthUpperUpLeft", "mouthUpperUpRight",
                "mouthFrownLeft", "mouthFrownRight"),
    "sadness": ("browInnerUp", "mouthFrownLeft", "mouthFrownRight", "browDownLeft", "browDownRight"),
    "anger": ("browDownLeft", "browDownRight", "eyeSquintLeft", "eyeSquintRight", "mouthPressLeft",
              "mouthPressRight"),
}


def blendshape_track(video_path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Blendshape scores per frame of ``video_path`` (NaN where no face was found)."""
    import av
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    _use_checkout()
    from annotator.tracking.model_files import find_face_model

    model = find_face_model()
    if model is None:
        raise SystemExit("Face Landmarker bundle not installed (see `make model`)")
    opts = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)), running_mode=vision.RunningMode.VIDEO,
        output_face_blendshapes=True, output_facial_transformation_matrixes=True, num_faces=1,
    )
    names: list[str] = []
    rows = []
    with vision.FaceLandmarker.create_from_options(opts) as lm, av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            rgb = frame.to_ndarray(format="rgb24")
            ts = int(round(float(frame.pts * stream.time_base) * 1000))
            res = lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), ts)
            if res.face_blendshapes:
                cats = res.face_blendshapes[0]
                names = names or [c.category_name for c in cats]
                rows.append([c.score for c in cats])
            else:
                rows.append(None)
    width = len(names)
    scores = np.array([r if r is not None else [np.nan] * width for r in rows], dtype=np.float64)
    present = np.array([r is not None for r in rows])
    return names, scores, present


#: An event passes the check when one of its expected channels rises at least this much.
MIN_RISE = 0.15


def check(video_path: Path) -> bool:
    """Print per event the blendshapes that rise most at the apex over the neutral baseline.

    Returns
    -------
    bool
        True when the face is found in every frame, the baseline does not
        smile, and every event raises one of its expected channels by at
        least :data:`MIN_RISE`.
    """
    _use_checkout()
    from annotator.labels import kind_for

    names, scores, present = blendshape_track(video_path)
    n = len(scores)
    col = {k: i for i, k in enumerate(names)}
    in_event = np.zeros(n, bool)
    for ev in EVENTS:
        in_event[max(ev.onset - 2, 0):ev.offset + 3] = True
    base = np.nanmedian(scores[~in_event], axis=0)
    spread_ = np.nanpercentile(scores[~in_event], 95, axis=0) - np.nanpercentile(scores[~in_event], 5, axis=0)
    print(f"frames {n}, face found in {present.sum()}")
    print(f"baseline mouthSmileLeft {base[col['mouthSmileLeft']]:.3f}  "
          f"mouthSmileRight {base[col['mouthSmileRight']]:.3f}")
    quiet = np.argsort(-spread_)[:5]
    print("neutral-stretch 5-95% ranges (largest): "
          + ", ".join(f"{names[i]} {spread_[i]:.3f}" for i in quiet))
    ok = bool(present.all()) and max(base[col["mouthSmileLeft"]], base[col["mouthSmileRight"]]) < 0.3
    print(f"{'event':9s} {'frames':>9s} {'kind':5s}  top rises at apex (Δ over baseline)")
    for ev in EVENTS:
        # Peak of a 3-frame window around the apex: robust to a one-frame lag of the tracker.
        win = scores[max(ev.apex - 1, 0):ev.apex + 2]
        delta = np.nanmax(win, axis=0) - base
        top = np.argsort(-delta)[:6]
        kind = kind_for(ev.onset, ev.offset, FPS)
        print(f"{ev.name:9s} {ev.onset:4d}-{ev.offset:<4d} {kind:5s}  "
              + ", ".join(f"{names[i]} {delta[i]:+.2f}" for i in top))
        exp = EXPECTED[ev.name]
        best = max(delta[col[k]] for k in exp)
        ok &= bool(best >= MIN_RISE)
        print(f"{'':26s}expected: " + ", ".join(f"{k} {delta[col[k]]:+.2f}" for k in exp)
              + ("" if best >= MIN_RISE else "   <- WEAK"))
    print("check passed" if ok else "check FAILED")
    return ok


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: this script's folder)")
    parser.add_argument("--check", action="store_true", help="after generating, score the video with the Face Landmarker")
    parser.add_argument("--check-only", action="store_true", help="only score an existing video")
    parser.add_argument("--preview", type=Path, metavar="DIR",
                        help="write a contact sheet of the neutral base and each apex to DIR and stop")
    args = parser.parse_args(argv)
    video_path = args.out / VIDEO_NAME
    if args.preview is not None:
        print(f"wrote {preview(Renderer(), args.preview)}")
        return 0
    if not args.check_only:
        t0 = time.perf_counter()
        video_path, truth_path = build(args.out, Renderer())
        size = video_path.stat().st_size
        print(f"wrote {video_path} ({size / 1e6:.2f} MB) and {truth_path.name} in {time.perf_counter() - t0:.1f} s")
        for ev in EVENTS:
            print(f"  {ev.name:9s} onset {ev.onset:3d} apex {ev.apex:3d} offset {ev.offset:3d} "
                  f"({ev.offset - ev.onset + 1} frames) {'+'.join(ev.aus)}")
    if args.check or args.check_only:
        return 0 if check(video_path) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
