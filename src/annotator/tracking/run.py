"""``annotator track``: track videos into sessions, on every core, resumably.

How the work is cut
-------------------
The time axis of each video is cut into blocks of exactly one store chunk
(``chunk_frames``).  Tracking is: plan the blocks, submit the pure function
:func:`~annotator.tracking.worker.track_blocks` to a
``concurrent.futures.Executor``, and have this (parent) process alone write
each result as its future completes, one whole chunk per array, marking the
block done afterwards.  ``complete`` is set last.

A task is a contiguous run of missing blocks (at most :data:`MAX_RUN_BLOCKS`),
so a worker seeks once per run; it still returns one result per block.  Every
block starts fresh detectors after a warm-up on the frames before it (see
:mod:`.worker`), so a block's result depends only on the video: not on the
number of workers, the executor, nor where an interrupted run stopped.

The default executor is a ``spawn`` ``ProcessPoolExecutor`` whose workers
report progress per frame through a queue handed over at process start; any
other executor (``distributed.Client.get_executor()``) works the same, with
progress per block.  A worker that dies is one line of error; finished blocks
are kept.

Phantom faces
-------------
Once every block of a video is written, runs of face detections shorter than
``min_face_run`` frames with no face on both sides are marked absent (see
:mod:`.store`).  This runs on the whole video, so a run that crosses a block
edge is judged as a whole.

Resuming
--------
Run the same command again.  A partial store made with the same settings is
resumed (only blocks not marked done are tracked); a partial store made with
other settings (pose on/off, face backend or model, mediapipe version) is
discarded and restarted with a warning; a *complete* store with other
settings is an error (a result is never overwritten); a complete store with
the same settings is left as it is.  The chunk size only applies to new
stores: an existing store keeps its own, so resuming never mixes block
boundaries.

Environment
-----------
``ANNOTATOR_CHUNK_FRAMES``
    Frames per chunk and block (default 192, about 1 MB of landmarks).  Small
    values are for tests.
``ANNOTATOR_NATIVE_LOGS``
    Keep MediaPipe's own log lines on stderr (hidden by default).
"""

from __future__ import annotations

import functools
import os
import queue
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..errors import AnnotatorError, SessionError, TrackingError, VideoError
from ..locks import TRACK, session_locks
from .store import DEFAULT_CHUNK_FRAMES, DEFAULT_MIN_FACE_RUN, TrackWriter, block_range

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import Executor

CHUNK_FRAMES_ENV = "ANNOTATOR_CHUNK_FRAMES"


class TrackingWarning(UserWarning):
    """Tracking finished, but the user should know something (fallback, no face...)."""


@dataclass
class _Job:
    index: int
    video: Path
    session: object
    writer: TrackWriter
    status: str
    created_session: bool
    created_store: bool
    timestamps_ms: np.ndarray
    missing: set[int] = field(default_factory=set)


def resolve_chunk_frames(chunk_frames: int | None = None) -> int:
    """The explicit value, else ``$ANNOTATOR_CHUNK_FRAMES``, else 192."""
    if chunk_frames is None:
        text = os.environ.get(CHUNK_FRAMES_ENV)
        if not text:
            return DEFAULT_CHUNK_FRAMES
        try:
            chunk_frames = int(text)
        except ValueError:
            raise AnnotatorError(None, f"${CHUNK_FRAMES_ENV}={text!r} is not an integer") from None
    if chunk_frames < 1:
        raise AnnotatorError(None, f"chunk_frames must be at least 1, got {chunk_frames}")
    return int(chunk_frames)


def landmarker_timestamps(times: np.ndarray) -> np.ndarray:
    """Milliseconds from the first frame, forced strictly increasing (video mode needs it)."""
    ms = np.round((np.asarray(times, np.float64) - float(times[0])) * 1000.0).astype(np.int64)
    steps = np.arange(len(ms), dtype=np.int64)
    # ms[i] = max(ms[i], ms[i-1] + 1), vectorised.
    return np.maximum.accumulate(ms - steps) + steps


#: Longest run of blocks one task covers.  Each run costs one seek (a partial
#: GOP decoded for nothing); shorter runs let the task queue even out workers
#: that run at different speeds, so they finish together.
MAX_RUN_BLOCKS = 4


