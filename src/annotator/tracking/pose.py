"""Body pose: MediaPipe's legacy Pose solution (BlazePose full, 33 landmarks).

The model ships inside the mediapipe 0.10.21 wheel, so nothing is fetched.
Landmarks are ``(x, y, z, visibility)`` with x, y in pixels of the upright
frame and z scaled like x (z*W), as MediaPipe defines it.
"""

from __future__ import annotations

import numpy as np

from .face import MediapipeTracker, mediapipe_version

N_POSE_LANDMARKS = 33
#: model_complexity=1 is BlazePose "full".
POSE_BACKEND = "pose_full_legacy"


class PoseTracker(MediapipeTracker):
    """One pose tracker instance: a fresh detector state until :meth:`close`.

    :meth:`process` returns ``(present, landmarks[33, 4])``; an absent body
    gives NaN, never an earlier frame's landmarks.
    """

    name = POSE_BACKEND

    def __init__(self) -> None:
        import mediapipe as mp

        self._impl = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)

    @property
    def version(self) -> str:
        return mediapipe_version()

    def process(self, rgb: np.ndarray):
        height, width = rgb.shape[:2]
        landmarks = np.full((N_POSE_LANDMARKS, 4), np.nan, np.float32)
        result = self._impl.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return False, landmarks
        xyzv = np.array([(p.x, p.y, p.z, p.visibility) for p in result.pose_landmarks.landmark], np.float64)
        xyzv[:, :3] *= (width, height, width)
        return True, xyzv.astype(np.float32)
