"""The coder's segments: the table, the current segment, and every edit through the editor.

Nothing here decides what an edit means (that is
:class:`~annotator.labels.editor.LabelsEditor`); this controller picks the
segment an action applies to, runs the edit, says what happened, and keeps
the table and the timeline showing the editor's state.
"""

from __future__ import annotations

from .table import SegmentTable


class SegmentsPanel:
    """The table of segments and the edits of the current one, for ``dock``.

    Parameters
    ----------
    dock : WorkbenchDock
        Supplies the editor, the playback (frame), the timeline and the status line.
    """

    def __init__(self, dock):
        self.dock = dock
        #: The segment the keys edit when the cursor is on none (the table's selection).
        self.selected_id = ""
        self.table = SegmentTable()
        self.table.segmentActivated.connect(self._activated)
        self.table.segmentSelected.connect(self._selected)

    # -- which segment ---------------------------------------------------------------------------
    def current_segment(self):
        """The segment under the cursor, else the selected row's."""
        editor = self.dock.editor
        if editor is None:
            return None
        seg = editor.at(self.dock.frame)
        if seg is None and self.selected_id:
            seg = editor.find(self.selected_id)
        return seg

    def goto(self, segment) -> None:
        """Select ``segment`` and move to its onset (``None``: say there is none)."""
        if segment is None:
            self.dock.say("no such segment")
            return
        self.dock.playback.stop()
        self.selected_id = segment.id
        self.table.select_id(segment.id, emit=False)
        self.dock.set_frame(segment.onset)

    # -- edits -----------------------------------------------------------------------------------
    def _editable_segment(self):
        """The current segment (always the coder's own or a proposal); else ``None``, saying why."""
        seg = self.current_segment()
        if seg is None:
            self.dock.say("no segment under the cursor (N makes one)")
        return seg

    def edit(self, fn, seg=None) -> None:
        """Apply ``fn(segment_id)`` to ``seg`` (default: the current segment) and say the result."""
        seg = seg or self._editable_segment()
        if seg is None:
            return
        result = fn(seg.id)
        self.selected_id = seg.id
        self.dock.say(f"{result.status} {result.emotion} {result.onset}–{result.apex}–{result.offset}")

    def new_segment(self) -> None:
        frame = self.dock.frame
        seg = self.dock.editor.new_segment(frame)
        self.selected_id = seg.id
        self.table.select_id(seg.id, emit=False)
        self.dock.say(f"new segment at {frame}")

    def delete(self) -> None:
        editor = self.dock.editor
        seg = self.current_segment()
        if seg is None or editor.own(seg.id) is None:
            self.dock.say("only your own segments can be deleted (X rejects a proposal)")
            return
        editor.delete(seg.id)
        self.dock.say("deleted")

    def edit_notes(self) -> None:
        """Ask for the current segment's notes (prefilled) and store them as one undoable edit."""
        self._edit_text("notes", lambda seg: seg.notes, lambda sid, text: self.dock.editor.set_notes(sid, text))

    def edit_aus(self) -> None:
        """Ask for the current segment's action units, separated by spaces or commas."""

        def store(segment_id: str, text: str):
            return self.dock.editor.set_aus(segment_id, [au for au in text.replace(",", " ").split() if au])

        self._edit_text("action units", lambda seg: " ".join(seg.aus), store)

    def _edit_text(self, what: str, current, store) -> None:
        from qtpy.QtWidgets import QInputDialog

        seg = self._editable_segment() if self.dock.editor is not None else None
        if seg is None:
            return
        self.dock.playback.stop()
        prompt = f"{what.capitalize()} of {seg.emotion} {seg.onset}–{seg.apex}–{seg.offset}:"
        text, ok = QInputDialog.getText(self.dock, f"annotator: {what}", prompt, text=current(seg))
        self.dock.focus_canvas()
        if not ok or text == current(seg):
            return
        try:
            self.edit(lambda sid: store(sid, text), seg)
        except ValueError as exc:  # an AU that is not FACS: say so, change nothing
            self.dock.say(str(exc))

    def boundary_moved(self, segment_id: str, which: str, frame: int) -> None:
        """A span's edge dragged on the timeline."""
        editor = self.dock.editor
        if editor is not None and editor.find(segment_id) is not None:
            editor.set_frame(segment_id, which, frame)

    # -- views follow the model --------------------------------------------------------------------
    def refresh(self, editor) -> None:
        """Show ``editor``'s segments in the table and the timeline (connected to ``editor.changed``)."""
        visible = editor.visible()
        others = [s for labels in editor.others.values() for s in labels.sorted()]
        self.table.set_segments(visible, {k: v.sorted() for k, v in editor.others.items()}, self.dock.coder)
        timeline = self.dock.timeline
        if timeline is not None:
            seg = self.current_segment()
            timeline.set_segments(visible, others, seg.id if seg else None)
        from ..spotting.propose import describe_proposer

        todo = editor.unreviewed()
        by = f" (by {describe_proposer(todo)})" if todo else ""
        coded = len(editor.labels.segments)
        self.dock.status.setText(f"{coded} coded · {len(todo)} proposals to review{by} · autosaved")

    def follow_cursor(self, timeline) -> None:
        """Move ``timeline``'s cursor to the frame and highlight the current segment."""
        timeline.set_cursor(self.dock.frame)
        seg = self.current_segment()
        sid = seg.id if seg else None
        if sid != timeline.current_id:
            timeline.set_current(self.dock.editor.visible(), sid)

    def _activated(self, segment_id: str, apex: int) -> None:
        # Another coder's row is read-only: jump there, but do not make it the one keys edit
        # (an accepted proposal keeps its id, so that id may also name an editable segment).
        self.selected_id = self.table.selected_id()
        self.dock.set_frame(apex)
        self.dock.focus_canvas()

    def _selected(self, segment_id: str) -> None:
        self.selected_id = segment_id
        if segment_id and self.dock.timeline is not None:
            self.dock.timeline.set_current(self.dock.editor.visible(), segment_id)
        self.dock.focus_canvas()
