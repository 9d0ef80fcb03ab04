"""A labels file: one coder's segments on one video, loaded and saved safely."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import LabelsError
from ..io import atomic_write_json
from .facs import lane_sort_key
from .model import MICRO_MAX_SECONDS, AUInterval, Segment, kind_for, now_iso
from .schema import READABLE_VERSIONS, SCHEMA_NAME, SCHEMA_VERSION, labels_schema, migrate


@dataclass(frozen=True)
class VideoRef:
    """The video a labels file belongs to."""

    path: str
    sha256: str
    fps: float
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "fps": float(self.fps), "frames": int(self.frames)}


@dataclass
class Labels:
    """One coder's segments on one video.

    Parameters
    ----------
    coder : str
        The coder id (:data:`~annotator.labels.model.AUTO_CODER` holds the proposer's output).
    video : VideoRef
        The video, identified by its sha256.
    segments : list of Segment
    micro_max_seconds : float
        Longest duration still called a micro-expression.
    au_intervals : list of AUInterval
        The AU lanes: each AU's intervals with their FACS intensity.
    """

    coder: str
    video: VideoRef
    segments: list[Segment] = field(default_factory=list)
    micro_max_seconds: float = MICRO_MAX_SECONDS
    au_intervals: list[AUInterval] = field(default_factory=list)

    def kind_for(self, onset: int, offset: int) -> str:
        """``micro`` or ``macro`` for an interval of this video."""
        return kind_for(onset, offset, self.video.fps, self.micro_max_seconds)

    def get(self, segment_id: str) -> Segment:
        for seg in self.segments:
            if seg.id == segment_id:
                return seg
        raise KeyError(segment_id)

    def sorted(self) -> list[Segment]:
        """Segments ordered by onset, then apex."""
        return sorted(self.segments, key=lambda s: (s.onset, s.apex, s.offset, s.id))

    def sorted_intervals(self) -> list[AUInterval]:
        """AU intervals by lane (AU number, side), then onset."""
        return sorted(self.au_intervals, key=lambda a: (lane_sort_key(a.au), a.onset, a.offset, a.id))

    def lanes(self) -> dict[str, list[AUInterval]]:
        """``{AU lane: its intervals by onset}``, lanes by AU number."""
        out: dict[str, list[AUInterval]] = {}
        for a in self.sorted_intervals():
            out.setdefault(a.au, []).append(a)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_NAME,
            "schema_version": SCHEMA_VERSION,
            "coder": self.coder,
            "video": self.video.to_dict(),
            "micro_max_seconds": float(self.micro_max_seconds),
            "segments": [s.to_dict() for s in self.sorted()],
            "au_intervals": [a.to_dict() for a in self.sorted_intervals()],
        }

    @classmethod
    def from_dict(cls, data: Any, path: str | os.PathLike | None = None, *, frames: int | None = None) -> "Labels":
        """Validate ``data`` against the schema and build the model.

        Parameters
        ----------
        data : object
            The parsed JSON.
        path : path-like, optional
            Named in errors.
        frames : int, optional
            The video's real frame count (from its session); segments are checked
            against it rather than against what the file claims.

        Raises
        ------
        LabelsError
            One line naming the file and the first offending field.
        """
        data = migrate(data)
        validate_labels_dict(data, path)
        video = VideoRef(**data["video"])
        if frames is not None and video.frames != frames:
            raise LabelsError(
                path, f"video.frames says {video.frames}, but the session's video has {frames} frames"
            )
        segments = []
        for i, raw in enumerate(data["segments"]):
            try:
                segments.append(Segment.from_dict(dict(raw)))
            except (TypeError, ValueError) as exc:
                raise LabelsError(path, f"segments[{i}]: {exc}") from None
        intervals = []
        for i, raw in enumerate(data.get("au_intervals", [])):
            try:
                intervals.append(AUInterval.from_dict(dict(raw)))
            except (TypeError, ValueError) as exc:
                raise LabelsError(path, f"au_intervals[{i}]: {exc}") from None
        check_segments(segments, video.frames, path, intervals)
        return cls(data["coder"], video, segments, float(data["micro_max_seconds"]), intervals)


def check_segments(segments: list[Segment], frames: int, path: str | os.PathLike | None = None,
                   intervals: list[AUInterval] = ()) -> None:
    """The rules the schema cannot say: frames within the video, ids unique (AU intervals too).

    Loading and saving both run it (through :func:`validate_labels`), so nothing
    is saved that a later load would refuse.

    Raises
    ------
    LabelsError
        Naming the first offending segment.
    """
    seen: set[str] = set()
    for key, items in (("segments", segments), ("au_intervals", intervals)):
        for i, item in enumerate(items):
            try:
                item.validate()
            except (TypeError, ValueError) as exc:
                raise LabelsError(path, f"{key}[{i}]: {exc}") from None
            if item.offset >= frames:
                raise LabelsError(
                    path, f"{key}[{i}].offset: frame {item.offset} is past the video's {frames} frames (0-{frames - 1})"
                )
            if item.id in seen:
                raise LabelsError(path, f"{key}: id {item.id!r} is used more than once")
            seen.add(item.id)


def validate_labels(labels: Labels, path: str | os.PathLike | None = None, *, frames: int | None = None) -> None:
    """Everything a labels file must satisfy, checked on the model before it is saved.

    The same checks as :meth:`Labels.from_dict`: the schema, then :func:`check_segments`
    against ``frames`` (the session's count) or else the labels' own.
    """
    validate_labels_dict(labels.to_dict(), path)
    if frames is not None and labels.video.frames != frames:
        raise LabelsError(path, f"video.frames is {labels.video.frames}, but the session's video has {frames} frames")
    check_segments(labels.segments, labels.video.frames, path, labels.au_intervals)


def _json_path(error) -> str:
    parts = []
    for p in error.absolute_path:
        parts.append(f"[{p}]" if isinstance(p, int) else (f".{p}" if parts else str(p)))
    return "".join(parts) or "(top level)"


def validate_labels_dict(data: Any, path: str | os.PathLike | None = None) -> None:
    """Raise :class:`LabelsError` naming the field when ``data`` is not a valid labels file."""
    import jsonschema

    data = migrate(data)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_NAME:
        raise LabelsError(path, f"not an annotator labels file (no \"schema\": \"{SCHEMA_NAME}\")")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise LabelsError(
            path,
            f"schema_version {data.get('schema_version')!r} is not supported "
            f"(this annotator reads versions {', '.join(map(str, READABLE_VERSIONS))})",
        )
    validator = jsonschema.Draft202012Validator(
        labels_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise LabelsError(path, f"{_json_path(error)}: {error.message}")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large a number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            # json keeps the last silently; a hand-edited file would then lose a field unseen
            raise ValueError(f"key {key!r} appears twice in one object")
        out[key] = value
    return out


def parse_json_strictly(raw: bytes) -> Any:
    """JSON as the standard says: no NaN or Infinity, no duplicate keys, UTF-8.

    Raises ``ValueError`` (``UnicodeDecodeError`` and ``JSONDecodeError`` are ones).
    """
    return json.loads(
        raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
    )


def load_labels(path: str | os.PathLike, *, sha256: str | None = None, frames: int | None = None) -> Labels:
    """Read and validate a labels file.

    Parameters
    ----------
    path : path-like
    sha256 : str, optional
        When given, the file must belong to the video with this checksum.
    frames : int, optional
        The video's real frame count; segments past it are refused whatever the
        file itself claims.
    """
    path = Path(path)
    if not path.exists():
        raise LabelsError(path, "no such file")
    if path.is_dir():
        raise LabelsError(path, "is a directory, not a labels file")
    if not path.is_file():
        raise LabelsError(path, "is not a regular file")
    raw = path.read_bytes()
    if not raw.strip():
        raise LabelsError(path, "file is empty")
    try:
        data = parse_json_strictly(raw)
    except ValueError as exc:
        raise LabelsError(path, f"not valid JSON ({exc.__class__.__name__}: {exc})") from None
    if sha256 is not None and isinstance(data, dict) and isinstance(data.get("video"), dict):
        # a foreign file is named as such before its frame count is compared with ours
        claimed = data["video"].get("sha256")
        if isinstance(claimed, str) and claimed != sha256:
            raise LabelsError(path, f"belongs to another video (sha256 {claimed[:12]}…, expected {sha256[:12]}…)")
    labels = Labels.from_dict(data, path, frames=frames)
    if sha256 is not None and labels.video.sha256 != sha256:
        raise LabelsError(
            path,
            f"belongs to another video (sha256 {labels.video.sha256[:12]}…, expected {sha256[:12]}…)",
        )
    return labels


def save_labels(labels: Labels, path: str | os.PathLike, *, frames: int | None = None) -> Path:
    """Write ``labels`` atomically to ``path``.

    The labels are validated first, exactly as a load would (:func:`validate_labels`).
    An existing file is replaced only when it is a valid labels file of the
    same coder and video: an invalid or foreign file is never overwritten.
    """
    path = Path(path)
    validate_labels(labels, path, frames=frames)
    if path.parent.exists() and not path.parent.is_dir():
        raise LabelsError(path.parent, "is a file where the labels folder should be; move it away")
    if path.exists() or path.is_symlink():
        if path.is_symlink():
            raise LabelsError(path, "is a symbolic link; refusing to replace it with a labels file")
        existing = load_labels(path)  # raises on invalid or foreign files
        if existing.video.sha256 != labels.video.sha256:
            raise LabelsError(path, "belongs to another video; refusing to overwrite it")
        if existing.coder != labels.coder:
            raise LabelsError(
                path, f"belongs to coder {existing.coder!r}, not {labels.coder!r}; refusing to overwrite it"
            )
    atomic_write_json(path, labels.to_dict())
    return path


def make_segment(labels: Labels, onset: int, apex: int, offset: int, **kwargs: Any) -> Segment:
    """A new segment for ``labels``' video, ``kind`` computed from its duration."""
    kwargs.setdefault("kind", labels.kind_for(onset, offset))
    kwargs.setdefault("source", labels.coder)
    stamp = now_iso()
    kwargs.setdefault("created", stamp)
    kwargs.setdefault("modified", stamp)
    return Segment(onset=onset, apex=apex, offset=offset, **kwargs)


def merge_segments(*groups: Iterable[Segment]) -> list[Segment]:
    """All segments of several groups, ordered by onset."""
    out = [s for g in groups for s in g]
    return sorted(out, key=lambda s: (s.onset, s.apex, s.offset, s.id))
