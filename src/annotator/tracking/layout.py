"""The layout of ``tracks.zarr``: its schema, arrays, attributes and blocks.

The public description is :mod:`annotator.tracking.store`; this module holds the
names and shapes the writer, the reader and the checks share.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session

TRACKS_SCHEMA = "annotator.tracks"
TRACKS_VERSION = 3
#: Versions :func:`load_tracks` reads (1: before face/score and the warm-up; 2: before
#: the optional arrays).
READABLE_VERSIONS = (1, 2, 3)
#: Versions with block checksums, which :func:`verify_tracks` checks.
VERIFIABLE_VERSIONS = (2, 3)
#: ``face_backend`` of stores imported from other tools' CSVs.
IMPORTED_BACKENDS = ("openface_2_csv", "pyfeat_csv")
#: Default ``min_face_run``: one or two isolated frames are phantoms, three is a face.
DEFAULT_MIN_FACE_RUN = 3
STORE_NAME = "tracks.zarr"
DEFAULT_CHUNK_FRAMES = 192

#: Attributes that must match for a store to be reused: any of them changing
#: would mix results made two different ways in one store.  ``chunk_frames`` is
#: not one: an existing store keeps its own chunk size.
SETTINGS_KEYS = (
    "video_sha256",
    "frames",
    "width",
    "height",
    "face_backend",
    "face_backend_version",
    "face_model_sha256",
    "pose_backend",
    "pose_backend_version",
    "warmup_frames",
    "min_face_run",
)

#: name -> (trailing shape, dtype, dimension names)
FACE_ARRAYS = {
    "present": ((), "bool", ("time",)),
    "score": ((), "float32", ("time",)),
    "landmarks": ((478, 3), "float32", ("time", "landmark", "xyz")),
    "blendshapes": ((52,), "float32", ("time", "blendshape")),
    "matrix": ((4, 4), "float32", ("time", "row", "col")),
}
POSE_ARRAYS = {
    "present": ((), "bool", ("time",)),
    "landmarks": ((33, 4), "float32", ("time", "landmark", "xyzv")),
}
#: The optional arrays: key -> dimension names (all float32, NaN-filled; shapes in
#: the ``extra_arrays`` attribute).
EXTRA_ARRAYS = {
    "face68/landmarks": ("time", "landmark", "xy"),
    "aus/values": ("time", "au"),
    "aus/occurrence": ("time", "au"),
    "emotions/values": ("time", "emotion"),
}


def extra_arrays(attrs: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """``{key: trailing shape}`` of the optional arrays a store's attributes declare."""
    declared = attrs.get("extra_arrays") or {}
    return {k: tuple(int(n) for n in declared[k]) for k in EXTRA_ARRAYS if k in declared}


def _block_keys(attrs: dict[str, Any]) -> list[str]:
    """Every per-frame array a block writes, except ``time``."""
    pose = [f"pose/{n}" for n in POSE_ARRAYS] if attrs.get("pose_backend") is not None else []
    return [*(f"face/{n}" for n in FACE_ARRAYS), *pose, *extra_arrays(attrs)]


def store_path(session_or_path: "Session | str | os.PathLike") -> Path:
    """The ``tracks.zarr`` of a session, session directory or store path."""
    # Duck-typed on ``tracks_path`` (a Path has a ``root`` attribute too).
    tracks_path = getattr(session_or_path, "tracks_path", None)
    if tracks_path is not None:
        return Path(tracks_path)
    path = Path(session_or_path)
    return path if path.suffix == ".zarr" else path / STORE_NAME


def n_blocks(frames: int, chunk_frames: int) -> int:
    return max(1, math.ceil(frames / chunk_frames))


def block_range(block: int, frames: int, chunk_frames: int) -> tuple[int, int]:
    """Frames ``[start, stop)`` of a block."""
    start = block * chunk_frames
    return start, min(start + chunk_frames, frames)


def _read_attrs(path: Path) -> dict[str, Any] | None:
    import zarr

    try:
        return dict(zarr.open_group(store=str(path), mode="r").attrs)
    except Exception:  # noqa: BLE001 - any unreadable store is "not a result"
        return None
