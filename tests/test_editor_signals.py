"""LabelsEditor.changed: a psygnal signal, emitted after each edit is committed."""

from __future__ import annotations

import pytest

from annotator.labels import Labels, VideoRef, load_labels
from annotator.labels.editor import LabelsEditor


def _editor(tmp_path) -> LabelsEditor:
    return LabelsEditor(Labels("alice", VideoRef("clip.mp4", "ab" * 32, 30.0, 300)), tmp_path / "alice.json")


def test_listeners_hear_each_edit_after_it_is_saved(tmp_path):
    editor = _editor(tmp_path)
    on_disk = []
    editor.changed.connect(lambda e: on_disk.append(len(load_labels(tmp_path / "alice.json").segments)))
    editor.new_segment(10)
    editor.new_segment(40)
    editor.undo()
    editor.redo()
    assert on_disk == [1, 2, 1, 2]


def test_a_failing_listener_does_not_roll_back_the_saved_edit(tmp_path):
    editor = _editor(tmp_path)

    def broken(_editor):
        raise RuntimeError("a view crashed")

    editor.connect(broken)
    with pytest.raises(RuntimeError, match="a view crashed"):  # the listener's own error, not psygnal's wrapper
        editor.new_segment(10)
    assert len(load_labels(tmp_path / "alice.json").segments) == 1
    assert len(editor.labels.segments) == 1 and editor.can_undo
    editor.disconnect(broken)
    editor.disconnect(broken)  # a second time is harmless
    editor.new_segment(50)
    assert len(load_labels(tmp_path / "alice.json").segments) == 2


def test_each_editor_has_its_own_listeners(tmp_path):
    a, b = _editor(tmp_path / "a"), _editor(tmp_path / "b")
    heard = []
    a.changed.connect(heard.append)
    b.new_segment(5)
    assert heard == []
    a.new_segment(5)
    assert heard == [a]
