"""Whole-face rigid motion, and how much of the face's shape change it leaves unexplained.

A face seen under a whole-frame roll, drift or zoom (a still photo moved, a
camera shaking) moves as a rigid body: every landmark follows one 2-D
similarity (rotation, scale, shift).  The Face Landmarker's blendshapes still
change under such motion (on the real ``takeo`` still, rolled 4° and zoomed,
``mouthSmile`` rose by 0.18 and was proposed as joy), but the shape does not.

:func:`rigid_motion` aligns each frame's landmarks to the face's usual shape
(their rolling median over ``seconds``) with the least-squares similarity, and
returns per frame

* ``motion``: how far that similarity is from identity (the largest of the
  shift in face sizes, the log scale change, and the rotation in radians);
* ``deformation``: the mean distance, in face sizes, between the aligned
  landmarks and the usual shape: what the rigid motion does not explain.

Measured on the re-timed real clips (``benchmarks/bench_realfootage.py``,
seeds 0-4, 38 points): over every true event (105, 20 of them inside talking)
the deformation peaks at 0.020 or more (median 0.059); on the ``takeo`` still
while it rolls and zooms (motion 0.20-0.34) it stays at 0.010-0.012.
"""

from __future__ import annotations

import numpy as np

#: Mesh points for the fit and its residual: the face's outline, brows, eyes, nose and lips
#: (38 of 478: enough to see an expression deform the face, and an hour stays cheap).
POINTS = (10, 152, 234, 454, 58, 288, 132, 361,  # outline
          70, 105, 107, 336, 334, 300,  # brows
          33, 133, 159, 145, 263, 362, 386, 374,  # eyes
          1, 4, 98, 327,  # nose
          61, 291, 0, 17, 13, 14, 40, 270, 91, 321, 78, 308)  # lips


def _usual(x: np.ndarray, fps: float, seconds: float) -> np.ndarray:
    """The usual value of ``x`` [T, C]: a centred rolling median over ``seconds``.

    Computed on one sample a second (the usual shape changes slowly, and an hour
    of 30 fps tracks stays well under a second) and interpolated back to every frame.
    """
    import pandas as pd

    T = x.shape[0]
    step = max(1, int(round(fps)))
    at = np.arange(0, T, step)
    win = max(1, int(round(seconds * fps / step))) | 1
    coarse = pd.DataFrame(x[at]).rolling(win, center=True, min_periods=1).median().to_numpy()
    if step == 1:
        return coarse
    grid = np.arange(T)
    return np.stack([np.interp(grid, at, coarse[:, c]) for c in range(x.shape[1])], axis=1)


def rigid_motion(landmarks: np.ndarray, present: np.ndarray, fps: float,
                 seconds: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """``(motion, deformation)``, each ``[T]`` float64 (NaN where no face); see the module."""
    present = np.asarray(present, dtype=bool)
    T = len(present)
    motion = np.full(T, np.nan)
    deformation = np.full(T, np.nan)
    if T == 0 or not present.any() or landmarks is None or landmarks.ndim != 3:
        return motion, deformation
    if landmarks.shape[1] <= max(POINTS):  # not a Face Landmarker mesh
        return motion, deformation
    pts = np.asarray(landmarks[:, POINTS, :2], dtype=np.float32)
    ok = present & np.isfinite(pts).all(axis=(1, 2))
    if not ok.any():
        return motion, deformation
    z = pts[ok, :, 0] + 1j * pts[ok, :, 1]
    centre = z.mean(axis=1, keepdims=True)
    z = z - centre
    ref = _usual(np.concatenate([z.real, z.imag, centre.real, centre.imag], axis=1), fps, seconds)
    n = z.shape[1]
    usual = ref[:, :n] + 1j * ref[:, n : 2 * n]
    usual_centre = ref[:, 2 * n] + 1j * ref[:, 2 * n + 1]
    size = np.sqrt((np.abs(usual) ** 2).mean(axis=1))
    size = np.where(size > 0, size, np.nan)
    # the similarity a (rotation and scale) that best maps this frame's shape onto the usual one
    with np.errstate(all="ignore"):
        a = (np.conj(z) * usual).sum(axis=1) / (np.abs(z) ** 2).sum(axis=1)
        deformation[ok] = (np.abs(a[:, None] * z - usual).mean(axis=1)) / size
        shift = np.abs(centre[:, 0] - usual_centre) / size
        motion[ok] = np.maximum.reduce([shift, np.abs(np.log(np.abs(a))), np.abs(np.angle(a))])
    return motion, deformation


__all__ = ["rigid_motion"]
