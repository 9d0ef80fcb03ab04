"""Face and body tracking of a video into ``SESSION/tracks.zarr``.

See :mod:`annotator.tracking.store` for the public store layout and
:mod:`annotator.tracking.run` for how tracking is cut into blocks, spread over
processes and resumed.  Nothing here imports mediapipe until tracking runs.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "track_videos": ("annotator.tracking.run", "track_videos"),
    "TrackingWarning": ("annotator.tracking.run", "TrackingWarning"),
    "load_tracks": ("annotator.tracking.store", "load_tracks"),
    "tracks_complete": ("annotator.tracking.store", "tracks_complete"),
    "Tracks": ("annotator.tracking.store", "Tracks"),
    "BLENDSHAPE_NAMES": ("annotator.tracking.face", "BLENDSHAPE_NAMES"),
}


__getattr__ = lazy_getattr("annotator.tracking", _LAZY)

__all__ = sorted(_LAZY)
