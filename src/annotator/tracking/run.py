"""``annotator track``: track videos into sessions, on every core, resumably.

How the work is cut
-------------------
The time axis of each video is cut into blocks of exactly one store chunk
(``chunk_frames``).  Every block is tracked from a *fresh* detector state (new
Face Landmarker and Pose instances, so each block starts with a full
detection).  A block's result therefore depends only on its frames: not on the
number of workers, nor on where an interrupted run stopped.

Workers are ``spawn`` processes sharing one queue of tasks for all videos.  A
task is a contiguous run of missing blocks, so a worker seeks once and decodes
sequentially.  Workers send each finished block back; only this (parent)
process writes the store, one whole chunk per array, and marks the block done
afterwards.  ``complete`` is set last.

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

import os
import queue
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import AnnotatorError, VideoError
from .store import DEFAULT_CHUNK_FRAMES, TrackWriter, block_range

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


# -- the process pool ---------------------------------------------------------------------------
class _Pool:
    """``spawn`` worker processes fed from one task queue (see :mod:`.worker`)."""

    def __init__(self, n: int):
        import multiprocessing

        from .worker import worker_main

        ctx = multiprocessing.get_context("spawn")
        self.tasks = ctx.Queue()
        self.results = ctx.Queue()
        self.procs = [
            ctx.Process(target=worker_main, args=(i, self.tasks, self.results), name=f"annotator-track-{i}", daemon=True)
            for i in range(n)
        ]
        for p in self.procs:
            p.start()

    def submit(self, task) -> None:
        self.tasks.put(task)

    def close_input(self) -> None:
        for _ in self.procs:
            self.tasks.put(None)

    def get(self, timeout: float):
        try:
            return self.results.get(timeout=timeout)
        except queue.Empty:
            for p in self.procs:
                if p.exitcode not in (None, 0):
                    raise RuntimeError(f"tracking worker {p.name} died (exit code {p.exitcode})") from None
            if all(p.exitcode is not None for p in self.procs):
                try:  # results sent just before exiting may still be in the pipe
                    return self.results.get(timeout=timeout)
                except queue.Empty:
                    raise RuntimeError("tracking workers exited with work left") from None
            return None

    def stop(self, graceful: bool) -> None:
        if graceful:
            for p in self.procs:
                p.join(timeout=10)
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()
        for q in (self.tasks, self.results):
            q.cancel_join_thread()
            q.close()


# -- the command -------------------------------------------------------------------------------
def _settings(session, frames: int, backend, pose: bool, chunk_frames: int) -> dict:
    from .face import mediapipe_version
    from .pose import POSE_BACKEND

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
    }


def _prepare(videos, out_dir, backend, pose, chunk_frames, fps=None) -> list[_Job]:
    from ..session import Session, default_session_dir

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
            existed = root.exists()
            # Session.create opens (validates) the video before making any directory.
            session = Session.create(video, root, fps=fps)
            created_session = not existed
            if created_session:
                created_roots.append(session.root)
            with session.open_video() as source:
                frames = len(source)
                if frames == 0:
                    raise VideoError(video, "has no frames")
                times = np.asarray(source.timestamps, np.float64)
            settings = _settings(session, frames, backend, pose, chunk_frames)
            store_existed = session.tracks_path.exists()
            writer, status = TrackWriter.prepare(session.tracks_path, settings, times)
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
    job.writer.finish()
    if not job.writer.face_present_any():
        warnings.warn(f"{job.video}: no face found in any frame; face/present is all False", TrackingWarning, stacklevel=3)


def track_videos(
    videos: list[Path],
    out_dir: Path | None = None,
    face_model: str | None = None,
    pose: bool = True,
    workers: int | None = None,
    progress: bool = True,
    *,
    chunk_frames: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    fps: float | None = None,
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
        Worker processes (default: number of cores).  Results do not depend on it.
    progress : bool
        Show a progress bar on stderr.
    chunk_frames : int, optional
        Frames per chunk/block of new stores (default ``$ANNOTATOR_CHUNK_FRAMES``
        or 192); an existing store keeps its own.
    on_progress : callable, optional
        Called as ``on_progress(frames_done, frames_total)`` (over all videos,
        resumed frames included) as frames are tracked; for GUIs and benchmarks.
    fps : float, optional
        Frame rate of photos and frame folders among ``videos`` (default 1 for a
        photo, 30 for a folder; see :mod:`annotator.media.images`).  Video files
        keep their own.

    Returns
    -------
    list of Session
        One per distinct video, each with a complete store.

    Raises
    ------
    AnnotatorError
        Bad video, bad model, inconsistent session.  Sessions and stores made by
        this call are removed, so nothing half-made looks like a result.
    KeyboardInterrupt
        Workers are stopped; every block written so far is kept for resuming.
    """
    from .face import LEGACY_BACKEND, FaceBackend
    from .model_files import cached_face_model
    from .worker import RunTask

    chunk_frames = resolve_chunk_frames(chunk_frames)
    workers = int(workers or os.cpu_count() or 1)
    backend = FaceBackend.resolve(face_model)
    if backend.name == LEGACY_BACKEND:
        warnings.warn(
            f"no Face Landmarker bundle found (--face-model, $ANNOTATOR_FACE_MODEL, {cached_face_model()}); "
            "using the legacy Face Mesh: 478 landmarks but no blendshapes or head pose. "
            "Run `make setup` to install the bundle.",
            TrackingWarning,
            stacklevel=2,
        )
    jobs = _prepare(videos, out_dir, backend, pose, chunk_frames, fps)
    todo = [j for j in jobs if j.status != "complete"]
    tasks = []
    for job in todo:
        for first, stop in plan_runs(sorted(job.missing), workers):
            chunk = job.writer.chunk_frames  # an existing store keeps its own
            start = first * chunk
            stop_frame = block_range(stop - 1, job.writer.frames, chunk)[1]
            tasks.append(
                RunTask(
                    video=job.index,
                    path=str(job.session.video_path),
                    frames=job.writer.frames,
                    chunk_frames=chunk,
                    first_block=first,
                    stop_block=stop,
                    timestamps_ms=job.timestamps_ms[start:stop_frame],
                    face=backend,
                    pose=pose,
                )
            )
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
    pool = None
    graceful = False
    try:
        pool = _Pool(min(workers, len(tasks)))
        for task in tasks:
            pool.submit(task)
        pool.close_input()
        remaining = {j.index: set(j.missing) for j in todo if j.missing}
        while remaining:
            msg = pool.get(timeout=0.5)
            if msg is None:
                continue
            kind = msg[0]
            if kind == "progress":
                done += msg[2]
                if bar is not None:
                    bar.update(msg[2])
                if on_progress is not None:
                    on_progress(done, total)
            elif kind == "block":
                _, vid, block, data = msg
                if block in remaining.get(vid, ()):
                    jobs[vid].writer.write_block(block, data)
                    remaining[vid].discard(block)
                    if not remaining[vid]:
                        del remaining[vid]
                        _finish(jobs[vid])
            elif kind == "error":
                _, vid, exc = msg
                # This video's session or store is unusable; other videos' partial
                # stores stay resumable.
                _discard([jobs[vid]])
                raise exc
            elif kind == "crash":
                _discard([jobs[msg[1]]])
                raise RuntimeError(f"tracking {jobs[msg[1]].video} failed in a worker:\n{msg[2]}")
        graceful = True
    finally:
        # On Ctrl-C (or any error) the blocks already marked done stay: resumable.
        if pool is not None:
            pool.stop(graceful)
        if bar is not None:
            bar.close()
    return [j.session for j in jobs]
