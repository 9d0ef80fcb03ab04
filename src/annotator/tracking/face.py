"""Face tracking: MediaPipe Face Landmarker, or the legacy Face Mesh as a fallback.

Both backends give 478 landmarks in pixels of the upright frame (x*W, y*H,
z*W).  Only the Face Landmarker gives the 52 blendshapes and the head-pose
matrix; the legacy backend leaves them NaN.  mediapipe is imported inside the
functions that need it so importing this module stays cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import metadata

import numpy as np

N_FACE_LANDMARKS = 478
N_BLENDSHAPES = 52

#: The Face Landmarker v2 blendshape categories, in the model's output order.
#: Hard-coded so the legacy backend (which has none) writes the same names; a
#: test checks them against the model.
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)
assert len(BLENDSHAPE_NAMES) == N_BLENDSHAPES

LANDMARKER_BACKEND = "face_landmarker_v2"
LEGACY_BACKEND = "face_mesh_legacy"


def mediapipe_version() -> str:
    """The installed mediapipe version, read without importing mediapipe."""
    try:
        return metadata.version("mediapipe")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a dependency
        return "unknown"


@dataclass(frozen=True)
class FaceBackend:
    """Which face model a run uses: what the store records and workers rebuild from.

    Parameters
    ----------
    name : str
        :data:`LANDMARKER_BACKEND` or :data:`LEGACY_BACKEND`.
    model_path : str or None
        The verified Face Landmarker bundle (``None`` for the legacy backend).
    model_sha256 : str or None
        Its checksum.
    """

    name: str
    model_path: str | None = None
    model_sha256: str | None = None

    @property
    def version(self) -> str:
        return mediapipe_version()

    @classmethod
    def resolve(cls, explicit: str | os.PathLike | None = None) -> "FaceBackend":
        """The Face Landmarker when its bundle is found, else the legacy Face Mesh.

        A bundle named explicitly (argument or ``$ANNOTATOR_FACE_MODEL``) that is
        missing or has the wrong checksum raises :class:`~annotator.errors.ModelError`.
        """
        from .model_files import FACE_MODEL_SHA256, find_face_model

        path = find_face_model(explicit)
        if path is None:
            return cls(LEGACY_BACKEND)
        # find_face_model verified the checksum, so the constant is the file's.
        return cls(LANDMARKER_BACKEND, str(path), FACE_MODEL_SHA256)


def _landmarks_to_pixels(landmarks, width: int, height: int) -> np.ndarray:
    xyz = np.array([(p.x, p.y, p.z) for p in landmarks], dtype=np.float64)
    # z is normalised by the image width in both backends, so it shares x's scale.
    xyz *= (width, height, width)
    return xyz.astype(np.float32)


class MediapipeTracker:
    """A MediaPipe graph in ``self._impl``, closed by :meth:`close` or a ``with`` block."""

    _impl = None

    def close(self) -> None:
        if self._impl is not None:
            self._impl.close()
            self._impl = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FaceTracker(MediapipeTracker):
    """One face tracker instance: a fresh detector state until :meth:`close`.

    Parameters
    ----------
    backend : FaceBackend
        What to run.

    Notes
    -----
    :meth:`process` returns ``(present, landmarks[478, 3], blendshapes[52],
    matrix[4, 4])``; absent faces give NaN arrays, never an earlier frame's.
    """

    def __init__(self, backend: FaceBackend):
        import mediapipe as mp

        self.backend = backend
        self._mp = mp
        self._last_ts = None
        self._names_checked = False
        if backend.name == LANDMARKER_BACKEND:
            from mediapipe.tasks.python import BaseOptions, vision

            options = vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=backend.model_path),
                running_mode=vision.RunningMode.VIDEO,
                num_faces=1,
                output_face_blendshapes=True,
                output_facial_transformation_matrixes=True,
            )
            self._impl = vision.FaceLandmarker.create_from_options(options)
        elif backend.name == LEGACY_BACKEND:
            self._impl = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=False, max_num_faces=1, refine_landmarks=True
            )
        else:
            raise ValueError(f"unknown face backend {backend.name!r}")

    def process(self, rgb: np.ndarray, timestamp_ms: int):
        """Track one upright RGB frame.

        Parameters
        ----------
        rgb : ndarray, shape (H, W, 3), uint8
        timestamp_ms : int
            Strictly increasing within this tracker (the Face Landmarker's
            video mode requires it).
        """
        height, width = rgb.shape[:2]
        landmarks = np.full((N_FACE_LANDMARKS, 3), np.nan, np.float32)
        blendshapes = np.full(N_BLENDSHAPES, np.nan, np.float32)
        matrix = np.full((4, 4), np.nan, np.float32)
        rgb = np.ascontiguousarray(rgb)
        if self.backend.name == LANDMARKER_BACKEND:
            if self._last_ts is not None and timestamp_ms <= self._last_ts:
                timestamp_ms = self._last_ts + 1
            self._last_ts = timestamp_ms
            image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
            result = self._impl.detect_for_video(image, int(timestamp_ms))
            if not result.face_landmarks:
                return False, landmarks, blendshapes, matrix
            landmarks = _landmarks_to_pixels(result.face_landmarks[0], width, height)
            if result.face_blendshapes:
                cats = result.face_blendshapes[0]
                if not self._names_checked:
                    self._check_names([c.category_name for c in cats])
                blendshapes = np.array([c.score for c in cats], np.float32)
            if result.facial_transformation_matrixes:
                matrix = np.asarray(result.facial_transformation_matrixes[0], np.float32).reshape(4, 4)
            return True, landmarks, blendshapes, matrix
        result = self._impl.process(rgb)
        if not result.multi_face_landmarks:
            return False, landmarks, blendshapes, matrix
        landmarks = _landmarks_to_pixels(result.multi_face_landmarks[0].landmark, width, height)
        return True, landmarks, blendshapes, matrix

    def _check_names(self, names: list[str]) -> None:
        # The store's ``names`` attribute is written before any frame is seen;
        # a bundle whose categories differ would mislabel every column.
        from ..errors import ModelError

        if tuple(names) != BLENDSHAPE_NAMES:
            raise ModelError(self.backend.model_path, "its blendshape categories differ from the Face Landmarker v2 ones")
        self._names_checked = True



def model_blendshape_names(backend: FaceBackend, rgb: np.ndarray) -> list[str] | None:
    """The category names the Face Landmarker reports on ``rgb`` (``None`` without a face).

    Used by the tests to check :data:`BLENDSHAPE_NAMES` against the model.
    """
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=backend.model_path),
        running_mode=vision.RunningMode.IMAGE,
        num_faces=1,
        output_face_blendshapes=True,
    )
    with vision.FaceLandmarker.create_from_options(options) as landmarker:
        result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))
    if not result.face_blendshapes:
        return None
    return [c.category_name for c in result.face_blendshapes[0]]
