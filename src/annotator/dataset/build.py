"""``annotator dataset PROJECT -o OUT``: one sample per labelled segment, with subject-disjoint splits.

::

    OUT/
      manifest.parquet, manifest.csv   one row per sample (MANIFEST_COLUMNS)
      dataset.json                     the settings, the counts, the notes
      card.md, class_balance.png       the dataset card
      SHA256SUMS                       every file's sha256 (``sha256sum -c SHA256SUMS``)
      samples/<id>/clip.mp4            H.264, or frames/img<N>.jpg (N = the source's 1-based frame)
      samples/<id>/tracks.zarr         the session's tracks for the clip's frames
      samples/<id>/features.parquet    the AU features of those frames (computed over the whole session)
      sessions/<session>/features.parquet  every frame's AU features of each source session (for ``train``)

The manifest's ``consent`` column carries the uses each subject consented to in the
project, so a quiz built from the dataset can keep to them.

Everything is written under a temporary name beside ``OUT`` and renamed to ``OUT``
only when complete, so an interrupted run never leaves a dataset that looks finished.
A directory's sha256 in the manifest (frames, tracks) is the sha256 of its
``SHA256SUMS``-style listing: ``"<sha256>  <relative path>\\n"`` per file, sorted by path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..agreement import CONSENSUS_CODER
from ..errors import AnnotatorError
from ..io import atomic_write_json, atomic_write_text, sha256_file
from ..labels import EMOTIONS, format_aus
from ..labels.model import now_iso
from ..project import Project
from .card import write_card
from .clips import FORMATS, crop_frames, encode_mp4, face_box, write_frame_folder
from .samples import Plan, SampleSpec, plan_samples
from .splits import assign_splits

MANIFEST_COLUMNS: tuple[str, ...] = (
    "sample_id", "subject", "session", "segment_id", "emotion", "kind", "aus", "coders",
    "onset", "apex", "offset", "clip_onset", "clip_apex", "clip_offset", "start_frame", "end_frame", "n_frames",
    "onset_time", "apex_time", "offset_time", "fps", "source_video", "source_sha256", "split", "fold",
    "format", "crop", "width", "height", "clip", "clip_sha256", "tracks", "tracks_sha256", "features",
    "features_sha256", "notes", "consent",
)
CROPS = ("face",)


@dataclass
class DatasetResult:
    root: Path
    manifest: object  # pandas.DataFrame
    notes: list[str] = field(default_factory=list)


def tree_sha256(folder: Path) -> str:
    """The sha256 of a folder's listing (see the module docstring)."""
    lines = [f"{sha256_file(p)}  {p.relative_to(folder).as_posix()}\n"
             for p in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()) if p.is_file()]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _write_tracks(path: Path, tracks, start: int, stop: int, attrs: dict) -> None:
    import zarr

    group = zarr.open_group(store=str(path), mode="w", zarr_format=3)
    group.attrs.update(attrs)
    for name, key in (("time", "time"), ("face/present", "face_present"), ("face/score", "face_score"),
                      ("face/landmarks", "face_landmarks"), ("face/blendshapes", "face_blendshapes"),
                      ("face/matrix", "face_matrix"), ("pose/present", "pose_present"),
                      ("pose/landmarks", "pose_landmarks")):
        values = getattr(tracks, key)
        if values is None:
            continue
        part = np.ascontiguousarray(values[start: stop + 1])
        parent, _, leaf = name.rpartition("/")
        target = group.require_group(parent) if parent else group
        array = target.create_array(leaf, data=part, chunks=part.shape if part.size else None)
        if name == "face/blendshapes":
            array.attrs["names"] = list(tracks.blendshape_names)


class _ForwardFrames:
    """A session's frames for samples in onset order: each frame is decoded once, going forward.

    Samples overlap and follow each other closely, and a seek costs as much as
    decoding dozens of frames, so the frames still ahead are kept and the rest dropped.
    """

    def __init__(self, video):
        self.video = video
        self.kept: dict[int, np.ndarray] = {}

    def get(self, start: int, stop: int) -> np.ndarray:
        for i in [i for i in self.kept if i < start]:
            del self.kept[i]
        missing = [i for i in range(start, stop + 1) if i not in self.kept]
        if missing:
            first, last = missing[0], missing[-1]
            for i, frame in zip(range(first, last + 1), self.video[first: last + 1], strict=True):
                self.kept.setdefault(i, frame)
        return np.stack([self.kept[i] for i in range(start, stop + 1)])


def _check_output(out: Path, force: bool) -> None:
    from ..io import _inside_session

    if _inside_session(out.absolute()) is not None:
        raise AnnotatorError(out, "is inside a session; write the dataset somewhere else")
    if out.exists() or out.is_symlink():
        if not force:
            raise AnnotatorError(out, "already exists; pass --force to replace it")
        if out.is_symlink() or not out.is_dir() or not (out / "manifest.parquet").is_file():
            raise AnnotatorError(out, "exists and is not a dataset; --force only replaces a dataset")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise AnnotatorError(out, f"cannot be written: its folder {parent} does not exist")


