"""Per-frame evidence computed from tracks: action units (:mod:`.aus`) and motion (:mod:`.motion`)."""

from __future__ import annotations

from .aus import AUFeatures, compute_au_features


def features_from_tracks(tracks) -> AUFeatures:
    """AU features of a loaded :class:`annotator.tracking.store.Tracks`."""
    return compute_au_features(
        present=tracks.face_present,
        landmarks=tracks.face_landmarks,
        time=tracks.time,
        fps=tracks.fps,
        blendshapes=tracks.face_blendshapes,
        blendshape_names=tracks.blendshape_names,
        matrix=tracks.face_matrix,
    )
