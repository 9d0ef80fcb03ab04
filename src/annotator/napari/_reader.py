"""napari reader: a video file, or an annotator session directory.

``napari_get_reader`` returns a callable or ``None`` and never raises: files
that are not ours are declined so other readers can try them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from ..session import SESSION_FILE, VIDEO_SUFFIXES

LayerData = tuple[Any, dict[str, Any], str]


def _our_path(path: str | os.PathLike) -> bool:
    p = Path(path)
    if p.is_dir():
        return (p / SESSION_FILE).is_file()
    return p.suffix.lower() in VIDEO_SUFFIXES


def napari_get_reader(path: str | os.PathLike | list) -> Callable[[Any], list[LayerData]] | None:
    """Return :func:`read` when ``path`` is a video or a session, else ``None``."""
    try:
        paths = path if isinstance(path, (list, tuple)) else [path]
        if not paths or not all(isinstance(p, (str, os.PathLike)) and _our_path(p) for p in paths):
            return None
    except Exception:  # a reader must never raise while deciding
        return None
    return read


def read(path: str | os.PathLike | list) -> list[LayerData]:
    """Layer data for a video (lazy, frame-exact Image layer) or a session."""
    from .layers import video_layer_data

    paths = path if isinstance(path, (list, tuple)) else [path]
    layers: list[LayerData] = []
    for p in paths:
        layers.extend(video_layer_data(p))
    return layers