def build_dataset(
    project: Project | str | os.PathLike,
    out: str | os.PathLike,
    *,
    split: str = "loso",
    folds: int = 5,
    test_size: float = 0.2,
    seed: int = 0,
    coder: str = CONSENSUS_CODER,
    pad: int = 0,
    crop: str | None = None,
    size: int = 224,
    format: str = "mp4",
    emotions: Sequence[str] = EMOTIONS,
    force: bool = False,
    on_sample: Callable[[int, int], None] | None = None,
) -> DatasetResult:
    """Build a dataset from a project (see the module docstring).

    Parameters
    ----------
    split, folds, test_size, seed
        See :func:`annotator.dataset.splits.assign_splits`.
    coder : str
        Whose labels: a coder, or ``"consensus"`` (the session's consensus file, else the
        consensus of its coders merged now, else its only coder's labels).
    pad : int
        Frames added before the onset and after the offset (clamped to the video).
    crop : ``"face"`` or None
        Crop every clip to the face (one eye-levelled box per sample), ``size`` × ``size`` pixels.
    format : ``"mp4"`` or ``"frames"``
    emotions : sequence of str
        The classes; segments of other emotions are left out (and counted in the notes).
    force : bool
        Replace an existing dataset at ``out`` (only once the new one is complete).
    on_sample : callable, optional
        Called as ``on_sample(done, total)`` after each sample.
    """
    import pandas as pd

    from .. import __version__
    from ..features import features_from_tracks
    from ..tracking.store import load_tracks

    if not isinstance(project, Project):
        project = Project.open(project)
    out = Path(out)
    if format not in FORMATS:
        raise AnnotatorError(None, f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    if crop is not None and crop not in CROPS:
        raise AnnotatorError(None, f"--crop must be one of {', '.join(CROPS)}, got {crop!r}")
    if size < 16 or size % 2:
        raise AnnotatorError(None, f"--size must be an even number of pixels, at least 16; got {size}")
    unknown = [e for e in emotions if e not in EMOTIONS + ("neutral", "other")]
    if unknown or not emotions:
        raise AnnotatorError(None, f"--emotions: unknown emotion {unknown[0] if unknown else '(none)'!r}")
    _check_output(out, force)
    plan: Plan = plan_samples(project, coder=coder, pad=pad, emotions=emotions)
    samples = plan.samples
    assigned = assign_splits([s.subject for s in samples], [s.segment.emotion for s in samples], split,
                             folds=folds, test_size=test_size, seed=seed, where=project.root)
    notes = list(plan.notes)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.absolute().parent))
    try:
        rows = []
        by_session: dict[str, list[tuple[int, SampleSpec]]] = {}
        for i, s in enumerate(samples):
            by_session.setdefault(s.entry.id, []).append((i, s))
        done = 0
        sessions: dict[str, dict] = {}
        for items in by_session.values():
            entry = items[0][1].entry
            session = entry.open()
            tracks = load_tracks(session)
            au = features_from_tracks(tracks)
            features = au.to_frame()
            sessions[entry.id] = _write_session_features(tmp, entry, session, au)
            with session.open_video() as video:
                frames = _ForwardFrames(video)
                for i, s in sorted(items, key=lambda item: (item[1].start, item[0])):
                    rows.append(_write_sample(tmp, i, s, session, frames, tracks, features, format, crop, size,
                                              assigned.split[i], int(assigned.fold[i]), project, notes))
                    done += 1
                    if on_sample is not None:
                        on_sample(done, len(samples))
        manifest = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS)).sort_values("sample_id", ignore_index=True)
        manifest.to_parquet(tmp / "manifest.parquet", index=False)
        manifest.to_csv(tmp / "manifest.csv", index=False)
        settings = {
            "project": os.path.relpath(project.root.absolute(), out.absolute().parent), "project_name": project.name,
            "split": split, "folds": int(assigned.n_folds), "test_size": test_size if split == "holdout" else None,
            "seed": seed, "coder": coder, "pad": pad, "crop": crop, "size": size if crop else None, "format": format,
            "emotions": list(emotions), "annotator_version": __version__, "created": now_iso(),
            "sessions": sessions,
        }
        consent = {s: project.subject(s).allows("dataset") for s in manifest["subject"].unique()}
        write_card(tmp, manifest, settings, notes, emotions, consent)
        atomic_write_json(tmp / "dataset.json", {**settings, "samples": len(manifest), "notes": notes})
        listing = [f"{sha256_file(p)}  {p.relative_to(tmp).as_posix()}\n"
                   for p in sorted(tmp.rglob("*"), key=lambda p: p.relative_to(tmp).as_posix())
                   if p.is_file() and p.name != "SHA256SUMS"]
        atomic_write_text(tmp / "SHA256SUMS", "".join(listing))
        _publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return DatasetResult(out, manifest, notes)


