"""Background work for the workbench: tracking a video without freezing the UI.

Tracking runs ``annotator track`` in a child process: MediaPipe then uses its
own cores and cannot hold the GUI's interpreter lock, and cancelling is a
SIGINT that the tracker already turns into "keep the finished blocks, stop".
Progress is read from the store's ``blocks_done`` markers.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path


def tracking_progress(session_dir: Path) -> tuple[int, int]:
    """``(blocks done, blocks)`` of a store being written (``(0, 0)`` before it exists)."""
    import zarr

    store = Path(session_dir) / "tracks.zarr"
    if not (store / "zarr.json").is_file():
        return 0, 0
    try:
        group = zarr.open_group(store=str(store), mode="r")
        done = group["blocks_done"][:]
        return int(done.sum()), int(done.size)
    except Exception:  # noqa: BLE001 - the store is being written; try again next tick
        return 0, 0


class TrackingChild:
    """The tracking child process of one run, shared with whoever may have to stop it.

    A thread worker that is told to quit only stops at its next yield and
    never closes its generator, so stopping the child cannot wait for the
    generator's ``finally``: :meth:`stop` interrupts the child directly, from
    the GUI (Cancel, or the window closing) or at interpreter exit.
    """

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.stopped = False

    def stop(self, wait: bool = False) -> None:
        """Ask the child to stop as on Ctrl-C (it keeps its finished blocks); ``wait`` for it to."""
        self.stopped = True
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        if wait:
            _interrupt(proc)
        else:
            try:
                proc.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass


_LIVE: "weakref.WeakSet[TrackingChild]"


def _stop_live_children() -> None:
    for child in list(_LIVE):
        child.stop(wait=True)


def track_and_propose(video: str | os.PathLike, session_dir=None, *, workers: int = 1, poll: float = 0.5,
                      child: TrackingChild | None = None, propose_only: bool = False):
    """Generator: track ``video`` in a child process, then propose segments.

    ``session_dir`` defaults to ``<video>.annot`` beside the video.  Yields
    ``(done, total, message)``; returns the session directory, or ``None``
    when ``child`` was stopped (Cancel).  The child keeps the blocks already
    written, so a later run resumes.  ``propose_only`` skips tracking (a
    session tracked but never proposed).
    """
    from ..session import Session, default_session_dir
    from ..spotting.propose import propose

    video = Path(video)
    session_dir = Path(session_dir) if session_dir is not None else default_session_dir(video)
    cmd = [sys.executable, "-m", "annotator", "track", str(video), "-q", "--workers", str(workers)]
    if session_dir != default_session_dir(video):
        cmd += ["-o", str(session_dir.parent)]
    # stderr goes to a file, not a pipe: a pipe nobody reads until the end would
    # block the child once it fills (~64 KB of warnings).
    child = child if child is not None else TrackingChild()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        if not propose_only and not child.stopped:
            child.proc = proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
            _LIVE.add(child)
            try:
                while proc.poll() is None:
                    done, total = tracking_progress(session_dir)
                    yield done, total, "tracking"
                    time.sleep(poll)
            finally:  # also when the generator is closed
                if proc.poll() is None:
                    _interrupt(proc)
                _LIVE.discard(child)
            if child.stopped:
                return None
            if proc.returncode != 0:
                log.seek(0)
                err = log.read().strip().splitlines()
                raise RuntimeError(err[-1] if err else f"tracking failed (exit {proc.returncode})")
    if child.stopped:
        return None
    yield 1, 1, "proposing"
    session = Session.open(session_dir)
    propose(session)
    return session_dir


def _interrupt(proc: subprocess.Popen) -> None:
    """Ask the tracker to stop as on Ctrl-C; kill it only if it does not."""
    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass


_LIVE = weakref.WeakSet()
# The last resort: a child outliving the GUI would go on tracking, orphaned.
atexit.register(_stop_live_children)
