"""What every frame source shares: a lazy, read-only ``(T, H, W, 3)`` uint8 array.

:class:`FrameSource` is the base of :class:`~.video.VideoSource` (a video file)
and :class:`~.images.ImageSequence` (a photo or a folder of numbered frames).
A subclass supplies ``__len__``, ``_frame(i)`` and ``iter_frames``; indexing,
shape and the refusal to convert the whole source live here, once.

Indexing follows numpy exactly for the keys it accepts, with the frames decoded
lazily: :func:`split_time_key` finds which frames a key needs and rewrites the
key for the small stack of just those frames, and numpy itself then applies the
rewritten key.  So ``v[key]`` equals ``np.stack(all_frames)[key]`` in values,
shape and the errors raised, without decoding frames the key does not touch.
"""

from __future__ import annotations

import operator
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

#: Axes of a frame source: time, height, width, channel.
NDIM = 4


def _as_entry(k, *, inside_tuple: bool):
    """One key entry in canonical form: None, Ellipsis, int, slice, or an int/bool ndarray."""
    if k is None or k is Ellipsis or isinstance(k, slice):
        return k
    if isinstance(k, (bool, np.bool_)) or (isinstance(k, np.ndarray) and k.dtype == bool and k.ndim == 0):
        # numpy reads a boolean scalar as "add an axis, keep all or nothing", which
        # nobody means when indexing frames; ``v[True]`` used to return frame 1.
        raise IndexError("a boolean scalar is not a valid frame index; use an integer, a slice, or a boolean array")
    if isinstance(k, np.ndarray):
        arr = k
    elif isinstance(k, list) or (inside_tuple and isinstance(k, tuple)):
        try:
            arr = np.asarray(k)
        except ValueError:
            raise IndexError(f"cannot index with the ragged sequence {k!r}") from None
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.intp)  # numpy reads ``[]`` as an empty integer index
    else:
        try:
            return operator.index(k)
        except TypeError:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) "
                f"and integer or boolean arrays are valid indices, not {type(k).__name__}"
            ) from None
    if arr.dtype == bool:
        return arr
    if not np.issubdtype(arr.dtype, np.integer):
        raise IndexError(f"arrays used as indices must be of integer (or boolean) type, not {arr.dtype}")
    if arr.ndim == 0:
        return int(arr)
    return arr


def _expand(key, shape: Sequence[int]) -> tuple[list, int]:
    """The key as a list of None / Ellipsis / int / slice / int-array entries.

    Each boolean array becomes its ``nonzero()`` arrays (numpy's own definition),
    after checking its shape against the axes it covers as numpy does.  The
    Ellipsis stays (numpy returns a 0-d array rather than a scalar when one is
    present); the second value is how many axes it stands for.
    """
    raw = list(key) if isinstance(key, tuple) else [key]
    entries = [_as_entry(k, inside_tuple=isinstance(key, tuple)) for k in raw]

    def consumed(e) -> int:
        if e is None or e is Ellipsis:
            return 0
        return e.ndim if isinstance(e, np.ndarray) and e.dtype == bool else 1

    n_ellipsis = sum(e is Ellipsis for e in entries)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(consumed(e) for e in entries)
    if used > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, but {used} were indexed")
    out: list = []
    axis = 0
    fill = len(shape) - used
    for e in entries:
        if e is Ellipsis:
            out.append(e)
            axis += fill
        elif isinstance(e, np.ndarray) and e.dtype == bool:
            covered = tuple(shape[axis : axis + e.ndim])
            if e.shape != covered:
                raise IndexError(
                    f"boolean index did not match indexed array along axis {axis}; "
                    f"size of axis is {covered} but size of corresponding boolean axis is {e.shape}"
                )
            out.extend(e.nonzero())
            axis += e.ndim
        else:
            out.append(e)
            axis += consumed(e)
    return out, fill


def split_time_key(key, shape: Sequence[int]) -> tuple[Sequence[int], tuple, bool]:
    """Which frames ``key`` needs, and the key to apply to the stack of those frames.

    Parameters
    ----------
    key
        Any key accepted by ``ndarray.__getitem__`` except boolean scalars.
    shape : sequence of int
        ``(T, H, W, 3)`` of the source.

    Returns
    -------
    frames : sequence of int
        Frame indices, in the order to stack them (each in ``range(T)``).
    local_key : tuple
        ``np.stack([frame[i] for i in frames])[local_key]`` equals ``all_frames[key]``.
    single : bool
        True when the time entry is one integer, so the stack is one frame and the
        caller may use a read-only view of it instead of a copy.

    Raises
    ------
    IndexError
        For keys numpy refuses (out of bounds, too many indices, non-integer
        arrays, a second Ellipsis, …) and for boolean scalars.
    TypeError, ValueError
        For slices numpy refuses (non-integer bounds, a zero step).
    """
    n = int(shape[0])
    entries, fill = _expand(key, shape)
    # The time entry is the first one that consumes an axis; None entries (and an
    # Ellipsis standing for no axis) before it only add axes.  When there is none,
    # or an Ellipsis covers the time axis, every frame is kept and the key applies as is.
    pos = next((j for j, e in enumerate(entries) if e is not None and not (e is Ellipsis and fill == 0)), None)
    single = False
    t = None if pos is None else entries[pos]
    if t is None or t is Ellipsis:
        frames: Sequence[int] = range(n)
    elif isinstance(t, slice):
        frames = range(*t.indices(n))
        local = slice(None)
    elif isinstance(t, int):
        if not -n <= t < n:
            raise IndexError(f"index {t} is out of bounds for axis 0 with size {n}")
        frames, local, single = [t % n], 0, True
    else:
        bad = None
        if t.size:
            lo, hi = int(t.min()), int(t.max())
            bad = lo if lo < -n else hi if hi >= n else None
        if bad is not None and not _selects_nothing(key, shape):
            raise IndexError(f"index {bad} is out of bounds for axis 0 with size {n}")
        if bad is not None:  # numpy checks no bound when the key selects no element
            frames, local = [], np.zeros(t.shape, dtype=np.intp)
        else:
            norm = np.where(t < 0, t + n, t).astype(np.intp)
            uniq, inverse = np.unique(norm, return_inverse=True)
            frames, local = uniq.tolist(), inverse.reshape(t.shape).astype(np.intp)
    if t is not None and t is not Ellipsis:
        entries[pos] = local
    local_key = tuple(entries)
    # Let numpy check the rest of the key on a zero-strided stand-in before any decoding.
    stand_in = np.broadcast_to(np.zeros((), np.uint8), (len(frames), *shape[1:]))
    stand_in[local_key]
    return frames, local_key, single


