"""Errors meant for users: one line naming the file and the problem.

Everything the CLI, the napari reader and the library raise for bad input is an
:class:`AnnotatorError`.  Anything else escaping is a bug and keeps its traceback.
"""

from __future__ import annotations

import os


class AnnotatorError(Exception):
    """A problem with the user's input, described in one line.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The file or directory the problem is about.
    message : str
        What is wrong, and where useful, what to do about it.
    """

    def __init__(self, path: str | os.PathLike | None, message: str):
        self.path = None if path is None else os.fspath(path)
        self.message = " ".join(str(message).split())
        super().__init__(str(self))

    def __reduce__(self):
        # survive pickling across worker processes with path and message intact
        return (self.__class__, (self.path, self.message))

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        return f"{self.path}: {self.message}"


class VideoError(AnnotatorError):
    """A video that is missing, empty, unreadable or truncated."""


class LabelsError(AnnotatorError):
    """A labels file that is missing, invalid, or belongs to another video."""


class SessionError(AnnotatorError):
    """A session directory that is missing or inconsistent."""


class ModelError(AnnotatorError):
    """A model file that is missing or does not match its checksum."""


class LockedError(SessionError):
    """A session job or a coder's file is locked by another process (named in the message)."""


class TrackingError(AnnotatorError):
    """Tracking stopped for a reason outside the input (a worker killed, out of memory...)."""
