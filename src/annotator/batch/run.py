"""``annotator batch``: track (and propose) a corpus on a Dask cluster.

How it runs
-----------
Every video goes through :func:`annotator.tracking.run.track_videos`, the
function behind ``annotator track``, with ``client.get_executor(retries=K,
pure=False)`` as its executor.  So the blocks are the same tasks
(:func:`~annotator.tracking.worker.track_blocks`), the workers only compute,
and this process alone writes the stores, whole chunks at a time: the arrays
are bit-identical to ``annotator track``.

Each video is driven by a thread of this process, so a bad video raises in
its own thread and fails alone while the others go on.  Several videos are in
flight at once (twice the cluster's threads), and each is cut into runs short
enough that every worker gets some (``plan_runs(missing, threads)``), so the
blocks of one long video spread over the whole cluster instead of queueing
behind each other, and short videos keep it busy between long ones.

Probing (sha256, frame count) runs in a small pool of its own, ahead of
tracking, so the progress bar learns the corpus's size early without holding
up the first tasks.

Robustness
----------
- A worker that dies has its running tasks rescheduled by the scheduler, up
  to ``distributed.scheduler.allowed-failures`` times (set to ``--retries`` on
  the LocalCluster); an exception inside a task is retried ``--retries`` times
  (``get_executor(retries=...)``).  Blocks are pure, so a retried block gives
  the same arrays.
- A video whose session already holds complete tracks of the same file
  (sha256) with the same settings is skipped; a partial one is resumed.
- Proposals (``--propose``) are made here, after a video's tracks are complete:
  they read the whole store and take well under a second per hour of video
  (docs/benchmarks.md), against about 40 minutes of tracking on a 2-core
  machine, and writing them here keeps this process the only writer.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ..errors import AnnotatorError
from ..tracking.store import DEFAULT_MIN_FACE_RUN
from .inputs import collect_inputs, only_projects, resolve_outdir
from .remote import RemoteOut
from .report import BatchReport, Outcome

#: Threads that hash and index videos ahead of tracking (I/O bound).
PROBE_THREADS = 2


@dataclass(frozen=True)
class _Probe:
    video: Path
    root: Path
    frames: int
    complete: bool  # tracks of this very file were complete before this run


class _Progress:
    """One bar over the corpus: frames, frames/s, time left, videos, and what each worker runs."""

    def __init__(self, n_videos: int, client, enabled: bool):
        self.n_videos = n_videos
        self.client = client
        self.lock = threading.Lock()
        self.done_by_video: dict[int, int] = {}
        self.finished = self.failed = self.probed = 0
        self.bar = None
        self._stop = threading.Event()
        self._thread = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="frame", desc="batch", file=sys.stderr, dynamic_ncols=True,
                            smoothing=0.1, mininterval=0.5)
            self._thread = threading.Thread(target=self._watch, name="batch-progress", daemon=True)
            self._thread.start()

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def add_frames(self, frames: int) -> None:
        with self.lock:
            self.probed += 1
            if self.bar is not None and frames:
                self.bar.total += frames
                self.bar.refresh()

    def callback(self, key: int) -> Callable[[int, int], None]:
        def on_progress(done: int, total: int) -> None:
            with self.lock:
                delta = done - self.done_by_video.get(key, 0)
                self.done_by_video[key] = done
                if self.bar is not None and delta > 0:
                    self.bar.update(delta)

        return on_progress

    def outcome(self, outcome: Outcome) -> None:
        with self.lock:
            self.finished += 1
            self.failed += outcome.status == "failed"
        if outcome.status == "failed":
            self.write(f"annotator: failed: {outcome.reason}")

    def _watch(self) -> None:
        from .cluster import worker_names

        while not self._stop.wait(1.0):
            try:
                names = worker_names(self.client)
                busy = self.client.processing()
            except Exception:  # noqa: BLE001 - the scheduler is busy or going away; try again
                continue
            workers = " ".join(f"{names.get(a, a)}:{len(busy.get(a, ()))}" for a in sorted(names, key=lambda a: names[a]))
            with self.lock:
                text = f"videos {self.finished}/{self.n_videos}" + (f" ({self.failed} failed)" if self.failed else "")
                if self.probed < self.n_videos:
                    text += f", probed {self.probed}"
                self.bar.set_postfix_str(f"{text} | blocks running per worker {workers}", refresh=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.bar is not None:
            self.bar.close()


def _assign_sessions(videos: list[tuple[Path, Path | None]], out: Path) -> tuple[list[tuple[Path, Path]], list[Outcome]]:
    """Each video's session directory; a second video with the same name fails (never shares a session)."""
    from ..session import default_session_dir

    owners: dict[Path, Path] = {}
    planned, clashes = [], []
    for video, session in videos:
        root = session if session is not None else default_session_dir(video, out)
        key = root.resolve()
        if key in owners:
            clashes.append(Outcome(str(video), "failed", reason=f"{video}: would share the session {root} with {owners[key]}; rename one or run it with another -o"))
            continue
        owners[key] = video
        planned.append((video, root))
    return planned, clashes


