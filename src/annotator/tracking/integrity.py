"""Is a tracks store what it claims to be?  Structure checks and per-block checksums.

:mod:`.store` owns the layout; this module only checks a zarr group against
the layout it is given, so it imports nothing from the store.

Two levels of checking:

* :func:`check_structure` is cheap (metadata, the small bookkeeping arrays and
  one ``stat`` per chunk file) and runs on every open: ``load_tracks``,
  ``annotator info``, ``propose`` and the workbench.
* :func:`check_blocks` decodes every chunk of the blocks it is given and
  compares each with the sha256 recorded when the block was written.  It runs
  in ``annotator verify``, before ``annotator track`` resumes a store, and on
  each array that :class:`~annotator.tracking.store.Tracks` loads whole.

Digests are taken over the decoded values (C order, every NaN made the same
NaN), so they do not depend on the codec, and a chunk that reads back as its
fill value (deleted) differs from one that was written.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: The array of digests: ``[n_blocks, len(names), 32]`` uint8, one chunk per
#: block; its attribute ``arrays`` names the arrays of axis 1, in order.
CHECKSUMS = "block_checksums"
DIGEST_SIZE = 32

REPAIR = "rerun `annotator track` to repair"
REBUILD = "rerun `annotator track` to make it again"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a store: in one block, or (``block is None``) in the whole store."""

    block: int | None
    text: str
    frames: tuple[int, int] | None = None

    def message(self) -> str:
        """``block 3 (frames 576-767) damaged: ...; rerun `annotator track` to repair``."""
        if self.block is None:
            return self.text
        start, stop = self.frames or (0, 0)
        return f"block {self.block} (frames {start}-{stop - 1}) damaged: {self.text}; {REPAIR}"

    def line(self, path: str | os.PathLike) -> str:
        """The one-line report: ``PATH: <message>``."""
        return f"{os.fspath(path)}: {self.message()}"


def digest(values: np.ndarray) -> bytes:
    """sha256 of an array's values, independent of NaN payloads and memory layout."""
    values = np.ascontiguousarray(values)
    if values.dtype.kind == "f":
        nan = np.isnan(values)
        if nan.any():
            values = np.where(nan, values.dtype.type(np.nan), values)
    return hashlib.sha256(values.tobytes()).digest()


def block_digests(names: list[str], data: dict[str, np.ndarray]) -> np.ndarray:
    """The ``[len(names), 32]`` uint8 row of digests for one block's arrays."""
    return np.stack([np.frombuffer(digest(data[n]), np.uint8) for n in names])


def _chunk_file(store: Path, array, block: int) -> Path:
    coords = (block,) + (0,) * (len(array.shape) - 1)
    key = array.metadata.chunk_key_encoding.encode_chunk_key(coords)
    return store / array.path / key


def check_structure(
    store: Path,
    group,
    attrs: dict[str, Any],
    expected: dict[str, tuple[tuple[int, ...], str, tuple[int, ...]]],
    block_range: Callable[[int], tuple[int, int]],
) -> list[Problem]:
    """Every expected array present with its shape, dtype and chunks; markers and chunk files consistent.

    Parameters
    ----------
    store : Path
        The store's directory (chunk files are looked for under it).
    group : zarr.Group
        The opened store.
    attrs : dict
        Its attributes (already checked for the required keys by the caller).
    expected : dict
        ``name -> (shape, dtype, chunks)`` for every array the layout requires.
    block_range : callable
        ``block -> (start, stop)`` frames.

    Returns
    -------
    list of Problem
        Empty when the structure is sound.
    """
    problems: list[Problem] = []
    arrays = {}
    for name, (shape, dtype, chunks) in expected.items():
        try:
            arr = group[name]
            got = (tuple(arr.shape), str(arr.dtype), tuple(arr.chunks))
        except Exception as exc:  # noqa: BLE001 - missing or unreadable metadata
            problems.append(Problem(None, f"array {name} is missing or unreadable ({_short(exc)}); {REBUILD}"))
            continue
        if got != (tuple(shape), str(np.dtype(dtype)), tuple(chunks)):
            problems.append(Problem(None, f"array {name} has shape {got[0]}, dtype {got[1]}, chunks {got[2]}; "
                                          f"expected {tuple(shape)}, {np.dtype(dtype)}, {tuple(chunks)}; {REBUILD}"))
            continue
        arrays[name] = arr
    if problems or "blocks_done" not in arrays:
        return problems
    n = int(attrs["n_blocks"])
    try:
        done = np.asarray(arrays["blocks_done"][:], bool)
    except Exception as exc:  # noqa: BLE001
        return [Problem(None, f"blocks_done is unreadable ({_short(exc)}); {REBUILD}")]
    if attrs.get("complete") is True:
        for b in np.flatnonzero(~done):
            problems.append(Problem(int(b), "not marked written although the store says complete",
                                    block_range(int(b))))
    if CHECKSUMS not in arrays:
        return problems  # a store from before checksums: nothing more to compare
    names = list(arrays[CHECKSUMS].attrs.get("arrays", []))
    missing_names = [m for m in names if m not in arrays]
    if not names or missing_names:
        return problems + [Problem(None, f"{CHECKSUMS} names arrays that are not in the store ({missing_names}); {REBUILD}")]
    for b in range(n):
        if not done[b]:
            continue
        for name in names:
            if not _chunk_file(store, arrays[name], b).is_file():
                problems.append(Problem(b, f"{name} chunk missing", block_range(b)))
    return problems


