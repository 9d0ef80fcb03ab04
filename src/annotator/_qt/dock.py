"""The workbench dock: wires the session's model to napari, the timeline and the table.

Nothing here decides what an edit means: every change goes through
:class:`~annotator.labels.editor.LabelsEditor` (undo, redo, atomic autosave),
the overlays come from :mod:`annotator.napari.overlays`, and the key table
from :mod:`annotator.napari.keybindings`.  This module binds keys, moves the
slider, and redraws when the editor says something changed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ..labels.model import EMOTIONS

if TYPE_CHECKING:
    import napari

    from ..labels.editor import LabelsEditor
    from ..session import Session


def default_coder() -> str:
    """The coder id used when none is given: ``$USER`` when it is a valid id, else ``"coder"``."""
    from ..labels.model import valid_coder

    user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    return user if valid_coder(user) else "coder"


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
        self._video_to_track: Path | None = None
        self._track_into: Path | None = None
        from ..napari.keybindings import load_shortcuts

        # napari hands plugin widgets a PublicOnlyProxy; the dock needs the main
        # window (dock sizes) and the canvas (focus), which napari keeps private.
        self.viewer = viewer = getattr(viewer, "__wrapped__", viewer)
        self.coder = coder or default_coder()
        self.compare = list(compare)
        self.shortcuts = shortcuts if shortcuts is not None else load_shortcuts()
        self.session: Session | None = None
        self.editor: LabelsEditor | None = None
        self.tracks = None
        self.overlays = None
        self.video_layer = None
        self.timeline = None
        self._timeline_dock = None
        self.worker = None
        self._bound: list[tuple[object, str, object]] = []
        self._selected_id = ""
        self._loop: tuple[int, int] | None = None
        self._closed = False
        self._timeline_pending = False
        self.handlers: dict[str, Callable[[], None]] = self._make_handlers()

        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._tick)

        from .table import SegmentTable

        self.title = QLabel("<b>annotator</b>")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.track_button = QPushButton("Track this video")
        self.track_button.setToolTip("Find the face and body in every frame, then propose segments")
        self.track_button.clicked.connect(self.start_tracking)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_tracking)
        self.progress = QProgressBar()
        row = QHBoxLayout()
        row.addWidget(self.track_button)
        row.addWidget(self.cancel_button)
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
            box.toggled.connect(lambda on, part=part: self._show_part(part, on))
            parts.addWidget(box)
        parts.addStretch(1)
        self.help_button = QPushButton("Shortcuts (?)")
        self.help_button.clicked.connect(self.show_help)
        self.table = SegmentTable()
        self.table.segmentActivated.connect(self._table_activated)
        self.table.segmentSelected.connect(self._table_selected)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addLayout(parts)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.help_button)
        for w in (self.track_button, self.cancel_button, self.progress):
            w.hide()
        for w in (self.track_button, self.cancel_button, self.help_button):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumWidth(430)

        # Cleanup must not need ``self``: by the time ``destroyed`` fires the Python side may be gone.
        self._state = state = {"bound": self._bound, "timer": self.play_timer, "worker": None}
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
        # napari starts the slider mid-video; a coder starts at the beginning.
        self.set_frame(0)
        if info.get("session"):
            self.load_session(info["session"])
        else:
            self._offer_tracking(info["video"])
        return True

    def load_session(self, path) -> None:
        """Open the session's labels (and tracks when there are any) and draw everything."""
        from ..errors import AnnotatorError
        from ..labels.editor import open_editor
        from ..session import Session
        from ..tracking.store import load_tracks

        self.session = Session.open(path)
        if self.editor is not None:
            self.editor.disconnect(self._on_labels_changed)
            self.editor.close()  # releases the lock on the coder's file
        self.editor = open_editor(self.session, self.coder, compare=self.compare)
        self.editor.connect(self._on_labels_changed)
        try:
            self.tracks = load_tracks(self.session)
        except AnnotatorError as exc:
            self.tracks = None
            self._offer_tracking(self.session.video_path, reason=str(exc))
        self.title.setText(
            f"<b>{self.session.video_path.name}</b> · coder <b>{self.coder}</b>"
            + (f" · comparing {', '.join(self.compare)}" if self.compare else "")
        )
        self._setup_layers()
        self._setup_timeline()
        self.bind_keys()
        self._on_labels_changed(self.editor)
        self._on_step()

    def _setup_layers(self) -> None:
        from ..napari.overlays import FrameOverlays
        from .workarounds import keep_vectors_shaders, repaint_changed_rows_only

        keep_vectors_shaders()
        repaint_changed_rows_only(self.viewer)
        if self.overlays is not None:
            self.overlays.remove_from(self.viewer)
            self.overlays = None
        if self.tracks is not None:
            self.overlays = FrameOverlays(self.tracks)
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
        from .timeline import DEFAULT_CHANNELS, TimelineWidget

        if self._timeline_dock is not None:
            self.viewer.window.remove_dock_widget(self._timeline_dock)
        self.timeline = TimelineWidget(self.session.n_frames, self.session.fps)
        if self.tracks is not None:
            from ..features.motion import motion_curves
            from ..features import features_from_tracks

            feats = features_from_tracks(self.tracks)
            curves = {name: feats.values[:, i] for i, name in enumerate(feats.channels)}
            for au in DEFAULT_CHANNELS:  # the combined L/R curves of the channels shown first
                try:
                    curves.setdefault(au, feats.au(au))
                except ValueError:
                    pass
            self.timeline.set_channels(dict(sorted(curves.items(), key=lambda kv: _au_order(kv[0]))))
            self.timeline.set_motion(motion_curves(self.tracks))
        self.timeline.frameRequested.connect(self.set_frame)
        self.timeline.boundaryMoved.connect(self._boundary_moved)
        self._timeline_dock = self.viewer.window.add_dock_widget(
            self.timeline, name="annotator timeline", area="bottom"
        )
        self._timeline_dock.setMinimumHeight(200)
        # Without this the bottom dock takes half the window from the video.
        self.viewer.window._qt_window.resizeDocks([self._timeline_dock], [260], Qt.Orientation.Vertical)

    # -- tracking ------------------------------------------------------------------------
    def _offer_tracking(self, video, reason: str = "") -> None:
        self._video_to_track = Path(video)
        self._track_into = self.session.root if self.session is not None else None
        self.status.setText((reason + "\n" if reason else "") + f"{Path(video).name} has no tracks yet.")
        self.track_button.show()

    def start_tracking(self) -> None:
        """Track the video in the background (cancellable), then propose and load the session."""
        from napari.qt.threading import create_worker
        from napari.utils import progress

        from .workers import track_and_propose

        self.track_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.show()
        self.progress.setRange(0, 0)
        pbar = progress(total=0, desc="tracking")
        worker = create_worker(track_and_propose, self._video_to_track, self._track_into,
                               workers=min(2, os.cpu_count() or 1), _start_thread=False)

        def on_yield(value):
            done, total, message = value
            self.status.setText(f"{message}: block {done} of {total}" if total else f"{message}…")
            if total:
                self.progress.setRange(0, total)
                self.progress.setValue(done)
                pbar.total = total
                pbar.n = done
                pbar.refresh()

        def on_done(session_dir):
            pbar.close()
            self._tracking_finished()
            if session_dir is not None:
                if self.video_layer is not None:
                    self.video_layer.metadata["annotator"]["session"] = str(session_dir)
                self.load_session(session_dir)

        def on_error(exc):
            pbar.close()
            self._tracking_finished()
            self.status.setText(f"tracking failed: {exc}")

        def on_abort(*_):
            pbar.close()
            self._tracking_finished()
            self.status.setText("tracking cancelled; finished blocks are kept and resume next time")

        worker.yielded.connect(on_yield)
        worker.returned.connect(on_done)
        worker.errored.connect(on_error)
        worker.aborted.connect(on_abort)
        self.worker = self._state["worker"] = worker
        worker.start()

    def cancel_tracking(self) -> None:
        if self.worker is not None:
            self.worker.quit()

    def _tracking_finished(self) -> None:
        self.worker = self._state["worker"] = None
        self.track_button.setEnabled(True)
        self.track_button.hide()
        self.cancel_button.hide()
        self.progress.hide()

    # -- keys ------------------------------------------------------------------------------
    def bind_keys(self) -> None:
        """Bind every shortcut on the viewer and on our layers; remembered for :meth:`unbind_keys`."""
        self.unbind_keys()
        providers = [self.viewer] + ([self.video_layer] if self.video_layer is not None else [])
        if self.overlays is not None:
            providers += self.overlays.layers
        for spec in self.shortcuts:
            handler = _key_handler(self, spec.action)
            for key in _with_shifted_aliases(spec.keys):
                for provider in providers:
                    previous = provider.keymap.get(_coerce(key))
                    provider.bind_key(key, handler, overwrite=True)
                    self._bound.append((provider, key, previous))

    def unbind_keys(self) -> None:
        _unbind(self._bound)

    def trigger(self, action: str) -> None:
        """Run one shortcut action (what a key press does)."""
        self.handlers[action]()

    def _make_handlers(self) -> dict[str, Callable[[], None]]:
        h: dict[str, Callable[[], None]] = {
            "step_forward": lambda: self.step(1),
            "step_back": lambda: self.step(-1),
            "step_forward_10": lambda: self.step(10),
            "step_back_10": lambda: self.step(-10),
            "play_pause": self.play_pause,
            "loop_1x": lambda: self.loop(1.0),
            "loop_half": lambda: self.loop(0.5),
            "loop_quarter": lambda: self.loop(0.25),
            "next_segment": lambda: self._goto(self.editor.next_segment(self.frame, 1)),
            "previous_segment": lambda: self._goto(self.editor.next_segment(self.frame, -1)),
            "next_unreviewed": lambda: self._goto(self.editor.next_unreviewed(self.frame, 1)),
            "previous_unreviewed": lambda: self._goto(
                self.editor.next_unreviewed(self.frame, -1, least_confident=False)
            ),
            "new_segment": self.new_segment,
            "set_onset": lambda: self._edit(lambda sid: self.editor.set_frame(sid, "onset", self.frame)),
            "set_apex": lambda: self._edit(lambda sid: self.editor.set_frame(sid, "apex", self.frame)),
            "set_offset": lambda: self._edit(lambda sid: self.editor.set_frame(sid, "offset", self.frame)),
            "accept": lambda: self._edit(self.editor.accept),
            "reject": lambda: self._edit(self.editor.reject),
            "delete": self.delete,
            "edit_notes": self.edit_notes,
            "edit_aus": self.edit_aus,
            "undo": lambda: self._say(f"undo {self.editor.undo() or '(nothing)'}"),
            "redo": lambda: self._say(f"redo {self.editor.redo() or '(nothing)'}"),
            "help": self.show_help,
        }
        for number, emotion in enumerate(EMOTIONS, start=1):
            h[f"emotion_{emotion}"] = lambda n=number: self._edit(lambda sid: self.editor.set_emotion_by_number(sid, n))
        return h

    # -- navigation --------------------------------------------------------------------------
    @property
    def frame(self) -> int:
        return int(self.viewer.dims.current_step[0]) if self.viewer.dims.ndim else 0

    @property
    def n_frames(self) -> int:
        return self.session.n_frames if self.session is not None else 1

    def set_frame(self, frame: int) -> None:
        self.viewer.dims.set_current_step(0, int(np.clip(frame, 0, self.n_frames - 1)))

    def step(self, delta: int) -> None:
        self.stop()
        self.set_frame(self.frame + delta)

    def _goto(self, segment) -> None:
        if segment is None:
            self._say("no such segment")
            return
        self.stop()
        self._selected_id = segment.id
        self.table.select_id(segment.id, emit=False)
        self.set_frame(segment.onset)

    def current_segment(self):
        """The segment under the cursor, else the selected row's."""
        if self.editor is None:
            return None
        seg = self.editor.at(self.frame)
        if seg is None and self._selected_id:
            seg = self.editor.find(self._selected_id)
        return seg

    # -- playback -----------------------------------------------------------------------------
    def play_pause(self) -> None:
        if self.play_timer.isActive():
            self.stop()
        else:
            self._loop = None
            self.play_timer.start(max(1, round(1000 / self.session.fps)))

    def loop(self, speed: float) -> None:
        """Play the current segment over and over at ``speed`` (again: stop)."""
        seg = self.current_segment()
        if seg is None:
            self._say("no segment here to loop")
            return
        if self.play_timer.isActive() and self._loop == (seg.onset, seg.offset) and self._speed == speed:
            self.stop()
            return
        self._loop, self._speed = (seg.onset, seg.offset), speed
        self.set_frame(seg.onset)
        self.play_timer.start(max(1, round(1000 / (self.session.fps * speed))))
        self._say(f"looping {seg.emotion} at {speed:g}×")

    def stop(self) -> None:
        self.play_timer.stop()
        self._loop = None

    def _tick(self) -> None:
        nxt = self.frame + 1
        if self._loop is not None:
            lo, hi = self._loop
            nxt = lo if not lo <= nxt <= hi else nxt
        elif nxt >= self.n_frames:
            self.stop()
            return
        self.set_frame(nxt)

    # -- edits (all through the editor) ----------------------------------------------------------
    def _editable_segment(self):
        """The current segment (always the coder's own or a proposal); else ``None``, saying why."""
        seg = self.current_segment()
        if seg is None:
            self._say("no segment under the cursor (N makes one)")
        return seg

    def _edit(self, fn, seg=None) -> None:
        seg = seg or self._editable_segment()
        if seg is None:
            return
        result = fn(seg.id)
        self._selected_id = seg.id
        self._say(f"{result.status} {result.emotion} {result.onset}–{result.apex}–{result.offset}")

    def new_segment(self) -> None:
        seg = self.editor.new_segment(self.frame)
        self._selected_id = seg.id
        self.table.select_id(seg.id, emit=False)
        self._say(f"new segment at {self.frame}")

    def delete(self) -> None:
        seg = self.current_segment()
        if seg is None or self.editor.own(seg.id) is None:
            self._say("only your own segments can be deleted (X rejects a proposal)")
            return
        self.editor.delete(seg.id)
        self._say("deleted")

    def edit_notes(self) -> None:
        """Ask for the current segment's notes (prefilled) and store them as one undoable edit."""
        self._edit_text("notes", lambda seg: seg.notes, lambda sid, text: self.editor.set_notes(sid, text))

    def edit_aus(self) -> None:
        """Ask for the current segment's action units, separated by spaces or commas."""

        def store(segment_id: str, text: str):
            return self.editor.set_aus(segment_id, [au for au in text.replace(",", " ").split() if au])

        self._edit_text("action units", lambda seg: " ".join(seg.aus), store)

    def _edit_text(self, what: str, current, store) -> None:
        from qtpy.QtWidgets import QInputDialog

        seg = self._editable_segment() if self.editor is not None else None
        if seg is None:
            return
        self.stop()
        text, ok = QInputDialog.getText(
            self, f"annotator: {what}", f"{what.capitalize()} of {seg.emotion} {seg.onset}–{seg.apex}–{seg.offset}:",
            text=current(seg),
        )
        self._focus_canvas()
        if not ok or text == current(seg):
            return
        try:
            self._edit(lambda sid: store(sid, text), seg)
        except ValueError as exc:  # an AU that is not FACS: say so, change nothing
            self._say(str(exc))

    def _boundary_moved(self, segment_id: str, which: str, frame: int) -> None:
        if self.editor is not None and self.editor.find(segment_id) is not None:
            self.editor.set_frame(segment_id, which, frame)

    # -- views follow the model ----------------------------------------------------------------------
    def _on_labels_changed(self, editor) -> None:
        visible = editor.visible()
        others = [s for labels in editor.others.values() for s in labels.sorted()]
        self.table.set_segments(visible, {k: v.sorted() for k, v in editor.others.items()}, self.coder)
        if self.timeline is not None:
            seg = self.current_segment()
            self.timeline.set_segments(visible, others, seg.id if seg else None)
        todo = len(editor.unreviewed())
        self.status.setText(f"{len(editor.labels.segments)} coded · {todo} proposals to review · autosaved")

    def _show_part(self, part: str, on: bool) -> None:
        if self.overlays is not None:
            self.overlays.show_parts(**{part: on})

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
        frame = self.frame
        self.timeline.set_cursor(frame)
        seg = self.current_segment()
        sid = seg.id if seg else None
        if sid != self.timeline._current_id:
            self.timeline.set_current(self.editor.visible(), sid)

    def _table_activated(self, segment_id: str, apex: int) -> None:
        # Another coder's row is read-only: jump there, but do not make it the one keys edit
        # (an accepted proposal keeps its id, so that id may also name an editable segment).
        self._selected_id = self.table.selected_id()
        self.set_frame(apex)
        self._focus_canvas()

    def _table_selected(self, segment_id: str) -> None:
        self._selected_id = segment_id
        if segment_id and self.timeline is not None:
            self.timeline.set_current(self.editor.visible(), segment_id)
        self._focus_canvas()

    def _focus_canvas(self) -> None:
        # Keys are handled by napari's canvas; give it the focus back after a click elsewhere.
        canvas = getattr(getattr(self.viewer.window, "_qt_viewer", None), "canvas", None)
        native = getattr(canvas, "native", None)
        if native is not None:
            native.setFocus()

    def _say(self, message: str) -> None:
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
        self.stop()
        self.cancel_tracking()
        self.unbind_keys()
        try:
            self.viewer.dims.events.current_step.disconnect(self._on_step)
        except (RuntimeError, TypeError, ValueError):
            pass
        if self.editor is not None:
            self.editor.disconnect(self._on_labels_changed)
            self.editor.close()  # releases the lock on the coder's file

    def closeEvent(self, event) -> None:
        self.close_workbench()
        super().closeEvent(event)


