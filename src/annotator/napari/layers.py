"""Layer adapters: library objects turned into napari layer data (no Qt here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import napari

LayerData = tuple[Any, dict[str, Any], str]

#: Videos up to this many raw RGB bytes get a proxy when opened in napari, so
#: stepping backwards and jumping cost about a sequential decode.  The proxy
#: (MagicYUV) costs a fifth to a tenth of the raw size on disk, so 12 GiB of raw
#: frames (2.4 min of 720p, 1 min of 1080p) take ~1.2-2.4 GB, about what the 4 GiB
#: limit allowed with LZ4 RGB (1.4× smaller than raw); sources MagicYUV cannot
#: code (10-bit) still get LZ4 RGB.  Longer videos use the exact seek path (a
#: slower jump) instead of filling the disk unasked.
PROXY_MAX_RAW_BYTES = 12 * 1024**3


def _build_proxy_in_background(video) -> None:
    """Build the proxy on a daemon thread: frames stay readable (and exact) meanwhile,
    and later reads switch to the proxy.  An interrupted build leaves nothing behind."""
    import sys
    import threading

    from ..errors import VideoError

    def build():
        try:
            video.build_proxy()
        except (VideoError, ValueError, OSError):
            pass  # no writable cache or the video was closed: the seek path stays
        except RuntimeError as exc:
            # The interpreter is exiting under the build ("cannot schedule new futures
            # after interpreter shutdown", raised while threading's exit hooks run, before
            # sys.is_finalizing() says so): the partial proxy is discarded, say nothing.
            if not (sys.is_finalizing() or "interpreter shutdown" in str(exc)):
                raise

    threading.Thread(target=build, name=f"proxy:{video.path.name}", daemon=True).start()


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
    # Through the session when there is one: a frame folder opens at its recorded rate.
    video = Session.open(session_dir).open_video() if session_dir else open_video(video_path)
    raw_bytes = len(video) * video.width * video.height * 3
    if not video.has_proxy and raw_bytes <= PROXY_MAX_RAW_BYTES:
        _build_proxy_in_background(video)
    meta = {
        "annotator": {
            "video": str(video_path),
            "session": str(session_dir) if session_dir else None,
            "fps": float(video.fps),
        }
    }
    kwargs = {"name": video_path.stem, "rgb": True, "metadata": meta, "multiscale": False}
    return [(video, kwargs, "image")]


def project_layer_data(path: str | os.PathLike, coder: str | None = None) -> list[LayerData]:
    """A project's session to code next (for ``coder``, default the user's id) as :func:`video_layer_data`
    gives it, with the project recorded in the layer's metadata for the workbench's project dock."""
    from ..labels.model import default_coder
    from ..project import Project, session_to_open

    project = Project.open(path)
    entry = session_to_open(project, coder or default_coder())
    layers = video_layer_data(entry.session)
    for _data, kwargs, _kind in layers:
        kwargs["metadata"]["annotator"]["project"] = str(project.root)
    return layers


def find_session_layer(viewer: "napari.Viewer"):
    """The first Image layer whose metadata names an annotator video (from our reader)."""
    for layer in viewer.layers:
        if isinstance(layer.metadata, dict) and isinstance(layer.metadata.get("annotator"), dict):
            return layer
    return None
