"""Frame-exact, fast video access.

``open_video(path)`` returns a :class:`VideoSource`: a lazy ``(T, H, W, 3)`` uint8
RGB array whose frame *i* is exactly the *i*-th frame of a sequential decode,
with true presentation times, rotation applied, and an optional on-disk proxy
for fast random access.  See :mod:`annotator.media.video`.
"""

from __future__ import annotations

from .video import VideoSource, open_video

__all__ = ["VideoSource", "open_video"]
