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
seeds 0-3): over every true event (68) the deformation peaks at 0.018 or more
(median 0.051); under whole-frame motion of the four stills and of carphone it
stays under 0.021, and 0.010 over the two ``takeo`` false positives.
"""

from __future__ import annotations

import numpy as np

#: Every 4th mesh point: enough for a similarity fit and its residual, a quarter of the work.
POINT_STEP = 4


def _rolling_median(x: np.ndarray, window: int, max_samples: int = 24) -> np.ndarray:
    """Centred rolling median of ``x`` [T, C], on a decimated copy, held back to every frame."""
    import pandas as pd

    T = x.shape[0]
    step = max(1, window // max_samples)
    coarse = pd.DataFrame(x[::step]).rolling(max(1, window // step) | 1, center=True, min_periods=1).median()
    med = coarse.to_numpy()
    return np.repeat(med, step, axis=0)[:T] if step > 1 else med


def rigid_motion(landmarks: np.ndarray, present: np.ndarray, fps: float,
                 seconds: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """``(motion, deformation)``, each ``[T]`` float64 (NaN where no face); see the module."""
    present = np.asarray(present, dtype=bool)
    T = len(present)
    motion = np.full(T, np.nan)
    deformation = np.full(T, np.nan)
    if T == 0 or not present.any() or landmarks is None or landmarks.ndim != 3:
        return motion, deformation
    pts = np.asarray(landmarks[:, ::POINT_STEP, :2], dtype=np.float64)
    ok = present & np.isfinite(pts).all(axis=(1, 2))
    if not ok.any():
        return motion, deformation
    z = pts[ok, :, 0] + 1j * pts[ok, :, 1]
    centre = z.mean(axis=1, keepdims=True)
    z = z - centre
    window = max(3, int(round(seconds * fps)))
    ref = _rolling_median(np.concatenate([z.real, z.imag, centre.real, centre.imag], axis=1), window)
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
