"""The AU lanes in the workbench (issue 17 item 9): real key presses on napari's canvas on the
virtual screen, the coder's file read back after every edit. Run under a display."""

from __future__ import annotations

import pytest

from annotator._qt import _napari_compat as compat
from annotator._qt.table import COLUMNS
from annotator.napari.keybindings import DEFAULT_SHORTCUTS, find_clashes, load_shortcuts

from .test_workbench import _answer_dialog


@pytest.fixture
def bench(make_napari_viewer, workbench_session, qtbot):
    from annotator._qt.app import open_workbench
    from annotator.session import Session

    viewer, dock = open_workbench(workbench_session, coder="laner", viewer=make_napari_viewer())
    yield viewer, dock, Session.open(workbench_session)
    dock.close_workbench()


def _key(viewer, key, mod=None):
    """A Qt key event on the canvas, as the keyboard sends it."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    QTest.keyClick(compat.canvas_widget(viewer), key, mod if mod is not None else Qt.KeyboardModifier.NoModifier)


def _on_disk(session):
    if not session.has_labels("laner"):
        return []
    return [(a.au, a.onset, a.offset, a.intensity) for a in session.load_labels("laner").sorted_intervals()]


def test_the_au_keys_clash_with_nothing():
    assert find_clashes(DEFAULT_SHORTCUTS) == {}
    actions = {s.action: s.keys for s in load_shortcuts()}
    assert actions["au_begin"] == ("B",) and actions["au_end"] == ("E",)
    assert [actions[f"au_intensity_{x}"] for x in "abcde"] == [(f"Alt-{x}",) for x in "ABCDE"]


@pytest.mark.gui
def test_mark_an_au_interval_and_its_intensity_with_the_keys(bench, qtbot):
    from qtpy.QtCore import Qt

    K, M = Qt.Key, Qt.KeyboardModifier
    viewer, dock, session = bench
    timeline = dock.timeline
    assert timeline.au_lane_names == []  # optional: hidden until a lane is chosen

    _key(viewer, K.Key_B)  # no lane yet: says so, changes nothing
    assert "press G" in viewer.status and _on_disk(session) == []

    _answer_dialog(qtbot, "AU12")
    _key(viewer, K.Key_G)
    assert dock.au_lanes.lane == "12" and timeline.au_lane_names == ["12"]

    dock.set_frame(30)
    _key(viewer, K.Key_B)
    assert _on_disk(session) == [("12", 30, 30, "")]
    for _ in range(12):
        _key(viewer, K.Key_Right)
    assert dock.frame == 42
    _key(viewer, K.Key_E)
    assert _on_disk(session) == [("12", 30, 42, "")]
    _key(viewer, K.Key_C, M.AltModifier)
    assert _on_disk(session) == [("12", 30, 42, "C")]
    assert "AU 12 30–42 intensity C" in viewer.status
    current = dock.editor.interval_at("12", 35)
    assert timeline.au_current_id == current.id

    dock.set_frame(36)
    qtbot.waitUntil(lambda: dock.readout.last is not None and dock.readout.last.frame == 36)
    assert dock.readout.last.coded == "12C" and "coded 12C" in dock.readout.label.text()

    # undo and redo reach the file, and the cursor goes to the interval they changed
    dock.set_frame(200)
    _key(viewer, K.Key_Z, M.ControlModifier)
    assert _on_disk(session) == [("12", 30, 42, "")] and dock.frame == 30
    _key(viewer, K.Key_Y, M.ControlModifier)
    assert _on_disk(session) == [("12", 30, 42, "C")]

    # a second lane, chosen in the dock's field; B elsewhere makes a new interval
    box = dock.au_lanes.lane_box
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "R4")
    qtbot.keyClick(box.lineEdit(), K.Key_Return)
    assert dock.au_lanes.lane == "R4"
    dock.set_frame(50)
    _key(viewer, K.Key_B)
    dock.set_frame(55)
    _key(viewer, K.Key_E)
    _key(viewer, K.Key_E, M.AltModifier)
    assert _on_disk(session) == [("R4", 50, 55, "E"), ("12", 30, 42, "C")]
    assert timeline.au_lane_names == ["R4", "12"]  # by AU number, top to bottom

    # B inside an interval of the lane moves its onset, not a second interval
    dock.set_frame(52)
    _key(viewer, K.Key_B)
    assert _on_disk(session) == [("R4", 52, 55, "E"), ("12", 30, 42, "C")]

    _key(viewer, K.Key_G, M.ShiftModifier)
    assert timeline.au_lane_names == [] and not dock.au_lanes.show_box.isChecked()
    _key(viewer, K.Key_G, M.ShiftModifier)
    assert timeline.au_lane_names == ["R4", "12"]

    _key(viewer, K.Key_Delete, M.ShiftModifier)
    assert _on_disk(session) == [("12", 30, 42, "C")]
    # the segments were never touched: no segment of the coder's
    assert session.load_labels("laner").segments == []
    assert dock.table.model().rowCount() > 0 and "AUs" in COLUMNS


@pytest.mark.gui
def test_the_lanes_come_back_when_the_coder_opens_the_session_again(make_napari_viewer, workbench_session, qtbot):
    from annotator._qt.app import open_workbench
    from annotator.labels import AUInterval
    from annotator.session import Session

    session = Session.open(workbench_session)
    labels = session.load_labels("laner", create=True)
    labels.au_intervals = [AUInterval("6", 10, 20, "B"), AUInterval("12", 12, 30, "D")]
    session.save_labels(labels)
    viewer, dock = open_workbench(workbench_session, coder="laner", viewer=make_napari_viewer())
    try:
        assert dock.timeline.au_lane_names == ["6", "12"] and dock.au_lanes.show_box.isChecked()
        dock.set_frame(15)
        qtbot.waitUntil(lambda: dock.readout.last is not None and dock.readout.last.frame == 15)
        assert dock.readout.last.coded == "6B+12D"
        # the keys work on the one under the cursor once a lane is chosen
        dock.au_lanes.set_lane("6")
        from qtpy.QtCore import Qt

        _key(viewer, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
        assert [(a.au, a.intensity) for a in session.load_labels("laner").sorted_intervals()] == [
            ("6", "A"), ("12", "D")]
    finally:
        dock.close_workbench()