def _probe(video: Path, root: Path, remote: RemoteOut | None = None) -> _Probe:
    from ..media import open_video
    from ..session import Session, is_session_dir
    from ..tracking.store import tracks_complete

    with open_video(video) as source:
        sha, frames = source.sha256, len(source)
    complete = False
    if remote is not None:
        # What counts is the store: the staging copy is gone once published.
        meta = remote.read_meta(root.name)
        if meta is not None and meta.get("video", {}).get("sha256") != sha:
            raise AnnotatorError(video, f"{remote.display(root.name)} belongs to another video "
                                        f"({meta.get('video', {}).get('path')}); choose another -o")
        complete = meta is not None and remote.tracks_complete(root.name)
    elif is_session_dir(root):
        with contextlib.suppress(AnnotatorError):
            complete = Session.open(root).sha256 == sha and tracks_complete(root)
    return _Probe(video, root, frames, complete)


def _reason(video: Path, exc: BaseException, retries: int) -> str:
    """One line for the summary: what went wrong with which video."""
    from distributed.scheduler import KilledWorker

    if isinstance(exc, AnnotatorError):
        text = str(exc)
        return text if text.startswith(str(video)) else f"{video}: {text}"
    if isinstance(exc, KilledWorker):
        return (f"{video}: a worker died under one of its blocks {retries + 1} times (out of memory?); "
                "the video's blocks are tracked again on the next run")
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{video}: {type(exc).__name__}: {first} (a bug: please report it with the traceback above)"


