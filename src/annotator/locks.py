"""One lock per session job: tracking, proposing, and each coder's labels file.

::

    clip.annot/
      .track.lock, .track.lock.info        held by ``annotator track`` (and read by propose/verify)
      .propose.lock, .propose.lock.info    held while ``labels/auto.json`` is written
      labels/.alice.lock, .alice.lock.info held by alice's editor (the workbench) while it is open

The locks are :mod:`filelock` OS locks (``flock``): the kernel drops them when
the process that holds them ends, however it ends, so a crash or a SIGKILL
never leaves a session locked.  The ``.info`` sidecar names the holder (pid,
host, command, start time); it is only ever read to tell a waiting user who
to wait for, never to decide whether the lock is free.

A second run waits up to ``$ANNOTATOR_LOCK_TIMEOUT`` seconds (default 5) and
then fails with one line naming the holder (:class:`~annotator.errors.LockedError`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from .errors import LockedError, SessionError
from .io import atomic_write_json

LOCK_TIMEOUT_ENV = "ANNOTATOR_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 5.0

TRACK = "track"
PROPOSE = "propose"
#: A project directory's lock (``DIR/.project.lock``), held while ``project.json`` changes.
PROJECT = "project"

_WHAT = {
    TRACK: "its tracks are being written",
    PROPOSE: "its proposals are being written",
    PROJECT: "its project file is being changed",
}


def lock_timeout(timeout: float | None = None) -> float:
    """The explicit value, else ``$ANNOTATOR_LOCK_TIMEOUT``, else 5 seconds."""
    if timeout is not None:
        return max(0.0, float(timeout))
    text = os.environ.get(LOCK_TIMEOUT_ENV)
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    try:
        return max(0.0, float(text))
    except ValueError:
        raise SessionError(None, f"${LOCK_TIMEOUT_ENV}={text!r} is not a number of seconds") from None


def lock_path(root: str | os.PathLike, job: str | None = None, *, coder: str | None = None) -> Path:
    """The lock file of a session job (``track``, ``propose``) or of a coder's labels."""
    root = Path(root)
    if coder is not None:
        return root / "labels" / f".{coder}.lock"
    if job not in _WHAT:
        raise ValueError(f"unknown session job {job!r}")
    return root / f".{job}.lock"


def holder(path: str | os.PathLike) -> dict | None:
    """What the holder of the lock at ``path`` wrote about itself, when it is readable."""
    try:
        info = json.loads(Path(f"{path}.info").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _describe_holder(info: dict | None) -> str:
    if not info:
        return "another process (it has not said which)"
    return (
        f"`{info.get('command', '?')}` (pid {info.get('pid', '?')} on {info.get('host', '?')}, "
        f"since {info.get('started', '?')})"
    )


def _my_info() -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": shlex.join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]),
        "started": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
    }


