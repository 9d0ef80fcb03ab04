"""The labels model: segments with onset, apex and offset, and the file that holds them.

A labels file belongs to one coder and one video (identified by its sha256).
Frame indices are 0-based, as on napari's slider.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .facs import INTENSITIES, LANE_BODY, UNIT_BODY, normalize_aus

#: The seven universal emotions, in the order of the number keys 1-7.
EMOTIONS: tuple[str, ...] = ("joy", "surprise", "sadness", "anger", "fear", "contempt", "disgust")
#: Every value a segment's ``emotion`` may take.
EMOTION_LABELS: tuple[str, ...] = EMOTIONS + ("neutral", "other")
#: ``unfinished``: a coder's new segment that has no emotion yet (it becomes
#: ``accepted`` when the coder gives one).
STATUSES: tuple[str, ...] = ("proposed", "accepted", "edited", "rejected", "unfinished")
#: What the machine alone says about a segment: cleared when a coder relabels it,
#: so the coder's file never carries the machine's evidence as the coder's.
MACHINE_FIELDS: tuple[str, ...] = ("emotion_scores", "confidence", "uncertainty", "intensity")
#: Half the default span of a new segment, in seconds (0.2 s in all: a typical micro-expression).
NEW_SEGMENT_HALF_SECONDS: float = 0.1
KINDS: tuple[str, ...] = ("micro", "macro")
#: A micro-expression lasts at most half a second (onset to offset).
MICRO_MAX_SECONDS: float = 0.5


def whole_string(body: str) -> str:
    """A regex matching all of a string against ``body``, the same in Python and JSON Schema.

    ``^...$`` is not enough: Python's ``$`` (and so python-jsonschema's ``pattern``,
    which uses ``re.search``) also matches before a final newline, so ``"alice\\n"``
    passed.  ``(?![\\s\\S])`` ("no character follows") means the end of the input in
    Python and in ECMA-262 alike.  Python callers also use ``re.fullmatch``.
    """
    return f"^(?:{body})(?![\\s\\S])"


#: One action unit as a labels file holds it (schema v2): FACS's notation, one unit
#: per list item, no "AU" prefix (:mod:`annotator.labels.facs`): ``6``, ``R12``, ``23B``.
AU_PATTERN = whole_string(UNIT_BODY)
_AU_RE = re.compile(AU_PATTERN)
#: An AU lane's name: one AU without intensity (``12``, ``R12``).
LANE_PATTERN = whole_string(LANE_BODY)
_LANE_RE = re.compile(LANE_PATTERN)
#: ASCII only (``[A-Za-z0-9]``, not ``\w``): a coder id is a file name on every file system.
CODER_PATTERN = whole_string(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
#: A lowercase hex sha256.
SHA256_PATTERN = whole_string(r"[0-9a-f]{64}")
#: The proposer's output (``labels/auto.json``); no person can take it.
AUTO_CODER = "auto"
_CODER_RE = re.compile(CODER_PATTERN)
#: More frames than any video has (a day at 1,000 fps is 8.6e7); bounds every frame
#: index so that a file claiming 10**30 is refused rather than exported.
MAX_FRAMES: int = 2**31 - 1


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string with seconds precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_id() -> str:
    """A short random segment id."""
    return uuid.uuid4().hex[:12]


def kind_for(onset: int, offset: int, fps: float, micro_max_seconds: float = MICRO_MAX_SECONDS) -> str:
    """``"micro"`` when onset-to-offset lasts at most ``micro_max_seconds``, else ``"macro"``.

    The duration counts frames inclusively: a segment from frame 10 to frame 24
    at 30 fps spans 15 frames, 0.5 s.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    duration = (offset - onset + 1) / fps
    return "micro" if duration <= micro_max_seconds + 1e-9 else "macro"


def valid_coder(name: str) -> bool:
    """Whether ``name`` can be used as a coder id (and so as a file name)."""
    return isinstance(name, str) and bool(_CODER_RE.fullmatch(name)) and name != AUTO_CODER


def default_coder() -> str:
    """The coder id used when none is given: ``$USER`` when it is a valid id, else ``"coder"``."""
    import os

    user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    return user if valid_coder(user) else "coder"


def coder_problem(name: str) -> str | None:
    """Why ``name`` cannot be a coder id (one line, the CLI's and the workbench's), or ``None``."""
    if valid_coder(name):
        return None
    return f"coder id {name!r} is invalid: use letters, digits, _ . @ - (not 'auto')"


