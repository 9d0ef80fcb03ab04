"""Atomic file writes (a crash mid-write never leaves a truncated file) and the user folders."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only once the ``with`` block succeeds.

    It is written next to ``path`` under a temporary name, fsynced, and renamed
    over ``path`` (atomic on POSIX), so a crash or an exception leaves either
    the old file or the new one, never a truncated one, and no temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            # mkstemp creates 0600; give the file the mode a plain open() would (or keep the
            # old one).  Best effort: vfat/exFAT and some CIFS mounts refuse chmod.
            try:
                mode = path.stat().st_mode & 0o777
            except FileNotFoundError:
                mode = 0o666 & ~_UMASK
            with contextlib.suppress(OSError):
                os.fchmod(fh.fileno(), mode)
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: fsync the directory that holds it (best effort)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as fh:
        fh.write(data)


def _read_umask() -> int:
    # os.umask can only be read by setting it; do it once, at import, before any
    # thread could create a file under the briefly changed mask.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def user_dir(override_env: str, kind: str) -> Path:
    """``$override_env`` when set, else the platform's user ``kind`` folder for annotator.

    ``kind`` is ``"cache"`` or ``"config"``.  The folders come from platformdirs:
    ``~/.cache/annotator`` and ``~/.config/annotator`` on Linux (honouring
    ``$XDG_CACHE_HOME`` / ``$XDG_CONFIG_HOME``), ``~/Library/...`` on macOS, and
    ``%LOCALAPPDATA%`` on Windows.
    """
    if os.environ.get(override_env):
        return Path(os.environ[override_env])
    import platformdirs

    find = {"cache": platformdirs.user_cache_path, "config": platformdirs.user_config_path}[kind]
    return find("annotator", appauthor=False)


def cache_dir() -> Path:
    """``$ANNOTATOR_CACHE``, else the user cache folder (``~/.cache/annotator`` on Linux)."""
    return user_dir("ANNOTATOR_CACHE", "cache")


def config_dir() -> Path:
    """``$ANNOTATOR_CONFIG``, else the user config folder (``~/.config/annotator`` on Linux)."""
    return user_dir("ANNOTATOR_CONFIG", "config")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