def plan_runs(missing: list[int], workers: int, max_run: int = MAX_RUN_BLOCKS) -> list[tuple[int, int]]:
    """Cut sorted missing blocks into contiguous runs ``[first, stop)`` for ``workers`` processes.

    Runs are at most ``max_run`` blocks, and short enough that each worker gets
    at least two, so a worker that finishes early takes over work that is left.
    """
    if not missing:
        return []
    segments: list[list[int]] = [[missing[0], missing[0] + 1]]
    for b in missing[1:]:
        if b == segments[-1][1]:
            segments[-1][1] = b + 1
        else:
            segments.append([b, b + 1])
    longest = max(1, min(max_run, len(missing) // (2 * max(1, workers))))
    runs = []
    for first, stop in segments:
        while first < stop:
            runs.append((first, min(stop, first + longest)))
            first = runs[-1][1]
    return runs


# -- the executor ------------------------------------------------------------------------------
def local_executor(workers: int):
    """A ``spawn`` process pool whose workers report progress and obey a cancel event.

    Returns
    -------
    executor, progress, cancel
        The ``ProcessPoolExecutor``, the queue its workers put ``(video, block,
        frames)`` on, and the event that stops their running tasks.  ``spawn``:
        MediaPipe's graphs and PyAV's codecs hold threads that ``fork`` would copy
        in an unknown state.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from .worker import init_worker

    ctx = multiprocessing.get_context("spawn")
    progress, cancel = ctx.Queue(), ctx.Event()
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=init_worker, initargs=(progress, cancel)
    )
    return executor, progress, cancel


def _drain(progress) -> list[tuple[int, int, int]]:
    out = []
    while True:
        try:
            out.append(progress.get_nowait())
        except (queue.Empty, OSError, ValueError):
            return out


def _worker_died(name: str | None, exitcode: int | None) -> str:
    if exitcode == -9:
        how = "was killed (SIGKILL: often the out-of-memory killer)"
    else:
        # The executor does not say how a worker ended: name the usual cause.
        how = "died (killed? the out-of-memory killer does that)" if exitcode is None else f"died (exit code {exitcode})"
    who = "a tracking worker" if name is None else f"tracking worker {name}"
    return (
        f"{who} {how}; the blocks finished so far are saved: run the same command "
        "to resume (with fewer --workers if memory is short)"
    )


def _holding_session_locks(func):
    """Run ``track_videos`` holding the tracking lock of every session it will write.

    The locks are taken before any session is made, so two runs on one video
    meet at the lock instead of racing to create, fill or delete the session.
    """

    @functools.wraps(func)
    def wrapper(videos, out_dir=None, *args, **kwargs):
        from concurrent.futures.process import BrokenProcessPool

        from ..session import default_session_dir

        roots = [default_session_dir(v, out_dir) for v in videos]
        with session_locks(roots, TRACK):
            try:
                return func(videos, out_dir, *args, **kwargs)
            except BrokenProcessPool:
                # The executor cannot say which worker died or how; the advice is the same.
                raise TrackingError(None, _worker_died(None, None)) from None

    return wrapper


# -- the command -------------------------------------------------------------------------------
def _settings(session, frames: int, backend, pose: bool, chunk_frames: int, min_face_run: int) -> dict:
    from .face import mediapipe_version
    from .pose import POSE_BACKEND
    from .worker import WARMUP_FRAMES

    v = session.meta["video"]
    return {
        "video_path": v["path"],
        "video_sha256": v["sha256"],
        "fps": float(v["fps"]),
        "frames": int(frames),
        "width": int(v["width"]),
        "height": int(v["height"]),
        "face_backend": backend.name,
        "face_backend_version": backend.version,
        "face_model_sha256": backend.model_sha256,
        "pose_backend": POSE_BACKEND if pose else None,
        "pose_backend_version": mediapipe_version() if pose else None,
        "chunk_frames": int(chunk_frames),
        "warmup_frames": WARMUP_FRAMES,
        "min_face_run": int(min_face_run),
    }


def _prepare(videos, out_dir, backend, pose, chunk_frames, min_face_run, fps=None, subject=None) -> list[_Job]:
    from ..session import Session, default_session_dir, is_session_dir

    jobs: list[_Job] = []
    roots: dict[Path, Path] = {}
    created_roots: list[Path] = []
    try:
        for video in videos:
            video = Path(video)
            root = default_session_dir(video, out_dir)
            key = root.resolve()
            if key in roots:
                if roots[key].resolve() == video.resolve():
                    continue  # the same video named twice
                raise AnnotatorError(video, f"would share the session {root} with {roots[key]}; rename one or track them apart")
            roots[key] = video
            # The session lock may have made the folder already: a session exists once it has session.json.
            existed = is_session_dir(root)
            # Session.create opens (validates) the video before making any directory.
            session = Session.create(video, root, fps=fps, subject=subject)
            created_session = not existed
            if created_session:
                created_roots.append(session.root)
            with session.open_video() as source:
                # The frames come from session.json's video, which need not be the file named on the
                # command line: it is what must match the recorded checksum.
                if source.sha256 != session.sha256:
                    raise SessionError(
                        session.video_path,
                        f"has changed since {session.root} was made from it (sha256 {session.sha256[:12]}…, now "
                        f"{source.sha256[:12]}…); put the original back, or track this video into a new session with -o",
                    )
                frames = len(source)
                if frames == 0:
                    raise VideoError(video, "has no frames")
                times = np.asarray(source.timestamps, np.float64)
            settings = _settings(session, frames, backend, pose, chunk_frames, min_face_run)
            store_existed = session.tracks_path.exists()
            writer, status = TrackWriter.prepare(session.tracks_path, settings, times)
            for note in getattr(writer, "repairs", ()):
                warnings.warn(f"{session.tracks_path}: {note}", TrackingWarning, stacklevel=3)
            if status == "restarted":
                warnings.warn(
                    f"{session.tracks_path}: partial tracks made with other settings were discarded; tracking again",
                    TrackingWarning,
                    stacklevel=3,
                )
            job = _Job(
                index=len(jobs),
                video=video,
                session=session,
                writer=writer,
                status=status,
                created_session=created_session,
                created_store=not store_existed or status == "restarted",
                timestamps_ms=landmarker_timestamps(times),
            )
            # Created sessions count for cleanup even if a later video fails.
            jobs.append(job)
            if status != "complete":
                job.missing = set(np.flatnonzero(~writer.done_blocks()).tolist())
    except BaseException:
        # Nothing has been tracked yet: leave no trace of this run.
        _discard(jobs)
        for root in created_roots:
            shutil.rmtree(root, ignore_errors=True)
        raise
    return jobs


def _discard(jobs: list[_Job]) -> None:
    """Remove what this run created for jobs that did not finish, so nothing looks like a result."""
    for job in jobs:
        if job.writer.attrs.get("complete") is True:
            continue
        if job.created_session:
            shutil.rmtree(job.session.root, ignore_errors=True)
        elif job.created_store:
            shutil.rmtree(job.writer.path, ignore_errors=True)


def _block_frames(job: _Job, block: int) -> int:
    start, stop = block_range(block, job.writer.frames, job.writer.chunk_frames)
    return stop - start


def _finish(job: _Job) -> None:
    # Judged on the whole video, after every block is written, so a run of
    # detections that crosses a block edge counts as one run (the filter is
    # idempotent: a kill before ``finish`` just runs it again).
    job.writer.remove_short_face_runs(int(job.writer.attrs.get("min_face_run", 1)))
    job.writer.finish()
    if not job.writer.face_present_any():
        warnings.warn(f"{job.video}: no face found in any frame; face/present is all False", TrackingWarning, stacklevel=3)


@_holding_session_locks
def track_videos(
    videos: list[Path],
    out_dir: Path | None = None,
    face_model: str | None = None,
    pose: bool = True,
    workers: int | None = None,
    progress: bool = True,
    *,
    chunk_frames: int | None = None,
    min_face_run: int = DEFAULT_MIN_FACE_RUN,
    executor: "Executor | None" = None,
    on_progress: Callable[[int, int], None] | None = None,
    fps: float | None = None,
    subject: str | None = None,
    on_complete: Callable[[object], None] | None = None,
) -> list:
    """Track face and body pose of each video into its session's ``tracks.zarr``.

    Parameters
    ----------
    videos : list of Path
    out_dir : Path, optional
        Put sessions in ``out_dir/<stem>.annot``; default ``<video>.annot`` beside each video.
    face_model : str, optional
        The Face Landmarker bundle; default ``$ANNOTATOR_FACE_MODEL``, then the user
        cache.  When none is found, the legacy Face Mesh is used (one warning).
    pose : bool
        Track body pose too.
    workers : int, optional
        Worker processes (default: number of cores); with ``executor``, only how
        finely the work is cut.  Results do not depend on it.
    progress : bool
        Show a progress bar on stderr.
    chunk_frames : int, optional
        Frames per chunk/block of new stores (default ``$ANNOTATOR_CHUNK_FRAMES``
        or 192); an existing store keeps its own.
    min_face_run : int
        Runs of face detections shorter than this, with no face on both sides,
        are marked absent (phantom faces; 1 keeps every detection).
    executor : concurrent.futures.Executor, optional
        Runs :func:`~annotator.tracking.worker.track_blocks` (for example
        ``distributed.Client.get_executor()``); it is not shut down here, and
        progress then advances per block.  Default: a ``spawn`` process pool of
        ``workers`` processes, reporting per frame.
    on_progress : callable, optional
        Called as ``on_progress(frames_done, frames_total)`` (over all videos,
        resumed frames included) as frames are tracked; for GUIs and benchmarks.
    fps : float, optional
        Frame rate of photos and frame folders among ``videos`` (default 1 for a
        photo, 30 for a folder; see :mod:`annotator.media.images`).  Video files
        keep their own.
    subject : str, optional
        Who the clips show, recorded in each ``session.json`` (default: the
        video's name for a new session; an existing one keeps its own).
    on_complete : callable, optional
        Called with each session whose tracks were already complete (nothing
        is tracked for it), so the caller can say so.

    Returns
    -------
    list of Session
        One per distinct video, each with a complete store.

    Raises
    ------
    AnnotatorError
        Bad video, bad model, inconsistent session, or a worker that died (its
        finished blocks are kept).  Sessions and stores made by this call for a
        bad video are removed, so nothing half-made looks like a result.
    KeyboardInterrupt
        Workers are stopped; every block written so far is kept for resuming.
    """
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool
    from dataclasses import replace

    from .face import LEGACY_BACKEND, FaceBackend
    from .model_files import cached_face_model
    from .worker import BlockTask, track_blocks

    chunk_frames = resolve_chunk_frames(chunk_frames)
    if min_face_run < 1:
        raise AnnotatorError(None, f"min_face_run must be at least 1, got {min_face_run}")
    workers = int(workers or os.cpu_count() or 1)
    backend = FaceBackend.resolve(face_model)
    if backend.name == LEGACY_BACKEND:
        warnings.warn(
            f"no Face Landmarker bundle found (--face-model, $ANNOTATOR_FACE_MODEL, {cached_face_model()}); "
            "using the legacy Face Mesh: 478 landmarks but no blendshapes or head pose. "
            "Run `annotator setup` to install the bundle.",
            TrackingWarning,
            stacklevel=2,
        )
    jobs = _prepare(videos, out_dir, backend, pose, chunk_frames, min_face_run, fps, subject)
    todo = [j for j in jobs if j.status != "complete"]
    if on_complete is not None:
        for job in jobs:
            if job.status == "complete":
                on_complete(job.session)
    tasks = []
    for job in todo:
        for first, stop in plan_runs(sorted(job.missing), workers):
            task = BlockTask(
                video=job.index,
                path=str(job.session.video_path),
                frames=job.writer.frames,
                chunk_frames=job.writer.chunk_frames,  # an existing store keeps its own
                first_block=first,
                stop_block=stop,
                times_ms=job.timestamps_ms[:0],
                times_from=0,
                face=backend,
                pose=pose,
                warmup=int(job.writer.attrs["warmup_frames"]),
            )
            lo, hi = task.needed_times()
            tasks.append(replace(task, times_ms=job.timestamps_ms[lo:hi], times_from=lo))
    for job in todo:
        if not job.missing:  # every block written before a kill, only the flag missing
            _finish(job)
    if not tasks:
        return [j.session for j in jobs]

    total = sum(j.writer.frames for j in todo)
    done = total - sum(_block_frames(j, b) for j in todo for b in j.missing)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=total,
            initial=int(done),
            unit="frame",
            desc=todo[0].video.name if len(todo) == 1 else f"{len(todo)} videos",
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.05,
            mininterval=0.5,
        )

    def advance(n: int) -> None:
        nonlocal done
        if n <= 0:
            return
        done += n
        if bar is not None:
            bar.update(n)
        if on_progress is not None:
            on_progress(done, total)

    own = executor is None
    feed = cancel = None
    if own:
        executor, feed, cancel = local_executor(min(workers, len(tasks)))
    # Frames already counted per block from the workers' messages; a written
    # block adds the rest, and later messages for it are ignored, so every frame
    # counts once whichever arrives first.
    counted: dict[tuple[int, int], int] = {}
    written: set[tuple[int, int]] = set()
    futures: dict = {}
    def died(job: _Job) -> TrackingError:
        return TrackingError(job.video, _worker_died(None, None))

    try:
        for task in tasks:
            try:
                futures[executor.submit(track_blocks, task)] = task
            except BrokenProcessPool:
                raise died(jobs[task.video]) from None
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for vid, block, n in _drain(feed) if feed is not None else ():
                if (vid, block) not in written:
                    counted[(vid, block)] = counted.get((vid, block), 0) + n
                    advance(n)
            for future in finished:
                job = jobs[futures[future].video]
                try:
                    results = future.result()
                except BrokenProcessPool:
                    raise died(job) from None
                except BaseException:
                    # This video's session or store is unusable (a bad video, or a
                    # bug: the worker's traceback is chained); other videos' partial
                    # stores stay resumable.
                    _discard([job])
                    raise
                for result in results:
                    key = (result.video, result.block)
                    if key in written:
                        continue
                    job.writer.write_block(result.block, result.arrays)
                    written.add(key)
                    advance(_block_frames(job, result.block) - counted.pop(key, 0))
                    job.missing.discard(result.block)
                    if not job.missing:
                        _finish(job)
    except BaseException:
        # On Ctrl-C (or any error) the blocks already marked done stay: resumable.
        for future in futures:
            future.cancel()
        if cancel is not None:
            cancel.set()
        raise
    finally:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
            feed.cancel_join_thread()
            feed.close()
        if bar is not None:
            bar.close()
    return [j.session for j in jobs]
