"""The pictures and clips of a quiz item, cut from the real footage by the tracks.

- ``face``: an aligned face crop.  A similarity transform puts the eyes level,
  at fixed places, from the landmarks averaged over the item's frames, so the
  neutral and apex frames of a flash (and every frame of a clip) share one
  crop and the face does not jump.
- ``face+body``: the frame region that holds the pose skeleton and the face.

Clips are H.264 in MP4 through PyAV, yuv420p with ``+faststart``, which
Chromium and Firefox play from a file:// page.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import AnnotatorError

#: Outer corners of the two eyes in MediaPipe's 478-point face mesh.
EYE_OUTER = (33, 263)
FACE_SIZE = 256  # px, square
BODY_MAX_SIDE = 480  # px, longest side of a face+body view
#: Where the eye corners land in the face crop, as fractions of its side.
EYE_Y, EYE_SPAN = 0.40, 0.46
JPEG_QUALITY = 90
#: The frame rate of exported flash clips: a frame is 10 ms, so durations round to 10 ms.
FLASH_CLIP_FPS = 100


class Crop:
    """A mapping from a video frame to an item's picture (the same for all its frames)."""

    def __init__(self, matrix: np.ndarray, size: tuple[int, int]):
        self.matrix = matrix  # 2x3: output (x, y, 1) -> input (x, y)
        self.size = size  # (width, height), both even

    def apply(self, frame: np.ndarray) -> np.ndarray:
        from PIL import Image

        m = self.matrix
        img = Image.fromarray(frame)
        out = img.transform(self.size, Image.Transform.AFFINE, tuple(m.ravel()), resample=Image.Resampling.BILINEAR)
        return np.asarray(out)


def _even(n: float) -> int:
    return max(2, int(round(n / 2.0)) * 2)


def face_crop(landmarks: np.ndarray, frames: Iterable[int], where: str) -> Crop:
    """The aligned face crop over ``frames`` (landmarks ``[T, 478, 3]`` in pixels)."""
    pts = landmarks[list(frames)][:, :, :2]
    good = ~np.isnan(pts).any(axis=(1, 2))
    if not good.any():
        raise AnnotatorError(where, "no face was tracked in the item's frames; it cannot be cropped")
    mean = pts[good].mean(axis=0)
    a, b = mean[EYE_OUTER[0]], mean[EYE_OUTER[1]]
    left, right = (a, b) if a[0] <= b[0] else (b, a)
    span = float(np.hypot(*(right - left)))
    if span < 2:
        raise AnnotatorError(where, "the tracked face is too small to crop")
    angle = float(np.arctan2(right[1] - left[1], right[0] - left[0]))
    scale = span / (EYE_SPAN * FACE_SIZE)  # input px per output px
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    centre_in = (left + right) / 2.0
    centre_out = np.array([FACE_SIZE / 2.0, EYE_Y * FACE_SIZE])
    # input = R*S @ (out - centre_out) + centre_in
    rot = np.array([[cos, -sin], [sin, cos]])
    shift = centre_in - rot @ centre_out
    return Crop(np.hstack([rot, shift[:, None]]), (FACE_SIZE, FACE_SIZE))


def resize(width: int, height: int) -> Crop:
    """A clip that is a face crop already (a dataset's ``--crop face``), scaled to the quiz's face size."""
    return Crop(np.array([[width / FACE_SIZE, 0.0, 0.0], [0.0, height / FACE_SIZE, 0.0]]), (FACE_SIZE, FACE_SIZE))


def body_crop(
    face: np.ndarray, pose: np.ndarray | None, frames: Iterable[int], width: int, height: int, where: str
) -> Crop:
    """The region that holds the face and the visible pose landmarks over ``frames``, padded."""
    frames = list(frames)
    pts = [face[frames][:, :, :2].reshape(-1, 2)]
    if pose is not None:
        body = pose[frames]
        visible = body[:, :, 3] >= 0.5
        pts.append(body[:, :, :2][visible])
    xy = np.concatenate(pts)
    xy = xy[~np.isnan(xy).any(axis=1)]
    if not len(xy):
        raise AnnotatorError(where, "neither a face nor a body was tracked in the item's frames")
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = 0.08 * (hi - lo).max()
    x0, y0 = max(0.0, lo[0] - pad), max(0.0, lo[1] - pad)
    x1, y1 = min(float(width), hi[0] + pad), min(float(height), hi[1] + pad)
    w, h = max(x1 - x0, 2.0), max(y1 - y0, 2.0)
    scale = max(w, h) / BODY_MAX_SIDE if max(w, h) > BODY_MAX_SIDE else 1.0
    size = (_even(w / scale), _even(h / scale))
    matrix = np.array([[scale, 0.0, x0], [0.0, scale, y0]])
    return Crop(matrix, size)


def jpeg_bytes(picture: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def write_mp4(path: Path, pictures: Iterable[np.ndarray], fps: float) -> int:
    """Encode RGB pictures (all one even size) as H.264 MP4; returns the frame count."""
    import av

    rate = Fraction(fps).limit_denominator(1001)
    n = 0
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = None
        for picture in pictures:
            if stream is None:
                stream = out.add_stream("libx264", rate=rate)
                stream.width, stream.height = picture.shape[1], picture.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": "20", "preset": "veryfast"}
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
            n += 1
        if stream is not None:
            for packet in stream.encode():
                out.mux(packet)
    return n


def flash_sequence(neutral: np.ndarray, apex: np.ndarray, duration_ms: int, around_ms: int = 1000):
    """Neutral, apex for ``duration_ms`` (rounded to whole 10 ms frames), neutral: as clip frames."""
    frame_ms = 1000 / FLASH_CLIP_FPS
    around = max(1, round(around_ms / frame_ms))
    shown = max(1, round(duration_ms / frame_ms))
    return [neutral] * around + [apex] * shown + [neutral] * around, int(shown * frame_ms)
