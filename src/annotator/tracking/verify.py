"""Checks of a ``tracks.zarr`` against its layout: attributes, structure, block checksums.

The store's own checks (what :func:`~annotator.tracking.store.load_tracks` refuses and
``annotator verify`` reports), on top of the generic ones in
:mod:`annotator.tracking.integrity`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .integrity import CHECKSUMS, DIGEST_SIZE, Problem, block_digests, check_blocks, check_structure
from .layout import (
    FACE_ARRAYS,
    POSE_ARRAYS,
    TRACKS_SCHEMA,
    VERIFIABLE_VERSIONS,
    _block_keys,
    block_range,
    extra_arrays,
    n_blocks,
    store_path,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..session import Session

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
    """The ``block_checksums`` array of a new store (see the layout in :mod:`annotator.tracking.store`)."""
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
