"""The AU lanes: one optional timeline lane per AU, where the coder marks where it shows and its intensity.

As in ELAN's tiers and BORIS's behaviours, each AU has a lane of its own; an
interval on it runs from the frame where the AU begins (B) to where it ends (E)
and carries a FACS intensity, A (trace) to E (maximum) (Alt-A … Alt-E).  The
keys act on the current lane (G, or the field in the dock) and its current
interval: the one just begun, else the one under the cursor.  Every edit goes
through :class:`~annotator.labels.editor.LabelsEditor`, so it is undoable and
reaches the coder's file at once, as the segment edits do.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QWidget

from ..labels.facs import lane_name, lane_sort_key


class AULanesPanel:
    """The current AU lane and interval, the dock's lane field, and the AU edits, for ``dock``."""

    def __init__(self, dock):
        self.dock = dock
        #: The AU lane the keys edit (``"12"``, ``"R12"``); ``""`` until one is chosen.
        self.lane = ""
        #: The current interval: the one just begun or edited ("" none: the one under the cursor).
        self.current_id = ""
        self.widget = QWidget()
        row = QHBoxLayout(self.widget)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("AU lane:"))
        self.lane_box = QComboBox()
        self.lane_box.setEditable(True)
        self.lane_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.lane_box.setToolTip("the AU whose lane B, E and Alt-A…E edit (12, R12, AU4); Enter chooses it")
        self.lane_box.lineEdit().setPlaceholderText("G: 12, R12 …")
        # Enter in the field (whatever Qt's insert policy does with it), or a lane picked from the list
        self.lane_box.lineEdit().returnPressed.connect(lambda: self._lane_typed(self.lane_box.currentText()))
        self.lane_box.activated.connect(lambda i: self._lane_typed(self.lane_box.itemText(i)))
        row.addWidget(self.lane_box, 1)
        self.show_box = QCheckBox("show AU lanes (Shift-G)")
        self.show_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.show_box.toggled.connect(lambda _on: self.refresh())
        row.addWidget(self.show_box)

    # -- the lane --------------------------------------------------------------------------------
    def set_lane(self, text: str) -> bool:
        """Make ``text`` (``12``, ``R12``, ``AU4``) the current lane and show the lanes; ``False`` (said) when not an AU."""
        try:
            lane = lane_name(text.strip())
        except ValueError as exc:
            self.dock.say(str(exc))
            return False
        self.lane, self.current_id = lane, ""
        self.show_box.setChecked(True)  # refreshes
        self.refresh()
        self.dock.say(f"AU lane {lane}: B begins an interval here, E ends it, Alt-A…E scores its intensity")
        return True

    def _lane_typed(self, text: str) -> None:
        if text.strip() and lane_name_or_none(text) != self.lane:
            self.set_lane(text)
        self.dock.focus_canvas()

    def choose_lane(self) -> None:
        """G: ask which AU's lane the keys edit."""
        from qtpy.QtWidgets import QInputDialog

        self.dock.playback.stop()
        text, ok = QInputDialog.getText(self.dock, "annotator: AU lane", "AU (12, R12, AU4):", text=self.lane)
        self.dock.focus_canvas()
        if ok and text.strip():
            self.set_lane(text)

    def toggle(self) -> None:
        """Shift-G: show or hide the AU lanes."""
        self.show_box.setChecked(not self.show_box.isChecked())
        self.dock.say("AU lanes shown" if self.show_box.isChecked() else "AU lanes hidden")

    # -- which interval --------------------------------------------------------------------------
    def current(self):
        """The current interval: the one just begun or edited, else the one under the cursor on the lane."""
        editor = self.dock.editor
        if editor is None:
            return None
        if self.current_id:
            found = editor.interval(self.current_id)
            if found is not None:
                return found
            self.current_id = ""  # deleted, or undone away
        return editor.interval_at(self.lane, self.dock.frame) if self.lane else None

    def make_current(self, interval_id: str) -> None:
        self.current_id = interval_id
        found = self.dock.editor.interval(interval_id) if interval_id else None
        if found is not None and found.au != self.lane:
            self.lane = found.au
        self.refresh()

    # -- edits -----------------------------------------------------------------------------------
    def _need_lane(self) -> bool:
        if not self.lane:
            self.dock.say("no AU lane yet: press G and type the AU (12, R12 …)")
            return False
        return True

    def begin(self) -> None:
        """B: an interval of the lane's AU begins at the cursor (the one under it moves its onset here)."""
        if not self._need_lane():
            return
        editor, frame = self.dock.editor, self.dock.frame
        under = editor.interval_at(self.lane, frame)
        if under is not None:
            result = editor.set_interval_edge(under.id, "onset", frame)
        else:
            result = editor.new_interval(self.lane, frame)
        self.make_current(result.id)
        self.dock.say(f"{_describe(result)}: E ends it, Alt-A…E scores it")

    def _edit(self, fn, what: str) -> None:
        if not self._need_lane():
            return
        interval = self.current()
        if interval is None:
            self.dock.say(f"no AU {self.lane} interval to {what} here: B begins one")
            return
        try:
            result = fn(interval)
        except ValueError as exc:
            self.dock.say(str(exc))
            return
        if result is not None:
            self.make_current(result.id)
            self.dock.say(_describe(result))

    def end(self) -> None:
        """E: the current interval ends at the cursor."""
        self._edit(lambda a: self.dock.editor.set_interval_edge(a.id, "offset", self.dock.frame), "end")

    def set_intensity(self, letter: str) -> None:
        """Alt-A … Alt-E: the current interval's FACS intensity."""
        self._edit(lambda a: self.dock.editor.set_interval_intensity(a.id, letter), "score")

    def delete(self) -> None:
        """Shift-Delete: delete the current interval."""

        def gone(a):
            self.dock.editor.delete_interval(a.id)
            self.current_id = ""
            self.dock.say(f"deleted {_describe(a)}")

        self._edit(gone, "delete")

    # -- views -----------------------------------------------------------------------------------
    def lanes(self) -> dict:
        """``{lane: intervals}`` to draw: every lane with intervals, and the current one."""
        editor = self.dock.editor
        out = dict(editor.labels.lanes()) if editor is not None else {}
        if self.lane:
            out.setdefault(self.lane, [])
        return dict(sorted(out.items(), key=lambda kv: lane_sort_key(kv[0])))

    def refresh(self, editor=None) -> None:
        """Draw the lanes in the timeline and list them in the lane field (connected to ``editor.changed``)."""
        if self.dock.editor is None:
            return
        lanes = self.lanes()
        names = list(lanes)
        if [self.lane_box.itemText(i) for i in range(self.lane_box.count())] != names:
            self.lane_box.blockSignals(True)
            self.lane_box.clear()
            self.lane_box.addItems(names)
            self.lane_box.blockSignals(False)
        self.lane_box.setEditText(self.lane)
        timeline = self.dock.timeline
        if timeline is not None:
            current = self.current()
            timeline.set_au_lanes(lanes if self.show_box.isChecked() else {}, self.lane,
                                  current.id if current is not None else None)
        self.dock.readout.update()  # "coded …" at the cursor follows the edit

    def follow_cursor(self) -> None:
        """On a frame step: highlight the interval under the cursor when none is current (cheap when unchanged)."""
        timeline = self.dock.timeline
        if timeline is None or self.current_id or not self.lane or not self.show_box.isChecked():
            return
        under = self.dock.editor.interval_at(self.lane, self.dock.frame)
        uid = under.id if under is not None else None
        if uid != timeline.au_current_id:
            self.refresh()

    def on_open(self) -> None:
        """A session (or coder) was opened: lanes shown when the coder's file has any."""
        self.current_id = ""
        self.show_box.blockSignals(True)
        self.show_box.setChecked(bool(self.dock.editor.labels.au_intervals))
        self.show_box.blockSignals(False)
        self.refresh()


def lane_name_or_none(text: str) -> str | None:
    try:
        return lane_name(text.strip())
    except ValueError:
        return None


def _describe(interval) -> str:
    score = f" intensity {interval.intensity}" if interval.intensity else " (no intensity yet)"
    return f"AU {interval.au} {interval.onset}–{interval.offset}{score}"
