"""The workbench dock: wires the session's model to napari, the timeline and the table.

Nothing here decides what an edit means: every change goes through
:class:`~annotator.labels.editor.LabelsEditor` (undo, redo, atomic autosave),
the overlays come from :mod:`annotator.napari.overlays`, and the key table
from :mod:`annotator.napari.keybindings`.  The dock only wires its controllers:

- :class:`~annotator._qt.playback.Playback` moves the slider (step, play, loop);
- :class:`~annotator._qt.bindings.KeyBindings` binds the keys, and
  :func:`~annotator._qt.bindings.action_handlers` says what each action does;
- :class:`~annotator._qt.segments_panel.SegmentsPanel` owns the table, the
  current segment and the edits;
- :class:`~annotator._qt.tracking_panel.TrackingPanel` tracks an untracked video;
- :class:`~annotator._qt.readout.ReadoutPanel` shows the values at the cursor;
- :class:`~annotator._qt.agreement_panel.AgreementPanel` shows agreement and steps
  through the consensus segments that need a decision.
- :class:`~annotator._qt.coder_panel.CoderPanel` chooses the coder and whom to compare with.
- :class:`~annotator._qt.project_panel.ProjectPanel` lists the project's sessions and opens the next uncoded one.
- :class:`~annotator._qt.retrain_panel.RetrainPanel` retrains on the coder's reviews and re-proposes.
- :class:`~annotator._qt.au_lanes_panel.AULanesPanel` owns the AU lanes (one per AU,
  intervals with a FACS intensity) and their edits.

A new view (agreement, quiz) is one more controller built in ``__init__`` and
told about the session in :meth:`WorkbenchDock.load_session`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..labels.model import default_coder
from . import _napari_compat as compat
from .agreement_panel import AgreementPanel
from .au_lanes_panel import AULanesPanel
from .bindings import KeyBindings, action_handlers, unbind_all
from .coder_panel import CoderPanel
from .playback import Playback
from .project_panel import ProjectPanel
from .readout import ReadoutPanel
from .retrain_panel import RetrainPanel
from .segments_panel import SegmentsPanel
from .tracking_panel import TrackingPanel, stop_child

if TYPE_CHECKING:
    import napari

    from ..labels.editor import LabelsEditor
    from ..session import Session


class WorkbenchDock(QWidget):
    """Keyboard-first coding of one session in a napari viewer.

    Parameters
    ----------
    viewer : napari.Viewer
    coder : str
        Whose labels file is edited.
    compare : list of str
        Other coders shown read-only.
    shortcuts : tuple of ShortcutSpec, optional
        Default: :func:`~annotator.napari.keybindings.load_shortcuts` (settings file applied).
    """

    def __init__(self, viewer: "napari.Viewer", coder: str | None = None, compare=(), shortcuts=None):
        super().__init__()
        from ..napari.keybindings import load_shortcuts

        # napari hands plugin widgets a PublicOnlyProxy; the private reaches in
        # _napari_compat (canvas focus, the layer list) need the viewer itself.
        self.viewer = viewer = compat.unwrap_viewer(viewer)
        self.coder = coder or default_coder()
        self.compare = list(compare)
        self.shortcuts = shortcuts if shortcuts is not None else load_shortcuts()
        self.session: Session | None = None
        self.editor: LabelsEditor | None = None
        self.project = None  # the Project the session belongs to, if any
        self._project_hint: str | None = None  # the project a layer was opened from
        self.tracks = None
        self.overlays = None
        self.video_layer = None
        self.timeline = None
        self._timeline_dock = None
        self._closed = False
        self._timeline_pending = False
        # Cleanup must not need ``self``: by the time ``destroyed`` fires the Python side may be gone.
        self._state: dict = {"worker": None, "child": None}

        self.playback = Playback(viewer, lambda: self.session, lambda: self.segments.current_segment(), self.say, self)
        self.play_timer = self.playback.timer
        # Through ``self.trigger`` at press time, so a replaced trigger (tests) is the one called.
        self.keys = KeyBindings(self.shortcuts, lambda action: self.trigger(action))
        self.segments = SegmentsPanel(self)
        self.table = self.segments.table
        self.tracking = TrackingPanel(self._state)
        self.readout = ReadoutPanel(self)
        self.agreement = AgreementPanel(self)
        self.au_lanes = AULanesPanel(self)
        self.handlers: dict[str, Callable[[], None]] = action_handlers(self)

        self.coder_panel = CoderPanel(self.say)
        self.coder_panel.chosen.connect(self.switch_coder)
        self.coder_panel.show_session(self.coder, self.compare, [])
        self.project_panel = ProjectPanel(self.say, _keys_of(self.shortcuts, "next_session"))
        self.project_panel.openRequested.connect(self.switch_session)
        self.retrainer = RetrainPanel(_keys_of(self.shortcuts, "retrain_now"))
        self.retrainer.button.clicked.connect(self.retrain_now)
        self.retrainer.status.connect(self.say)
        self.retrainer.retrained.connect(self._retrained)
        self.retrainer.hide()
        self.title = QLabel("<b>annotator</b>")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.tracking.status.connect(self.status.setText)
        self.tracking.tracked.connect(self._tracked)
        self.track_button = self.tracking.track_button
        # The contours and the skeleton share one layer (one layer costs a frame step
        # less than two); these show or hide either part.
        self.show_contours = QCheckBox("face contours")
        self.show_skeleton = QCheckBox("body skeleton")
        parts = QHBoxLayout()
        parts.addWidget(QLabel("Lines:"))
        for box, part in ((self.show_contours, "contours"), (self.show_skeleton, "skeleton")):
            box.setChecked(True)
            box.setEnabled(False)
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            box.toggled.connect(lambda on, part=part: self.overlays and self.overlays.show_parts(**{part: on}))
            parts.addWidget(box)
        parts.addStretch(1)
        self.help_button = QPushButton("Shortcuts (?)")
        self.help_button.clicked.connect(self.show_help)
        self.help_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        for item in (self.title, self.coder_panel, self.project_panel, self.status, self.readout.label,
                     self.tracking, self.retrainer, parts, self.au_lanes.widget, self.agreement.box,
                     self.table, self.help_button):
            if isinstance(item, QHBoxLayout):
                layout.addLayout(item)
            else:
                layout.addWidget(item, 1 if item is self.table else 0)
        self.setMinimumWidth(460)

        state = self._state
        state.update(bound=self.keys.bound, timer=self.play_timer)
        self.destroyed.connect(lambda *_: _cleanup(state))
        viewer.dims.events.current_step.connect(self._on_step)

    # -- opening -------------------------------------------------------------------------
    def attach(self, layer=None) -> bool:
        """Work on ``layer`` (default: the first layer our reader made); ``False`` if none."""
        from ..napari.layers import find_session_layer

        layer = layer or find_session_layer(self.viewer)
        if layer is None:
            self.status.setText("Open a video or a session (File ▸ Open) to start.")
            return False
        self.video_layer = layer
        info = layer.metadata["annotator"]
        self._project_hint = info.get("project")
        # napari starts the slider mid-video; a coder starts at the beginning.
        self.set_frame(0)
        if info.get("session"):
            self.load_session(info["session"])
        else:
            self.tracking.offer(info["video"])
            # The keys are ours before tracking too: "2" must not put napari in transform mode.
            self.viewer.layers.selection.active = layer
            self.bind_keys()
        return True

    def load_session(self, path) -> None:
        """Open the session's labels (and tracks when there are any) and draw everything."""
        from ..errors import AnnotatorError
        from ..labels.editor import open_editor
        from ..session import Session
        from ..tracking.store import load_tracks

        session = Session.open(path)
        old = self.editor
        same_lock = old is not None and old.path is not None and \
            old.path.resolve() == session.labels_path(self.coder).resolve()
        if old is not None and same_lock:
            self._drop_editor()  # the same coder's file: its lock must be free for the new editor
        # Otherwise the new editor comes first: when it cannot open (its file is locked
        # by another window), the session open now stays open, with its lock.
        editor = open_editor(session, self.coder, compare=self.compare)
        if self.editor is not None:
            self._drop_editor()
        self.session, self.editor = session, editor
        self.editor.changed.connect(self.segments.refresh)
        self.editor.changed.connect(self._edited)
        self.editor.changed.connect(self.au_lanes.refresh)
        try:
            self.tracks = load_tracks(self.session)
        except AnnotatorError as exc:
            self.tracks = None
            self.tracking.offer(self.session.video_path, self.session.root, reason=str(exc))
        else:
            from ..labels import AUTO_CODER

            if not self.session.has_labels(AUTO_CODER):
                self.tracking.offer_propose(self.session.video_path, self.session.root)
        self.coder_panel.show_session(self.coder, self.compare, self.session.coders())
        self._show_project()
        self.retrainer.show()
        self.title.setText(
            f"<b>{self.session.video_path.name}</b> · coder <b>{self.coder}</b>"
            + (f" · comparing {', '.join(self.compare)}" if self.compare else "")
        )
        self._setup_layers()
        self._setup_timeline()
        self.bind_keys()
        self.segments.refresh(self.editor)
        self._edited(self.editor)
        self.au_lanes.on_open()
        self.agreement.compute()
        self._on_step()
        # The zoom napari picked came before the docks took their space: fit again
        # once the layout has settled (the event loop has laid the window out).
        QTimer.singleShot(0, self.fit_video)

    def _drop_editor(self) -> None:
        """Stop editing the open labels: every edit is saved already; the coder's lock is released."""
        if self.editor is not None:
            self.editor.changed.disconnect(self.segments.refresh, missing_ok=True)
            self.editor.changed.disconnect(self._edited, missing_ok=True)
            self.editor.changed.disconnect(self.au_lanes.refresh, missing_ok=True)
            self.editor.close()
            self.editor = None

    def _edited(self, editor) -> None:
        """After every change: the project row follows, and the proposer line says who made what is shown."""
        from ..spotting.propose import describe_proposer

        self.project_panel.schedule_refresh()
        self.retrainer.show_proposer(describe_proposer(editor.unreviewed()) if editor.unreviewed()
                                     else "none left to review")

    # -- the project ------------------------------------------------------------------------
    def _show_project(self) -> None:
        """Find the project the session is in (the one it was opened from, else by looking) and show it."""
        from ..errors import AnnotatorError
        from ..project import Project, find_project

        found = None
        if self._project_hint:
            try:
                project = Project.open(self._project_hint)
            except AnnotatorError as exc:
                self.say(str(exc))
            else:
                root = self.session.root.resolve()
                entry = next((e for e in project.sessions if e.session.resolve() == root), None)
                found = (project, entry) if entry is not None else None
        found = found or find_project(self.session.root)
        if found is None:
            self.project = None
            self.project_panel.clear()
            return
        self.project, entry = found
        self.project_panel.show_project(self.project, entry.id, self.coder)

    def switch_session(self, path) -> bool:
        """Open the session at ``path`` in this viewer instead of the open one; ``False`` if it cannot be now.

        Every edit is saved already (autosave); the old session's lock on the coder's
        file is released once the new one is open.  The video layer shows the new video;
        the overlays, the timeline and the keys are made again for it.  Refused while tracking or retraining runs (it belongs to the open session).
        """
        from ..errors import AnnotatorError
        from ..napari.layers import video_layer_data
        from ..session import Session

        if self.retrainer.running or self.tracking.worker is not None:
            self.say("wait for the retraining or tracking to finish (or Cancel it) before opening another session")
            return False
        self.playback.stop()
        self.table.commit_pending_edit()
        try:
            session = Session.open(path)
            ((data, kwargs, _kind),) = video_layer_data(session.root)
        except AnnotatorError as exc:
            self.say(str(exc))
            return False
        if self.project is not None:
            kwargs["metadata"]["annotator"]["project"] = str(self.project.root)
        layer = self.video_layer
        before = (layer.data, layer.name, layer.metadata) if layer is not None else None
        self._project_hint = kwargs["metadata"]["annotator"].get("project")
        try:
            if layer is None:
                self.video_layer = self.viewer.add_image(data, **kwargs)
            else:
                # The video layer stays and gets the new video: removing an Image layer and
                # adding another crashed Mesa's software GL in glDrawArrays (napari 0.6, llvmpipe).
                layer.data, layer.name, layer.metadata = data, kwargs["name"], kwargs["metadata"]
            self.set_frame(0)
            self.load_session(session.root)
        except AnnotatorError as exc:  # e.g. that session's file is locked by another window
            if before is not None:
                layer.data, layer.name, layer.metadata = before
            else:
                self.viewer.layers.remove(self.video_layer)
                self.video_layer = None
            self.say(str(exc))
            return False
        self.viewer.layers.selection.active = self.video_layer
        self.viewer.title = f"annotator · {self.session.video_path.name}"
        self.say(f"opened {self.session.root.name}" + (f" ({self.project_panel.current_id})"
                                                       if self.project is not None else ""))
        self.focus_canvas()
        return True

    # -- retraining ------------------------------------------------------------------------
    def retrain_now(self) -> None:
        """Learn from this coder's reviews in the background, then re-propose the unreviewed (Shift-R)."""
        if self.session is None or self.editor is None:
            self.say("no session to retrain on")
            return
        self.retrainer.start(self.session, self.coder, project=self.project)

    def _retrained(self, result) -> None:
        """The session was re-proposed: show the new proposals; the coder's own labels are as they were."""
        from ..errors import AnnotatorError
        from ..labels import AUTO_CODER

        if self.editor is None or self._closed or self._state.get("destroyed"):
            return
        try:
            proposals = self.session.load_labels(AUTO_CODER) if self.session.has_labels(AUTO_CODER) else None
        except AnnotatorError as exc:
            self.say(str(exc))
            return
        self.editor.reload_proposals(proposals)
        self.project_panel.refresh()

    def fit_video(self) -> None:
        """Fit the whole frame to the canvas as it is now."""
        if not self._closed and not self._state.get("destroyed"):
            self.viewer.reset_view()

    def _setup_layers(self) -> None:
        from ..napari.overlays import FrameOverlays

        compat.keep_vectors_shaders()
        compat.repaint_changed_rows_only(self.viewer)
        if self.overlays is not None:
            self.overlays.remove_from(self.viewer)
            self.overlays = None
        if self.tracks is not None:
            self.overlays = FrameOverlays(self.tracks, prepare_layer=compat.prepare_overlay_layer,
                                          quiet_update=compat.quiet_data_events)
            self.overlays.show_parts(contours=self.show_contours.isChecked(),
                                     skeleton=self.show_skeleton.isChecked())
            self.overlays.add_to(self.viewer, self.frame)
        self.show_contours.setEnabled(self.overlays is not None)
        self.show_skeleton.setEnabled(self.overlays is not None and self.overlays.has_skeleton)
        if self.video_layer is not None:
            # Keep the video active: our keys are bound on it too, and its class
            # keymap (digits switch modes) must not win over the emotion keys.
            self.viewer.layers.selection.active = self.video_layer

    def _setup_timeline(self) -> None:
        from .timeline import TimelineWidget

        if self._timeline_dock is not None:
            self.viewer.window.remove_dock_widget(self._timeline_dock)
        self.timeline = TimelineWidget(self.session.n_frames, self.session.fps)
        if self.tracks is not None:
            from ..features import FRAME_EMOTIONS, features_from_tracks, frame_emotions
            from ..features.motion import motion_curves

            feats = features_from_tracks(self.tracks)
            curves = _au_curves(feats)
            probs = frame_emotions(feats).to_numpy()
            self.timeline.set_channels(curves)
            self.timeline.set_motion(motion_curves(self.tracks))
            self.timeline.set_emotions(probs, FRAME_EMOTIONS)
            self.readout.load(self.tracks.time, self.session.fps, _readout_curves(curves), probs, FRAME_EMOTIONS)
        else:
            self.readout.load(None, self.session.fps, {})
        self.timeline.frameRequested.connect(self.set_frame)
        self.timeline.boundaryMoved.connect(self.segments.boundary_moved)
        self._timeline_dock = self.viewer.window.add_dock_widget(
            self.timeline, name="annotator timeline", area="bottom"
        )
        self._timeline_dock.setMinimumHeight(200)
        # Without this the bottom dock takes half the window from the video.
        self._timeline_dock.window().resizeDocks([self._timeline_dock], [260], Qt.Orientation.Vertical)

    def switch_coder(self, coder: str, compare) -> None:
        """Edit as ``coder`` from now on, showing ``compare`` read-only (the coder field's Enter)."""
        from ..errors import AnnotatorError

        before = (self.coder, list(self.compare))
        self.coder, self.compare = coder, list(compare)
        if self.session is not None and (self.coder, self.compare) != before:
            try:
                self.load_session(self.session.root)
            except AnnotatorError as exc:  # e.g. that coder's file is locked by another window
                self.coder, self.compare = before
                self.load_session(self.session.root)
                self.say(str(exc))
                return
        self.title.setText(self.title.text().replace(f"coder <b>{before[0]}</b>", f"coder <b>{coder}</b>"))
        self.say(f"coding as {coder}" + (f", comparing {', '.join(self.compare)}" if self.compare else ""))
        self.focus_canvas()

    # -- tracking ------------------------------------------------------------------------
    def start_tracking(self) -> None:
        """Track the video in the background (cancellable), then propose and load the session."""
        self.tracking.start()

    def cancel_tracking(self) -> None:
        self.tracking.cancel()

    @property
    def worker(self):
        """The running tracking worker, or ``None``."""
        return self.tracking.worker

    def _tracked(self, session_dir: str) -> None:
        if self.video_layer is not None:
            self.video_layer.metadata["annotator"]["session"] = session_dir
        self.load_session(session_dir)

    # -- keys ------------------------------------------------------------------------------
    def bind_keys(self) -> None:
        """Bind every shortcut on the viewer and on our layers; undone by :meth:`close_workbench`."""
        providers = [self.viewer] + ([self.video_layer] if self.video_layer is not None else [])
        if self.overlays is not None:
            providers += self.overlays.layers
        self.keys.bind(providers)

    def trigger(self, action: str) -> None:
        """Run one shortcut action (what a key press does).

        Before there is a session (the video is not tracked yet) only moving
        through the video and the help work; the other keys say why not.
        """
        if self.editor is None and action not in WITHOUT_SESSION:
            self.say("no labels yet: track this video first (Track this video, in the workbench)")
            return
        self.handlers[action]()

    # -- the frame ---------------------------------------------------------------------------
    @property
    def frame(self) -> int:
        return self.playback.frame

    @property
    def n_frames(self) -> int:
        return self.playback.n_frames

    def set_frame(self, frame: int) -> None:
        self.playback.set_frame(frame)

    def _on_step(self, event=None) -> None:
        if self.session is None:
            return
        if self.overlays is not None:
            self.overlays.update(self.frame)
        if self.timeline is not None and not self._timeline_pending:
            # The video frame comes first: the timeline follows from the event loop,
            # so its repaint (1.5-2 ms) comes after the canvas's draw, and a held key
            # that outruns the drawing moves the cursor once, not once per step.
            self._timeline_pending = True
            QTimer.singleShot(0, self._follow_in_timeline)

    def _follow_in_timeline(self) -> None:
        self._timeline_pending = False
        if self._closed or self.timeline is None or self.session is None:
            return
        if self._state.get("destroyed"):  # the window closed while this waited in the event loop
            return
        self.segments.follow_cursor(self.timeline)
        self.au_lanes.follow_cursor()
        self.readout.update()

    # -- small services the controllers share ----------------------------------------------------------
    def focus_canvas(self) -> None:
        """Give napari's canvas (which handles the keys) the focus back after a click elsewhere."""
        native = compat.canvas_widget(self.viewer)
        if native is not None:
            native.setFocus()

    def say(self, message: str) -> None:
        """One line in napari's status bar."""
        self.viewer.status = message

    def show_help(self) -> None:
        from .shortcuts import ShortcutsDialog

        self._help = ShortcutsDialog(self.shortcuts, self)
        self._help.show()

    # -- teardown ------------------------------------------------------------------------------------
    def close_workbench(self) -> None:
        """Stop playback and workers, unbind keys, disconnect from the viewer."""
        if self._closed:
            return
        self._closed = True
        self.playback.stop()
        self.tracking.stop_now()  # the tracking child must not go on, orphaned
        self.retrainer.stop_now()  # nothing is re-proposed behind a closed window
        self.project_panel.clear()
        self.keys.unbind()
        try:
            self.viewer.dims.events.current_step.disconnect(self._on_step)
        except (RuntimeError, TypeError, ValueError):
            pass
        self._drop_editor()  # releases the lock on the coder's file

    def closeEvent(self, event) -> None:
        self.close_workbench()
        super().closeEvent(event)