def check_blocks(group, blocks, block_range: Callable[[int], tuple[int, int]], store: Path | None = None) -> list[Problem]:
    """Decode each chunk of ``blocks`` and compare it with its recorded digest.

    A store without :data:`CHECKSUMS` cannot be compared and gives no problems.
    With ``store`` (its directory), a deleted chunk is named as missing rather
    than as differing.
    """
    if CHECKSUMS not in group:
        return []
    sums = group[CHECKSUMS]
    names = list(sums.attrs.get("arrays", []))
    problems: list[Problem] = []
    for b in blocks:
        start, stop = block_range(int(b))
        try:
            recorded = np.asarray(sums[int(b)], np.uint8)
        except Exception as exc:  # noqa: BLE001
            problems.append(Problem(int(b), f"its checksums are unreadable ({_short(exc)})", (start, stop)))
            continue
        for i, name in enumerate(names):
            arr = group[name]
            if store is not None and not _chunk_file(store, arr, int(b)).is_file():
                problems.append(Problem(int(b), f"{name} chunk missing", (start, stop)))
                continue
            problem = _check_chunk(arr, name, start, stop, recorded[i])
            if problem:
                problems.append(Problem(int(b), problem, (start, stop)))
    return problems


def verified_read(group, name: str, block_range: Callable[[int], tuple[int, int]], n_blocks: int):
    """Read a whole array, checking each block against its digest on the way.

    Returns
    -------
    values, problems
        ``values`` is None when any block is damaged.
    """
    arr = group[name]
    try:
        values = np.asarray(arr[:])
    except Exception:  # noqa: BLE001 - find which block it is
        found = [p for p in check_blocks(group, range(n_blocks), block_range) if name in p.text]
        return None, found or [Problem(None, f"array {name} is unreadable")]
    if CHECKSUMS not in group:
        return values, []
    sums = group[CHECKSUMS]
    names = list(sums.attrs.get("arrays", []))
    if name not in names:
        return values, []
    recorded = np.asarray(sums[:], np.uint8)[:, names.index(name)]
    problems = []
    for b in range(n_blocks):
        start, stop = block_range(b)
        if not np.array_equal(np.frombuffer(digest(values[start:stop]), np.uint8), recorded[b]):
            problems.append(Problem(b, f"{name} differs from its checksum (corrupt or rewritten)", (start, stop)))
    return (None if problems else values), problems


def _check_chunk(arr, name: str, start: int, stop: int, recorded: np.ndarray) -> str | None:
    try:
        values = np.asarray(arr[start:stop])
    except Exception as exc:  # noqa: BLE001 - a codec error is damage, not a bug here
        return f"{name} chunk unreadable ({_short(exc)})"
    if not recorded.any():
        return f"{name} has no checksum recorded"
    if not np.array_equal(np.frombuffer(digest(values), np.uint8), recorded):
        return f"{name} differs from its checksum (corrupt or rewritten)"
    return None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= 120 else text[:117] + "..."
