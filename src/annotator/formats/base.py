"""The format protocol: a class with ``read`` and ``write`` over :class:`~.records.Record`.

A format is found through the ``annotator.formats`` entry-point group, built-in
or third-party alike (see ``plugins/`` for one to copy).  It needs:

``name``, ``description``, ``suffix``
    what ``annotator formats`` lists; ``suffix`` picks the format by extension.
``frame_base``, ``emotions``
    one line each: how the file counts frames, and how its emotion names map to ours.
``read(path, **options) -> list[Record]``
    raising :class:`~annotator.errors.AnnotatorError` naming the file and the row
    or element for bad input; ``options`` may hold ``timing`` (the video's clock,
    for time-based formats), ``fps`` and ``frame_base``.
``write(records, path, **options) -> list[str]``
    writing one file atomically, and returning one line per thing it had to
    leave out (empty when nothing was lost).
``sniff(path) -> bool`` (optional)
    whether the file's content looks like this format, when the suffix is shared.

A format that only reads or only writes sets ``can_write`` or ``can_read`` to False.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import AnnotatorError
from .records import Record


class FormatError(AnnotatorError):
    """A file that does not hold what its format says (a missing column, a bad row)."""


@runtime_checkable
class Format(Protocol):
    name: str
    description: str
    suffix: str
    frame_base: str
    emotions: str
    can_read: bool
    can_write: bool

    def read(self, path: str | os.PathLike, **options: Any) -> list[Record]: ...

    def write(self, records: list[Record], path: str | os.PathLike, **options: Any) -> list[str]: ...


class BaseFormat:
    """Defaults for the built-in formats: both directions, no content sniffing."""

    name = ""
    description = ""
    suffix = ""
    frame_base = ""
    emotions = ""
    can_read = True
    can_write = True
    #: Whether writing needs each record's true frame times (ELAN's milliseconds do);
    #: frame-numbered tables do not, so their export never decodes the video.
    uses_timing = False

    @property
    def direction(self) -> str:
        return {(True, True): "read/write", (True, False): "read", (False, True): "write"}.get(
            (bool(self.can_read), bool(self.can_write)), "none"
        )

    def sniff(self, path: Path) -> bool:
        return False

    def read(self, path: str | os.PathLike, **options: Any) -> list[Record]:
        raise AnnotatorError(path, f"the {self.name} format cannot be read, only written")

    def write(self, records: list[Record], path: str | os.PathLike, **options: Any) -> list[str]:
        raise AnnotatorError(path, f"the {self.name} format cannot be written, only read")


def direction_of(fmt: Any) -> str:
    """``read/write``, ``read`` or ``write`` for any format object (third-party ones too)."""
    r, w = bool(getattr(fmt, "can_read", True)), bool(getattr(fmt, "can_write", True))
    return {(True, True): "read/write", (True, False): "read", (False, True): "write"}.get((r, w), "none")


def require_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path, or a one-line error when it is missing or not a file."""
    path = Path(path)
    if not path.exists():
        raise FormatError(path, "no such file")
    if not path.is_file():
        raise FormatError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise FormatError(path, "file is empty")
    return path