def _selects_nothing(key, shape: Sequence[int]) -> bool:
    """True when numpy takes ``key`` on an array of ``shape`` and selects no element (it then checks no bound).

    Asked of a zero-strided stand-in, only when a time index is out of bounds, so
    nothing is allocated on the way to an error.
    """
    try:
        return np.broadcast_to(np.zeros((), np.uint8), tuple(shape))[key].size == 0
    except (IndexError, TypeError, ValueError):
        return False


class FrameSource:
    """A lazy, read-only ``(T, H, W, 3)`` uint8 RGB array of frames.

    Indexing matches numpy for integers (negative too), slices (any step),
    integer and boolean arrays or lists, ``...`` and ``None``, on any axis,
    decoding only the frames the key touches (see :func:`split_time_key`).
    Boolean scalars, floats and other objects raise :class:`IndexError`.
    ``v[i]`` is read-only (it is shared with the frame cache); keys that select
    several frames return new arrays.  Converting the whole source with
    ``np.asarray`` raises, so nothing decodes a whole video by accident; ``v[:]``
    does it on purpose.

    Attributes
    ----------
    path : Path
        The file or folder, as given.
    fps : float
        Frame rate.
    codec : str
        What the frames are coded with (e.g. ``"h264"``, ``"jpeg"``).
    rotation : int
        Counter-clockwise rotation in degrees already applied to every frame.
    width, height : int
        Size of the upright frames.
    """

    dtype = np.dtype(np.uint8)
    ndim = NDIM
    path: Path
    fps: float
    codec: str
    rotation: int
    width: int
    height: int
    _timestamps: np.ndarray
    #: Decoded frames kept, newest last (a subclass fills ``_cache``, ``_cache_size`` and ``_closed``).
    _cache: "OrderedDict[int, np.ndarray]"
    _cache_size: int
    _closed: bool

    # -- what a subclass supplies ----------------------------------------------------

    def __len__(self) -> int:
        raise NotImplementedError

    def _frame(self, i: int) -> np.ndarray:
        """Frame ``i`` (already in ``range(len(self))``) as a read-only H×W×3 array."""
        raise NotImplementedError

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, rgb)`` for frames ``start … stop-1`` in order."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds open."""

    # -- the frame cache, shared by every source -------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: the {type(self).__name__} is closed")

    def _remember(self, i: int, rgb: np.ndarray) -> np.ndarray:
        """Keep frame ``i`` (made read-only) in the cache, dropping the oldest beyond its size."""
        rgb.flags.writeable = False
        self._cache[i] = rgb
        self._cache.move_to_end(i)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return rgb

    # -- the array surface -------------------------------------------------------------

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """``(H, W, 3)`` of one upright frame."""
        return (self.height, self.width, 3)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(T, H, W, 3)``."""
        return (len(self), self.height, self.width, 3)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        return self.size

    @property
    def timestamps(self) -> np.ndarray:
        """Presentation time of each frame in seconds, the first at 0.0 (read-only float64)."""
        return self._timestamps

    @property
    def start_time(self) -> float:
        """Source time of the first frame in seconds (what :attr:`timestamps` subtracts)."""
        return 0.0

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"{self.path}: converting a {type(self).__name__} to an array would decode all "
            f"{len(self)} frames; index it instead (v[i], or v[:] to load everything)"
        )

    def __getitem__(self, key) -> np.ndarray:
        frames, local_key, single = split_time_key(key, self.shape)
        if single:
            return self._frame(frames[0])[None][local_key]
        return self._stack(frames)[local_key]

    def _stack(self, indices: Sequence[int]) -> np.ndarray:
        indices = list(indices)
        out = np.empty((len(indices), *self.frame_shape), np.uint8)
        # Ascending order lets a decoder run forward instead of seeking.
        for pos in sorted(range(len(indices)), key=indices.__getitem__):
            out[pos] = self._frame(indices[pos])
        return out

    def __iter__(self) -> Iterator[np.ndarray]:
        for _, rgb in self.iter_frames():
            yield rgb

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _describe(self) -> str:
        return (
            f"{type(self).__name__}({os.fspath(self.path)!r}, {len(self)} frames, "
            f"{self.width}×{self.height}, {self.fps:.3f} fps, {self.codec}"
        )
