"""The project file: which sessions make up a corpus, whose faces they show, and what each subject allows.

::

    study/
      project.json          this file (schemas/project.v1.schema.json)
      .project.lock         held while project.json is being changed

``project.json`` refers to each session where it is (by default the ``.annot``
folder beside its video), by paths relative to the project directory, so a
project folder that travels with its videos keeps working, and ``track``,
``propose`` and the workbench see the same sessions inside a project and out.

Per subject it records the uses the person agreed to (:data:`CONSENT_USES`):
the quiz builder only shows subjects with ``quiz`` consent, and so on.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import AnnotatorError
from ..io import atomic_write_json, schema_problem
from ..labels.file import parse_json_strictly
from ..labels.model import now_iso, whole_string

PROJECT_FILE = "project.json"
PROJECT_SCHEMA = "annotator.project"
PROJECT_VERSION = 1
#: What a subject may agree their footage is used for.
#: ``dataset``: exported in datasets; ``train``: used to train models; ``quiz``: shown to
#: learners in quizzes; ``publish``: shown outside the group (papers, talks, shared datasets).
CONSENT_USES: tuple[str, ...] = ("dataset", "train", "quiz", "publish")
#: A subject id: a name on every file system, as a coder id is.
SUBJECT_PATTERN = whole_string(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
_SUBJECT_RE = re.compile(SUBJECT_PATTERN)


class ProjectError(AnnotatorError):
    """A project directory or file that is missing, invalid, or asked something it cannot do."""


def project_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``project.json``.

    ``schemas/project.v1.schema.json`` is the published copy; a test keeps the two,
    and what :class:`Project` writes, in step.  Unknown keys are allowed in
    ``metadata`` objects only, where the user keeps what the project does not model.
    """
    metadata = {"type": "object", "description": "free-form facts (age group, condition, camera...)"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://annotator.invalid/schemas/project.v{PROJECT_VERSION}.schema.json",
        "title": "annotator project file",
        "description": "A corpus of sessions with their subjects and consent: project.json in a project directory.",
        "type": "object",
        "required": ["schema", "schema_version", "created", "subjects", "sessions"],
        "additionalProperties": False,
        "properties": {
            "schema": {"const": PROJECT_SCHEMA},
            "schema_version": {"const": PROJECT_VERSION},
            "name": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
            "modified": {"type": "string", "format": "date-time"},
            "metadata": metadata,
            "subjects": {
                "type": "object",
                "description": "per subject id: the uses they consented to",
                "propertyNames": {"pattern": SUBJECT_PATTERN},
                "additionalProperties": {
                    "type": "object",
                    "required": ["consent"],
                    "additionalProperties": False,
                    "properties": {
                        "consent": {
                            "type": "array",
                            "items": {"enum": list(CONSENT_USES)},
                            "uniqueItems": True,
                            "description": "the uses allowed; absent uses are not allowed",
                        },
                        "metadata": metadata,
                    },
                },
            },
            "sessions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "video", "session", "subject"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "string", "minLength": 1, "description": "unique in the project"},
                        "video": {"type": "string", "minLength": 1, "description": "relative to the project directory"},
                        "session": {"type": "string", "minLength": 1,
                                    "description": "the .annot folder, relative to the project directory"},
                        "subject": {"type": "string", "pattern": SUBJECT_PATTERN},
                        "added": {"type": "string", "format": "date-time"},
                        "metadata": metadata,
                    },
                },
            },
        },
    }


def valid_subject(name: str) -> bool:
    return isinstance(name, str) and bool(_SUBJECT_RE.fullmatch(name))


def parse_consent(text: str | None) -> tuple[str, ...]:
    """``"quiz,train"`` → ``("quiz", "train")``, in :data:`CONSENT_USES` order; ``none`` or ``""`` → ``()``."""
    if text is None:
        return ()
    uses = {u.strip().lower() for u in str(text).split(",") if u.strip()}
    uses.discard("none")
    if "all" in uses:
        return CONSENT_USES
    unknown = sorted(uses - set(CONSENT_USES))
    if unknown:
        raise ProjectError(None, f"--consent: unknown use {unknown[0]!r}; use {', '.join(CONSENT_USES)}, all or none")
    return tuple(u for u in CONSENT_USES if u in uses)


