"""``load_file`` / ``save_file``: one call for any format, picked by name, suffix or content (as sleap-io does)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import AnnotatorError
from ..labels import Labels
from .base import require_file
from .records import Record, au_intervals_left_out, collect_records, record_from_labels
from .registry import formats_for_suffix, get_format


def resolve_format(path: str | os.PathLike, format: str | None = None, *, reading: bool) -> Any:
    """The format to use for ``path``: ``format`` by name, else by suffix, else by sniffing content.

    Several formats share ``.csv`` and ``.xlsx``; reading asks each whether the
    content is its own, and writing needs ``format`` when the suffix is shared.
    """
    if format is not None:
        return get_format(format)
    path = Path(path)
    candidates = [f for f in formats_for_suffix(path) if getattr(f, "can_read" if reading else "can_write", True)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise AnnotatorError(path, f"no installed format reads or writes {path.suffix or 'files without a suffix'}; "
                                   "pass format= (see `annotator formats`)")
    names = ", ".join(f.name for f in candidates)
    if reading:
        for fmt in candidates:
            sniff = getattr(fmt, "sniff", None)
            if sniff is not None and sniff(path):
                return fmt
        raise AnnotatorError(path, f"content matches none of the {path.suffix} formats ({names}); pass format=")
    raise AnnotatorError(path, f"several formats write {path.suffix} ({names}); pass format=")


def load_file(path: str | os.PathLike, format: str | None = None, **options: Any) -> list[Record]:
    """Read ``path`` into records (one per coder and clip).

    Parameters
    ----------
    path : path-like
    format : str, optional
        A format name (``annotator formats`` lists them); by default chosen from
        the suffix, then the content.
    **options
        Passed to the format: ``timing``, ``fps``, ``frame_base``, ``coder``, ...
    """
    require_file(path)
    return list(resolve_format(path, format, reading=True).read(path, **options))


def as_records(obj: Any, **collect: Any) -> list[Record]:
    """Records from a Record, Labels, Session, or a list of any of them."""
    from ..session import Session

    items = obj if isinstance(obj, (list, tuple)) else [obj]
    out: list[Record] = []
    sessions = [x for x in items if isinstance(x, Session)]
    for item in items:
        if isinstance(item, Record):
            out.append(item)
        elif isinstance(item, Labels):
            out.append(record_from_labels(item, ""))
        elif not isinstance(item, Session):
            raise TypeError(f"cannot save a {type(item).__name__}: pass Records, Labels or Sessions")
    if sessions:
        out.extend(collect_records(sessions, **collect).records)
    return out


def save_file(obj: Any, path: str | os.PathLike, format: str | None = None, **options: Any) -> list[str]:
    """Write ``obj`` (records, labels or sessions) to ``path``; returns what the format left out.

    The file appears atomically: a failure leaves no partial file behind.
    """
    fmt = resolve_format(path, format, reading=False)
    if getattr(fmt, "exports", "labels") == "frames":  # frames-csv: a session's tracks, not its labels
        from ..session import Session

        if not isinstance(obj, Session):
            raise AnnotatorError(path, f"{fmt.name} writes one session's tracks; pass a Session")
        fmt.write_session(obj, path, **options)
        return []
    records = as_records(obj)
    return list(fmt.write(records, path, **options) or []) + au_intervals_left_out(fmt, records)
