"""napari reader: a video file, a photo, a folder of numbered frames, a session, or a project.

``napari_get_reader`` returns a callable or ``None`` and never raises: files
that are not ours are declined so other readers can try them.  A folder is
taken when it is a session, or when everything in it (dot-files aside) has an
image suffix; whether its numbering holds is checked on reading, where a bad
frame gets its one-line error.  A project folder opens the session its coder has
work in next (:func:`annotator.project.session_to_open`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Callable

from ..session import SESSION_FILE, VIDEO_SUFFIXES

LayerData = tuple[Any, dict[str, Any], str]


def _is_frame_folder(p: Path) -> bool:
    from ..media import IMAGE_SUFFIXES

    names = [e for e in p.iterdir() if not e.name.startswith(".")]
    return bool(names) and all(e.suffix.lower() in IMAGE_SUFFIXES and not e.is_dir() for e in names)


_TEXT_BYTES = frozenset(b"\t\n\r\f" + bytes(range(0x20, 0x7F)))


def _is_text(p: Path) -> bool:
    """Empty, or its first bytes are printable ASCII: no container or image starts so.

    Every video container and image format begins with binary bytes (a box size,
    an EBML id, a RIFF size, a PNG/JPEG signature), so notes saved as ``.mp4`` are
    declined here, where napari can still try other readers.
    """
    with open(p, "rb") as fh:
        head = fh.read(64)
    return not head or all(b in _TEXT_BYTES for b in head)


def _our_path(path: str | os.PathLike) -> bool:
    from ..media import IMAGE_SUFFIXES
    from ..project import is_project_dir

    p = Path(path)
    if is_project_dir(p):
        return True
    if p.is_dir():
        return (p / SESSION_FILE).is_file() or _is_frame_folder(p)
    return p.suffix.lower() in VIDEO_SUFFIXES + IMAGE_SUFFIXES and not _is_text(p)


def napari_get_reader(path: str | os.PathLike | list) -> Callable[[Any], list[LayerData]] | None:
    """Return :func:`read` when ``path`` is a video, photo, frame folder or session, else ``None``."""
    try:
        paths = path if isinstance(path, (list, tuple)) else [path]
        if not paths or not all(isinstance(p, (str, os.PathLike)) and _our_path(p) for p in paths):
            return None
    except Exception:  # a reader must never raise while deciding
        return None
    return read


#: Whether :func:`read` docks the workbench when a session opens (off while
#: ``annotator open`` docks its own, with the coder it was given).
_AUTO_DOCK = {"on": True}

#: The npe2 widget that :func:`read` docks (``napari.yaml``'s display name).
WORKBENCH_WIDGET = ("annotator", "Workbench")


@contextlib.contextmanager
def no_auto_dock():
    """Open with the reader without it docking the workbench (the caller docks one itself)."""
    before = _AUTO_DOCK["on"]
    _AUTO_DOCK["on"] = False
    try:
        yield
    finally:
        _AUTO_DOCK["on"] = before


def read(path: str | os.PathLike | list) -> list[LayerData]:
    """Layer data for a video, photo or frame folder (lazy, frame-exact Image layer) or a session.

    Opening a session (File ▸ Open on ``clip.annot``, or a video that has one)
    in a viewer also docks the workbench once its video layer is in, so the
    overlays, the timeline and the keys come with it.
    """
    from ..project import is_project_dir
    from .layers import project_layer_data, video_layer_data

    paths = path if isinstance(path, (list, tuple)) else [path]
    layers: list[LayerData] = []
    for p in paths:
        layers.extend(project_layer_data(p) if is_project_dir(p) else video_layer_data(p))
    if _AUTO_DOCK["on"] and any(meta_session(kwargs) for _, kwargs, _ in layers):
        _dock_when_inserted()
    return layers


def meta_session(kwargs: dict) -> str | None:
    """The session folder our layer kwargs name, if any."""
    info = (kwargs.get("metadata") or {}).get("annotator") or {}
    return info.get("session")


def _dock_when_inserted() -> None:
    """Dock the workbench in the current viewer when our layer arrives, unless one is docked.

    A reader hands napari layer data, not layers, so the dock waits for the
    layer through the viewer's public ``layers.events.inserted``.
    """
    import napari

    viewer = napari.current_viewer()
    if viewer is None or getattr(viewer, "window", None) is None:
        return  # a headless ViewerModel, or no viewer: the layers alone

    def inserted(event) -> None:
        meta = getattr(event.value, "metadata", None)
        if not (isinstance(meta, dict) and isinstance(meta.get("annotator"), dict)):
            return
        viewer.layers.events.inserted.disconnect(inserted)
        docks = getattr(viewer.window, "dock_widgets", {})
        if any("annotator" in name.lower() and "timeline" not in name.lower() for name in docks):
            return  # a workbench is docked already: it follows the new layer itself
        viewer.window.add_plugin_dock_widget(*WORKBENCH_WIDGET)

    viewer.layers.events.inserted.connect(inserted)
