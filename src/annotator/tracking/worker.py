"""Tracking a run of blocks: a pure function of its task, for any ``concurrent.futures`` executor.

:func:`track_blocks` takes a :class:`BlockTask` and returns one
:class:`BlockResult` per block.  Both pickle with plain :mod:`pickle`, so the
same function runs in a local ``ProcessPoolExecutor`` (see
:mod:`annotator.tracking.run`) or on Dask workers through
``distributed.Client.get_executor()``.  A worker never writes the store.

Warm-up
-------
A fresh Face Landmarker (and Pose) differs from a steady one for its first
frames.  So every block starts its detectors on the :data:`WARMUP_FRAMES`
frames before its first one, with their own timestamps, and discards those
outputs.  The video's start has no frames before it: there the warm-up holds
frame 0 for ``W`` frames (at the mirrored timestamps ``-t`` of frames ``W..1``,
so times keep increasing into frame 0).  The detectors then meet frame 0 with
their region of interest settled on it and no motion in their filters.  On
real clips this comes closest to a steady track of the same frames of every
lead-in measured (benchmarks/bench_tracking.py --warmup-study, docs/benchmarks.md
"The video's start"; the reversed frames ``W..1`` used before carried the wrong
velocity into frame 0).  What remains is the steady track's own history: the
same frames tracked with real context from the other side differ from it more.  Every block thus sees the
same *virtual timeline* (the held lead-in, then the video), and a block's
result depends only on the video, never on the task it ran in.

Side channels (local pools only)
--------------------------------
:func:`init_worker` may install a progress queue (``(video, block, frames)``
tuples every :data:`PROGRESS_EVERY` frames) and a cancel event (checked every
frame, so Ctrl-C stops a run within a frame).  Both are passed at process start
(inheritance), never inside a task; without them (Dask) the parent counts
progress per block.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from .face import N_BLENDSHAPES, N_FACE_LANDMARKS, FaceBackend
from .pose import N_POSE_LANDMARKS

#: Frames each block's detectors see before its first frame.  Measured on the
#: real talking head carphone_pristine (benchmarks/bench_tracking.py
#: --warmup-study): 16 frames bring the first frames after a fresh start within
#: 0.05 of a steady track's blendshapes and 0.5 px of its landmarks, below the
#: track's own frame-to-frame change (median 0.09 and 1.2 px); 8 frames leave 0.12.
WARMUP_FRAMES = 16

#: Frames between progress messages: often enough for a smooth bar, rare
#: enough that the messages cost nothing.
PROGRESS_EVERY = 8

_progress = None  # a queue installed by init_worker, or None
_cancel = None  # an event installed by init_worker, or None


class Cancelled(Exception):
    """The parent asked the worker to stop (Ctrl-C); the task's blocks are not returned."""


@dataclass(frozen=True)
class BlockTask:
    """Blocks ``[first_block, stop_block)`` of one video, tracked in one pass.

    Parameters
    ----------
    video : int
        The parent's index of the video; only echoed back.
    path : str
        The video file.
    frames, chunk_frames : int
        Its frame count and the store's block size.
    first_block, stop_block : int
    times_ms : ndarray of int64
        Face Landmarker times (strictly increasing, from the whole video so they
        do not depend on how it is cut) of frames ``[times_from, times_from +
        len(times_ms))``: the run, its warm-up and, at the start, frames ``1..W``.
    times_from : int
    face : FaceBackend
    pose : bool
    warmup : int
        Warm-up frames (:data:`WARMUP_FRAMES`; recorded in the store).
    """

    video: int
    path: str
    frames: int
    chunk_frames: int
    first_block: int
    stop_block: int
    times_ms: np.ndarray
    times_from: int
    face: FaceBackend
    pose: bool
    warmup: int = WARMUP_FRAMES

    @property
    def start(self) -> int:
        return self.first_block * self.chunk_frames

    @property
    def stop(self) -> int:
        return min(self.stop_block * self.chunk_frames, self.frames)

    def needed_times(self) -> tuple[int, int]:
        """Frames ``[lo, hi)`` whose times the task needs (see ``times_ms``)."""
        lo = max(0, self.start - self.warmup)
        hi = self.stop
        if self.start < self.warmup:  # the lead-in takes the times of frames 1..W
            hi = max(hi, min(self.frames, lead_in(self.warmup, self.frames) + 1))
        return lo, hi

    def ms(self, frame: int) -> int:
        return int(self.times_ms[frame - self.times_from])