class SessionLock:
    """An exclusive lock on one job of one session; use as a context manager.

    Parameters
    ----------
    root : path
        The session directory.  When it does not exist yet it is created (so
        that two runs making the same fresh session meet at its lock), and it
        is removed again on release if nothing but the lock was put in it.
    job : ``"track"`` or ``"propose"``, optional
    coder : str, optional
        Lock this coder's labels file instead of a job.
    timeout : float, optional
        Seconds to wait for another holder (default ``$ANNOTATOR_LOCK_TIMEOUT`` or 5).
    read_only_ok : bool
        For readers: when the folder cannot hold a lock file (read-only), go on
        without one, since nobody can write there either.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        job: str | None = None,
        *,
        coder: str | None = None,
        timeout: float | None = None,
        read_only_ok: bool = False,
    ):
        self.root = Path(root)
        self.path = lock_path(self.root, job, coder=coder)
        self.job, self.coder = job, coder
        self.timeout = lock_timeout(timeout)
        self.read_only_ok = read_only_ok
        self._lock = None
        self._made_root = False

    @property
    def held(self) -> bool:
        return self._lock is not None

    def acquire(self) -> "SessionLock":
        """Take the lock, waiting at most ``timeout`` seconds.

        Raises
        ------
        LockedError
            Someone else holds it; the message names them.
        SessionError
            The folder cannot hold a lock file (read-only, not a directory...).
        """
        from filelock import FileLock, Timeout

        if self._lock is not None:
            return self
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self._make_dirs()
                lock = FileLock(str(self.path))
                lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
                break
            except Timeout:
                raise LockedError(self._subject(), self._busy_message()) from None
            except FileNotFoundError:
                # The holder removed a fresh session it had failed to fill: make it again.
                if time.monotonic() > deadline:
                    raise LockedError(self._subject(), self._busy_message()) from None
                continue
            except OSError as exc:
                if self.read_only_ok:
                    return self
                reason = (exc.strerror or exc.__class__.__name__).lower()
                raise SessionError(self.path.parent, f"cannot take a lock here: {reason}; check that it is writable") from None
        self._lock = lock
        try:
            atomic_write_json(f"{self.path}.info", _my_info())
        except OSError:
            pass  # the lock holds without its description; a waiter is told less
        return self

    def release(self) -> None:
        """Give the lock up (and remove a session folder that only held the lock)."""
        lock, self._lock = self._lock, None
        if lock is None:
            return
        try:
            # Removed while still held, so it never erases a later holder's description.
            with contextlib.suppress(OSError):
                os.unlink(f"{self.path}.info")
            if self._made_root:
                self._remove_empty_root()
        finally:
            lock.release()

    def __enter__(self) -> "SessionLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    # -- helpers ---------------------------------------------------------------------------
    def _make_dirs(self) -> None:
        if not self.root.exists():
            try:
                self.root.mkdir(parents=True)
                self._made_root = True
            except FileExistsError:
                pass  # another run made it first: we meet at the lock
        self.path.parent.mkdir(exist_ok=True)

    def _remove_empty_root(self) -> None:
        lock_names = {p.name for p in self.root.glob(".*.lock")} | {p.name for p in self.root.glob(".*.lock.info")}
        try:
            entries = {p.name for p in self.root.iterdir()}
        except OSError:
            return
        labels = self.root / "labels"
        if entries - lock_names - {"labels"}:
            return
        if "labels" in entries and any(not p.name.startswith(".") for p in labels.iterdir()):
            return
        for name in lock_names:
            with contextlib.suppress(OSError):
                (self.root / name).unlink()
        with contextlib.suppress(OSError):
            for p in labels.iterdir():
                p.unlink()
            labels.rmdir()
        with contextlib.suppress(OSError):
            self.root.rmdir()

    def _subject(self) -> Path:
        return self.root / "labels" / f"{self.coder}.json" if self.coder is not None else self.root

    def _busy_message(self) -> str:
        who = _describe_holder(holder(self.path))
        if self.coder is not None:
            return f"busy: {self.coder}'s labels are open for editing by {who}; close that workbench first"
        return f"busy: {_WHAT[self.job]} by {who}; wait for it to finish, or stop it"


def session_lock(root: str | os.PathLike, job: str | None = None, **kwargs) -> SessionLock:
    """A :class:`SessionLock` (not yet taken); ``with session_lock(root, "track"): ...``."""
    return SessionLock(root, job, **kwargs)


@contextlib.contextmanager
def session_locks(roots, job: str, **kwargs) -> Iterator[list[SessionLock]]:
    """Hold ``job``'s lock on several sessions at once, taken in a fixed order (no deadlock)."""
    unique = sorted({Path(os.path.abspath(r)): None for r in roots})
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(SessionLock(r, job, **kwargs)) for r in unique]


__all__ = [
    "SessionLock", "session_lock", "session_locks", "lock_path", "holder", "lock_timeout",
    "TRACK", "PROPOSE", "PROJECT",
]
