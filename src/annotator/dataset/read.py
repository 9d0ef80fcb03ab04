"""Reading a dataset that ``annotator dataset`` wrote, for ``train`` and ``quiz``: checked before use.

A dataset may come from someone else, so :func:`open_dataset` trusts nothing in it
until it has checked it:

* every file ``SHA256SUMS`` lists exists and has that sha256, and no listed path
  leaves the dataset folder (no ``..``, no absolute path, no symbolic link);
* every file the manifest names (clip, tracks, features) is listed with the sha256 the
  manifest gives it;
* the manifest has the columns this version reads.

A missing or changed file is one line naming it, and nothing is read from the dataset.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import AnnotatorError
from ..io import sha256_file

#: The files that mark a dataset folder.
MARKERS = ("manifest.parquet", "dataset.json", "SHA256SUMS")
#: Manifest columns a reader needs (older datasets without ``consent`` are read as consenting to nothing).
NEEDED = ("sample_id", "subject", "session", "segment_id", "emotion", "aus", "coders", "onset", "apex", "offset",
          "clip_onset", "clip_apex", "clip_offset", "start_frame", "end_frame", "fps", "split", "fold", "crop",
          "width", "height", "clip", "clip_sha256", "tracks", "tracks_sha256", "features", "features_sha256")


class DatasetError(AnnotatorError):
    """A dataset folder that is incomplete, tampered with, or not a dataset."""


def is_dataset_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder that ``annotator dataset`` wrote (its marker files are there)."""
    path = Path(path)
    return path.is_dir() and (path / "manifest.parquet").is_file() and (path / "dataset.json").is_file()


def _inside(root: Path, rel: str, where: Path) -> Path:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise DatasetError(where, f"names {rel!r}, a path outside the dataset")
    return root / pure