@dataclass(frozen=True)
class Subject:
    """One person in the project and the uses of their footage they agreed to."""

    id: str
    consent: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def allows(self, use: str) -> bool:
        if use not in CONSENT_USES:
            raise ValueError(f"unknown use {use!r}; one of {', '.join(CONSENT_USES)}")
        return use in self.consent

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"consent": list(self.consent)}
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out


@dataclass(frozen=True)
class ProjectSession:
    """One session of a project; ``video`` and ``session`` are absolute paths."""

    id: str
    video: Path
    session: Path
    subject: str
    added: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def open(self):
        """The :class:`~annotator.session.Session` (raises a one-line error when it is gone)."""
        from ..session import Session

        return Session.open(self.session)


def is_project_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a project directory, or a project file."""
    path = Path(path)
    return (path / PROJECT_FILE).is_file() or (path.name == PROJECT_FILE and path.is_file())


def _rel(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path.absolute(), root.absolute())).as_posix()


@dataclass
class Project:
    """A project directory and the contents of its ``project.json``.

    Read with :meth:`open`; change with :meth:`edit` (which holds the project lock,
    re-reads the file and writes it atomically at the end of the ``with`` block)::

        project = Project.open("study")
        for entry in project.sessions:                 # ProjectSession, in the order added
            session = entry.open()                     # annotator.session.Session
            if project.subject(entry.subject).allows("quiz"): ...
        kept, skipped = project.sessions_allowing("quiz")

        with Project.edit("study") as project:
            project.add_video("clip.mp4", subject="s01", consent=("quiz",))
    """

    root: Path
    name: str = ""
    created: str = ""
    modified: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    subjects: dict[str, Subject] = field(default_factory=dict)
    sessions: list[ProjectSession] = field(default_factory=list)

    # -- files --------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self.root / PROJECT_FILE

    @classmethod
    def init(cls, root: str | os.PathLike, *, name: str | None = None) -> "Project":
        """Make a new, empty project in ``root`` (created if missing); an existing one is an error."""
        from ..locks import PROJECT, session_lock

        root = Path(root)
        if root.exists() and not root.is_dir():
            raise ProjectError(root, "is not a directory; choose another name for the project")
        with session_lock(root, PROJECT):
            if (root / PROJECT_FILE).exists():
                raise ProjectError(root / PROJECT_FILE, "already exists; this is a project already")
            stamp = now_iso()
            project = cls(root, name=name or root.absolute().name, created=stamp, modified=stamp)
            project.save()
        return project

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Project":
        """Read a project directory (or its ``project.json``), checked against the schema."""
        path = Path(path)
        root = path.parent if path.name == PROJECT_FILE and path.is_file() else path
        file = root / PROJECT_FILE
        if not root.is_dir():
            raise ProjectError(root, "no such project directory; make one with `annotator project init`")
        if not file.is_file():
            raise ProjectError(root, f"not a project (no {PROJECT_FILE}); make one with `annotator project init`")
        try:
            data = parse_json_strictly(file.read_bytes())
        except (OSError, ValueError) as exc:
            raise ProjectError(file, f"unreadable ({exc})") from None
        return cls.from_dict(data, root)

    @classmethod
    @contextlib.contextmanager
    def edit(cls, path: str | os.PathLike) -> Iterator["Project"]:
        """Open the project under its lock, and save it if the block ends without an error."""
        from ..locks import PROJECT, session_lock

        root = Path(path)
        if root.name == PROJECT_FILE:
            root = root.parent
        cls.open(root)  # a missing project is reported before the lock makes its folder
        with session_lock(root, PROJECT):
            project = cls.open(root)
            yield project
            project.modified = now_iso()
            project.save()

    def save(self) -> None:
        """Write ``project.json`` atomically (callers hold the lock: use :meth:`edit`)."""
        data = self.to_dict()
        check_project_dict(data, self.path)  # what is written, open accepts
        atomic_write_json(self.path, data)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": PROJECT_SCHEMA, "schema_version": PROJECT_VERSION}
        if self.name:
            out["name"] = self.name
        out["created"] = self.created
        if self.modified:
            out["modified"] = self.modified
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        out["subjects"] = {s: self.subjects[s].to_dict() for s in sorted(self.subjects)}
        out["sessions"] = []
        for e in self.sessions:
            item: dict[str, Any] = {"id": e.id, "video": _rel(e.video, self.root),
                                    "session": _rel(e.session, self.root), "subject": e.subject}
            if e.added:
                item["added"] = e.added
            if e.metadata:
                item["metadata"] = dict(e.metadata)
            out["sessions"].append(item)
        return out

    @classmethod
    def from_dict(cls, data: Any, root: Path) -> "Project":
        check_project_dict(data, root / PROJECT_FILE)
        subjects = {k: Subject(k, tuple(v["consent"]), dict(v.get("metadata", {})))
                    for k, v in data["subjects"].items()}
        sessions, ids = [], set()
        for i, item in enumerate(data["sessions"]):
            if item["id"] in ids:
                raise ProjectError(root / PROJECT_FILE, f"sessions.{i}.id: {item['id']!r} appears twice")
            ids.add(item["id"])
            if item["subject"] not in subjects:
                raise ProjectError(root / PROJECT_FILE, f"sessions.{i}.subject: {item['subject']!r} is not in subjects")
            sessions.append(ProjectSession(
                id=item["id"], video=Path(os.path.normpath(root.absolute() / item["video"])),
                session=Path(os.path.normpath(root.absolute() / item["session"])), subject=item["subject"],
                added=item.get("added", ""), metadata=dict(item.get("metadata", {})),
            ))
        return cls(root, name=data.get("name", ""), created=data["created"], modified=data.get("modified", ""),
                   metadata=dict(data.get("metadata", {})), subjects=subjects, sessions=sessions)

    # -- queries ------------------------------------------------------------------------
    def subject(self, subject_id: str) -> Subject:
        try:
            return self.subjects[subject_id]
        except KeyError:
            raise ProjectError(self.root, f"has no subject {subject_id!r}; `annotator project list` shows them"
                               ) from None

    def find(self, key: str | os.PathLike) -> ProjectSession:
        """The session whose id is ``key``, or whose video or ``.annot`` folder is at ``key``."""
        for e in self.sessions:
            if e.id == str(key):
                return e
        target = Path(os.path.normpath(Path(key).absolute()))
        for e in self.sessions:
            if target in (e.video, e.session):
                return e
        raise ProjectError(self.root, f"has no session {str(key)!r}; `annotator project list {self.root}` shows them")

    def sessions_allowing(self, use: str) -> tuple[list[ProjectSession], list[str]]:
        """``(sessions whose subject consented to use, subjects without that consent)``."""
        kept = [e for e in self.sessions if self.subject(e.subject).allows(use)]
        skipped = sorted({e.subject for e in self.sessions} - {e.subject for e in kept})
        return kept, skipped

    def sessions_of(self, subject_id: str) -> list[ProjectSession]:
        return [e for e in self.sessions if e.subject == subject_id]

    # -- changes (inside :meth:`edit`) ---------------------------------------------------
    def set_subject(self, subject_id: str, *, consent: tuple[str, ...] | None = None,
                    metadata: dict[str, Any] | None = None) -> Subject:
        """Add the subject, or change their consent (replaced, not merged) or metadata (merged)."""
        if not valid_subject(subject_id):
            raise ProjectError(None, f"invalid subject id {subject_id!r}: use letters, digits, '.', '_', '-' or '@'")
        current = self.subjects.get(subject_id, Subject(subject_id))
        if consent is not None:
            current = replace(current, consent=tuple(u for u in CONSENT_USES if u in consent))
        if metadata:
            current = replace(current, metadata={**current.metadata, **metadata})
        self.subjects[subject_id] = current
        return current

    def add_video(self, video: str | os.PathLike, *, subject: str, consent: tuple[str, ...] | None = None,
                  fps: float | None = None,
                  metadata: dict[str, Any] | None = None) -> ProjectSession:
        """Add a video (or an existing ``.annot`` session) under ``subject``.

        The session is created beside the video when missing (the video is probed and
        hashed, not decoded); it records the subject too.  Adding a session twice is an error.
        """
        from ..session import Session, default_session_dir, is_session_dir

        video = Path(video)
        if is_session_dir(video):
            session = Session.open(video)
        else:
            if not video.exists():
                raise ProjectError(video, "no such video, photo or frame folder")
            session = Session.create(video, default_session_dir(video), subject=subject, fps=fps)
        video_path = Path(os.path.normpath(session.video_path.absolute()))
        session_path = Path(os.path.normpath(session.root.absolute()))
        for e in self.sessions:
            if session_path == e.session or video_path == e.video:
                raise ProjectError(video, f"is in the project already, as {e.id!r} (subject {e.subject})")
        self.set_subject(subject, consent=consent)
        hint = _rel(self.root, session_path)  # lets the workbench find the project from the session
        if session.meta.get("subject") != subject or session.meta.get("project") != hint:
            session.meta["project"] = hint
            _set_session_subject(session, subject)
        entry = ProjectSession(id=self._new_id(video_path), video=video_path, session=session_path,
                               subject=subject, added=now_iso(), metadata=dict(metadata or {}))
        self.sessions.append(entry)
        return entry

    def remove(self, key: str | os.PathLike) -> ProjectSession:
        """Take a session out of the project (its files stay where they are)."""
        entry = self.find(key)
        self.sessions.remove(entry)
        return entry

    def move_session(self, key: str | os.PathLike, subject: str) -> ProjectSession:
        """Say that a session shows ``subject`` (added to the subjects when new)."""
        entry = self.find(key)
        self.set_subject(subject)
        moved = replace(entry, subject=subject)
        self.sessions[self.sessions.index(entry)] = moved
        with contextlib.suppress(AnnotatorError):  # a session folder that is gone keeps the project's word
            session = entry.open()
            if session.meta.get("subject") != subject:
                _set_session_subject(session, subject)
        return moved

    def drop_unused_subjects(self) -> list[str]:
        """Forget subjects with no session and no consent recorded; returns their ids."""
        used = {e.subject for e in self.sessions}
        gone = [s for s, v in self.subjects.items() if s not in used and not v.consent and not v.metadata]
        for s in gone:
            del self.subjects[s]
        return gone

    def _new_id(self, video: Path) -> str:
        # The video's path inside the project without its suffix (sub01/EP02_01f), so two
        # CASME-style folders that both hold EP01.mp4 get different ids.
        try:
            base = video.relative_to(self.root.absolute()).with_suffix("").as_posix()
        except ValueError:
            base = video.with_suffix("").name
        taken = {e.id for e in self.sessions}
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        return name


def _set_session_subject(session, subject: str) -> None:
    from ..session import SESSION_FILE

    session.meta["subject"] = subject
    atomic_write_json(session.root / SESSION_FILE, session.meta)


def check_project_dict(data: Any, path: Path) -> None:
    """Raise :class:`ProjectError` naming the first field of ``project.json`` that is wrong."""
    if not isinstance(data, dict) or data.get("schema") != PROJECT_SCHEMA:
        raise ProjectError(path, "not an annotator project file")
    if data.get("schema_version") != PROJECT_VERSION:
        raise ProjectError(path, f"unsupported schema_version {data.get('schema_version')!r}")
    problem = schema_problem(data, project_schema())
    if problem is not None:
        raise ProjectError(path, problem)
