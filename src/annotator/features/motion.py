"""Motion curves for the timeline: facial motion energy and body motion.

Both are speeds in pixels per second, one value per frame, NaN where the
tracker saw nothing.  They are cheap summaries for a coder scanning an hour
of footage, not evidence for the spotter.
"""

from __future__ import annotations

import numpy as np

#: Pose landmarks whose motion matters around a face: nose, eyes, ears, mouth,
#: shoulders, and wrists and hands (a hand to the face often masks an expression).
BODY_POINTS: tuple[int, ...] = (0, 2, 5, 7, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22)


def _dt(time: np.ndarray | None, n: int, fps: float) -> np.ndarray:
    """Seconds between consecutive frames (``n - 1`` values), from timestamps when valid."""
    if time is not None and len(time) == n and n > 1:
        dt = np.diff(np.asarray(time, dtype=np.float64))
        if np.all(np.isfinite(dt)) and np.all(dt > 0):
            return dt
    return np.full(max(n - 1, 0), 1.0 / float(fps))


def _speed(points: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Mean point speed per frame; frame 0 copies frame 1 so the curve has no gap at the start."""
    n = points.shape[0]
    out = np.full(n, np.nan, dtype=np.float32)
    if n < 2:
        return out
    step = np.linalg.norm(np.diff(points, axis=0), axis=-1)  # [T-1, K]
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(step)
        counts = valid.sum(axis=1)
        mean = np.where(counts > 0, np.nansum(np.where(valid, step, 0.0), axis=1) / np.maximum(counts, 1), np.nan)
    out[1:] = mean / dt
    out[0] = out[1]
    return out


def face_motion_energy(
    landmarks: np.ndarray, present: np.ndarray, fps: float, time: np.ndarray | None = None
) -> np.ndarray:
    """Mean landmark speed after removing the head's translation, ``[T]`` px/s.

    Each frame's mesh is centred on its own centroid, so the head gliding
    across the image does not count; what is left is the face deforming (and
    some rotation, which the timeline's head-speed-free reading tolerates).

    Parameters
    ----------
    landmarks : ndarray [T, N, 2 or 3]
        Pixel coordinates, NaN where absent.
    present : ndarray [T] bool
    fps : float
    time : ndarray [T], optional
        Presentation times; preferred over ``fps`` for variable frame rates.
    """
    pts = np.asarray(landmarks, dtype=np.float32)[..., :2].copy()
    present = np.asarray(present, dtype=bool)
    pts[~present] = np.nan
    with np.errstate(invalid="ignore"), _quiet_nanmean():
        centre = np.nanmean(pts, axis=1, keepdims=True)
    return _speed(pts - centre, _dt(time, len(pts), fps))


def body_motion(
    pose_landmarks: np.ndarray | None,
    pose_present: np.ndarray | None,
    fps: float,
    time: np.ndarray | None = None,
    *,
    n_frames: int | None = None,
    min_visibility: float = 0.5,
) -> np.ndarray:
    """Mean speed of the head, shoulders and hands, ``[T]`` px/s (all NaN without pose).

    Parameters
    ----------
    pose_landmarks : ndarray [T, 33, 4] or None
        x, y, z, visibility per landmark.
    pose_present : ndarray [T] bool or None
    fps : float
    time : ndarray [T], optional
    n_frames : int, optional
        Length of the all-NaN curve returned when there is no pose.
    min_visibility : float
        Landmarks the tracker is less sure of are ignored (their jitter is not motion).
    """
    if pose_landmarks is None:
        return np.full(int(n_frames or 0), np.nan, dtype=np.float32)
    pose = np.asarray(pose_landmarks, dtype=np.float32)
    pts = pose[:, BODY_POINTS, :2].copy()
    if pose.shape[-1] > 3:
        with np.errstate(invalid="ignore"):
            pts[pose[:, BODY_POINTS, 3] < min_visibility] = np.nan
    if pose_present is not None:
        pts[~np.asarray(pose_present, dtype=bool)] = np.nan
    return _speed(pts, _dt(time, len(pts), fps))


def motion_curves(tracks) -> dict[str, np.ndarray]:
    """``{"face motion": [T], "body motion": [T]}`` for a loaded :class:`~annotator.tracking.store.Tracks`."""
    return {
        "face motion": face_motion_energy(tracks.face_landmarks, tracks.face_present, tracks.fps, tracks.time),
        "body motion": body_motion(
            tracks.pose_landmarks, tracks.pose_present, tracks.fps, tracks.time, n_frames=tracks.n_frames
        ),
    }


class _quiet_nanmean:
    """Silence numpy's "Mean of empty slice" on frames without a face (NaN is the answer)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


__all__ = ["BODY_POINTS", "body_motion", "face_motion_energy", "motion_curves"]
