"""OUTDIR on an fsspec store that is not a local folder (``s3://``, ``gs://``, ``memory://``...).

The session layer writes through :mod:`pathlib` with atomic renames and OS
locks, which object stores do not have.  So a batch with a remote OUTDIR
tracks each video into a local *staging* session (under
``$ANNOTATOR_CACHE/batch-staging/<hash of the URL>/``, so an interrupted batch
resumes its blocks there), and publishes it once its tracks (and proposals)
are complete, in an order that makes the last object written the marker of
completeness:

1. ``session.json`` of an earlier, unfinished upload is deleted first;
2. every file of ``tracks.zarr`` except its root ``zarr.json``, then the labels;
3. ``tracks.zarr/zarr.json`` (the group's attributes, ``complete`` among them);
4. ``session.json``, last.

Each file is one ``put`` (whole or absent on S3 and GCS; there is no rename to
make a folder appear at once).  A session without ``session.json`` is not a
session (:func:`annotator.session.is_session_dir`), and the batch treats one as
absent, so a reader never sees half a session as done; a rerun uploads it again.
In the published ``session.json`` the video's path is absolute (it is on the
client's machine, not beside the store).  The staging copy is removed after a
successful upload.  This process is the only writer of the store: the workers
only compute, so a ``memory://`` store works with any cluster (it lives in this
process, so the command line refuses it: it would vanish when the command ends).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import AnnotatorError
from ..session import SESSION_FILE

_TRACKS = "tracks.zarr"


@dataclass(frozen=True)
class RemoteOut:
    """An fsspec filesystem and the folder in it that holds the sessions."""

    fs: object
    path: str
    url: str

    @property
    def protocol(self) -> str:
        p = self.fs.protocol
        return p[0] if isinstance(p, (tuple, list)) else p

    def join(self, *parts: str) -> str:
        return "/".join([self.path.rstrip("/"), *parts])

    def display(self, *parts: str) -> str:
        """A URL for messages and the summary (``s3://bucket/out/clip.annot``)."""
        return "/".join([self.url.rstrip("/"), *parts])

    def staging(self) -> Path:
        """The local folder that holds this OUTDIR's sessions while they are tracked."""
        from ..io import cache_dir

        digest = hashlib.sha256(self.url.rstrip("/").encode()).hexdigest()[:16]
        return cache_dir() / "batch-staging" / digest

    def prepare(self) -> None:
        """Make the folder (a no-op on object stores); a file there is an error."""
        try:
            if self.fs.isfile(self.path):
                raise AnnotatorError(self.url, "is a file, not a folder for the sessions")
            self.fs.makedirs(self.path, exist_ok=True)
        except AnnotatorError:
            raise
        except Exception as exc:  # noqa: BLE001 - any backend's error, as one line
            raise AnnotatorError(self.url, f"cannot be written ({type(exc).__name__}: {exc})") from None

    def read_meta(self, name: str) -> dict | None:
        """The published ``session.json`` of ``name`` (``clip.annot``), or ``None``."""
        try:
            return json.loads(self.fs.cat_file(self.join(name, SESSION_FILE)))
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - bad JSON or any backend's error, as one line
            raise AnnotatorError(self.display(name, SESSION_FILE), f"unreadable ({type(exc).__name__}: {exc})") from None

    def tracks_complete(self, name: str) -> bool:
        """Whether ``name``'s published tracks say ``complete``, read through zarr's ``FsspecStore``."""
        import zarr
        from zarr.storage import FsspecStore

        try:
            store = FsspecStore.from_url(self.display(name, _TRACKS), read_only=True)
            return bool(zarr.open_group(store=store, mode="r").attrs.get("complete", False))
        except (FileNotFoundError, KeyError, ValueError, zarr.errors.GroupNotFoundError):
            return False

    def has(self, name: str, *parts: str) -> bool:
        return bool(self.fs.exists(self.join(name, *parts)))

    def download(self, name: str, local: Path) -> None:
        """A published session back into staging (to add proposals to it)."""
        if local.exists():
            shutil.rmtree(local)
        local.parent.mkdir(parents=True, exist_ok=True)
        self.fs.get(self.join(name, ""), str(local) + "/", recursive=True)

    def publish(self, local: Path, video: Path, *, tracks: bool = True) -> str:
        """Upload the staged session ``local`` in the order of the module docstring; its URL.

        ``tracks=False`` uploads the labels only (the store's tracks are already complete).

        Raises
        ------
        AnnotatorError
            The store refused a write: one line; the staged copy is kept, and the
            next run publishes it again (its tracks are complete, so it is not re-tracked).
        """
        try:
            return self._publish(local, video, tracks)
        except Exception as exc:  # noqa: BLE001 - any backend's error (botocore's are not OSError)
            first = (str(exc).strip().splitlines() or [""])[0]
            raise AnnotatorError(self.display(local.name), f"upload failed ({type(exc).__name__}: {first}); "
                                                           f"the staged copy in {local} is kept for the next run") from None

    def _publish(self, local: Path, video: Path, tracks: bool) -> str:
        name = local.name
        meta = json.loads((local / SESSION_FILE).read_text())
        meta["video"]["path"] = str(Path(video).resolve())
        files = sorted(p for p in local.rglob("*") if p.is_file() and not any(s.startswith(".") for s in p.relative_to(local).parts))
        rel = [p.relative_to(local).as_posix() for p in files]
        root_meta = f"{_TRACKS}/zarr.json"
        labels = [r for r in rel if r.startswith("labels/")]
        if tracks:
            if self.fs.exists(self.join(name, SESSION_FILE)):
                self.fs.rm_file(self.join(name, SESSION_FILE))
            chunks = [r for r in rel if r.startswith(f"{_TRACKS}/") and r != root_meta]
            order = chunks + labels + ([root_meta] if root_meta in rel else [])
        else:
            order = labels
        for r in order:
            self.fs.makedirs(self.join(name, *r.split("/")[:-1]), exist_ok=True)
            self.fs.put_file(str(local / r), self.join(name, r))
        self.fs.pipe_file(self.join(name, SESSION_FILE), (json.dumps(meta, indent=2) + "\n").encode())
        return self.display(name)

    def write_json(self, name: str, data: dict) -> str:
        self.fs.pipe_file(self.join(name), (json.dumps(data, indent=2) + "\n").encode())
        return self.display(name)


def open_remote(text: str) -> RemoteOut | None:
    """``text`` as a remote OUTDIR, or ``None`` when it is a local path or ``file://`` URL.

    Raises
    ------
    AnnotatorError
        A URL fsspec does not understand, or whose implementation is not installed.
    """
    import fsspec.core
    from fsspec.implementations.local import LocalFileSystem

    try:
        fs, path = fsspec.core.url_to_fs(text)
    except ImportError as exc:
        raise AnnotatorError(text, f"needs a package that is not installed ({exc})") from None
    except ValueError as exc:
        raise AnnotatorError(text, f"not a URL fsspec understands ({exc})") from None
    if isinstance(fs, LocalFileSystem):
        return None
    return RemoteOut(fs, path, text)
