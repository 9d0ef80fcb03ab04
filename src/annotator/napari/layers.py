"""Layer adapters: library objects turned into napari layer data (no Qt here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

LayerData = tuple[Any, dict[str, Any], str]


def video_layer_data(path: str | os.PathLike) -> list[LayerData]:
    """The video of ``path`` (a video file or a session) as a lazy RGB Image layer.

    The layer's metadata records where the video and session are, so the
    workbench can find them again.
    """
    from ..media import open_video
    from ..session import Session, default_session_dir, is_session_dir

    path = Path(path)
    session_dir: Path | None = None
    if is_session_dir(path):
        session = Session.open(path)
        video_path = session.video_path
        session_dir = session.root
    else:
        video_path = path
        candidate = default_session_dir(path)
        session_dir = candidate if is_session_dir(candidate) else None
    video = open_video(video_path)
    meta = {
        "annotator": {
            "video": str(video_path),
            "session": str(session_dir) if session_dir else None,
            "fps": float(video.fps),
        }
    }
    kwargs = {"name": video_path.stem, "rgb": True, "metadata": meta, "multiscale": False}
    return [(video, kwargs, "image")]
