"""Atomic file writes: a crash mid-write never leaves a truncated file.

Also the one check every writer of a user-named output goes through
(:func:`check_output_path`), and the one-line wording of OS errors
(:func:`describe_os_error`), and the user folders (cache, config) from platformdirs.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _with_filename(exc, path.parent) from None
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
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            # a full disk fails in write() or fsync() with no file name; name the target
            raise _with_filename(exc, path) from None
        raise
    _fsync_dir(path.parent)


def _with_filename(exc: OSError, path: Path) -> OSError:
    if exc.filename is None:
        exc.filename = os.fspath(path)
    return exc


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


# -- outputs the user names ------------------------------------------------------------
#: The file that marks a session directory (``annotator.session.SESSION_FILE``; this
#: module sits below the session layer, and a test keeps the two names equal).
SESSION_MARKER = "session.json"


def _inside_session(path: Path) -> Path | None:
    """The session directory ``path`` lies in (at any depth), else ``None``."""
    for parent in path.parents:
        if (parent / SESSION_MARKER).is_file():
            return parent
    return None


def check_output_path(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Check that writing a user-named output to ``path`` destroys nothing.

    Every command or widget that writes a file whose name the user typed calls
    this first, so every format gets the same protection.

    Parameters
    ----------
    path : path-like
        The output the user asked for.
    force : bool
        Allow replacing an existing regular file.

    Returns
    -------
    Path
        ``path``, unchanged, for chaining.

    Raises
    ------
    AnnotatorError
        When ``path`` lies inside a session directory (labels, tracks or the
        session file, symlinks resolved), is not a regular file (a symlink,
        directory, device or FIFO), is read-only, exists and ``force`` is not
        given, or its folder is missing or not writable.
    """
    from .errors import AnnotatorError

    path = Path(path)
    # resolve() follows every symlink on the way, so a link to a labels folder is caught too
    real = path.resolve()
    session = _inside_session(real)
    if session is not None:
        raise AnnotatorError(
            path, f"is inside the session {session} (labels, tracks); write the export somewhere else"
        )
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise AnnotatorError(path, f"cannot be written ({describe_os_error(exc, with_path=False)})") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise AnnotatorError(path, "is a symbolic link; name the real file instead")
        if stat.S_ISDIR(st.st_mode):
            raise AnnotatorError(path, "is a directory; name a file inside it")
        if not stat.S_ISREG(st.st_mode):
            raise AnnotatorError(path, "is not a regular file (a device, FIFO or socket); choose another name")
        # the mode bit too: root passes os.access, but the user marked the file read-only
        if not st.st_mode & stat.S_IWUSR or not os.access(path, os.W_OK):
            raise AnnotatorError(path, "is read-only; make it writable or choose another name")
        if not force:
            raise AnnotatorError(path, "already exists; pass --force to replace it")
    parent = real.parent
    if not parent.is_dir():
        what = "does not exist" if not parent.exists() else "is not a directory"
        raise AnnotatorError(path, f"cannot be written: its folder {parent} {what}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise AnnotatorError(path, f"cannot be written: its folder {parent} is not writable")
    return path


# -- OS errors in one line ---------------------------------------------------------------
_ADVICE = {
    errno.EACCES: "check its permissions, or use another location",
    errno.EPERM: "check its permissions, or use another location",
    errno.EROFS: "use another location",
    errno.ENOSPC: "the disk is full; free some space and run the command again",
    errno.EDQUOT: "the disk quota is exceeded; free some space and run the command again",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
    errno.EEXIST: "a file is in the way of a folder; move it away",
    errno.EISDIR: "it is a folder; name a file instead",
    errno.ENOENT: "check the path",
    errno.ENAMETOOLONG: "the name is too long; choose a shorter one",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and run the command again",
}


def describe_os_error(exc: OSError, *, with_path: bool = True) -> str:
    """``PATH: problem; what to do`` for an OS error, in one line.

    Used by the CLI so that permission, read-only, full-disk and wrong-kind-of-path
    errors read as user errors rather than tracebacks.
    """
    problem = exc.strerror or exc.__class__.__name__
    advice = _ADVICE.get(exc.errno)
    text = f"{problem.lower()}; {advice}" if advice else problem.lower()
    if with_path and exc.filename is not None:
        return f"{os.fsdecode(exc.filename)}: {text}"
    return text


def schema_problem(data: Any, schema: dict[str, Any]) -> str | None:
    """The most relevant way ``data`` breaks the JSON Schema ``schema``, as ``field: message``.

    ``None`` when it validates.  Formats (``date-time``...) are checked too.  The
    session, project and labels files all report their first problem this way.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"{where}: {error.message}"