def _key_handler(dock: WorkbenchDock, action: str):
    # napari calls keymap functions bound to the provider (viewer or layer) as their first argument.
    def handler(_provider):
        dock.trigger(action)

    handler.__name__ = f"annotator_{action}"
    handler.__doc__ = action
    return handler


#: What Qt reports for Shift plus a punctuation key on a US layout: napari sees
#: "?" for Shift-/, so a table entry "Shift-/" alone would never fire.
_SHIFTED = dict(zip("/,.;'[]-=`\\", '?<>:"{}_+~|'))


def _with_shifted_aliases(keys) -> list[str]:
    out = list(keys)
    for key in keys:
        if key.startswith("Shift-") and key[6:] in _SHIFTED and _SHIFTED[key[6:]] not in out:
            out.append(_SHIFTED[key[6:]])
    return out


def _coerce(key: str):
    from napari.utils.key_bindings import coerce_keybinding

    return coerce_keybinding(key)


def _unbind(bound: list) -> None:
    while bound:
        provider, key, previous = bound.pop()
        try:
            provider.bind_key(key, previous, overwrite=True)
            if previous is None:
                provider.keymap.pop(_coerce(key), None)
        except Exception:  # noqa: BLE001 - the provider may already be gone at exit
            pass


def _cleanup(state: dict) -> None:
    state["destroyed"] = True
    _unbind(state["bound"])
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
