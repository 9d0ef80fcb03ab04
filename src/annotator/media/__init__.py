"""Frame-exact, fast access to videos, photos and folders of numbered frames.

``open_video(path)`` returns a :class:`FrameSource`: a lazy ``(T, H, W, 3)`` uint8
RGB array whose frame *i* is exactly the *i*-th frame of a sequential decode,
with true presentation times and rotation applied.  A video file gives a
:class:`VideoSource` (with an optional on-disk proxy for fast random access,
see :mod:`annotator.media.video`); a photo or a frame folder gives an
:class:`ImageSequence` (see :mod:`annotator.media.images`).
"""

from __future__ import annotations

from .frames import FrameSource
from .images import DEFAULT_FOLDER_FPS, IMAGE_SUFFIXES, PHOTO_FPS, ImageSequence, is_image_source
from .video import VideoSource, open_video

__all__ = [
    "DEFAULT_FOLDER_FPS",
    "FrameSource",
    "IMAGE_SUFFIXES",
    "ImageSequence",
    "PHOTO_FPS",
    "VideoSource",
    "is_image_source",
    "open_video",
]