def _publish(tmp: Path, out: Path) -> None:
    """Rename the finished dataset into place; an old one is replaced only after that succeeded."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.absolute().parent))
        os.replace(out, old / out.name)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old / out.name, out)
        raise
    finally:
        if old is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(old)


#: The columns of :attr:`AUFeatures.rigid` in a dataset's ``features.parquet``.
RIGID_COLUMNS = ("rigid_motion", "rigid_shape")


def _write_session_features(root: Path, entry, session, au) -> dict:
    """The whole session's AU features (what ``train`` reads from a dataset), and their record in dataset.json."""
    rel = f"sessions/{entry.id}/features.parquet"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    df = au.to_frame()
    if au.head_angles is not None:
        for k, name in enumerate(("yaw", "pitch", "roll")):
            df[name] = au.head_angles[:, k]
    if au.rigid is not None:  # the spotter's rigid-motion mask reads them
        for k, name in enumerate(RIGID_COLUMNS):
            df[name] = au.rigid[:, k]
    df.to_parquet(path)
    return {"subject": entry.subject, "fps": float(au.fps), "n_frames": int(len(df)), "sha256": session.sha256,
            "source": au.source, "channels": list(au.channels), "features": rel, "features_sha256": sha256_file(path)}


def _write_sample(root: Path, i: int, s: SampleSpec, session, video: _ForwardFrames, tracks, features, fmt: str,
                  crop: str | None,
                  size: int, split: str, fold: int, project: Project, notes: list[str]) -> dict:
    seg = s.segment
    sample_id = f"{i:05d}"
    folder = root / "samples" / sample_id
    folder.mkdir(parents=True)
    frames = video.get(s.start, s.stop)
    cropped = False
    if crop == "face":
        box = face_box(tracks.face_landmarks[s.start: s.stop + 1], tracks.face_present[s.start: s.stop + 1])
        if box is None:
            notes.append(f"sample {sample_id} ({s.entry.id} {seg.onset}-{seg.offset}): no face in its frames; "
                         "kept uncropped")
        else:
            frames, cropped = crop_frames(frames, box, size), True
    if fmt == "mp4":
        clip = folder / "clip.mp4"
        encode_mp4(frames, clip, session.fps)
        clip_sha = sha256_file(clip)
        height, width = frames.shape[1] - frames.shape[1] % 2, frames.shape[2] - frames.shape[2] % 2
    else:
        clip = folder / "frames"
        write_frame_folder(frames, clip, s.start + 1)
        clip_sha = tree_sha256(clip)
        height, width = frames.shape[1:3]
    attrs = {"schema": "annotator.tracks-slice", "source_session": s.entry.id, "source_sha256": session.sha256,
             "start_frame": s.start, "end_frame": s.stop, "fps": session.fps, "face_backend": tracks.face_backend,
             "cropped": cropped}
    _write_tracks(folder / "tracks.zarr", tracks, s.start, s.stop, attrs)
    part = features.iloc[s.start: s.stop + 1]
    part.to_parquet(folder / "features.parquet")
    time = tracks.time
    return {
        "sample_id": sample_id, "subject": s.subject, "session": s.entry.id, "segment_id": seg.id,
        "emotion": seg.emotion, "kind": seg.kind, "aus": format_aus(seg.aus), "coders": s.coders,
        "onset": seg.onset, "apex": seg.apex, "offset": seg.offset, "clip_onset": seg.onset - s.start,
        "clip_apex": seg.apex - s.start, "clip_offset": seg.offset - s.start, "start_frame": s.start,
        "end_frame": s.stop, "n_frames": s.stop - s.start + 1, "onset_time": float(time[seg.onset]),
        "apex_time": float(time[seg.apex]), "offset_time": float(time[seg.offset]), "fps": session.fps,
        "source_video": os.path.relpath(s.entry.video, project.root.absolute()), "source_sha256": session.sha256,
        "split": split, "fold": fold, "format": fmt, "crop": cropped, "width": int(width), "height": int(height),
        "clip": clip.relative_to(root).as_posix(), "clip_sha256": clip_sha,
        "tracks": (folder / "tracks.zarr").relative_to(root).as_posix(),
        "tracks_sha256": tree_sha256(folder / "tracks.zarr"),
        "features": (folder / "features.parquet").relative_to(root).as_posix(),
        "features_sha256": sha256_file(folder / "features.parquet"),
        "notes": seg.notes or "", "consent": " ".join(project.subject(s.subject).consent),
    }