def _keys_of(shortcuts, action: str) -> str:
    """The keys of ``action`` for a button's label (``"Shift-R"``); ``""`` when it has none."""
    return " or ".join(next((s.keys for s in shortcuts if s.action == action), ()))


def _readout_curves(curves: dict) -> dict:
    """The AUs the readout shows: the combined (both sides) curves, in AU order."""
    return {k: v for k, v in curves.items() if k.startswith("AU")}


def _au_curves(feats) -> dict:
    """The timeline's AU curves: every channel, plus the combined L/R curves shown first, in AU order."""
    from .timeline import DEFAULT_CHANNELS

    curves = {name: feats.values[:, i] for i, name in enumerate(feats.channels)}
    for au in DEFAULT_CHANNELS:
        try:
            curves.setdefault(au, feats.au(au))
        except ValueError:
            pass
    return dict(sorted(curves.items(), key=lambda kv: _au_order(kv[0])))


#: The actions that work before a video is tracked (they need no labels).
WITHOUT_SESSION = frozenset({"step_forward", "step_back", "step_forward_10", "step_back_10", "help"})


def _cleanup(state: dict) -> None:
    state["destroyed"] = True
    unbind_all(state["bound"])
    stop_child(state)
    for name in ("timer", "worker"):
        obj = state.get(name)
        try:
            if obj is not None:
                obj.stop() if name == "timer" else obj.quit()
        except RuntimeError:  # the C++ side is already deleted
            pass


def _au_order(name: str) -> tuple[int, str]:
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else 999, name)