def run_batch(
    inputs: list[str | os.PathLike],
    outdir: str | os.PathLike | None,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    propose: bool = False,
    model: str | None = None,
    retries: int = 3,
    face_model: str | None = None,
    pose: bool = True,
    min_face_run: int = DEFAULT_MIN_FACE_RUN,
    chunk_frames: int | None = None,
    progress: bool = True,
    client=None,
) -> BatchReport:
    """Track every video of ``inputs`` into ``outdir/<name>.annot`` on a Dask cluster.

    Parameters
    ----------
    inputs : list of path
        Videos, folders (walked for videos; a folder of images is one clip), and
        projects: a project's videos are tracked into the session folders its
        ``project.json`` names, not into ``outdir``.
    outdir : path or URL
        A local directory, a ``file://`` URL, or any URL fsspec understands
        (``s3://``, ``memory://``...), where sessions are published once
        complete (see :mod:`.remote`).  May be ``None`` when every input is a
        project: the summary then goes into the first project's folder.
    scheduler : str, optional
        A running scheduler's address; default a new ``LocalCluster``.
    workers : int
        The LocalCluster's worker processes (one thread each).
    propose : bool
        Also write proposals (``labels/auto.json``), with ``model`` if given.
    retries : int
        Retries of a task that raised, and deaths of a worker a task may survive.
    face_model, pose, min_face_run, chunk_frames
        As for :func:`annotator.tracking.run.track_videos`.
    progress : bool
        A progress bar and the dashboard link on stderr.
    client : distributed.Client, optional
        Use this client (``scheduler`` and ``workers`` are then ignored).

    Returns
    -------
    BatchReport
        Also written to ``outdir/batch-summary.json``.

    Raises
    ------
    AnnotatorError
        Bad inputs, OUTDIR or face model, or an unreachable scheduler: before
        anything is written.  A bad *video* is not raised; it is a failed outcome.
    """
    from ..tracking.face import FaceBackend
    from .cluster import connect, total_threads

    if retries < 0:
        raise AnnotatorError(None, f"--retries must be 0 or more, got {retries}")
    if outdir is None:
        if not only_projects(inputs):
            raise AnnotatorError(None, "-o OUTDIR is needed for inputs that are not projects")
        from ..project import Project

        outdir = Project.open(inputs[0]).root
    out = resolve_outdir(outdir)
    remote = out if isinstance(out, RemoteOut) else None
    if remote is None and out.exists() and not out.is_dir():
        raise AnnotatorError(out, "is a file, not a folder for the sessions")
    pairs = collect_inputs(inputs)
    videos = [v for v, _ in pairs]
    FaceBackend.resolve(face_model)  # a bad --face-model fails here once, not once per video
    if remote is not None:
        remote.prepare()  # after every check of the inputs: nothing is written for bad ones
        out = remote.staging()
    planned, clashes = _assign_sessions(pairs, out)
    in_projects = {s for _, s in pairs if s is not None}  # tracked where their project says, never staged
    report = BatchReport(outcomes=list(clashes))
    started = time.monotonic()
    own = contextlib.nullcontext(client) if client is not None else connect(scheduler, workers, retries)
    with own as client:
        report.workers = len(client.nthreads())
        report.scheduler = str(client.scheduler.address)
        report.dashboard = getattr(client, "dashboard_link", None)
        threads = total_threads(client)
        bar = _Progress(len(videos), client, progress)
        if progress:
            bar.write(f"annotator: {len(videos)} videos on {report.workers} workers ({report.scheduler}); dashboard {report.dashboard}")
        for o in clashes:
            bar.outcome(o)
        out.mkdir(parents=True, exist_ok=True)
        frames_before: dict[int, int] = {}

        def track(key: int, p: _Probe) -> Outcome:
            from ..labels import AUTO_CODER
            from ..tracking.run import track_videos

            t0 = time.monotonic()
            name = p.root.name
            remote_here = remote if p.root not in in_projects else None
            try:
                if remote_here is not None and p.complete:
                    if not propose or remote.has(name, "labels", f"{AUTO_CODER}.json"):
                        return Outcome(str(p.video), "skipped", remote.display(name), p.frames, time.monotonic() - t0)
                    remote.download(name, p.root)  # its tracks, to propose from
                (session,) = track_videos(
                    [p.video], out_dir=p.root.parent, face_model=face_model, pose=pose, workers=threads,
                    progress=False, chunk_frames=chunk_frames, min_face_run=min_face_run,
                    executor=client.get_executor(retries=retries, pure=False),
                    on_progress=bar.callback(key),
                )
                wrote = not p.complete
                if propose and (wrote or not session.has_labels(AUTO_CODER)):
                    from ..spotting.propose import propose as make_proposals

                    make_proposals(session, model=model)
                    wrote = True
                if remote_here is not None:
                    where = remote.publish(session.root, p.video, tracks=not p.complete)
                    shutil.rmtree(session.root, ignore_errors=True)
                    return Outcome(str(p.video), "done", where, p.frames, time.monotonic() - t0)
            except Exception as exc:  # noqa: BLE001 - one video fails alone; bugs keep their traceback
                if not isinstance(exc, AnnotatorError):
                    bar.write("".join(traceback.format_exception(exc)).rstrip())
                where = remote_here.display(name) if remote_here is not None and remote_here.has(name) else (
                    str(p.root) if remote_here is None and p.root.exists() else None)
                return Outcome(str(p.video), "failed", where, p.frames,
                               time.monotonic() - t0, _reason(p.video, exc, retries))
            return Outcome(str(p.video), "done" if wrote else "skipped", str(session.root), p.frames, time.monotonic() - t0)

        # Enough videos in flight that short ones keep every worker fed.
        in_flight = max(2, 2 * threads)
        try:
            with ThreadPoolExecutor(PROBE_THREADS, "batch-probe") as probes, \
                    ThreadPoolExecutor(min(in_flight, max(1, len(planned))), "batch-video") as videos_pool:
                probing = {probes.submit(_probe, v, r, remote if r not in in_projects else None): (i, v, r) for i, (v, r) in enumerate(planned)}
                tracking = {}
                for f in as_completed(probing):
                    i, video, root = probing[f]
                    try:
                        p = f.result()
                    except Exception as exc:  # noqa: BLE001 - an unreadable video fails alone
                        o = Outcome(str(video), "failed", None, 0, 0.0, _reason(video, exc, retries))
                        report.outcomes.append(o)
                        bar.outcome(o)
                        continue
                    bar.add_frames(0 if p.complete else p.frames)
                    frames_before[i] = p.frames if not p.complete else 0
                    tracking[videos_pool.submit(track, i, p)] = i
                for f in as_completed(tracking):
                    o = f.result()
                    report.outcomes.append(o)
                    bar.outcome(o)
        finally:
            bar.close()
    report.seconds = time.monotonic() - started
    done = {o.video for o in report.by_status("done")}
    report.frames_tracked = sum(n for i, n in frames_before.items() if str(planned[i][0]) in done)
    if remote is not None:
        remote.write_json("batch-summary.json", report.to_dict())
    else:
        report.write_json(out)
    return report
