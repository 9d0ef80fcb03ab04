"""Starting the workbench: ``annotator open`` and napari's Plugins ▸ Workbench."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .dock import WorkbenchDock

if TYPE_CHECKING:
    import napari

DOCK_NAME = "annotator workbench"


class WorkbenchWidget(WorkbenchDock):
    """npe2 widget (Plugins ▸ Workbench): a workbench on the viewer's annotator video layer.

    With no such layer yet, it waits for one (File ▸ Open on a video or a session).
    A class, not a factory function: napari inspects ``__init__`` for the
    ``napari_viewer`` parameter to pass the viewer in.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(napari_viewer)
        if not self.attach():
            self.viewer.layers.events.inserted.connect(self._layer_inserted)

    def _layer_inserted(self, event) -> None:
        meta = getattr(event.value, "metadata", None)
        if self.video_layer is None and isinstance(meta, dict) and "annotator" in meta:
            self.viewer.layers.events.inserted.disconnect(self._layer_inserted)
            self.attach(event.value)

    def close_workbench(self) -> None:
        # Closed before any video came: stop waiting for one.
        try:
            self.viewer.layers.events.inserted.disconnect(self._layer_inserted)
        except (RuntimeError, TypeError, ValueError):
            pass
        super().close_workbench()


def open_workbench(
    path: str | os.PathLike,
    *,
    coder: str | None = None,
    compare=(),
    viewer: "napari.Viewer | None" = None,
    show: bool = True,
) -> tuple["napari.Viewer", "WorkbenchDock"]:
    """Open ``path`` (a video, a session, or a project) in a viewer with the workbench docked.

    A project opens at the session ``coder`` has work in next, with the project dock.
    Returns the viewer and the dock; call ``napari.run()`` to hand control to the user.
    """
    import napari

    from ..napari._reader import no_auto_dock

    path, project_root = _session_of(Path(path), coder)
    viewer = viewer or napari.Viewer(title=f"annotator · {path.name}", show=show)
    with no_auto_dock():  # this dock is ours, with the coder we were given
        layers = viewer.open(str(path), plugin="annotator")
    if project_root is not None and layers:
        layers[0].metadata["annotator"]["project"] = str(project_root)
    viewer.dims.axis_labels = ("frame", "y", "x")
    dock = WorkbenchDock(viewer, coder=coder, compare=compare)
    viewer.window.add_dock_widget(dock, name=DOCK_NAME, area="right")
    dock.attach(layers[0] if layers else None)
    return viewer, dock


def _session_of(path: Path, coder: str | None) -> tuple[Path, Path | None]:
    """``(what to open, its project)``: a project becomes the session ``coder`` codes next."""
    from ..labels.model import default_coder
    from ..project import Project, is_project_dir, session_to_open

    if not is_project_dir(path):
        return path, None
    project = Project.open(path)
    return session_to_open(project, coder or default_coder()).session, project.root


def _check_display() -> None:
    """One line instead of Qt's abort (status 134, a misleading xcb-cursor0 message)."""
    import sys

    from ..errors import AnnotatorError

    if not sys.platform.startswith("linux"):
        return
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc", "eglfs", "linuxfb"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    raise AnnotatorError(
        None,
        "no display to open the workbench on ($DISPLAY is not set); on a machine without a screen run "
        "`xvfb-run -a annotator open ...` (Debian package xvfb)",
    )


def main(path, coder=None, compare=()) -> int:
    """Run the workbench until its window closes.

    Bad input (missing path, invalid coder id) is an :class:`~annotator.errors.AnnotatorError`
    raised before any window opens.
    """
    from ..errors import AnnotatorError
    from ..labels.model import coder_problem
    from ..napari._reader import napari_get_reader

    path = Path(path)
    if not path.exists():
        raise AnnotatorError(path, "no such video or session")
    if napari_get_reader(str(path)) is None:
        raise AnnotatorError(path, "not a video, an annotator session (a directory with session.json) or a project")
    for name in ([coder] if coder else []) + list(compare):
        if coder_problem(name):
            raise AnnotatorError(None, coder_problem(name))
    given = path
    path, _project = _session_of(path, coder)
    # Probe the video before any window opens, so bad files get their one-line error here.
    from ..media import open_video
    from ..session import Session, is_session_dir

    session = Session.open(path) if is_session_dir(path) else None
    video_path = session.video_path if session is not None else path
    with open_video(video_path) as video:
        # sha256 is cached beside the video's index, so this costs a hash only once per file.
        if session is not None and video.sha256 != session.sha256:
            print(
                f"annotator: warning: {video_path}: has changed since {session.root} was made from it "
                "(sha256 differs); its tracks and labels may not match these frames",
                file=sys.stderr,
            )
    _check_display()

    import napari

    open_workbench(given, coder=coder, compare=compare)
    napari.run()
    return 0
