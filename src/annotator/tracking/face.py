"""Face tracking: MediaPipe Face Landmarker, or the legacy Face Mesh as a fallback.

Both backends give 478 landmarks in pixels of the upright frame (x*W, y*H,
z*W).  Only the Face Landmarker gives the 52 blendshapes and the head-pose
matrix; the legacy backend leaves them NaN.

The detection score
-------------------
The Face Landmarker's Tasks API exposes no confidence (its landmarks'
``presence`` and ``visibility`` are 0).  So the score is derived from the face
detector *inside the same bundle* (``face_detector.tflite``, the BlazeFace
model the landmarker itself uses to find faces), run on every frame in image
mode, independent of any tracking state: the score is the highest detector
score among its boxes that overlap the tracked face's landmark box with an IoU
of at least :data:`SCORE_MIN_IOU`, and 0 when none does (the landmarker follows
something the detector does not see as a face).  The legacy backend has no
score (NaN).  mediapipe is imported inside the
functions that need it so importing this module stays cheap.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from importlib import metadata
from typing import NamedTuple

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

#: A detector box counts as the tracked face when it overlaps the landmarks' box
#: this much (BlazeFace's box and the mesh's extent differ at the forehead and chin,
#: so a true match lies around 0.5-0.7).
SCORE_MIN_IOU = 0.3

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


class FaceResult(NamedTuple):
    """One frame's face: absent faces have NaN arrays and score, never an earlier frame's."""

    present: bool
    landmarks: np.ndarray  # [478, 3] float32 pixels
    blendshapes: np.ndarray  # [52] float32
    matrix: np.ndarray  # [4, 4] float32
    score: float  # detection confidence in [0, 1], NaN without a face or a detector


def _box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """IoU of two ``(x0, y0, x1, y1)`` boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


class FaceTracker(MediapipeTracker):
    """One face tracker instance: a fresh detector state until :meth:`close`.

    Parameters
    ----------
    backend : FaceBackend
        What to run.

    Notes
    -----
    :meth:`process` returns a :class:`FaceResult`.
    """

    _detector = None

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
            with zipfile.ZipFile(backend.model_path) as bundle:
                detector_model = bundle.read("face_detector.tflite")
            self._detector = vision.FaceDetector.create_from_options(
                vision.FaceDetectorOptions(
                    base_options=BaseOptions(model_asset_buffer=detector_model),
                    running_mode=vision.RunningMode.IMAGE,
                    # Keep weak detections: the score is what we store, not a gate.
                    min_detection_confidence=0.05,
                )
            )
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
                return FaceResult(False, landmarks, blendshapes, matrix, float("nan"))
            landmarks = _landmarks_to_pixels(result.face_landmarks[0], width, height)
            if result.face_blendshapes:
                cats = result.face_blendshapes[0]
                if not self._names_checked:
                    self._check_names([c.category_name for c in cats])
                blendshapes = np.array([c.score for c in cats], np.float32)
            if result.facial_transformation_matrixes:
                matrix = np.asarray(result.facial_transformation_matrixes[0], np.float32).reshape(4, 4)
            return FaceResult(True, landmarks, blendshapes, matrix, self._score(image, landmarks))
        result = self._impl.process(rgb)
        if not result.multi_face_landmarks:
            return FaceResult(False, landmarks, blendshapes, matrix, float("nan"))
        landmarks = _landmarks_to_pixels(result.multi_face_landmarks[0].landmark, width, height)
        return FaceResult(True, landmarks, blendshapes, matrix, float("nan"))

    def _score(self, image, landmarks: np.ndarray) -> float:
        face = (*landmarks[:, :2].min(axis=0), *landmarks[:, :2].max(axis=0))
        best = 0.0
        for det in self._detector.detect(image).detections:
            box = det.bounding_box
            iou = _box_iou(face, (box.origin_x, box.origin_y, box.origin_x + box.width, box.origin_y + box.height))
            if iou >= SCORE_MIN_IOU and det.categories:
                best = max(best, float(det.categories[0].score))
        return best

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None
        super().close()

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
