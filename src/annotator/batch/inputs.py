"""What a batch runs on: the videos behind the inputs, and where the sessions go."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import AnnotatorError
from ..session import SESSION_SUFFIX, VIDEO_SUFFIXES

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


def collect_videos(inputs: list[str | os.PathLike]) -> list[Path]:
    """Videos, folders of videos (walked) and frame folders, as one list of videos.

    Raises
    ------
    AnnotatorError
        An input that does not exist, or inputs that hold no video at all; named
        before anything is written.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise AnnotatorError(path, "no such file or folder")
        found = _walk(path) if path.is_dir() else [path]
        for video in found:
            key = video.resolve()
            if key not in seen:  # the same video named twice (directly and in its folder)
                seen.add(key)
                out.append(video)
    if not out:
        raise AnnotatorError(Path(inputs[0]) if inputs else None, f"no videos found (suffixes: {' '.join(VIDEO_SUFFIXES)})")
    return out


def resolve_outdir(outdir: str | os.PathLike) -> Path:
    """OUTDIR as a local directory: a path or a ``file://`` URL.

    Sessions are written through :mod:`pathlib` (``session.json``, labels) and
    zarr's ``LocalStore`` (tracks), so only stores that are local files work
    today.  Any other fsspec protocol (``memory://``, ``s3://``, ``gs://``…) is
    a one-line error before anything is written; see docs/scale.md for what an
    object store needs.
    """
    text = os.fspath(outdir)
    if "://" not in text and not text.startswith("file:"):
        return Path(text)
    import fsspec.core
    from fsspec.implementations.local import LocalFileSystem

    try:
        fs, path = fsspec.core.url_to_fs(text)
    except (ValueError, ImportError) as exc:
        raise AnnotatorError(text, f"not a URL fsspec understands ({exc})") from None
    if not isinstance(fs, LocalFileSystem):
        protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
        raise AnnotatorError(
            text,
            f"sessions cannot be written to {protocol}:// yet, only to local paths and file:// URLs "
            "(mount the bucket, or see docs/scale.md)",
        )
    return Path(path)