@dataclass
class Segment:
    """One expression event.

    Parameters
    ----------
    onset, apex, offset : int
        0-based frame indices with ``onset <= apex <= offset``.
    emotion : str
        One of :data:`EMOTION_LABELS`.
    kind : str
        ``"micro"`` or ``"macro"``; see :func:`kind_for`.
    emotion_scores : dict, optional
        Probability per emotion, each in 0..1.
    aus : list of str
        FACS action units, one per item, in :mod:`~annotator.labels.facs` notation
        (``"6"``, ``"R12"``, ``"23B"``); other spellings (``"AU4+AU7"``) are
        normalised on construction.
    intensity : float, optional
        Peak intensity of the expression, 0..1.
    confidence : float, optional
        How sure the source is, 0..1.
    uncertainty : float, optional
        How much a coder's review of a proposal would teach, 0..1 (higher is
        reviewed first); the spotter's is margin-based, see
        :meth:`annotator.spotting.spotter.Spotter.spot_evidence`.
    status : str
        One of :data:`STATUSES`.
    source : str
        Coder id or model id (with version) that made the segment.
    adjudication : str
        Why a consensus segment needs a person's decision (``"tie: joy/fear"``,
        ``"unmatched: only alice"``); empty when it needs none.
    """

    onset: int
    apex: int
    offset: int
    emotion: str = "other"
    kind: str = "micro"
    id: str = field(default_factory=new_id)
    emotion_scores: dict[str, float] | None = None
    aus: list[str] = field(default_factory=list)
    intensity: float | None = None
    confidence: float | None = None
    uncertainty: float | None = None
    status: str = "accepted"
    source: str = ""
    notes: str = ""
    adjudication: str = ""
    created: str = field(default_factory=now_iso)
    modified: str = field(default_factory=now_iso)

    def __post_init__(self) -> None:
        for name in ("onset", "apex", "offset"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value:
                raise ValueError(f"{name} must be an integer frame index, got {value!r}")
            setattr(self, name, int(value))
        try:
            self.aus = normalize_aus(self.aus)
        except ValueError as exc:
            raise ValueError(f"aus: {exc}") from None
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field when a value is out of its domain."""
        if self.onset < 0:
            raise ValueError(f"onset must be >= 0, got {self.onset}")
        if self.offset >= MAX_FRAMES:
            raise ValueError(f"offset {self.offset} is not a frame of any video")
        if not (self.onset <= self.apex <= self.offset):
            raise ValueError(
                f"onset <= apex <= offset is violated: {self.onset}, {self.apex}, {self.offset}"
            )
        if self.emotion not in EMOTION_LABELS:
            raise ValueError(f"emotion must be one of {', '.join(EMOTION_LABELS)}, got {self.emotion!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be micro or macro, got {self.kind!r}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        for au in self.aus:
            if not isinstance(au, str) or not _AU_RE.fullmatch(au):
                raise ValueError(f"aus: {au!r} is not a FACS action unit such as 6, R12 or 23B")
        for name in ("intensity", "confidence", "uncertainty"):
            value = getattr(self, name)
            if value is not None and not (0.0 <= float(value) <= 1.0):
                raise ValueError(f"{name} must be within 0..1, got {value}")
        if self.emotion_scores is not None:
            for key, value in self.emotion_scores.items():
                if key not in EMOTION_LABELS:
                    raise ValueError(f"emotion_scores: unknown emotion {key!r}")
                if not (0.0 <= float(value) <= 1.0):
                    raise ValueError(f"emotion_scores.{key} must be within 0..1, got {value}")

    def phase(self, frame: int) -> str | None:
        """``"onset"`` (onset to before the apex), ``"apex"``, ``"offset"`` (after the apex), or ``None`` outside."""
        if not self.onset <= frame <= self.offset:
            return None
        return "apex" if frame == self.apex else "onset" if frame < self.apex else "offset"

    @property
    def n_frames(self) -> int:
        """Number of frames from onset to offset, inclusive."""
        return self.offset - self.onset + 1

    def replace(self, **changes: Any) -> "Segment":
        """A copy with ``changes`` applied and ``modified`` refreshed."""
        changes.setdefault("modified", now_iso())
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, field order as in the schema."""
        out = dataclasses.asdict(self)
        out["aus"] = list(self.aus)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Segment":
        """Build from a dict as written by :meth:`to_dict` (unknown keys rejected)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
        return cls(**data)


SEGMENT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Segment))


@dataclass
class AUInterval:
    """One AU's interval on its lane: where the coder saw it, and its FACS intensity.

    Parameters
    ----------
    au : str
        The lane: one AU without intensity, FACS notation (``"12"``, ``"R12"``).
    onset, offset : int
        0-based first and last frame, inclusive.
    intensity : str
        ``"A"`` (trace) to ``"E"`` (maximum); ``""`` until the coder scores it.
    """

    au: str
    onset: int
    offset: int
    intensity: str = ""
    id: str = field(default_factory=new_id)
    notes: str = ""
    created: str = field(default_factory=now_iso)
    modified: str = field(default_factory=now_iso)

    def __post_init__(self) -> None:
        for name in ("onset", "offset"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
                raise ValueError(f"{name} must be an integer frame index, got {value!r}")
            setattr(self, name, int(value))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field when a value is out of its domain."""
        if not isinstance(self.au, str) or not _LANE_RE.fullmatch(self.au):
            raise ValueError(f"au: {self.au!r} is not one AU without intensity such as 12 or R12")
        if not 0 <= self.onset <= self.offset < MAX_FRAMES:
            raise ValueError(f"0 <= onset <= offset is violated: {self.onset}, {self.offset}")
        if self.intensity not in ("",) + INTENSITIES:
            raise ValueError(f"intensity must be one of A-E or empty, got {self.intensity!r}")

    @property
    def code(self) -> str:
        """The AU with its intensity (``R12C``), in FACS notation."""
        return f"{self.au}{self.intensity}"

    def replace(self, **changes: Any) -> "AUInterval":
        changes.setdefault("modified", now_iso())
        out = dataclasses.replace(self, **changes)
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AUInterval":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
        return cls(**data)
