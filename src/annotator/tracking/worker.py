"""The tracking worker process: decodes a run of blocks and tracks each from a fresh state.

Runs in ``spawn`` processes started by :mod:`annotator.tracking.run`.  A worker
never writes the store: it sends each finished block's arrays to the parent.

Messages put on the result queue (all picklable)::

    ("progress", video, n_frames)
    ("block", video, block, {"face/present": ..., ...})
    ("error", video, exc)                      a user error (an AnnotatorError)
    ("crash", video, traceback_text)           a bug
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass

import numpy as np

from .face import N_BLENDSHAPES, N_FACE_LANDMARKS, FaceBackend
from .pose import N_POSE_LANDMARKS

#: Frames between progress messages: often enough for a smooth bar, rare
#: enough that the messages cost nothing.
PROGRESS_EVERY = 8


@dataclass(frozen=True)
class RunTask:
    """Contiguous blocks ``[first_block, stop_block)`` of one video.

    ``timestamps_ms`` holds the (strictly increasing) Face Landmarker times of
    the run's frames, computed once for the whole video by the parent so they
    do not depend on how the video is cut.
    """

    video: int
    path: str
    frames: int
    chunk_frames: int
    first_block: int
    stop_block: int
    timestamps_ms: np.ndarray
    face: FaceBackend
    pose: bool

    @property
    def start(self) -> int:
        return self.first_block * self.chunk_frames

    @property
    def stop(self) -> int:
        return min(self.stop_block * self.chunk_frames, self.frames)


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


def _empty_block(n: int, pose: bool) -> dict[str, np.ndarray]:
    data = {
        "face/present": np.zeros(n, bool),
        "face/landmarks": np.full((n, N_FACE_LANDMARKS, 3), np.nan, np.float32),
        "face/blendshapes": np.full((n, N_BLENDSHAPES), np.nan, np.float32),
        "face/matrix": np.full((n, 4, 4), np.nan, np.float32),
    }
    if pose:
        data["pose/present"] = np.zeros(n, bool)
        data["pose/landmarks"] = np.full((n, N_POSE_LANDMARKS, 4), np.nan, np.float32)
    return data


def track_run(task: RunTask, send) -> None:
    """Track every block of ``task``, calling ``send(message)`` as blocks finish.

    Each block starts with new detector instances, so a block's result does not
    depend on which worker ran it or on where an earlier run stopped.
    """
    from ..media import open_video

    with open_video(task.path) as video:
        frames = prefetch(video.iter_frames(task.start, task.stop))
        try:
            for block in range(task.first_block, task.stop_block):
                send(("block", task.video, block, _track_block(task, block, frames, send)))
                _release_freed_memory()
        finally:
            frames.close()


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


def _track_block(task: RunTask, block: int, frames, send) -> dict[str, np.ndarray]:
    from ..errors import VideoError
    from .face import FaceTracker
    from .pose import PoseTracker

    b_start = block * task.chunk_frames
    b_stop = min(b_start + task.chunk_frames, task.frames)
    data = _empty_block(b_stop - b_start, task.pose)
    face = FaceTracker(task.face)
    try:
        body = PoseTracker() if task.pose else None
    except BaseException:
        face.close()
        raise
    try:
        pending = 0
        for k in range(b_stop - b_start):
            try:
                index, rgb = next(frames)
            except StopIteration:
                raise VideoError(task.path, f"ends at frame {b_start + k} of {task.frames}: truncated?") from None
            if index != b_start + k:
                raise VideoError(task.path, f"decoder returned frame {index} where {b_start + k} was expected")
            present, lms, blend, matrix = face.process(rgb, int(task.timestamps_ms[b_start + k - task.start]))
            if present:
                data["face/present"][k] = True
                data["face/landmarks"][k] = lms
                data["face/blendshapes"][k] = blend
                data["face/matrix"][k] = matrix
            if body is not None:
                present, lms = body.process(rgb)
                if present:
                    data["pose/present"][k] = True
                    data["pose/landmarks"][k] = lms
            pending += 1
            if pending == PROGRESS_EVERY:
                send(("progress", task.video, pending))
                pending = 0
        if pending:
            send(("progress", task.video, pending))
    finally:
        face.close()
        if body is not None:
            body.close()
    return data


# -- process plumbing ---------------------------------------------------------------------------
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


def worker_main(worker_id: int, tasks, results) -> None:
    """Entry point of a worker process: take tasks until a ``None`` arrives."""
    _tune_malloc()
    # Ctrl-C reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    _silence_native_logs()
    from ..errors import AnnotatorError

    while True:
        task = tasks.get()
        if task is None:
            return
        try:
            track_run(task, results.put)
        except AnnotatorError as exc:
            results.put(("error", task.video, exc))
        except BaseException:  # noqa: BLE001 - reported to the parent, which raises
            results.put(("crash", task.video, traceback.format_exc()))
            return
