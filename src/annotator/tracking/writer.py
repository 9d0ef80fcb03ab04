"""Writing ``tracks.zarr``: whole blocks only, resumed and repaired, the completion flag last.

The layout is described in :mod:`annotator.tracking.store`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SessionError
from .layout import (
    EXTRA_ARRAYS,
    FACE_ARRAYS,
    POSE_ARRAYS,
    SETTINGS_KEYS,
    TRACKS_SCHEMA,
    TRACKS_VERSION,
    _block_keys,
    _read_attrs,
    block_range,
    extra_arrays,
    n_blocks,
)
from .verify import _create_checksums, _Rebuild, record_block_checksums, store_problems


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
