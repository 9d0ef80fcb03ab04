"""The session: everything annotator knows about one video, in ``<video>.annot/``.

::

    clip.mp4
    clip.annot/
      session.json          video path (relative), sha256, fps, frames, size, rotation, subject
      tracks.zarr/          written by annotator.tracking
      labels/auto.json      proposals
      labels/<coder>.json   one file per coder

The session only reads and writes small JSON files itself; tracks and labels
have their own modules.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AnnotatorError, SessionError
from .io import atomic_write_json, schema_problem
from .labels import AUTO_CODER, Labels, VideoRef, load_labels, save_labels
from .labels.file import parse_json_strictly
from .labels.model import now_iso, valid_coder

SESSION_SUFFIX = ".annot"
SESSION_FILE = "session.json"
SESSION_SCHEMA = "annotator.session"
SESSION_VERSION = 1
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".mts", ".ts", ".3gp")


def session_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``session.json``; ``schemas/session.v1.schema.json``
    is the published copy, and a test keeps the two, and :meth:`Session.create`, in step.

    Unknown keys are allowed, so a later version can record more without breaking this one.
    """
    from .labels.model import MAX_FRAMES, SHA256_PATTERN

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://annotator.invalid/schemas/session.v{SESSION_VERSION}.schema.json",
        "title": "annotator session file",
        "description": "What annotator knows about one video: session.json in <video>.annot/.",
        "type": "object",
        "required": ["schema", "schema_version", "video"],
        "properties": {
            "schema": {"const": SESSION_SCHEMA},
            "schema_version": {"const": SESSION_VERSION},
            "video": {
                "type": "object",
                "required": ["path", "sha256", "fps", "frames", "width", "height"],
                "properties": {
                    "path": {"type": "string", "minLength": 1, "description": "relative to the session directory"},
                    "sha256": {"type": "string", "pattern": SHA256_PATTERN},
                    "fps": {"type": "number", "exclusiveMinimum": 0},
                    "frames": {"type": "integer", "minimum": 1, "maximum": MAX_FRAMES},
                    "width": {"type": "integer", "minimum": 1},
                    "height": {"type": "integer", "minimum": 1},
                    "rotation": {"type": "integer"},
                    "codec": {"type": "string"},
                    "source": {"enum": ["video", "photo", "frames"],
                               "description": "a video file, a still image, or a folder of numbered frames"},
                    "first_number": {"type": "integer", "minimum": 0,
                                     "description": "frames: the number in the first image's name"},
                },
            },
            "subject": {"type": "string"},
            "project": {"type": "string", "minLength": 1,
                        "description": "the project that added this session, relative to the session directory"
                                       " (a hint: that project must list the session)"},
            "created": {"type": "string", "format": "date-time"},
        },
    }


def _check_session_meta(meta: Any, path: Path) -> None:
    """Raise :class:`SessionError` naming the first field of ``session.json`` that is wrong."""
    if not isinstance(meta, dict) or meta.get("schema") != SESSION_SCHEMA:
        raise SessionError(path, "not an annotator session file")
    if meta.get("schema_version") != SESSION_VERSION:
        raise SessionError(path, f"unsupported schema_version {meta.get('schema_version')!r}")
    problem = schema_problem(meta, session_schema())
    if problem is not None:
        raise SessionError(path, f"{problem}; rerun `annotator track` on the video to rebuild it")


