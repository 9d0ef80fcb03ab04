"""Filling a session's ``tracks.zarr`` from another tool's CSV (``annotator import openface-csv FILE --video VIDEO``).

Everything is read and checked before anything is written: a bad CSV leaves no
session, no store and no temporary behind.  The store is written whole, then
renamed into place (:func:`annotator.tracking.store.write_tracks`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AnnotatorError

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session
    from .face_tools import FaceTable

#: Chunk length of an imported store (as ``annotator track`` uses).
CHUNK_FRAMES = 192


@dataclass(frozen=True)
class TracksImport:
    """What one import did."""

    session: "Session"
    path: Path
    frames_with_face: int
    rows: int
    au_names: tuple[str, ...]
    replaced: bool
    notes: tuple[str, ...]


def _video_facts(video: Path) -> tuple[int, float, np.ndarray, int, int]:
    from ..media import open_video

    with open_video(video) as v:
        return len(v), float(v.fps), np.asarray(v.timestamps, np.float64), int(v.width), int(v.height)


def import_tracks(fmt: Any, csv: str | os.PathLike, *, into: str | os.PathLike | None = None,
                  video: str | os.PathLike | None = None, subject: str | None = None, force: bool = False,
                  **options: Any) -> TracksImport:
    """Read a face tool's CSV with ``fmt`` (``openface-csv``, ``pyfeat-csv``) into a session's tracks.

    Parameters
    ----------
    fmt : format
        One with ``read_tracks`` (:mod:`annotator.formats.face_tools`).
    csv : path
    into, video : path
        The session to fill, or the video whose session is used (created when missing).
    force : bool
        Replace existing tracks (never done without it).
    **options
        ``frame_base`` and the format's own options.
    """
    from ..locks import TRACK, session_lock
    from ..session import Session, default_session_dir, is_session_dir
    from ..tracking.store import write_tracks

    if (into is None) == (video is None):
        raise AnnotatorError(None, "pass exactly one of --into SESSION or --video VIDEO")
    session = None
    if into is not None:
        session = Session.open(into)
    elif is_session_dir(default_session_dir(video)):
        session = Session.create(video, subject=subject)  # opens it, checking it is this video's
    if session is not None:
        if session.tracks_path.exists() and not force:
            raise AnnotatorError(session.tracks_path, "tracks exist already; pass --force to replace them")
        from .records import session_timing

        frames, fps = session.n_frames, session.fps
        times = session_timing(session).times
        width, height = int(session.meta["video"]["width"]), int(session.meta["video"]["height"])
    else:
        frames, fps, times, width, height = _video_facts(Path(video))
    table = fmt.read_tracks(csv, frames, times=times, **options)  # every check happens here, before any write
    if session is None:
        session = Session.create(video, subject=subject)
    settings = _settings(session, fmt, table, csv, frames, fps, width, height)
    arrays, attrs = _arrays(table, frames, fmt)
    with session_lock(session.root, TRACK):
        replaced = session.tracks_path.exists()
        write_tracks(session.tracks_path, settings, times, arrays, attrs, replace=force)
    return TracksImport(session, session.tracks_path, int(table.present.sum()), table.rows, table.au_names,
                        replaced, tuple(table.notes))


def _settings(session: "Session", fmt, table: "FaceTable", csv, frames, fps, width, height) -> dict[str, Any]:
    from ..io import sha256_file

    v = session.meta["video"]
    extra = {"face68/landmarks": [68, 2], "aus/values": [len(table.au_names)], "aus/occurrence": [len(table.au_names)]}
    if table.emotions is not None:
        extra["emotions/values"] = [table.emotions.shape[1]]
    return {
        "video_path": v["path"], "video_sha256": v["sha256"], "fps": float(fps), "frames": int(frames),
        "width": int(width), "height": int(height),
        "face_backend": fmt.backend, "face_backend_version": fmt.source, "face_model_sha256": None,
        "pose_backend": None, "pose_backend_version": None,
        "chunk_frames": CHUNK_FRAMES, "warmup_frames": 0, "min_face_run": 1, "face_frames_removed": 0,
        "extra_arrays": extra,
        "imported_from": {"file": Path(csv).name, "sha256": sha256_file(csv), "format": fmt.name},
    }


def _arrays(table: "FaceTable", frames: int, fmt) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    from .face_tools import PYFEAT_EMOTIONS

    arrays = {
        "face/present": table.present,
        "face/score": table.score,
        # no mesh and no blendshapes: NaN views, materialised one block at a time
        "face/landmarks": np.broadcast_to(np.float32(np.nan), (frames, 478, 3)),
        "face/blendshapes": np.broadcast_to(np.float32(np.nan), (frames, 52)),
        "face/matrix": table.matrix,
        "face68/landmarks": table.landmarks,
        "aus/values": table.au_values,
        "aus/occurrence": table.au_occurrence,
    }
    names = list(table.au_names)
    attrs = {
        "aus/values": {"names": names, "source": fmt.source, "scale": table.au_scale},
        "aus/occurrence": {"names": names, "source": fmt.source},
        "face68/landmarks": {"points": "iBUG 300-W 68-point markup", "source": fmt.source},
    }
    if table.emotions is not None:
        arrays["emotions/values"] = table.emotions
        attrs["emotions/values"] = {"names": list(PYFEAT_EMOTIONS), "source": fmt.source}
    return arrays, attrs


__all__ = ["TracksImport", "import_tracks"]