@dataclass(frozen=True)
class BlockResult:
    """One block's arrays, exactly as :meth:`TrackWriter.write_block` takes them."""

    video: int
    block: int
    arrays: dict[str, np.ndarray]


def lead_in(warmup: int, frames: int) -> int:
    """Frames in the lead-in before frame 0 (``W``, fewer in a short video)."""
    return max(0, min(warmup, frames - 1))


def empty_block(n: int, pose: bool) -> dict[str, np.ndarray]:
    data = {
        "face/present": np.zeros(n, bool),
        "face/score": np.full(n, np.nan, np.float32),
        "face/landmarks": np.full((n, N_FACE_LANDMARKS, 3), np.nan, np.float32),
        "face/blendshapes": np.full((n, N_BLENDSHAPES), np.nan, np.float32),
        "face/matrix": np.full((n, 4, 4), np.nan, np.float32),
    }
    if pose:
        data["pose/present"] = np.zeros(n, bool)
        data["pose/landmarks"] = np.full((n, N_POSE_LANDMARKS, 4), np.nan, np.float32)
    return data


def prefetch(iterator, depth: int = 4):
    """Iterate ``iterator`` in a background thread, ``depth`` items ahead.

    Decoding (PyAV) and inference (MediaPipe) both release the GIL, so with a
    spare core the decode of the next frames overlaps the tracking of this one.
    Exceptions are re-raised in the consumer; closing the generator stops the thread.
    """
    import queue

    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in iterator:
                if not put((None, item)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put((exc, None))
            return
        put((None, done))

    thread = threading.Thread(target=produce, name="decode-ahead", daemon=True)
    thread.start()
    try:
        while True:
            exc, item = items.get()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join()
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def track_blocks(task: BlockTask) -> list[BlockResult]:
    """Track every block of ``task``, each from fresh detectors after its warm-up.

    Decodes the run once (warm-up included) and keeps the last ``warmup``
    frames of the virtual timeline, so a block's warm-up costs inference but no seek.

    Raises
    ------
    VideoError
        The video ends early or the decoder skips a frame.
    Cancelled
        The parent set the cancel event.
    """
    from ..errors import VideoError
    from ..media import open_video

    results = []
    with open_video(task.path) as video:
        # The last W entries of the virtual timeline before the next frame: (rgb, ms).
        recent: deque = deque(maxlen=task.warmup or 1)
        first = max(0, task.start - task.warmup)
        if task.start - task.warmup < 0 and task.warmup:
            n_lead = lead_in(task.warmup, task.frames)
            (_, still), = video.iter_frames(0, 1)
            for k in range(n_lead, 0, -1):  # frame 0 held, at the mirrored times of frames W..1
                recent.append((still, -task.ms(k)))
        frames = prefetch(video.iter_frames(first, task.stop))
        index = rgb = None
        try:
            expected = first
            for index, rgb in frames:
                if index != expected:
                    raise VideoError(task.path, f"decoder returned frame {index} where {expected} was expected")
                if index >= task.start:
                    break
                recent.append((rgb, task.ms(index)))
                expected += 1
            else:
                index = None
            for block in range(task.first_block, task.stop_block):
                results.append(BlockResult(task.video, block, _track_block(task, block, index, rgb, frames, recent)))
                index = None
                _release_freed_memory()
        finally:
            frames.close()
    return results


def _next_frame(task: BlockTask, frames, expected: int):
    from ..errors import VideoError

    try:
        index, rgb = next(frames)
    except StopIteration:
        raise VideoError(task.path, f"ends at frame {expected} of {task.frames}: truncated?") from None
    if index != expected:
        raise VideoError(task.path, f"decoder returned frame {index} where {expected} was expected")
    return rgb


def _track_block(task: BlockTask, block: int, index, rgb, frames, recent: deque) -> dict[str, np.ndarray]:
    """One block; ``index, rgb`` is its first frame if already taken from ``frames``."""
    from .face import FaceTracker
    from .pose import PoseTracker

    b_start = block * task.chunk_frames
    b_stop = min(b_start + task.chunk_frames, task.frames)
    data = empty_block(b_stop - b_start, task.pose)
    face = FaceTracker(task.face)
    try:
        body = PoseTracker() if task.pose else None
    except BaseException:
        face.close()
        raise
    try:
        if task.warmup:
            for old_rgb, ms in list(recent):  # outputs discarded: only the state matters
                _check_cancel()
                face.process(old_rgb, ms)
                if body is not None:
                    body.process(old_rgb)
        pending = 0
        for k in range(b_stop - b_start):
            _check_cancel()
            if k or index is None:
                rgb = _next_frame(task, frames, b_start + k)
            ms = task.ms(b_start + k)
            recent.append((rgb, ms))
            f = face.process(rgb, ms)
            if f.present:
                data["face/present"][k] = True
                data["face/score"][k] = f.score
                data["face/landmarks"][k] = f.landmarks
                data["face/blendshapes"][k] = f.blendshapes
                data["face/matrix"][k] = f.matrix
            if body is not None:
                present, lms = body.process(rgb)
                if present:
                    data["pose/present"][k] = True
                    data["pose/landmarks"][k] = lms
            pending += 1
            if pending == PROGRESS_EVERY:
                _report(task.video, block, pending)
                pending = 0
        if pending:
            _report(task.video, block, pending)
    finally:
        face.close()
        if body is not None:
            body.close()
    return data


def _report(video: int, block: int, frames: int) -> None:
    if _progress is not None:
        _progress.put((video, block, frames))


def _check_cancel() -> None:
    if _cancel is not None and _cancel.is_set():
        raise Cancelled()


# -- process plumbing ---------------------------------------------------------------------------
@functools.cache
def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _tune_malloc() -> None:
    # Frames (2.7 MB at 720p) are allocated by the decode thread and freed by
    # the tracking thread, and every block builds and drops two MediaPipe graphs
    # with threads of their own.  With glibc's default of an arena per thread a
    # worker's RSS crept from ~250 MB to ~750 MB over a 10-minute 720p video;
    # two arenas (and a trim after each block) keep it flat.  Frames stay in the
    # heap: forcing them into their own mmap (M_MMAP_THRESHOLD = 1 MB) also kept
    # RSS flat but page-faulted every new frame in, about 3 ms of system time per
    # frame (7% of the inference).  Must run before threads start.
    libc = _libc()
    if libc is None:
        return
    try:
        libc.mallopt(-8, 2)  # M_ARENA_MAX
    except AttributeError:
        pass


def _release_freed_memory() -> None:
    # Give back what the block's graphs freed, so the next block starts from the same RSS.
    libc = _libc()
    if libc is not None:
        try:
            libc.malloc_trim(0)
        except AttributeError:
            pass


def _exit_with_parent() -> None:
    # A SIGKILLed parent cannot stop its workers; without this they would keep
    # decoding (and hold a core) with nobody left to read their results.
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _silence_native_logs() -> None:
    # MediaPipe/TFLite write INFO/WARNING lines straight to fd 2 (glog, absl,
    # fprintf) and ignore GLOG_minloglevel here.  Point fd 2 at /dev/null but keep
    # Python's sys.stderr on the real one, so Python errors still show.
    if os.environ.get("ANNOTATOR_NATIVE_LOGS"):
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        sys.stderr = os.fdopen(saved, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    except OSError:
        pass


def init_worker(progress=None, cancel=None) -> None:
    """The ``initializer`` of a local process pool's workers.

    Parameters
    ----------
    progress : multiprocessing queue, optional
        Receives ``(video, block, frames)`` as frames are tracked.
    cancel : multiprocessing event, optional
        Once set, running tasks raise :class:`Cancelled` at the next frame.
    """
    global _progress, _cancel
    _tune_malloc()
    # Ctrl-C reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    _silence_native_logs()
    _progress, _cancel = progress, cancel