def _listing(root: Path) -> dict[str, str]:
    """``SHA256SUMS`` as ``{relative path: sha256}``, each file checked."""
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        raise DatasetError(sums, "is missing: the dataset cannot be checked")
    out: dict[str, str] = {}
    for n, line in enumerate(sums.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or not rel:
            raise DatasetError(sums, f"line {n} is not '<sha256>  <path>'")
        out[rel] = digest
    for rel, digest in out.items():
        path = _inside(root, rel, sums)
        if any(p.is_symlink() for p in (path, *path.parents) if p != root and root in p.parents):
            raise DatasetError(path, "is a symbolic link; a dataset holds its own files")
        if not path.is_file():
            raise DatasetError(path, "is missing from the dataset (listed in SHA256SUMS)")
        if sha256_file(path) != digest:
            raise DatasetError(path, "does not match its sha256 in SHA256SUMS: the dataset was changed")
    for needed in ("manifest.parquet", "dataset.json"):
        if needed not in out:
            raise DatasetError(sums, f"does not list {needed}")
    return out


def _tree_digest(listing: dict[str, str], folder: str) -> str:
    """A folder's sha256 from the listing, the way :func:`annotator.dataset.build.tree_sha256` makes it."""
    import hashlib

    prefix = folder.rstrip("/") + "/"
    lines = [f"{listing[k]}  {k[len(prefix):]}\n" for k in sorted(listing, key=lambda k: k[len(prefix):])
             if k.startswith(prefix)]
    return hashlib.sha256("".join(lines).encode()).hexdigest() if lines else ""


@dataclass
class Dataset:
    """A checked dataset: its manifest (a pandas DataFrame), its settings and where it is."""

    root: Path
    manifest: object
    settings: dict
    notes: list[str] = field(default_factory=list)

    def path(self, rel: str) -> Path:
        return _inside(self.root, rel, self.root / "manifest.parquet")

    @property
    def sessions(self) -> dict[str, dict]:
        """Per source session: subject, fps, frame count and its whole-session features file (if recorded)."""
        return dict(self.settings.get("sessions") or {})

    def consent(self, subject: str) -> tuple[str, ...]:
        """The uses ``subject`` consented to, as the dataset recorded them from the project."""
        rows = self.manifest[self.manifest["subject"] == subject]
        if "consent" not in self.manifest.columns or rows.empty:
            return ()
        return tuple(str(rows["consent"].iloc[0] or "").split())

    def session_features(self, session_id: str):
        """The whole session's AU features (:class:`~annotator.features.AUFeatures`), as the project had them."""
        import pandas as pd

        from ..features import AUFeatures
        from .build import RIGID_COLUMNS

        info = self.sessions.get(session_id)
        if not info or not info.get("features"):
            raise DatasetError(self.root, f"has no whole-session features for {session_id}; rebuild it with "
                                          "this version of `annotator dataset`")
        path = self.path(info["features"])
        df = pd.read_parquet(path)
        channels = tuple(info["channels"])
        angles = ("yaw", "pitch", "roll")
        return AUFeatures(
            values=df[list(channels)].to_numpy(np.float32), channels=channels,
            present=df["present"].to_numpy(bool), source=str(info.get("source", "blendshapes")),
            head_speed=df["head_speed"].to_numpy(np.float32), fps=float(info["fps"]),
            head_angles=df[list(angles)].to_numpy(np.float32) if all(a in df for a in angles) else None,
            rigid=df[list(RIGID_COLUMNS)].to_numpy(np.float32) if all(r in df for r in RIGID_COLUMNS) else None,
        )

    def tracks(self, row) -> dict[str, np.ndarray | None]:
        """The sample's track slice: ``face_present``, ``face_landmarks`` and ``pose_landmarks`` (or None)."""
        import zarr

        group = zarr.open_group(store=str(self.path(row["tracks"])), mode="r")

        def get(name):
            try:
                return np.asarray(group[name][...])
            except KeyError:
                return None

        return {"face_present": get("face/present"), "face_landmarks": get("face/landmarks"),
                "pose_landmarks": get("pose/landmarks")}


def open_dataset(path: str | os.PathLike) -> Dataset:
    """Open and check a dataset folder (see the module docstring)."""
    import pandas as pd

    root = Path(path)
    if not root.is_dir():
        raise DatasetError(root, "is not a dataset folder (no such folder)")
    for marker in MARKERS:
        if not (root / marker).is_file():
            raise DatasetError(root / marker, "is missing: not a complete dataset")
    listing = _listing(root)
    try:
        manifest = pd.read_parquet(root / "manifest.parquet")
        settings = json.loads((root / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(root, f"cannot be read: {exc}") from None
    if not isinstance(settings, dict):
        raise DatasetError(root / "dataset.json", "is not a JSON object")
    missing = [c for c in NEEDED if c not in manifest.columns]
    if missing:
        raise DatasetError(root / "manifest.parquet", f"lacks the column(s) {', '.join(missing)}")
    if manifest.empty:
        raise DatasetError(root / "manifest.parquet", "has no samples")
    where = root / "manifest.parquet"
    for row in manifest.itertuples(index=False):
        for kind in ("clip", "tracks", "features"):
            rel, digest = getattr(row, kind), getattr(row, f"{kind}_sha256")
            target = _inside(root, rel, where)
            got = listing.get(rel) or _tree_digest(listing, rel)
            if not got:
                raise DatasetError(target, f"is missing from the dataset (sample {row.sample_id}'s {kind})")
            if got != digest:
                raise DatasetError(target, f"does not match the manifest's sha256 (sample {row.sample_id}): "
                                           "the dataset was changed")
    for info in (settings.get("sessions") or {}).values():
        rel = info.get("features") if isinstance(info, dict) else None
        if rel and listing.get(rel) != info.get("features_sha256"):
            raise DatasetError(_inside(root, rel, root / "dataset.json"),
                               "does not match its sha256 in dataset.json: the dataset was changed")
    return Dataset(root, manifest, settings)
