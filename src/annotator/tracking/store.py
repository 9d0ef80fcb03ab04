"""``SESSION/tracks.zarr``: the face and body tracks of one video (public layout).

The store is a zarr v3 group that any zarr reader can open::

    import zarr
    g = zarr.open_group("clip.annot/tracks.zarr", mode="r")
    g["face/landmarks"][100]          # 478 x 3 pixels of frame 100

Layout (``T`` frames; frame ``i`` is napari's slider index ``i``)::

    tracks.zarr/
      time              [T]          float64  seconds, from the video's presentation timestamps
      face/present      [T]          bool     a face was found in the frame (and kept: see
                                              "Phantom faces" below)
      face/score        [T]          float32  detection confidence in [0, 1] of the tracked
                                              face: the best score of the bundle's own
                                              BlazeFace detector (face_detector.tflite, run
                                              on each frame alone) among its boxes with
                                              IoU >= 0.3 with the landmarks' box, 0 when
                                              none; NaN where no face, and everywhere with
                                              the legacy backend
      face/landmarks    [T, 478, 3]  float32  x, y in pixels of the upright frame, z*W
                                              (same scale as x); NaN where no face
      face/blendshapes  [T, 52]      float32  scores in [0, 1]; attribute ``names`` lists
                                              the 52 categories; NaN where no face, and
                                              everywhere with the legacy backend
      face/matrix       [T, 4, 4]    float32  facial transformation matrix (head pose);
                                              NaN where no face or with the legacy backend
      face68/landmarks  [T, 68, 2]   float32  optional: the 68-point (iBUG 300-W) landmarks of an
                                              imported OpenFace or Py-Feat CSV, x, y in pixels;
                                              NaN where no face or the CSV has no row
      aus/values        [T, K]       float32  optional: ready-made AU intensities of an imported
                                              CSV, scaled to 0..1 (OpenFace's 0-5 divided by 5);
                                              attributes ``names`` (``AU01``, ...; K of them),
                                              ``source`` (``openface-2.0``, ``py-feat``) and
                                              ``scale`` (the divisor applied); NaN where no face
                                              or the tool gives no intensity for that unit
      aus/occurrence    [T, K]       float32  optional, with ``aus/values``: the tool's presence
                                              call, 0 or 1 (OpenFace ``AUxx_c``); NaN where it
                                              makes none (Py-Feat, and OpenFace's AUs without
                                              ``_c``)
      emotions/values   [T, 7]       float32  optional: an imported Py-Feat CSV's emotion
                                              probabilities; attribute ``names`` (anger,
                                              disgust, fear, happiness, sadness, surprise,
                                              neutral) and ``source``
      pose/present      [T]          bool     a body was found
      pose/landmarks    [T, 33, 4]   float32  x, y pixels, z scaled like x, visibility;
                                              NaN where no body
      blocks_done       [B]          bool     bookkeeping for resuming: block b (frames
                                              b*chunk_frames ...) is written
      block_checksums   [B, A, 32]   uint8    sha256 of each array's values in block b, written
                                              just before its ``blocks_done`` marker; attribute
                                              ``arrays`` names the A arrays in order (``time``
                                              and every face/pose array).  Digests are over the
                                              decoded values in C order, every NaN as the same
                                              NaN (see :mod:`annotator.tracking.integrity`)

With ``annotator track --no-pose`` the ``pose`` group is not written at all and
the attribute ``pose_backend`` is ``null``.

Optional arrays (schema version 3): the group attribute ``extra_arrays`` maps each
optional array present to its trailing shape (``{"face68/landmarks": [68, 2],
"aus/values": [17], ...}``); it is ``{}`` (or absent, before version 3) when there
are none.  They are chunked, checksummed and verified like every other array.
A store imported from another tool's CSV (``annotator import openface-csv``) has
them, with ``face_backend`` naming the tool (:data:`IMPORTED_BACKENDS`), the
478-point mesh and blendshapes all NaN, ``face/matrix`` the tool's head rotation
and translation, ``face/score`` its confidence, and no pose.

Every array is chunked along time by ``chunk_frames`` frames (192 by default,
about 1 MB of landmarks), whole frames per chunk.  Absent faces and bodies are
NaN with ``present`` False, never an earlier frame's values.

Phantom faces: a run of fewer than ``min_face_run`` consecutive frames with a
face, with a frame without one (or the video's edge) on each side, is marked
absent (``present`` False, every face array NaN) once the whole video is
tracked: a detector finds "faces" in a blurry logo for a frame or two.  A run
that spans the whole video (a still image) is always kept.  ``min_face_run``
1 keeps every detection.

Warm-up: each block's detectors first see the ``warmup_frames`` frames before
the block (at the video's start, frame 0 held for ``W`` frames), so tracks have no
seam at block starts (see :mod:`annotator.tracking.worker`).

Group attributes::

    schema, schema_version   "annotator.tracks", 3 (2: no optional arrays, still read and
                             verified; 1: no face/score, no warm-up, still readable,
                             ``face_score`` reads as NaN)
    video_path               the video, relative to the session directory
    video_sha256             its checksum
    fps, frames, width, height
    face_backend             "face_landmarker_v2" or "face_mesh_legacy", or for an
                             imported CSV "openface_2_csv" / "pyfeat_csv"
    face_backend_version     mediapipe version
    face_model_sha256        the Face Landmarker bundle's sha256 (null for the legacy backend)
    pose_backend             "pose_full_legacy", or null when pose was skipped
    pose_backend_version     mediapipe version (null when skipped)
    chunk_frames, n_blocks   time chunking; tracking blocks are exactly one chunk
    warmup_frames            frames each block's detectors saw before its start
    min_face_run             shortest run of face frames kept (``track --min-face-run``)
    face_frames_removed      frames marked absent as phantom faces
    block_checksums          "sha256": the store has ``block_checksums`` (absent in stores
                             made before checksums, which stay readable but unverifiable)
    extra_arrays             the optional arrays present and their trailing shapes (above)
    imported_from            for an imported store: the CSV's file name and sha256
    complete                 true only once every block is written (written last)

Only a store with ``complete: true`` is a result; :func:`tracks_complete`
checks it and :func:`load_tracks` reads it into numpy.  :func:`load_tracks`
checks the structure on open and every block's checksum as it loads an array,
and refuses a damaged store in one line; :func:`verify_tracks` checks
everything (``annotator verify``); ``annotator track`` re-tracks damaged blocks.
"""

