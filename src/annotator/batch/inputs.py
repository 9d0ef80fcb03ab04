"""What a batch runs on: the videos behind the inputs, and where the sessions go."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AnnotatorError
from ..session import SESSION_SUFFIX, VIDEO_SUFFIXES

if TYPE_CHECKING:  # pragma: no cover
    from .remote import RemoteOut

#: Image suffixes that make a folder without videos a frame folder (one clip of numbered images).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def _walk(folder: Path) -> list[Path]:
    """Videos under ``folder`` (sorted, so a rerun plans the same order), or the folder if it holds frames."""
    videos: list[Path] = []
    frame_dirs: list[Path] = []
    for root, dirs, files in os.walk(folder):
        # Sessions hold proxies and stores, never inputs.
        dirs[:] = sorted(d for d in dirs if not d.endswith(SESSION_SUFFIX) and not d.startswith("."))
        names = sorted(f for f in files if not f.startswith("."))
        found = [Path(root) / f for f in names if Path(f).suffix.lower() in VIDEO_SUFFIXES]
        videos.extend(found)
        if not found and any(Path(f).suffix.lower() in IMAGE_SUFFIXES for f in names):
            frame_dirs.append(Path(root))
    # A folder of numbered images is one clip (annotator.media reads it as a video).
    return videos + frame_dirs


def _project_sessions(path: Path) -> list[tuple[Path, Path]]:
    """A project's (video, session folder) pairs, where ``project.json`` says they are."""
    from ..project import Project, ProjectError

    project = Project.open(path)
    if not project.sessions:
        raise ProjectError(project.root, "has no sessions yet; add some with `annotator project add`")
    pairs = []
    for entry in project.sessions:
        if entry.session.name != entry.video.stem + SESSION_SUFFIX and entry.video.name not in ("", ".."):
            raise ProjectError(entry.session, f"is not named after its video {entry.video.name}; "
                                              "track it with `annotator track`")
        pairs.append((entry.video, entry.session))
    return pairs


def collect_inputs(inputs: list[str | os.PathLike]) -> list[tuple[Path, Path | None]]:
    """Videos, folders of videos (walked), frame folders and projects, as ``(video, session)`` pairs.

    ``session`` is the folder a project says the video's session is in (tracked
    there, wherever OUTDIR is), or ``None`` for ``OUTDIR/<name>.annot``.

    Raises
    ------
    AnnotatorError
        An input that does not exist, a project without sessions, or inputs that
        hold no video at all; named before anything is written.
    """
    from ..project import is_project_dir

    out: list[tuple[Path, Path | None]] = []
    seen: set[Path] = set()
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise AnnotatorError(path, "no such file or folder")
        if is_project_dir(path):
            found = _project_sessions(path)
        else:
            found = [(v, None) for v in (_walk(path) if path.is_dir() else [path])]
        for video, session in found:
            key = video.resolve()
            if key not in seen:  # the same video named twice (directly and in its folder)
                seen.add(key)
                out.append((video, session))
    if not out:
        raise AnnotatorError(Path(inputs[0]) if inputs else None, f"no videos found (suffixes: {' '.join(VIDEO_SUFFIXES)})")
    return out


def collect_videos(inputs: list[str | os.PathLike]) -> list[Path]:
    """The videos of :func:`collect_inputs`."""
    return [video for video, _ in collect_inputs(inputs)]


def only_projects(inputs: list[str | os.PathLike]) -> bool:
    """Whether every input is a project (then OUTDIR may be left out)."""
    from ..project import is_project_dir

    return bool(inputs) and all(is_project_dir(i) for i in inputs)


def resolve_outdir(outdir: str | os.PathLike) -> "Path | RemoteOut":
    """OUTDIR as a local directory (a path or a ``file://`` URL), or a remote fsspec store.

    Any other URL fsspec understands (``s3://``, ``gs://``, ``memory://``...) is a
    :class:`~annotator.batch.remote.RemoteOut`: sessions are staged locally and
    published there when complete (see :mod:`annotator.batch.remote`).

    Raises
    ------
    AnnotatorError
        A URL fsspec does not understand, or whose implementation is not installed.
    """
    text = os.fspath(outdir)
    if "://" not in text and not text.startswith("file:"):
        return Path(text)
    from .remote import open_remote

    remote = open_remote(text)
    if remote is not None:
        return remote
    import fsspec.core

    return Path(fsspec.core.url_to_fs(text)[1])


def refuse_in_process_store(outdir: str | os.PathLike) -> None:
    """The command line's check: a ``memory://`` OUTDIR would vanish when the command ends."""
    text = os.fspath(outdir)
    if text.startswith("memory:"):
        raise AnnotatorError(text, "a memory:// store lives only inside one process and would vanish when "
                                   "the command ends; use run_batch() from Python for it, or a folder or bucket here")
