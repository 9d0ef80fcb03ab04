"""Reading ``tracks.zarr``: :func:`load_tracks` checks a store and opens it as :class:`Tracks`.

The layout is described in :mod:`annotator.tracking.store`.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SessionError
from .integrity import verified_read
from .layout import EXTRA_ARRAYS, READABLE_VERSIONS, TRACKS_SCHEMA, _read_attrs, block_range, extra_arrays, store_path
from .verify import store_problems

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session

def tracks_complete(session_or_path: "Session | str | os.PathLike") -> bool:
    """Whether the tracks store exists and was written to the end (never raises)."""
    path = store_path(session_or_path)
    if not path.is_dir():
        return False
    attrs = _read_attrs(path)
    return bool(attrs and attrs.get("schema") == TRACKS_SCHEMA and attrs.get("complete") is True)


class Tracks:
    """A read-only view of ``tracks.zarr`` for features, spotting and the napari layers.

    Whole arrays load into numpy on first access and are cached (read-only);
    :meth:`frame` reads just one frame for overlays.

    Attributes
    ----------
    path : Path
        The store.
    attrs : mapping
        Its group attributes (see :mod:`annotator.tracking.store`), read-only.
    """

    _ARRAYS = {
        "time": "time",
        "face_present": "face/present",
        "face_score": "face/score",
        "face_landmarks": "face/landmarks",
        "face_blendshapes": "face/blendshapes",
        "face_matrix": "face/matrix",
        "pose_present": "pose/present",
        "pose_landmarks": "pose/landmarks",
        "face68_landmarks": "face68/landmarks",
        "au_values": "aus/values",
        "au_occurrence": "aus/occurrence",
    }

    def __init__(self, path: Path, group, attrs: dict[str, Any]):
        self.path = path
        self._group = group
        self.attrs = MappingProxyType(dict(attrs))
        self._cache: dict[str, np.ndarray | None] = {}
        self._handles: dict[str, Any] = {}

    def __repr__(self) -> str:
        return (
            f"Tracks({str(self.path)!r}, frames={self.n_frames}, face={self.face_backend!r}, "
            f"pose={self.has_pose}, complete={self.complete})"
        )

    @property
    def n_frames(self) -> int:
        return int(self.attrs["frames"])

    def __len__(self) -> int:
        return self.n_frames

    @property
    def fps(self) -> float:
        return float(self.attrs["fps"])

    @property
    def complete(self) -> bool:
        return self.attrs.get("complete") is True

    @property
    def has_pose(self) -> bool:
        return self.attrs.get("pose_backend") is not None

    @property
    def face_backend(self) -> str:
        return str(self.attrs["face_backend"])

    @property
    def blendshape_names(self) -> tuple[str, ...]:
        return tuple(self._group["face/blendshapes"].attrs["names"])

    @property
    def has_face68(self) -> bool:
        """Whether the store holds 68-point landmarks (an imported OpenFace or Py-Feat CSV)."""
        return "face68/landmarks" in extra_arrays(dict(self.attrs))

    @property
    def has_external_aus(self) -> bool:
        """Whether the store holds ready-made AU intensities (``aus/values``)."""
        return "aus/values" in extra_arrays(dict(self.attrs))

    @property
    def au_names(self) -> tuple[str, ...]:
        """Names of the ``aus/values`` columns (``AU01``, ...); empty without them."""
        return tuple(self._group["aus/values"].attrs["names"]) if self.has_external_aus else ()

    @property
    def au_source(self) -> str | None:
        """Which tool made ``aus/values`` (``openface-2.0``, ``py-feat``), or None."""
        return str(self._group["aus/values"].attrs.get("source")) if self.has_external_aus else None

    def _absent(self, key: str) -> bool:
        """An array this store does not have by design (no pose; no optional array)."""
        if key.startswith("pose/"):
            return not self.has_pose
        return key in EXTRA_ARRAYS and key not in extra_arrays(dict(self.attrs))

    def _array(self, attr: str) -> np.ndarray | None:
        if attr not in self._cache:
            key = self._ARRAYS[attr]
            if self._absent(key):
                self._cache[attr] = None
            elif key not in self._group:  # face/score in a version-1 store
                values = np.full(self.n_frames, np.nan, np.float32)
                values.setflags(write=False)
                self._cache[attr] = values
            else:
                values = self._verified(key)
                values.setflags(write=False)
                self._cache[attr] = values
        return self._cache[attr]

    time = property(lambda self: self._array("time"), doc="[T] float64 seconds")
    face_present = property(lambda self: self._array("face_present"), doc="[T] bool")
    face_score = property(lambda self: self._array("face_score"), doc="[T] float32 (NaN in version-1 stores)")
    face_landmarks = property(lambda self: self._array("face_landmarks"), doc="[T, 478, 3] float32 pixels")
    face_blendshapes = property(lambda self: self._array("face_blendshapes"), doc="[T, 52] float32")
    face_matrix = property(lambda self: self._array("face_matrix"), doc="[T, 4, 4] float32")
    pose_present = property(lambda self: self._array("pose_present"), doc="[T] bool, or None without pose")
    pose_landmarks = property(lambda self: self._array("pose_landmarks"), doc="[T, 33, 4] float32, or None")
    face68_landmarks = property(lambda self: self._array("face68_landmarks"),
                                doc="[T, 68, 2] float32 pixels, or None (only imported stores have them)")
    au_values = property(lambda self: self._array("au_values"), doc="[T, K] float32 in 0..1 (``au_names``), or None")
    au_occurrence = property(lambda self: self._array("au_occurrence"), doc="[T, K] float32 0/1/NaN, or None")

    def _verified(self, key: str) -> np.ndarray:
        """A whole array, each block checked against its recorded checksum."""
        frames, chunk = self.n_frames, int(self.attrs["chunk_frames"])
        values, problems = verified_read(
            self._group, key, lambda b: block_range(b, frames, chunk), int(self.attrs["n_blocks"])
        )
        if problems:
            raise SessionError(self.path, problems[0].message())
        return values

    def frame(self, index: int) -> dict[str, Any]:
        """One frame's tracks (reads only what that frame needs unless already cached)."""
        if not -self.n_frames <= index < self.n_frames:
            raise IndexError(f"frame {index} out of range for {self.n_frames} frames")
        index %= self.n_frames
        out: dict[str, Any] = {}
        for attr, key in self._ARRAYS.items():
            if self._absent(key):
                out[attr] = None
            elif attr in self._cache or key not in self._group:
                out[attr] = self._array(attr)[index]
            else:
                if key not in self._handles:  # opening an array reads its metadata
                    self._handles[key] = self._group[key]
                out[attr] = np.asarray(self._handles[key][index])
        return out


