"""Discovery of formats through the ``annotator.formats`` entry points.

Built-in and third-party formats are found the same way.  A plugin that fails
to import or to instantiate is reported once, as a :class:`FormatPluginWarning`,
and skipped: a broken third-party package never stops annotator.
"""

from __future__ import annotations

import warnings
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from ..errors import AnnotatorError

ENTRY_POINT_GROUP = "annotator.formats"


class FormatPluginWarning(UserWarning):
    """A format plugin that could not be loaded (it is skipped)."""


def _entry_points() -> list[EntryPoint]:
    seen: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        # the first distribution to claim a name keeps it, as importlib orders them
        seen.setdefault(ep.name, ep)
    return [seen[k] for k in sorted(seen)]


@cache
def _load(ep: EntryPoint) -> Any | None:
    try:
        obj = ep.load()
        fmt = obj() if isinstance(obj, type) else obj
        missing = [a for a in ("name", "suffix", "read", "write") if not hasattr(fmt, a)]
        if missing:
            raise TypeError(f"lacks {', '.join(missing)}")
    except Exception as exc:  # noqa: BLE001 - any failure of third-party code is reported, not fatal
        where = f" (from {ep.dist.name})" if getattr(ep, "dist", None) is not None else ""
        warnings.warn(
            f"format plugin {ep.name!r}{where} failed to load and is skipped: "
            f"{exc.__class__.__name__}: {' '.join(str(exc).split())}",
            FormatPluginWarning,
            stacklevel=3,
        )
        return None
    return fmt


def available_formats() -> dict[str, Any]:
    """``{name: format}`` of every installed format that loads, sorted by name."""
    out = {}
    for ep in _entry_points():
        fmt = _load(ep)
        if fmt is not None:
            out[ep.name] = fmt
    return out


def format_names() -> list[str]:
    """Names of the installed formats, without importing them (for ``--help``)."""
    return [ep.name for ep in _entry_points()]


def get_format(name: str) -> Any:
    """The format registered as ``name``.

    Raises
    ------
    AnnotatorError
        When no installed format has that name; the message lists the ones that do.
    """
    eps = {ep.name: ep for ep in _entry_points()}
    if name not in eps:
        known = ", ".join(eps) or "none installed"
        raise AnnotatorError(None, f"unknown format {name!r} (available: {known})")
    fmt = _load(eps[name])
    if fmt is None:
        raise AnnotatorError(None, f"format {name!r} is installed but failed to load (see the warning above)")
    return fmt


def formats_for_suffix(path: str | Path) -> list[Any]:
    """Formats whose suffix matches ``path``'s (case-insensitive), by name."""
    suffix = "".join(Path(path).suffixes[-1:]).lower()
    return [f for f in available_formats().values() if str(f.suffix).lower() == suffix]
