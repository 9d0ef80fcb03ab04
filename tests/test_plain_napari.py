"""Working from plain napari (issue 17.12-17.14): File ▸ Open on a session, the keys and
the buttons before tracking, and closing the window while tracking.

Run under a display (``xvfb-run -a pytest -m gui``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from annotator._qt import _napari_compat as compat
from tests.test_workbench import _make_clip

pytestmark = pytest.mark.gui


@pytest.fixture
def reader_preferences():
    """napari's reader preferences, given back as they were after the test."""
    from napari.settings import get_settings

    prefs = get_settings().plugins
    before = dict(prefs.extension2reader)
    yield prefs
    prefs.extension2reader = before


@pytest.fixture
def session_copy(tmp_path, sample_session) -> Path:
    """A copy of the tracked sample that was never proposed."""
    root = tmp_path / "copy"
    root.mkdir()
    shutil.copy(sample_session.video_path, root / sample_session.video_path.name)
    shutil.copytree(sample_session.root, root / sample_session.root.name)
    shutil.rmtree(root / sample_session.root.name / "labels", ignore_errors=True)
    return root / sample_session.root.name


def _click(qtbot, button) -> None:
    """A real mouse click, on a button the coder can see."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    qtbot.waitUntil(lambda: button.isVisible() and not button.rect().isEmpty(), timeout=5_000)
    qtbot.wait(50)  # the layout settles after the button is shown
    assert button.isEnabled(), button.text()
    clicks = []
    button.clicked.connect(clicks.append)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton, pos=button.rect().center())
    button.clicked.disconnect(clicks.append)
    assert clicks, f"the click on {button.text()!r} did not reach it"


def _workbench_docks(viewer) -> list:
    from annotator._qt.dock import WorkbenchDock

    return [w for w in viewer.window.dock_widgets.values() if isinstance(w, WorkbenchDock)]


# -- 17.12 File ▸ Open -------------------------------------------------------------------------
def test_without_a_preference_napari_asks_which_reader(make_napari_viewer, session_copy, reader_preferences):
    """What napari still asks: two readers take a folder, so without a preference it asks.

    ``plugin=None`` is what File ▸ Open and drag-and-drop pass (napari's ``_qt_open``); there
    the error becomes napari's "choose a reader" dialog.
    """
    from napari.errors import MultipleReaderError

    from annotator.napari.preferences import forget_annotator

    forget_annotator()
    viewer = make_napari_viewer()
    with pytest.raises(MultipleReaderError):
        viewer.open(str(session_copy), plugin=None)
    assert len(viewer.layers) == 0


def test_open_a_session_brings_the_overlays_and_the_dock(make_napari_viewer, session_copy, reader_preferences, qtbot):
    from annotator.napari.preferences import SESSION_PATTERN, prefer_annotator

    changed = prefer_annotator()
    assert changed.get(SESSION_PATTERN) == "annotator" and changed.get("*.mp4") == "annotator"
    assert prefer_annotator() == {}  # a second time changes nothing
    viewer = make_napari_viewer()
    viewer.open(str(session_copy), plugin=None)  # as File ▸ Open: the preference picks annotator
    docks = _workbench_docks(viewer)
    assert len(docks) == 1
    dock = docks[0]
    try:
        assert dock.session is not None and dock.session.root == session_copy
        assert dock.overlays is not None and dock.timeline is not None
        names = [layer.name for layer in viewer.layers]
        assert names[0] == session_copy.name.removesuffix(".annot")
        assert all(layer in viewer.layers for layer in dock.overlays.layers)
        # The video is the lazy frame-exact source, not an array loaded whole.
        from annotator.media.video import VideoSource

        assert isinstance(viewer.layers[0].data, VideoSource)
        # Opening the video itself later does not dock a second workbench.
        viewer.open(str(dock.session.video_path), plugin=None)
        assert len(_workbench_docks(viewer)) == 1
    finally:
        dock.close_workbench()


def test_a_preference_for_another_plugin_is_kept(reader_preferences):
    from annotator.napari.preferences import SESSION_PATTERN, forget_annotator, prefer_annotator

    forget_annotator()
    reader_preferences.extension2reader = {**reader_preferences.extension2reader, "*.mp4": "napari"}
    changed = prefer_annotator()
    assert "*.mp4" not in changed and changed[SESSION_PATTERN] == "annotator"
    assert reader_preferences.extension2reader["*.mp4"] == "napari"
    assert "*.mp4" not in forget_annotator() and SESSION_PATTERN not in reader_preferences.extension2reader


def test_setup_napari_readers_from_the_command_line(reader_preferences, capsys):
    from annotator.cli import main

    assert main(["setup", "--forget-napari-readers"]) == 0
    assert main(["setup", "--napari-readers"]) == 0
    out = capsys.readouterr().out
    assert "annotator reads *.annot/" in out
    assert reader_preferences.extension2reader["*.annot/"] == "annotator"


# -- 17.14 before tracking -----------------------------------------------------------------
def test_keys_are_bound_before_tracking(make_napari_viewer, tmp_path, qtbot):
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    from annotator._qt.app import open_workbench

    video = tmp_path / "clip.mp4"
    _make_clip(video, frames=30)
    viewer, dock = open_workbench(video, coder="tester", viewer=make_napari_viewer(show=True))
    try:
        assert dock.session is None and dock.track_button.isHidden() is False
        layer = viewer.layers[0]
        canvas = compat.canvas_widget(viewer)
        QTest.keyClick(canvas, Qt.Key.Key_2)
        assert layer.mode != "transform"
        assert "track this video first" in viewer.status
        QTest.keyClick(canvas, Qt.Key.Key_Right)
        assert dock.frame == 1  # moving through the video works already
    finally:
        dock.close_workbench()


def test_a_tracked_session_without_proposals_offers_propose(make_napari_viewer, session_copy, qtbot):
    from annotator._qt.app import open_workbench
    from annotator.labels import AUTO_CODER
    from annotator.session import Session

    viewer, dock = open_workbench(session_copy, coder="tester", viewer=make_napari_viewer(show=True))
    try:
        assert dock.session is not None and not dock.session.has_labels(AUTO_CODER)
        assert dock.tracking.propose_button.isHidden() is False and dock.track_button.isHidden()
        _click(qtbot, dock.tracking.propose_button)
        qtbot.waitUntil(lambda: Session.open(session_copy).has_labels(AUTO_CODER), timeout=60_000)
        qtbot.waitUntil(lambda: dock.worker is None and dock.table.model().rowCount() > 0, timeout=30_000)
        assert dock.tracking.propose_button.isHidden()
    finally:
        dock.close_workbench()


def _child_running(dock, qtbot):
    def running():
        assert dock.tracking.child is not None and dock.tracking.child.proc is not None, dock.status.text()

    qtbot.waitUntil(running, timeout=30_000)
    return dock.tracking.child.proc


@pytest.mark.slow
def test_cancel_then_resume_from_the_button(make_napari_viewer, tmp_path, qtbot):
    from annotator._qt.app import open_workbench
    from annotator.session import Session

    video = tmp_path / "clip.mp4"
    _make_clip(video, frames=40)
    viewer, dock = open_workbench(video, coder="tester", viewer=make_napari_viewer(show=True))
    try:
        _click(qtbot, dock.track_button)
        proc = _child_running(dock, qtbot)
        _click(qtbot, dock.tracking.cancel_button)
        qtbot.waitUntil(lambda: dock.worker is None, timeout=30_000)
        assert proc.poll() is not None
        assert dock.track_button.isHidden() is False and dock.track_button.text() == "Resume tracking"
        assert "cancelled" in dock.status.text()
        _click(qtbot, dock.track_button)
        qtbot.waitUntil(lambda: dock.session is not None, timeout=180_000)
        assert Session.open(tmp_path / "clip.annot").has_labels("auto")
        assert dock.overlays is not None and dock.track_button.isHidden()
    finally:
        dock.close_workbench()


@pytest.mark.slow
def test_closing_the_window_stops_the_tracking_child(make_napari_viewer, tmp_path, qtbot):
    from annotator._qt.app import open_workbench
    from annotator.tracking.reader import tracks_complete

    video = tmp_path / "long.mp4"
    _make_clip(video, frames=600)  # long enough to be still tracking when the window closes
    viewer, dock = open_workbench(video, coder="tester", viewer=make_napari_viewer(show=True))
    _click(qtbot, dock.track_button)
    proc = _child_running(dock, qtbot)
    viewer.close()
    assert proc.poll() is not None, "the tracking child outlived the window"
    # Stopped, not waited for: the 600 frames were not all tracked.
    assert not tracks_complete(tmp_path / "long.annot"), "closing waited for the tracking to finish"


# -- 17.13 who is coding -----------------------------------------------------------------------
def test_the_coder_field_and_the_compare_chooser(make_napari_viewer, session_copy, qtbot, monkeypatch):
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    from annotator.session import Session
    from annotator.spotting.propose import propose

    session = Session.open(session_copy)
    propose(session)
    session.save_labels(session.new_labels("bob"))
    monkeypatch.setenv("USER", "someone")
    viewer = make_napari_viewer(show=True)
    viewer.open(str(session_copy), plugin="annotator")
    _, dock = viewer.window.add_plugin_dock_widget("annotator", "Workbench")
    try:
        panel = dock.coder_panel
        assert dock.coder == "someone" and panel.coder_edit.text() == "someone"
        # A refused id says why, in the CLI's words, and keeps the coder.
        panel.coder_edit.selectAll()
        QTest.keyClicks(panel.coder_edit, "auto")
        QTest.keyClick(panel.coder_edit, Qt.Key.Key_Return)
        assert dock.coder == "someone" and "coder id 'auto' is invalid" in panel.problem.text()
        panel.coder_edit.selectAll()
        QTest.keyClicks(panel.coder_edit, "alice")
        QTest.keyClick(panel.coder_edit, Qt.Key.Key_Return)
        assert dock.coder == "alice" and dock.editor.labels.coder == "alice" and panel.problem.isHidden()
        # The keys now write alice's file.
        canvas = compat.canvas_widget(viewer)
        dock.segments.goto(dock.editor.next_unreviewed(0, 1))
        QTest.keyClick(canvas, Qt.Key.Key_Return)
        assert session.has_labels("alice") and session.load_labels("alice").segments
        assert not session.has_labels("someone")
        # Tick bob: his segments are shown read-only beside alice's.
        (bob,) = [panel.compare_list.item(i) for i in range(panel.compare_list.count())
                  if panel.compare_list.item(i).text() == "bob"]
        bob.setCheckState(Qt.CheckState.Checked)
        assert dock.compare == ["bob"] and dock.coder == "alice" and "bob" in dock.title.text()
    finally:
        dock.close_workbench()
