"""Projects: a corpus of sessions with their subjects, metadata and consent.

:class:`Project` reads and edits ``project.json`` (:mod:`.file`);
:func:`project_status` says where each session stands (:mod:`.status`);
:func:`resolve_sessions` turns command-line arguments that may name projects
into their videos or sessions.
"""

from .file import (
    CONSENT_USES,
    PROJECT_FILE,
    Project,
    ProjectError,
    ProjectSession,
    Subject,
    is_project_dir,
    parse_consent,
    project_schema,
)
from .status import SessionStatus, next_uncoded, project_status, session_status, session_to_open

__all__ = [
    "CONSENT_USES", "PROJECT_FILE", "Project", "ProjectError", "ProjectSession", "SessionStatus", "Subject",
    "expand_project_args", "find_project", "is_project_dir", "next_uncoded", "parse_consent", "project_schema",
    "project_status", "session_status", "session_to_open",
]


def find_project(session_dir) -> "tuple[Project, ProjectSession] | None":
    """The project that lists the session at ``session_dir``, and its entry; ``None`` when none does.

    The session folder's ancestors are searched (a project holds its videos below
    it, as ``annotator project add`` is usually run), then the project recorded in
    ``session.json`` when the session was added; either must list the session.
    A damaged project file on the way is passed over, never raised.
    """
    import json
    import os
    from pathlib import Path

    from ..errors import AnnotatorError
    from ..session import SESSION_FILE

    root = Path(os.path.normpath(Path(session_dir).absolute()))
    candidates = list(root.parents)
    try:
        hint = json.loads((root / SESSION_FILE).read_text("utf-8")).get("project")
    except (OSError, ValueError, AttributeError):
        hint = None
    if isinstance(hint, str) and hint:
        candidates.append(Path(os.path.normpath(root / hint)))
    for folder in candidates:
        if not is_project_dir(folder):
            continue
        try:
            project = Project.open(folder)
        except AnnotatorError:
            continue
        for entry in project.sessions:
            if entry.session == root:
                return project, entry
    return None


def expand_project_args(paths, what: str = "session"):
    """Each path as given, except a project directory, which becomes its sessions' paths.

    ``what`` is ``"session"`` (the ``.annot`` folders, for ``propose``) or ``"video"``
    (for ``track``, which makes the sessions beside the videos as the project expects).
    """
    from pathlib import Path

    out = []
    for path in paths:
        if is_project_dir(path):
            project = Project.open(path)
            if not project.sessions:
                raise ProjectError(project.root, "has no sessions yet; add some with `annotator project add`")
            out.extend(e.session if what == "session" else e.video for e in project.sessions)
        else:
            out.append(Path(path))
    return out