from __future__ import annotations

import math
import os
import shutil
import uuid
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SessionError
from .integrity import CHECKSUMS, DIGEST_SIZE, Problem, block_digests, check_blocks, check_structure, verified_read

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


def tracks_complete(session_or_path: "Session | str | os.PathLike") -> bool:
    """Whether the tracks store exists and was written to the end (never raises)."""
    path = store_path(session_or_path)
    if not path.is_dir():
        return False
    attrs = _read_attrs(path)
    return bool(attrs and attrs.get("schema") == TRACKS_SCHEMA and attrs.get("complete") is True)


# -- writing ---------------------------------------------------------------------------------
class TrackWriter:
    """Writes one store: whole blocks (= chunks) only, the completion flag last.

    Use :meth:`prepare`; only the parent process writes, workers send arrays.
    """

    def __init__(self, path: Path, group, attrs: dict[str, Any]):
        self.path = path
        self.group = group
        self.attrs = attrs
        self.frames = int(attrs["frames"])
        self.chunk_frames = int(attrs["chunk_frames"])
        self.n_blocks = int(attrs["n_blocks"])
        self.pose = attrs.get("pose_backend") is not None

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def prepare(cls, path: str | os.PathLike, settings: dict[str, Any], time: np.ndarray) -> tuple["TrackWriter", str]:
        """Open ``path`` for writing, resuming it when it can.

        Parameters
        ----------
        path : path
            The ``tracks.zarr`` directory.
        settings : dict
            The attributes of this run (:data:`SETTINGS_KEYS` and the rest,
            without ``complete``, ``n_blocks``, ``schema``).  Its ``chunk_frames``
            applies to a new store only; an existing one keeps its own.
        time : ndarray
            Frame times in seconds.

        Returns
        -------
        writer, status
            ``status`` is ``"new"``, ``"resumed"``, ``"restarted"`` (a partial
            store made with other settings was discarded) or ``"complete"``
            (nothing left to do).

        Raises
        ------
        SessionError
            The store is complete but made with other settings (it is a result:
            never overwritten), belongs to another video, or is unreadable.
        """
        import zarr

        path = Path(path)
        _remove_stale_temporaries(path)
        status = "new"
        if path.exists():
            attrs = _read_attrs(path)
            if attrs is None or attrs.get("schema") != TRACKS_SCHEMA:
                raise SessionError(path, "is not a readable annotator tracks store; delete it to track again")
            if attrs.get("video_sha256") != settings["video_sha256"]:
                raise SessionError(path, "was made from another video; delete it to track again")
            diffs = [k for k in SETTINGS_KEYS if attrs.get(k) != settings.get(k)]
            if attrs.get("complete") is True and diffs:
                raise SessionError(
                    path,
                    f"is already complete with other settings ({_describe_diffs(attrs, settings, diffs)}); "
                    "delete it to track again",
                )
            if not diffs:
                _remove_partial_files(path)
                writer = cls(path, zarr.open_group(store=str(path), mode="r+"), attrs)
                try:
                    repaired = _repair(writer, time)
                except _Rebuild as rebuild:
                    shutil.rmtree(path)
                    writer = cls._create(path, settings, time)
                    writer.repairs = [f"{rebuild}: it was made again from scratch"]
                    return writer, "restarted"
                if attrs.get("complete") is True and not repaired:
                    return writer, "complete"
                return writer, "resumed"
            # A partial store made another way holds nothing this run can reuse, and
            # the user asked for the new settings: start again rather than refuse.
            shutil.rmtree(path)
            status = "restarted"
        writer = cls._create(path, settings, time)
        return writer, status

    @classmethod
    def _create(cls, path: Path, settings: dict[str, Any], time: np.ndarray,
                array_attrs: dict[str, dict[str, Any]] | None = None) -> "TrackWriter":
        import zarr

        from .face import BLENDSHAPE_NAMES

        frames = int(settings["frames"])
        chunk = int(settings["chunk_frames"])
        attrs = {
            "schema": TRACKS_SCHEMA,
            "schema_version": TRACKS_VERSION,
            "extra_arrays": {},
            **settings,
            "n_blocks": n_blocks(frames, chunk),
            "complete": False,
        }
        # Built under a temporary name and renamed, so a tracks.zarr that exists
        # always has its full skeleton, even after a kill during creation.
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            group = zarr.open_group(store=str(tmp), mode="w", zarr_format=3)
            # Written chunk by chunk, never as fill-value holes, so the files on
            # disk do not depend on the data (and a rewrite replaces every chunk).
            config = {"write_empty_chunks": True}
            group.create_array(
                "time", shape=(frames,), dtype="float64", chunks=(chunk,), fill_value=np.nan,
                dimension_names=("time",), config=config,
            )[:] = np.asarray(time, np.float64)
            parts = [("face", FACE_ARRAYS)] + ([("pose", POSE_ARRAYS)] if settings.get("pose_backend") else [])
            for gname, spec in parts:
                sub = group.create_group(gname)
                for name, (tail, dtype, dims) in spec.items():
                    extra = {"names": list(BLENDSHAPE_NAMES)} if (gname, name) == ("face", "blendshapes") else {}
                    sub.create_array(
                        name, shape=(frames, *tail), dtype=dtype, chunks=(chunk, *tail),
                        fill_value=False if dtype == "bool" else np.nan,
                        dimension_names=dims, attributes=extra, config=config,
                    )
            for key, tail in extra_arrays(attrs).items():
                group.create_array(
                    key, shape=(frames, *tail), dtype="float32", chunks=(chunk, *tail), fill_value=np.nan,
                    dimension_names=EXTRA_ARRAYS[key], attributes=dict((array_attrs or {}).get(key, {})),
                    config=config,
                )
            # One chunk per block: a marker write never touches another block's marker.
            group.create_array(
                "blocks_done", shape=(attrs["n_blocks"],), dtype="bool", chunks=(1,), fill_value=False,
                dimension_names=("block",),
            )
            _create_checksums(group, attrs)
            group.attrs.update(attrs)
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls(path, zarr.open_group(store=str(path), mode="r+"), attrs)

    # -- writing ------------------------------------------------------------------------
    def done_blocks(self) -> np.ndarray:
        """Which blocks are written; a marker that cannot be read counts as not done."""
        arr = self.group["blocks_done"]
        try:
            return np.asarray(arr[:], bool)
        except Exception:  # noqa: BLE001 - fall back to one marker at a time
            pass
        done = np.zeros(self.n_blocks, bool)
        for b in range(self.n_blocks):
            try:
                done[b] = bool(arr[b])
            except Exception:  # noqa: BLE001
                done[b] = False
        return done

    def write_block(self, block: int, data: dict[str, np.ndarray]) -> None:
        """Write one block's arrays (exactly one chunk each), then its marker.

        ``data`` holds ``face/present``, ``face/score``, ``face/landmarks``, ``face/blendshapes``,
        ``face/matrix``, with pose ``pose/present`` and ``pose/landmarks``, and every
        optional array the store declares (``extra_arrays``).
        """
        import zarr

        start, stop = block_range(block, self.frames, self.chunk_frames)
        keys = _block_keys(self.attrs)
        # Every chunk is written, even one equal to the fill value, so that a missing
        # chunk file always means damage (zarr skips "empty" chunks by default).
        with zarr.config.set({"array.write_empty_chunks": True}):
            for key in keys:
                values = data[key]
                if len(values) != stop - start:
                    raise ValueError(f"block {block}: {key} has {len(values)} frames, expected {stop - start}")
                self.group[key][start:stop] = values
        record_block_checksums(self.group, block, start, stop, data)
        # Only now: a kill before this line leaves the block to be redone.
        self.group["blocks_done"][block] = True

    def finish(self) -> None:
        """Mark the store complete once every block is written."""
        done = self.done_blocks()
        if not done.all():
            raise RuntimeError(f"{self.path}: {int((~done).sum())} blocks still missing")
        self.group.attrs["complete"] = True
        self.attrs["complete"] = True

    def face_present_any(self) -> bool:
        return bool(np.any(self.group["face/present"][:]))

    # -- phantom faces --------------------------------------------------------------------
    def remove_short_face_runs(self, min_run: int) -> int:
        """Mark short isolated runs of face frames absent; returns how many frames.

        Each block holding such frames is read and written back whole through
        :meth:`write_block` (never one frame at a time).  Idempotent.
        """
        runs = short_runs(np.asarray(self.group["face/present"][:], bool), min_run)
        removed = int(self.attrs.get("face_frames_removed", 0))
        blocks = sorted({b for lo, hi in runs for b in range(lo // self.chunk_frames, (hi - 1) // self.chunk_frames + 1)})
        for block in blocks:
            start, stop = block_range(block, self.frames, self.chunk_frames)
            keys = _block_keys(self.attrs)
            data = {key: np.asarray(self.group[key][start:stop]).copy() for key in keys}
            for lo, hi in runs:
                a, b = max(lo, start) - start, min(hi, stop) - start
                if a < b:
                    data["face/present"][a:b] = False
                    for key in keys:
                        if key != "face/present" and key.startswith(("face", "aus")):
                            data[key][a:b] = np.nan
            self.write_block(block, data)
        removed += sum(hi - lo for lo, hi in runs)
        self.group.attrs["face_frames_removed"] = removed
        self.attrs["face_frames_removed"] = removed
        return sum(hi - lo for lo, hi in runs)


def write_tracks(path: str | os.PathLike, settings: dict[str, Any], time: np.ndarray,
                 arrays: dict[str, np.ndarray], array_attrs: dict[str, dict[str, Any]] | None = None,
                 *, replace: bool = False) -> Path:
    """Write a whole store at once from in-memory arrays (an imported CSV's tracks).

    The store is built complete under a temporary name, block by block with its
    checksums, and only then renamed to ``path``: a failure leaves no store, and
    with ``replace`` the old one stays until the new one is whole.

    Parameters
    ----------
    path : path
        The ``tracks.zarr`` to make.
    settings : dict
        Its attributes (as for :meth:`TrackWriter.prepare`), with ``extra_arrays``
        declaring the optional arrays in ``arrays``.
    time : ndarray [T]
    arrays : dict
        Every key of a block (``face/present``, ..., and the optional arrays), ``[T, ...]``.
    array_attrs : dict, optional
        ``{key: attributes}`` for the arrays (``aus/values``' ``names``, ``source``).
    replace : bool
        Replace an existing store; otherwise one is refused.
    """
    path = Path(path)
    if path.exists() and not replace:
        raise SessionError(path, "tracks exist already; pass --force to replace them")
    _remove_stale_temporaries(path)
    tag = uuid.uuid4().hex[:8]
    new, old = path.with_name(f".{path.name}.{tag}.new.tmp"), path.with_name(f".{path.name}.{tag}.old.tmp")
    try:
        writer = TrackWriter._create(new, settings, time, array_attrs)
        for block in range(writer.n_blocks):
            start, stop = block_range(block, writer.frames, writer.chunk_frames)
            writer.write_block(block, {key: arrays[key][start:stop] for key in _block_keys(writer.attrs)})
        writer.finish()
        if path.exists():
            os.replace(path, old)  # removed once the new store is in place
        os.replace(new, path)
    finally:
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return path


def short_runs(present: np.ndarray, min_run: int) -> list[tuple[int, int]]:
    """Runs ``[start, stop)`` of True shorter than ``min_run``, except one covering everything.

    The video's edges count as frames without a face, so a phantom in the first
    or last frames goes too.
    """
    present = np.asarray(present, bool)
    if min_run <= 1 or not present.any() or present.all():
        return []
    edges = np.diff(np.concatenate([[0], present.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops) if b - a < min_run]


def _describe_diffs(old: dict, new: dict, keys: list[str]) -> str:
    return ", ".join(f"{k} {old.get(k)!r} here, {new.get(k)!r} now" for k in keys)


def _remove_stale_temporaries(path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        return
    for tmp in parent.glob(f".{path.name}.*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_partial_files(path: Path) -> None:
    # zarr writes each chunk to ``<key>.<uuid>.partial`` then renames it; a kill in
    # between leaves the temporary behind.
    for partial in path.rglob("*.partial"):
        try:
            partial.unlink()
        except OSError:
            pass


# -- reading ---------------------------------------------------------------------------------
class Tracks:
    """A read-only view of ``tracks.zarr`` for features, spotting and the napari layers.

    Whole arrays load into numpy on first access and are cached (read-only);
    :meth:`frame` reads just one frame for overlays.

    Attributes
    ----------
    path : Path
        The store.
    attrs : mapping
        Its group attributes (see the module docstring), read-only.
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


# -- integrity: checksums, verification, repair ------------------------------------------------------
#: Attributes every store has, with their types (``bool`` is checked before ``int``).
_REQUIRED_ATTRS = {
    "frames": int, "chunk_frames": int, "n_blocks": int, "fps": (int, float), "video_sha256": str,
    "face_backend": str, "complete": bool,
}


class _Rebuild(Exception):
    """The store's structure is damaged beyond re-tracking some blocks."""


def _checksum_names(attrs: dict[str, Any]) -> list[str]:
    return ["time", *_block_keys(attrs)]


def _create_checksums(group, attrs: dict[str, Any]) -> None:
    """The ``block_checksums`` array of a new store (see the layout above)."""
    names = _checksum_names(attrs)
    group.create_array(
        CHECKSUMS, shape=(attrs["n_blocks"], len(names), DIGEST_SIZE), dtype="uint8",
        chunks=(1, len(names), DIGEST_SIZE), fill_value=0, dimension_names=("block", "array", "byte"),
        attributes={"arrays": names},
    )
    attrs[CHECKSUMS] = "sha256"


def record_block_checksums(group, block: int, start: int, stop: int, data: dict[str, np.ndarray]) -> None:
    """Write block ``block``'s digests (before its marker; a store without checksums is left so)."""
    if CHECKSUMS not in group.attrs:
        return
    import zarr

    sums = group[CHECKSUMS]
    names = list(sums.attrs["arrays"])
    values = {n: (np.asarray(group["time"][start:stop]) if n == "time" else np.asarray(data[n], group[n].dtype))
              for n in names}
    with zarr.config.set({"array.write_empty_chunks": True}):
        sums[block] = block_digests(names, values)


def _attr_problems(attrs: dict[str, Any]) -> list[Problem]:
    for key, kind in _REQUIRED_ATTRS.items():
        value = attrs.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return [Problem(None, f"attribute {key} is missing or not a {getattr(kind, '__name__', 'number')}; "
                                  "the store is damaged: rerun `annotator track` to make it again")]
    if attrs["frames"] < 1 or attrs["chunk_frames"] < 1 or attrs["n_blocks"] != n_blocks(attrs["frames"], attrs["chunk_frames"]):
        return [Problem(None, "attributes frames, chunk_frames and n_blocks disagree; the store is damaged: "
                              "rerun `annotator track` to make it again")]
    return []


def _expected_arrays(attrs: dict[str, Any]) -> dict[str, tuple]:
    frames, chunk, nb = int(attrs["frames"]), int(attrs["chunk_frames"]), int(attrs["n_blocks"])
    expected = {"time": ((frames,), "float64", (chunk,)), "blocks_done": ((nb,), "bool", (1,))}
    parts = [("face", FACE_ARRAYS)] + ([("pose", POSE_ARRAYS)] if attrs.get("pose_backend") is not None else [])
    for gname, spec in parts:
        for name, (tail, dtype, _dims) in spec.items():
            expected[f"{gname}/{name}"] = ((frames, *tail), dtype, (chunk, *tail))
    for key, tail in extra_arrays(attrs).items():
        expected[key] = ((frames, *tail), "float32", (chunk, *tail))
    if attrs.get(CHECKSUMS) is not None:
        a = len(_checksum_names(attrs))
        expected[CHECKSUMS] = ((nb, a, DIGEST_SIZE), "uint8", (1, a, DIGEST_SIZE))
    return expected


def store_problems(path: Path, group, attrs: dict[str, Any], *, full: bool) -> list[Problem]:
    """What is wrong with an opened store: structure always, every block's checksum when ``full``."""
    problems = _attr_problems(attrs)
    if problems:
        return problems
    frames, chunk = int(attrs["frames"]), int(attrs["chunk_frames"])

    def blocks(b: int) -> tuple[int, int]:
        return block_range(b, frames, chunk)

    problems = check_structure(path, group, attrs, _expected_arrays(attrs), blocks)
    if not full or any(p.block is None for p in problems):
        return problems
    done = np.asarray(group["blocks_done"][:], bool)
    seen = {p.block for p in problems}
    todo = [int(b) for b in np.flatnonzero(done) if int(b) not in seen]
    return problems + check_blocks(group, todo, blocks, store=path)


def _repair(writer: TrackWriter, time: np.ndarray) -> bool:
    """Mark damaged blocks not done (they are tracked again); True when any were.

    Raises ``_Rebuild`` when the structure itself is damaged.
    """
    import zarr

    problems = store_problems(writer.path, writer.group, writer.attrs, full=True)
    whole = [p for p in problems if p.block is None]
    if whole:
        raise _Rebuild(whole[0].text)
    bad = sorted({p.block for p in problems})
    if not bad:
        return False
    # Not complete first: a kill during the repair leaves a store that is resumed, never one
    # that claims to be complete with blocks still damaged.
    writer.group.attrs["complete"] = False
    writer.attrs["complete"] = False
    with zarr.config.set({"array.write_empty_chunks": True}):
        for b in bad:
            start, stop = block_range(b, writer.frames, writer.chunk_frames)
            # Tracking a block again rewrites its tracks, not its times: those come from the video.
            writer.group["time"][start:stop] = np.asarray(time[start:stop], np.float64)
            writer.group["blocks_done"][b] = False
    shown = "; ".join(p.message().split(";")[0] for p in problems[:3])
    writer.repairs = [f"{len(bad)} damaged block(s) will be tracked again ({shown}{'; ...' if len(problems) > 3 else ''})"]
    return True


def verify_tracks(session_or_path: "Session | str | os.PathLike", *, full: bool = True) -> list[str]:
    """Check a store; one line per problem (empty when it is sound and complete).

    ``full`` decodes every block and compares its checksums (``annotator
    verify``); without it only the structure is checked (``annotator info``).
    Never raises for a damaged store.
    """
    import zarr

    path = store_path(session_or_path)
    if not path.is_dir():
        return [f"{path}: no tracks yet; run `annotator track` on the video"]
    try:
        group = zarr.open_group(store=str(path), mode="r")
        attrs = dict(group.attrs)
    except Exception as exc:  # noqa: BLE001
        return [f"{path}: unreadable tracks store ({' '.join(str(exc).split())[:120]}); delete it and rerun `annotator track`"]
    if attrs.get("schema") != TRACKS_SCHEMA:
        return [f"{path}: not an annotator tracks store (its attributes are missing or foreign); "
                "delete it and rerun `annotator track`"]
    if attrs.get("schema_version") not in VERIFIABLE_VERSIONS:
        return [f"{path}: unsupported tracks schema_version {attrs.get('schema_version')!r} "
                f"(annotator verify checks {', '.join(map(str, VERIFIABLE_VERSIONS))})"]
    lines = [p.line(path) for p in store_problems(path, group, attrs, full=full)]
    if not lines and attrs.get("complete") is not True:
        done = int(np.asarray(group["blocks_done"][:], bool).sum())
        lines.append(f"{path}: tracking incomplete ({done}/{attrs['n_blocks']} blocks); rerun `annotator track` to resume")
    return lines
