"""The coder's segments: the table, the current segment, and every edit through the editor.

Nothing here decides what an edit means (that is
:class:`~annotator.labels.editor.LabelsEditor`); this controller picks the
segment an action applies to, runs the edit, says what happened, and keeps
the table and the timeline showing the editor's state.
"""

from __future__ import annotations

from ..labels.facs import format_aus, parse_aus
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
        #: The current segment: the one just made, selected, jumped to or edited.  The
        #: keys edit it wherever the cursor is; it is highlighted in the table and the timeline.
        self.selected_id = ""
        self.table = SegmentTable()
        self.table.segmentActivated.connect(self._activated)
        self.table.segmentSelected.connect(self._selected)
        self.table.segmentTextEdited.connect(self._text_edited)

    # -- which segment ---------------------------------------------------------------------------
    def current_segment(self):
        """The current segment (made, selected or jumped to); the one under the cursor only when none is."""
        editor = self.dock.editor
        if editor is None:
            return None
        if self.selected_id:
            seg = editor.find(self.selected_id)
            if seg is not None:
                return seg
            self.selected_id = ""  # deleted, or undone away
        return editor.at(self.dock.frame)

    def make_current(self, segment_id: str) -> None:
        """Make ``segment_id`` current (``""``: none), highlighted in the table and the timeline."""
        self.selected_id = segment_id
        if self.table.selected_id() != segment_id:  # selecting again would move the table's current cell
            self.table.select_id(segment_id or None, emit=False)
        timeline = self.dock.timeline
        if timeline is not None and self.dock.editor is not None:
            seg = self.current_segment()
            timeline.set_current(self.dock.editor.visible(), seg.id if seg else None)

    def clear_current(self) -> None:
        """No current segment: the keys act on the one under the cursor again."""
        self.make_current("")
        self.dock.say("no current segment: keys act on the one under the cursor")

    def goto(self, segment) -> None:
        """Make ``segment`` current and move to its onset (``None``: say there is none)."""
        if segment is None:
            self.dock.say("no such segment")
            return
        self.dock.playback.stop()
        self.make_current(segment.id)
        self.dock.set_frame(segment.onset)
        self.dock.say(_describe(segment))

    def next_unreviewed(self, direction: int) -> None:
        """U / Shift-U: the next (previous) proposal to review, moving on from the current one (a skip)."""
        editor = self.dock.editor
        current = self.current_segment()
        nxt = editor.next_unreviewed(self.dock.frame, direction, after=current.id if current else None)
        if nxt is None:
            self.dock.say("every proposal is reviewed")
            return
        self.goto(nxt)
        self.dock.say(f"{_describe(nxt)} · {len(editor.unreviewed())} to review (U skips)")

    def undo(self, redo: bool = False) -> None:
        """Undo (redo) the last edit and move the cursor to the segment it changed."""
        editor = self.dock.editor
        description = editor.redo() if redo else editor.undo()
        word = "redo" if redo else "undo"
        if description is None:
            self.dock.say(f"{word} (nothing)")
            return
        from ..labels.model import AUInterval

        changed = [editor.where_changed(i) for i in editor.last_changed]
        changed = [s for s in changed if s is not None]
        if changed and isinstance(changed[0], AUInterval):  # an AU lane's edit: its interval becomes current
            interval = changed[0]
            self.dock.playback.stop()
            self.dock.au_lanes.make_current(interval.id if editor.interval(interval.id) is not None else "")
            self.dock.set_frame(interval.onset)
        elif changed:
            seg = changed[0]
            self.dock.playback.stop()
            self.make_current(seg.id if editor.find(seg.id) is not None else "")
            self.dock.set_frame(seg.apex if seg.onset <= self.dock.frame <= seg.offset else seg.onset)
        self.dock.say(f"{word} {description}")

    # -- edits -----------------------------------------------------------------------------------
    def _editable_segment(self):
        """The current segment (always the coder's own or a proposal); else ``None``, saying why."""
        seg = self.current_segment()
        if seg is None:
            self.dock.say("no segment under the cursor (N makes one)")
        return seg

    def edit(self, fn, seg=None) -> None:
        """Apply ``fn(segment_id)`` to ``seg`` (default: the current segment), make it current, say the result.

        The message names the segment changed; when the cursor is on another one, it says so.
        """
        seg = seg or self._editable_segment()
        if seg is None:
            return
        try:
            result = fn(seg.id)
        except ValueError as exc:  # not a FACS AU, an unfinished segment accepted: change nothing
            self.dock.say(str(exc))
            return
        self.make_current(seg.id)
        under = self.dock.editor.at(self.dock.frame)
        elsewhere = f" (the highlighted segment, not the {under.emotion} one under the cursor; Esc)" if (
            under is not None and under.id != seg.id) else ""
        self.dock.say(_describe(result) + elsewhere)

    def new_segment(self) -> None:
        frame = self.dock.frame
        seg = self.dock.editor.new_segment(frame)
        self.make_current(seg.id)
        self.dock.say(f"new segment {seg.onset}–{seg.apex}–{seg.offset}, unfinished: give it an emotion (1–7)")

    def delete(self) -> None:
        editor = self.dock.editor
        seg = self.current_segment()
        if seg is None or editor.own(seg.id) is None:
            self.dock.say("only your own segments can be deleted (X rejects a proposal)")
            return
        editor.delete(seg.id)
        self.make_current("")
        self.dock.say(f"deleted {_describe(seg)}")

    def edit_notes(self) -> None:
        """Ask for the current segment's notes (prefilled) and store them as one undoable edit."""
        self._edit_text("notes", lambda seg: seg.notes, lambda sid, text: self.dock.editor.set_notes(sid, text))

    def edit_aus(self) -> None:
        """Ask for the current segment's action units, separated by spaces or commas."""

        def store(segment_id: str, text: str):
            return self.dock.editor.set_aus(segment_id, parse_aus(text))

        self._edit_text("action units", lambda seg: format_aus(seg.aus), store)

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
        self.edit(lambda sid: store(sid, text), seg)

    def _text_edited(self, segment_id: str, column: str, text: str) -> None:
        """Notes or AUs typed into the table."""
        editor = self.dock.editor
        seg = editor.find(segment_id) if editor is not None else None
        if seg is None:
            return
        if column == "notes":
            self.edit(lambda sid: editor.set_notes(sid, text), seg)
        else:
            self.edit(lambda sid: editor.set_aus(sid, parse_aus(text)), seg)

    def boundary_moved(self, segment_id: str, which: str, frame: int) -> None:
        """A span's edge dragged on the timeline."""
        editor = self.dock.editor
        if editor is not None and editor.find(segment_id) is not None:
            editor.set_frame(segment_id, which, frame)

    # -- views follow the model --------------------------------------------------------------------
    def refresh(self, editor) -> None:
        """Show ``editor``'s segments in the table and the timeline (connected to ``editor.changed``)."""
        visible = editor.visible()
        others = {k: v.sorted() for k, v in editor.others.items()}
        self.table.set_segments(visible, others, self.dock.coder)
        timeline = self.dock.timeline
        if timeline is not None:
            seg = self.current_segment()
            lanes = {self.dock.coder: editor.labels.sorted(), **others} if others else {}
            timeline.set_segments(visible, lanes, seg.id if seg else None)
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
            if not self.selected_id:  # the one under the cursor: highlighted in the table too
                self.table.select_id(sid, emit=False)

    def _activated(self, segment_id: str, apex: int) -> None:
        # Another coder's row is read-only: jump there, but do not make it the one keys edit
        # (an accepted proposal keeps its id, so that id may also name an editable segment).
        self.make_current(self.table.selected_id())
        self.dock.set_frame(apex)
        self.dock.focus_canvas()

    def _selected(self, segment_id: str) -> None:
        self.make_current(segment_id)
        self.dock.focus_canvas()


def _describe(seg) -> str:
    return f"{seg.status} {seg.emotion} {seg.onset}–{seg.apex}–{seg.offset}"
