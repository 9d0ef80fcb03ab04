"""What the video cache holds, and keeping it small (``annotator cache``).

Two kinds of entry live under the user cache (:func:`annotator.io.cache_dir`):

- **indexes**, ``video/<key>/`` keyed by a file's real path, size and mtime:
  a demux index and the file's sha256, a few kB to a few MB each;
- **proxies**, ``proxy/<sha256 prefix>/`` keyed by content
  (:mod:`.proxy`): every decoded frame, hundreds of MB each.

Cleaning removes whole entries.  A proxy goes index first
(:func:`.proxy.remove_pack`), so a reader never opens half of one; an open
:class:`~annotator.media.video.VideoSource` keeps reading its already open file.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .index import cache_root
from .proxy import INDEX_NAME, LZ4, SOURCE_NAME, SizeEstimate, proxy_root, remove_pack


@dataclass(frozen=True)
class CacheEntry:
    """One directory of the cache: ``kind`` is ``"proxy"`` or ``"index"``."""

    kind: str
    path: Path
    size: int
    last_used: float
    source: str | None
    #: A proxy's format and how many times smaller than LZ4 RGB (its sampled frames).
    detail: str | None = None


def _size(directory: Path) -> int:
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _last_used(directory: Path) -> float:
    for name in (INDEX_NAME, "index.npz"):
        try:
            return (directory / name).stat().st_mtime
        except OSError:
            pass
    try:
        return directory.stat().st_mtime
    except OSError:
        return 0.0


def _source(directory: Path) -> str | None:
    try:
        return (directory / SOURCE_NAME).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _detail(directory: Path) -> str | None:
    try:
        with np.load(directory / INDEX_NAME, allow_pickle=False) as z:
            fmt = str(z["format"]) if "format" in z.files else LZ4
            estimate = SizeEstimate.from_index(z)
    except Exception:  # no index, or not one of ours: nothing to say
        return None
    return fmt if estimate is None or not estimate.coded else f"{fmt}, {estimate.ratio:.1f}× smaller than LZ4 RGB"


def list_cache() -> list[CacheEntry]:
    """Every entry, proxies first, each kind most recently used first."""
    out = []
    for kind, root in (("proxy", proxy_root()), ("index", cache_root())):
        try:
            dirs = [d for d in root.iterdir() if d.is_dir()]
        except OSError:
            continue
        entries = [CacheEntry(kind, d, _size(d), _last_used(d),
                              *((_source(d), _detail(d)) if kind == "proxy" else (None, None)))
                   for d in dirs]
        out += sorted(entries, key=lambda e: -e.last_used)
    return out


def remove_entry(entry: CacheEntry) -> None:
    if entry.kind == "proxy":
        remove_pack(entry.path)
    shutil.rmtree(entry.path, ignore_errors=True)


def clean_cache(*, max_size: int | None = None, proxies_only: bool = False) -> list[CacheEntry]:
    """Remove entries and return them.

    With ``max_size`` (bytes), the least recently used proxies go first, then
    indexes, until the cache is at most that size; without it, everything
    (or every proxy, with ``proxies_only``) goes.
    """
    entries = list_cache()
    if proxies_only:
        entries = [e for e in entries if e.kind == "proxy"]
    if max_size is None:
        doomed = entries
    else:
        total = sum(e.size for e in list_cache())
        order = sorted(entries, key=lambda e: (e.kind != "proxy", e.last_used))
        doomed = []
        for entry in order:
            if total <= max_size:
                break
            doomed.append(entry)
            total -= entry.size
    for entry in doomed:
        remove_entry(entry)
    return doomed


_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """``"500M"``, ``"2G"``, ``"2GB"``, ``"1024"`` → bytes; ``ValueError`` otherwise."""
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    number, unit = (t[:-1], t[-1]) if t and t[-1] in _UNITS else (t, "")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a size (e.g. 500M, 2G)") from None
    if value < 0:
        raise ValueError(f"{text!r} is not a size (e.g. 500M, 2G)")
    return int(value * _UNITS[unit])


def format_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def age(seconds_since_epoch: float) -> str:
    days = (time.time() - seconds_since_epoch) / 86400
    return "today" if days < 1 else f"{days:.0f} d ago"
