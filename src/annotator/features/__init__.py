"""Per-frame evidence computed from tracks: action units (:mod:`.aus`), motion (:mod:`.motion`),
and the emotion they show (:mod:`.expression`)."""

from __future__ import annotations

from .aus import AUFeatures, compute_au_features
from .expression import FRAME_EMOTIONS, frame_emotions, frame_table

__all__ = ["AUFeatures", "FRAME_EMOTIONS", "compute_au_features", "features_from_tracks", "frame_emotions", "frame_table"]


def features_from_tracks(tracks) -> AUFeatures:
    """AU features of a loaded :class:`annotator.tracking.store.Tracks`.

    The AUs come from the store's blendshapes, else its imported ``aus/values``
    (an OpenFace or Py-Feat CSV), else its landmark geometry.
    """
    return compute_au_features(
        present=tracks.face_present,
        landmarks=tracks.face_landmarks,
        time=tracks.time,
        fps=tracks.fps,
        blendshapes=tracks.face_blendshapes,
        blendshape_names=tracks.blendshape_names,
        matrix=tracks.face_matrix,
        external_aus=getattr(tracks, "au_values", None),
        external_au_names=getattr(tracks, "au_names", None) or None,
    )
