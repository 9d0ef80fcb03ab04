"""Background work for the workbench: tracking a video without freezing the UI.

Tracking runs ``annotator track`` in a child process: MediaPipe then uses its
own cores and cannot hold the GUI's interpreter lock, and cancelling is a
SIGINT that the tracker already turns into "keep the finished blocks, stop".
Progress is read from the store's ``blocks_done`` markers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
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


def track_and_propose(video: str | os.PathLike, session_dir=None, *, workers: int = 1, poll: float = 0.5,
                      cancel=None):
    """Generator: track ``video`` in a child process, then propose segments.

    ``session_dir`` defaults to ``<video>.annot`` beside the video.  Yields
    ``(done, total, message)``; returns the session directory, or ``None`` when
    cancelled.  Setting ``cancel`` (a :class:`threading.Event`) interrupts the
    child and returns only once it has exited, so its session lock is free and
    its finished blocks are kept for a later run to resume.  (napari's worker
    ``quit()`` alone does not close the generator, so it cannot be relied on to
    stop the child.)
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
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        try:
            while proc.poll() is None:
                if cancel is not None and cancel.is_set():
                    _interrupt(proc)
                    return None
                done, total = tracking_progress(session_dir)
                yield done, total, "tracking"
                time.sleep(poll)
        finally:  # also when the generator is closed (cancel)
            if proc.poll() is None:
                _interrupt(proc)
        if proc.returncode != 0:
            log.seek(0)
            err = log.read().strip().splitlines()
            raise RuntimeError(err[-1] if err else f"tracking failed (exit {proc.returncode})")
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