def default_session_dir(video: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> Path:
    """``<video>.annot`` beside the video (photo, frame folder), or inside ``out_dir`` when given."""
    video = Path(video)
    if video.name in ("", ".."):
        video = video.resolve()  # a folder given as "." or "..": name the session after it
    parent = Path(out_dir) if out_dir is not None else video.parent
    return parent / (video.stem + SESSION_SUFFIX)


def is_session_dir(path: str | os.PathLike) -> bool:
    return (Path(path) / SESSION_FILE).is_file()


@dataclass
class Session:
    """A session directory and its metadata (see module docstring)."""

    root: Path
    meta: dict[str, Any]

    # -- creation and opening -------------------------------------------------
    @classmethod
    def create(
        cls,
        video_path: str | os.PathLike,
        root: str | os.PathLike | None = None,
        *,
        subject: str | None = None,
        fps: float | None = None,
    ) -> "Session":
        """Open the session of ``video_path``, creating it when missing.

        The video is probed (without decoding it all) and its sha256 recorded.
        An existing session for a different video is an error, never overwritten.
        ``video_path`` may also be a photo or a folder of numbered frames
        (:mod:`annotator.media.images`); ``fps`` sets their frame rate (recorded
        in ``session.json``), and is ignored for video files, which keep their own.
        """
        from .media import is_image_source, open_video

        video_path = Path(video_path)
        root = Path(root) if root is not None else default_session_dir(video_path)
        images = is_image_source(video_path)
        with open_video(video_path, fps=fps if images else None) as video:
            sha = video.sha256
            if is_session_dir(root):
                existing = cls.open(root)
                if existing.sha256 != sha:
                    raise SessionError(
                        root, f"belongs to another video ({existing.meta['video']['path']}); choose another -o"
                    )
                if images and fps is not None and float(fps) != existing.fps:
                    raise SessionError(
                        root, f"was made at {existing.fps:g} fps, not {float(fps):g}; use --fps {existing.fps:g} or remove it"
                    )
                if subject is not None:
                    existing.set_subject(subject)
                return existing
            meta = {
                "schema": SESSION_SCHEMA,
                "schema_version": SESSION_VERSION,
                "video": {
                    "path": os.path.relpath(video_path.resolve(), root.resolve()),
                    "sha256": sha,
                    "fps": float(video.fps),
                    "frames": int(len(video)),
                    "width": int(video.width),
                    "height": int(video.height),
                    "rotation": int(video.rotation),
                    "codec": str(video.codec),
                    "source": ("frames" if video.is_folder else "photo") if images else "video",
                },
                "subject": subject or video_path.stem,
                "created": now_iso(),
            }
            if images and video.is_folder:
                # CASME II and SAMM count frames by image number: frame i is image first_number + i.
                meta["video"]["first_number"] = int(video.first_number)
        _check_session_meta(meta, root / SESSION_FILE)  # what create writes, open accepts
        root.mkdir(parents=True, exist_ok=True)
        (root / "labels").mkdir(exist_ok=True)
        atomic_write_json(root / SESSION_FILE, meta)
        return cls(root, meta)

    def set_subject(self, subject: str) -> None:
        """Record who the clip shows (``--subject``); ``session.json`` is rewritten atomically."""
        subject = str(subject).strip()
        if not subject:
            raise SessionError(self.root / SESSION_FILE, "the subject must not be empty")
        if self.meta.get("subject") == subject:
            return
        meta = {**self.meta, "subject": subject}
        _check_session_meta(meta, self.root / SESSION_FILE)
        atomic_write_json(self.root / SESSION_FILE, meta)
        self.meta = meta

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Session":
        """Open a session directory, or the session beside a video file."""
        from .media import IMAGE_SUFFIXES

        path = Path(path)
        beside = path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES + IMAGE_SUFFIXES
        if path.is_dir() and not is_session_dir(path):
            # A frame folder: its session sits beside it, as a video's does.
            try:
                beside = is_session_dir(default_session_dir(path)) or any(
                    p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()
                )
            except OSError:
                beside = False  # unreadable: the checks below say so
        if beside:
            candidate = default_session_dir(path)
            if not is_session_dir(candidate):
                raise SessionError(path, f"has no session yet ({candidate.name}); run `annotator track {path}`")
            path = candidate
        if not path.exists():
            raise SessionError(path, "no such session directory")
        if not is_session_dir(path):
            raise SessionError(path, f"not a session directory (no {SESSION_FILE})")
        try:
            meta = parse_json_strictly((path / SESSION_FILE).read_bytes())
        except (OSError, ValueError) as exc:
            raise SessionError(path / SESSION_FILE, f"unreadable ({exc})") from None
        _check_session_meta(meta, path / SESSION_FILE)
        return cls(path, meta)

    # -- properties -----------------------------------------------------------
    @property
    def name(self) -> str:
        return self.root.name[: -len(SESSION_SUFFIX)] if self.root.name.endswith(SESSION_SUFFIX) else self.root.name

    @property
    def video_path(self) -> Path:
        return (self.root / self.meta["video"]["path"]).resolve()

    @property
    def sha256(self) -> str:
        return self.meta["video"]["sha256"]

    @property
    def fps(self) -> float:
        return float(self.meta["video"]["fps"])

    @property
    def n_frames(self) -> int:
        return int(self.meta["video"]["frames"])

    @property
    def subject(self) -> str:
        return str(self.meta.get("subject") or self.name)

    @property
    def tracks_path(self) -> Path:
        return self.root / "tracks.zarr"

    @property
    def labels_dir(self) -> Path:
        return self.root / "labels"

    def video_ref(self) -> VideoRef:
        v = self.meta["video"]
        return VideoRef(path=self.video_path.name, sha256=v["sha256"], fps=float(v["fps"]), frames=int(v["frames"]))

    def open_video(self, **kwargs: Any):
        """The session's video, checked against the recorded checksum size.

        A photo or a frame folder opens at the frame rate recorded in ``session.json``.
        """
        from .media import is_image_source, open_video

        if not self.video_path.exists():
            raise SessionError(self.root, f"its video {self.video_path} is missing")
        if is_image_source(self.video_path):
            kwargs.setdefault("fps", self.fps)
        return open_video(self.video_path, **kwargs)

    # -- labels ---------------------------------------------------------------
    def labels_path(self, coder: str) -> Path:
        if coder != AUTO_CODER and not valid_coder(coder):
            raise AnnotatorError(None, f"invalid coder name {coder!r}: use letters, digits, '.', '_', '-' or '@'")
        return self.labels_dir / f"{coder}.json"

    def coders(self) -> list[str]:
        """Coders with a labels file, proposals (``auto``) excluded."""
        if not self.labels_dir.is_dir():
            return []
        return sorted(p.stem for p in self.labels_dir.glob("*.json") if p.stem != AUTO_CODER and not p.name.startswith("."))

    def has_labels(self, coder: str) -> bool:
        return self.labels_path(coder).is_file()

    def new_labels(self, coder: str) -> Labels:
        self.labels_path(coder)  # validates the name
        return Labels(coder=coder, video=self.video_ref())

    def load_labels(self, coder: str, *, create: bool = False) -> Labels:
        """The coder's labels; an empty set when ``create`` and none exist yet."""
        path = self.labels_path(coder)
        if not path.exists() and create:
            return self.new_labels(coder)
        # frames from the session, not the file: a file claiming 0 frames skipped the check
        labels = load_labels(path, sha256=self.sha256, frames=self.n_frames)
        if labels.coder != coder:
            raise SessionError(path, f"holds coder {labels.coder!r}'s labels, not {coder!r}'s; rename it to {labels.coder}.json")
        return labels

    def save_labels(self, labels: Labels) -> Path:
        if labels.video.sha256 != self.sha256:
            raise SessionError(self.root, "labels belong to another video")
        return save_labels(labels, self.labels_path(labels.coder), frames=self.n_frames)


# -- summary ---------------------------------------------------------------------------------
def _presence(group, key: str, done_frames) -> str:
    import numpy as np

    if not done_frames.any():
        return "n/a"
    present = np.asarray(group[key][:], bool)[done_frames]
    return f"{100.0 * present.mean():.1f}% of frames"


def describe(session: Session) -> str:
    """A few lines summarising a session: video, tracks, backends, labels.

    Printed by ``annotator info``.  The store is read with plain zarr, through its
    public layout (:mod:`annotator.tracking.store`), so a damaged one is described
    rather than raised on.
    """
    import numpy as np
    import zarr

    from .media.timing import clip_duration

    meta = session.meta["video"]
    frames = int(meta["frames"])
    fps = float(meta["fps"])
    lines = [f"{session.root}"]
    lines.append(f"  video      {meta['path']} (sha256 {meta['sha256'][:12]}…)")
    path = session.tracks_path
    duration = None
    if path.is_dir():
        try:
            group = zarr.open_group(store=str(path), mode="r")
            attrs = dict(group.attrs)
            time = np.asarray(group["time"][:])
            if len(time):
                duration = clip_duration(time, fps)
        except Exception as exc:  # noqa: BLE001
            group, attrs = None, None
            tracking = f"unreadable ({exc})"
    else:
        group, attrs = None, None
        tracking = "not tracked yet (run `annotator track`)"
    if duration is None:
        duration = frames / fps if fps > 0 else 0.0
    lines.append(
        f"  frames     {frames} at {fps:.3f} fps, {duration:.2f} s, {meta['width']}x{meta['height']}"
        + (f", rotation {meta.get('rotation')}°" if meta.get("rotation") else "")
    )
    if group is not None and attrs is not None:
        chunk = int(attrs["chunk_frames"])
        nb = int(attrs["n_blocks"])
        try:
            done = np.asarray(group["blocks_done"][:], bool)
        except Exception:  # noqa: BLE001
            done = np.zeros(nb, bool)
        done_frames = np.repeat(done, chunk)[:frames]
        if attrs.get("complete") is True:
            tracking = f"complete ({nb} blocks of {chunk} frames)"
        else:
            tracking = f"incomplete: {int(done.sum())}/{nb} blocks; rerun `annotator track` to resume"
        model = attrs.get("face_model_sha256")
        imported = attrs.get("imported_from")
        if isinstance(imported, dict):  # an OpenFace / Py-Feat CSV (annotator import openface-csv)
            extra = ", ".join(sorted(attrs.get("extra_arrays") or {}))
            lines.append(
                f"  face       {_presence(group, 'face/present', done_frames)} "
                f"(imported from {imported.get('format')} file {imported.get('file')}: {extra})"
            )
        else:
            lines.append(
                f"  face       {_presence(group, 'face/present', done_frames)} "
                f"({attrs['face_backend']}, mediapipe {attrs['face_backend_version']}"
                + (f", model sha256 {model}" if model else ", no blendshapes or head pose")
                + ")"
            )
        if imported:
            lines.append("  pose       none (not in the imported file)")
        elif attrs.get("pose_backend"):
            lines.append(
                f"  pose       {_presence(group, 'pose/present', done_frames)} "
                f"({attrs['pose_backend']}, mediapipe {attrs['pose_backend_version']})"
            )
        else:
            lines.append("  pose       skipped (--no-pose)")
    lines.append(f"  tracking   {tracking}")
    labels = []
    if session.labels_dir.is_dir():
        for p in sorted(session.labels_dir.glob("*.json")):
            if p.name.startswith("."):
                continue
            labels.append(f"{p.name} (proposals)" if p.stem == AUTO_CODER else p.name)
    lines.append(f"  labels     {', '.join(labels) if labels else 'none'}")
    return "\n".join(lines)
