"""LabelsEditor: review semantics, undo/redo, autosave after every edit."""

from __future__ import annotations

import pytest

from annotator.labels import Labels, VideoRef, load_labels, make_segment
from annotator.labels.editor import LabelsEditor

SHA = "ab" * 32


def make_editor(tmp_path, coder="alice"):
    video = VideoRef("clip.mp4", SHA, 30.0, 300)
    proposals = Labels("auto", video)
    proposals.segments = [
        make_segment(proposals, 10, 14, 20, emotion="joy", status="proposed", source="spotter/1", confidence=0.9),
        make_segment(proposals, 100, 105, 112, emotion="anger", status="proposed", source="spotter/1", confidence=0.4),
    ]
    editor = LabelsEditor(Labels(coder, video), tmp_path / f"{coder}.json", proposals=proposals)
    return editor, proposals


def test_accept_copies_proposal_and_saves(tmp_path):
    editor, proposals = make_editor(tmp_path)
    first = proposals.segments[0]
    assert not (tmp_path / "alice.json").exists()  # nothing written before the first edit
    editor.accept(first.id)
    saved = load_labels(tmp_path / "alice.json", sha256=SHA)
    assert [(s.id, s.status, s.emotion) for s in saved.segments] == [(first.id, "accepted", "joy")]
    assert [s.id for s in editor.unreviewed()] == [proposals.segments[1].id]
    assert proposals.segments[0].status == "proposed", "proposals are read-only"


def test_editing_makes_edited_and_keeps_order(tmp_path):
    editor, proposals = make_editor(tmp_path)
    pid = proposals.segments[0].id
    editor.accept(pid)
    seg = editor.set_frame(pid, "apex", 16)
    assert (seg.onset, seg.apex, seg.offset, seg.status) == (10, 16, 20, "edited")
    seg = editor.set_frame(pid, "onset", 18)  # past the apex: the apex follows
    assert (seg.onset, seg.apex, seg.offset) == (18, 18, 20)
    seg = editor.set_frame(pid, "offset", 5)  # before the onset: onset and apex follow
    assert (seg.onset, seg.apex, seg.offset) == (5, 5, 5)
    seg = editor.set_emotion_by_number(pid, 2)
    assert seg.emotion == "surprise"


def test_editing_an_unreviewed_proposal_adopts_it(tmp_path):
    editor, proposals = make_editor(tmp_path)
    pid = proposals.segments[1].id
    seg = editor.move(pid, "apex", +2)
    assert seg.status == "edited" and seg.apex == 107 and seg.source == "alice"
    assert editor.unreviewed() == [proposals.segments[0]]


def test_undo_redo_every_edit_is_saved(tmp_path):
    editor, proposals = make_editor(tmp_path)
    pid = proposals.segments[0].id
    editor.accept(pid)
    editor.set_frame(pid, "apex", 12)
    path = tmp_path / "alice.json"
    assert load_labels(path).get(pid).apex == 12
    assert editor.undo() == "set apex"
    assert load_labels(path).get(pid).apex == 14
    assert editor.undo() == "accept"
    assert load_labels(path).segments == []
    assert editor.undo() is None
    assert editor.redo() == "accept"
    assert editor.redo() == "set apex"
    assert load_labels(path).get(pid).apex == 12
    assert editor.redo() is None
    editor.set_emotion(pid, "fear")
    assert not editor.can_redo, "a new edit clears the redo stack"


def test_reject_new_delete(tmp_path):
    editor, proposals = make_editor(tmp_path)
    pid = proposals.segments[0].id
    assert editor.reject(pid).status == "rejected"
    assert editor.accept(pid).status == "accepted"
    new = editor.new_segment(200, length=5)
    assert (new.onset, new.apex, new.offset, new.kind, new.status) == (200, 200, 204, "micro", "unfinished")
    assert editor.at(202).id == new.id
    editor.delete(new.id)
    assert editor.own(new.id) is None
    with pytest.raises(KeyError):
        editor.delete("nope")


def test_navigation(tmp_path):
    editor, proposals = make_editor(tmp_path)
    a, b = proposals.segments
    assert editor.next_segment(0).id == a.id
    assert editor.next_segment(50).id == b.id
    assert editor.next_segment(50, -1).id == a.id
    assert editor.next_unreviewed(0).id == b.id, "least confident first"
    assert editor.next_unreviewed(0, least_confident=False).id == a.id
    editor.accept(b.id)
    assert editor.next_unreviewed(0).id == a.id


def test_failed_save_leaves_state_unchanged(tmp_path):
    editor, proposals = make_editor(tmp_path)
    (tmp_path / "alice.json").write_text("someone else's notes")
    from annotator.errors import LabelsError

    with pytest.raises(LabelsError, match="alice.json"):
        editor.accept(proposals.segments[0].id)
    assert editor.labels.segments == [] and not editor.can_undo
    assert (tmp_path / "alice.json").read_text() == "someone else's notes"


def test_edits_are_clamped_to_the_video(tmp_path):
    # a segment dragged or made past either end stops at frame 0 or the last frame (299)
    editor, _ = make_editor(tmp_path)
    seg = editor.new_segment(295, length=20)
    assert (seg.onset, seg.apex, seg.offset) == (295, 295, 299)
    assert editor.set_frame(seg.id, "offset", 400).offset == 299
    moved = editor.set_frame(seg.id, "onset", -5)
    assert (moved.onset, moved.offset) == (0, 299)
    saved = load_labels(tmp_path / "alice.json", sha256=SHA)
    assert [(s.onset, s.offset) for s in saved.segments] == [(0, 299)]
