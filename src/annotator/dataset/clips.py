"""A sample's pixels: the frames, optionally cropped to the face, as H.264 MP4 or numbered JPEGs.

The face crop is one box per sample, not per frame, so the clip shows the face
move as it did (a per-frame box would erase the head motion and add jitter).
The box is levelled on the eye line: it is turned by the median angle of the
line between the eye centres over the clip's frames, and squared around the
median face centre, wide enough for every frame's landmarks plus a margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

#: Eye corners in MediaPipe's face mesh: (outer, inner) for each eye.
RIGHT_EYE = (33, 133)
LEFT_EYE = (263, 362)
FORMATS = ("mp4", "frames")
#: libx264 settings of every clip (and of the benchmark's reference encode).
H264_OPTIONS = {"crf": "18", "preset": "veryfast"}


@dataclass(frozen=True)
class FaceBox:
    """A square of side ``size`` pixels centred at ``(cx, cy)``, turned by ``angle`` radians."""

    cx: float
    cy: float
    size: float
    angle: float

    def affine(self, out: int) -> tuple[float, ...]:
        """PIL's AFFINE coefficients: output pixel ``(u, v)`` → input pixel."""
        s = self.size / out
        c, n = math.cos(self.angle), math.sin(self.angle)
        # input = centre + R(angle) @ ((u, v) - out/2) * s
        return (c * s, -n * s, self.cx - (c * s * out / 2) + (n * s * out / 2),
                n * s, c * s, self.cy - (n * s * out / 2) - (c * s * out / 2))


def face_box(landmarks: np.ndarray, present: np.ndarray, margin: float = 0.15) -> FaceBox | None:
    """The sample's face box from its frames' landmarks ``[T, 478, 3]`` (None when no face)."""
    pts = landmarks[np.asarray(present, bool), :, :2].astype(np.float64)
    pts = pts[np.isfinite(pts).all(axis=(1, 2))]
    if not len(pts):
        return None
    right = pts[:, list(RIGHT_EYE)].mean(axis=1)
    left = pts[:, list(LEFT_EYE)].mean(axis=1)
    d = left - right  # the subject's left eye is on the image's right
    angle = float(np.median(np.arctan2(d[:, 1], d[:, 0])))
    centre = np.median((pts.min(axis=1) + pts.max(axis=1)) / 2, axis=0)
    c, n = math.cos(-angle), math.sin(-angle)
    rel = pts - centre
    rot = np.stack([c * rel[..., 0] - n * rel[..., 1], n * rel[..., 0] + c * rel[..., 1]], axis=-1)
    half = float(np.abs(rot).max())
    return FaceBox(float(centre[0]), float(centre[1]), 2 * half * (1 + margin), angle)


def crop_frames(frames: np.ndarray, box: FaceBox, out: int) -> np.ndarray:
    """Every frame resampled into the box, ``[T, out, out, 3]`` uint8 (outside the frame is black)."""
    from PIL import Image

    coeffs = box.affine(out)
    return np.stack([
        np.asarray(Image.fromarray(f).transform((out, out), Image.Transform.AFFINE, coeffs,
                                                resample=Image.Resampling.BILINEAR))
        for f in frames
    ])


def even(frames: np.ndarray) -> np.ndarray:
    """H.264 in 4:2:0 needs even sides: drop a last odd row or column."""
    h, w = frames.shape[1:3]
    return frames[:, : h - h % 2, : w - w % 2]


def encode_mp4(frames: np.ndarray, path: Path, fps: float) -> None:
    """``frames`` ``[T, H, W, 3]`` uint8 as an H.264 MP4 at a constant ``fps``."""
    import av

    frames = even(frames)
    rate = Fraction(fps).limit_denominator(100000)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate, options=dict(H264_OPTIONS))
        stream.width, stream.height = int(frames.shape[2]), int(frames.shape[1])
        stream.pix_fmt = "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_frame_folder(frames: np.ndarray, folder: Path, first_number: int) -> list[str]:
    """Numbered JPEGs ``img<N>.jpg`` from ``first_number``, as CASME II ships its clips."""
    from PIL import Image

    folder.mkdir(parents=True)
    names = []
    for i, image in enumerate(frames):
        name = f"img{first_number + i}.jpg"
        Image.fromarray(image).save(folder / name, quality=95)
        names.append(name)
    return names