def load_tracks(session_or_path: "Session | str | os.PathLike", *, require_complete: bool = True) -> Tracks:
    """Open a session's tracks for reading.

    Parameters
    ----------
    session_or_path : Session, session directory or ``tracks.zarr`` path
    require_complete : bool
        Refuse a store whose tracking has not finished (default).

    Raises
    ------
    SessionError
        No store, not an annotator store, or incomplete when ``require_complete``.
    """
    import zarr

    path = store_path(session_or_path)
    if not path.is_dir():
        raise SessionError(path, "no tracks yet; run `annotator track` on the video")
    try:
        group = zarr.open_group(store=str(path), mode="r")
        attrs = dict(group.attrs)
    except Exception as exc:  # noqa: BLE001
        raise SessionError(path, f"unreadable tracks store ({exc})") from None
    if attrs.get("schema") != TRACKS_SCHEMA:
        raise SessionError(path, "not an annotator tracks store")
    if attrs.get("schema_version") not in READABLE_VERSIONS:
        raise SessionError(path, f"unsupported tracks schema_version {attrs.get('schema_version')!r} (this annotator reads {', '.join(map(str, READABLE_VERSIONS))}); track the video again or upgrade annotator")
    if require_complete and attrs.get("complete") is not True:
        raise SessionError(path, "tracking did not finish; rerun `annotator track` on the video to resume it")
    problems = store_problems(path, group, attrs, full=False)
    if problems:
        more = f" (and {len(problems) - 1} more: run `annotator verify`)" if len(problems) > 1 else ""
        raise SessionError(path, problems[0].message() + more)
    return Tracks(path, group, attrs)
