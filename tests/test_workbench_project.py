"""The workbench's project dock and *Retrain now* (issue 13, items 1 and 5), as a coder meets
them: real napari on the virtual screen, real clicks and key presses, real training.

Run under a display (``xvfb-run -a pytest -m gui``).
"""

from __future__ import annotations

import json

import pytest

from annotator._qt.project_panel import COLUMNS
from tests.fixtures.project import make_reviewed_project, review
from tests.test_plain_napari import _click
from tests.test_workbench import _press

pytestmark = pytest.mark.gui


@pytest.fixture
def project(tmp_path, proposed_sample):
    """Three subjects; alice reviewed all of s1 and two proposals of s2, bob all of s3."""
    return make_reviewed_project(tmp_path, proposed_sample)


@pytest.fixture
def alice(make_napari_viewer, project, qtbot):
    """``annotator open PROJECT --coder alice``'s workbench; yields ``(viewer, dock)``."""
    from annotator._qt.app import open_workbench

    viewer, dock = open_workbench(project.root, coder="alice", viewer=make_napari_viewer(show=True))
    yield viewer, dock
    dock.close_workbench()


def _rows(panel) -> dict[str, dict[str, str]]:
    """What the project table shows: per session id, each column's text."""
    tree = panel.tree
    rows = {}
    for r in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(r)
        rows[item.text(0)] = {name: item.text(c) for c, (name, _) in enumerate(COLUMNS)}
    return rows


def _annotator_layers(viewer) -> list:
    return [layer for layer in viewer.layers
            if isinstance(layer.metadata, dict) and isinstance(layer.metadata.get("annotator"), dict)]


def _lock_is_free(session, coder: str) -> bool:
    from annotator.errors import LockedError
    from annotator.locks import SessionLock

    try:
        lock = SessionLock(session.root, coder=coder, timeout=0).acquire()
    except LockedError:
        return False
    lock.release()
    return True


# -- the project dock ---------------------------------------------------------------------------
def test_project_dock_shows_each_sessions_status_and_progress(alice, project, qtbot):
    from annotator.project import project_status

    viewer, dock = alice
    panel = dock.project_panel
    s1, s2, s3 = project.sessions
    qtbot.waitUntil(panel.isVisible, timeout=5_000)
    assert dock.session.root == s2.session  # alice finished s1: s2 opens
    n = len(dock.editor.proposals.segments)
    rows = _rows(panel)
    assert list(rows) == [s1.id, s2.id, s3.id]
    # the same figures as `annotator project list`, column by column
    for st in project_status(project):
        assert rows[st.entry.id] == {name: text(st) for name, text in COLUMNS}
    assert rows[s1.id]["reviewed"] == f"alice {n}/{n}" and rows[s3.id]["coded by"] == f"bob ({n})"
    assert rows[s2.id]["reviewed"] == f"alice 2/{n}" and rows[s2.id]["tracked"] == "complete"
    assert panel.tree.topLevelItem(1).font(0).bold() and not panel.tree.topLevelItem(0).font(0).bold()
    assert f"alice: {n + 2}/{3 * n} proposals reviewed" in panel.summary.text()
    # a review in the workbench shows in the dock once the coder pauses
    _press(viewer, "U")
    _press(viewer, "Enter")
    qtbot.waitUntil(lambda: _rows(panel)[s2.id]["reviewed"] == f"alice 3/{n}", timeout=5_000)
    assert _rows(panel)[s2.id]["coded by"] == "alice (3)"


def test_open_next_uncoded_switches_session_without_losing_edits(alice, project, qtbot):
    from annotator.session import Session

    viewer, dock = alice
    s1, s2, s3 = project.sessions
    old = dock.session
    _press(viewer, "U")
    _press(viewer, "2")  # relabel the next proposal: an edit right before switching
    edited = dock.segments.current_segment()
    assert edited.status == "edited" and edited.emotion == "surprise"
    assert not _lock_is_free(old, "alice")
    _click(qtbot, dock.project_panel.next_button)
    assert dock.session.root == s3.session  # s1 is done: after s2 comes s3
    assert [layer.metadata["annotator"]["session"] for layer in _annotator_layers(viewer)] == [str(s3.session)]
    assert viewer.layers.selection.active is dock.video_layer
    assert all(layer in viewer.layers for layer in dock.overlays.layers)
    assert len([d for d in viewer.window.dock_widgets if d == "annotator timeline"]) == 1
    saved = {s.id: s for s in Session.open(s2.session).load_labels("alice").segments}
    assert saved[edited.id].emotion == "surprise" and saved[edited.id].status == "edited"  # nothing lost
    assert _lock_is_free(old, "alice"), "the old session's lock is released"
    assert not _lock_is_free(dock.session, "alice")
    assert dock.project_panel.current_id == s3.id and dock.project_panel.tree.topLevelItem(2).font(0).bold()
    assert dock.editor.labels.segments == [] and dock.frame == 0
    # the keys now edit the new session
    _press(viewer, "U")
    _press(viewer, "Enter")
    assert Session.open(s3.session).has_labels("alice")
    # again, from the keyboard: wraps round to s2, still not finished
    assert dock.project_panel.next_button.text() == "Open next uncoded session (Shift-N)"
    _press(viewer, "Shift-N")
    assert dock.session.root == s2.session
    assert _lock_is_free(Session.open(s3.session), "alice")


def test_open_next_says_so_when_everything_is_coded(make_napari_viewer, project, qtbot):
    from annotator._qt.app import open_workbench
    from annotator.session import Session

    for entry in project.sessions[1:]:
        review(Session.open(entry.session), "alice")
    viewer, dock = open_workbench(project.sessions[0].session, coder="alice", viewer=make_napari_viewer(show=True))
    try:
        qtbot.waitUntil(dock.project_panel.isVisible, timeout=5_000)  # found from the session: the project is above it
        _click(qtbot, dock.project_panel.next_button)
        assert dock.session.root == project.sessions[0].session
        assert "is coded by alice" in viewer.status
    finally:
        dock.close_workbench()


def test_file_open_on_a_project_folder_docks_the_workbench_with_the_project(
        make_napari_viewer, project, qtbot, monkeypatch):
    from tests.test_plain_napari import _workbench_docks

    monkeypatch.setenv("USER", "alice")
    viewer = make_napari_viewer(show=True)
    viewer.open(str(project.root), plugin="annotator")  # napari's File ▸ Open, annotator chosen
    (dock,) = _workbench_docks(viewer)
    try:
        assert dock.coder == "alice" and dock.session.root == project.sessions[1].session
        qtbot.waitUntil(dock.project_panel.isVisible, timeout=5_000)
        assert len(_rows(dock.project_panel)) == 3
    finally:
        dock.close_workbench()


# -- retrain now ---------------------------------------------------------------------------------
@pytest.fixture
def coder(make_napari_viewer, workbench_session, qtbot):
    """The workbench on a private copy of the proposed sample (in no project), as coder ``rt``."""
    from annotator._qt.app import open_workbench

    viewer, dock = open_workbench(workbench_session, coder="rt", viewer=make_napari_viewer(show=True))
    yield viewer, dock
    dock.close_workbench()


def _review_in_the_workbench(viewer, dock, keys):
    """Go to each proposal in time order and press its key (``"Enter"``, ``"X"`` or an emotion number)."""
    for proposal, key in zip(dock.editor.proposals.sorted(), keys, strict=False):
        dock.segments.goto(proposal)
        _press(viewer, key)


def test_retrain_now_runs_in_the_background_and_keeps_reviewed_segments(coder, qtbot):
    from qtpy.QtCore import QTimer

    from annotator.labels import AUTO_CODER
    from annotator.spotting.spotter import SPOTTER_ID, SPOTTER_VERSION

    viewer, dock = coder
    session = dock.session
    assert dock.project_panel.isHidden()  # in no project
    assert f"{SPOTTER_ID}/{SPOTTER_VERSION} (prototype prior)" in dock.retrainer.proposer.text()
    _review_in_the_workbench(viewer, dock, ["Enter", "2", "X"])  # accept, relabel to surprise, reject
    reviewed = {s.id for s in dock.editor.labels.segments}
    assert len(reviewed) == 3
    coder_bytes = session.labels_path("rt").read_bytes()
    before = {s.id: s.to_dict() for s in session.load_labels(AUTO_CODER).segments}

    ticks = []  # per turn of the event loop: was the training still running?
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(dock.retrainer.running))
    timer.start(10)
    _press(viewer, "Shift-R")
    assert dock.retrainer.running and not dock.retrainer.button.isEnabled()
    assert dock.retrainer.progress.isVisible() and dock.retrainer.cancel_button.isVisible()
    frame = dock.frame
    _press(viewer, "Right")  # the coder goes on while it trains
    assert dock.frame == frame + 1
    qtbot.waitUntil(lambda: not dock.retrainer.running, timeout=180_000)
    timer.stop()
    # The event loop turned while the model trained (a count, not a rate: how often it
    # turns in a given time depends on the machine's load).
    assert sum(ticks) >= 1, f"no turn of the event loop during training ({len(ticks)} in all)"

    line = dock.retrainer.line.text()
    assert line.startswith("retrained: model emotion-") and "\n" not in line
    model_id = line.split("model ", 1)[1].split(" ", 1)[0]
    assert session.labels_path("rt").read_bytes() == coder_bytes, "the coder's file is untouched"
    after = session.load_labels(AUTO_CODER).segments
    assert {s.id: s.to_dict() for s in after if s.id in reviewed} == {i: before[i] for i in reviewed}
    raw = json.loads(session.labels_path(AUTO_CODER).read_text())["segments"]
    for seg in raw:
        if seg["id"] in reviewed:
            assert json.dumps(seg, sort_keys=True) == json.dumps(before[seg["id"]], sort_keys=True)
    fresh = [s for s in after if s.id not in reviewed]
    assert fresh and all(s.source == f"{SPOTTER_ID}/{SPOTTER_VERSION}+{model_id}" for s in fresh)
    # the workbench shows the new proposals, and says whose they are
    assert {s.id for s in dock.editor.unreviewed()} == {s.id for s in fresh}
    assert f"model {model_id}" in dock.retrainer.proposer.text()
    assert f"model {model_id}" in dock.status.text()
    assert list((session.root / "models").glob("retrained-rt-*.skops"))
    assert dock.retrainer.button.isEnabled() and dock.retrainer.progress.isHidden()


@pytest.mark.parametrize("keys, words", [
    (["Enter"], "cannot retrain: an emotion model needs examples of at least two emotions, the labels have joy"),
    ([], "cannot retrain: coder 'rt' has no labels in this session"),
])
def test_retrain_now_says_why_not_in_one_line(coder, qtbot, keys, words):
    from annotator.labels import AUTO_CODER

    viewer, dock = coder
    _review_in_the_workbench(viewer, dock, keys)
    auto = dock.session.labels_path(AUTO_CODER).read_bytes()
    _click(qtbot, dock.retrainer.button)
    qtbot.waitUntil(lambda: not dock.retrainer.running, timeout=120_000)
    line = dock.retrainer.line.text()
    assert line == words and "Traceback" not in line
    assert viewer.status == words
    assert dock.session.labels_path(AUTO_CODER).read_bytes() == auto


def test_cancel_stops_retraining_before_anything_is_proposed(coder, qtbot):
    from annotator.labels import AUTO_CODER

    viewer, dock = coder
    _review_in_the_workbench(viewer, dock, ["Enter", "2"])
    auto = dock.session.labels_path(AUTO_CODER).read_bytes()
    _click(qtbot, dock.retrainer.button)
    _click(qtbot, dock.retrainer.cancel_button)
    qtbot.waitUntil(lambda: not dock.retrainer.running, timeout=120_000)
    assert dock.retrainer.line.text() == "retraining cancelled; the proposals are as they were"
    assert dock.session.labels_path(AUTO_CODER).read_bytes() == auto
    assert not list((dock.session.root / "models").glob("*.skops"))


def test_switching_session_waits_for_retraining(alice, project, qtbot):
    viewer, dock = alice
    _click(qtbot, dock.retrainer.button)
    assert dock.retrainer.running
    _click(qtbot, dock.project_panel.next_button)
    assert dock.session.root == project.sessions[1].session and "wait for the retraining" in viewer.status
    qtbot.waitUntil(lambda: not dock.retrainer.running, timeout=180_000)
    assert dock.retrainer.line.text().startswith("retrained: model emotion-")
    _click(qtbot, dock.project_panel.next_button)
    assert dock.session.root == project.sessions[2].session


def test_retrain_now_key_follows_shortcuts_json(make_napari_viewer, workbench_session, qtbot, tmp_path):
    from annotator._qt.app import open_workbench
    from annotator.napari.keybindings import load_shortcuts

    settings = tmp_path / "shortcuts.json"
    settings.write_text(json.dumps({"retrain_now": "Control-Alt-R"}))
    viewer, dock = open_workbench(workbench_session, coder="keys", viewer=make_napari_viewer(show=True))
    try:
        dock.close_workbench()
        from annotator._qt.dock import WorkbenchDock

        dock = WorkbenchDock(viewer, coder="keys", shortcuts=load_shortcuts(settings))
        viewer.window.add_dock_widget(dock, name="rebound")
        dock.attach()
        assert dock.retrainer.button.text() == "Retrain now (Control-Alt-R)"
        _press(viewer, "Shift-R")
        assert not dock.retrainer.running and dock.retrainer.line.text() == ""
        _press(viewer, "Control-Alt-R")
        assert dock.retrainer.running
        qtbot.waitUntil(lambda: not dock.retrainer.running, timeout=120_000)
        assert dock.retrainer.line.text() == "cannot retrain: coder 'keys' has no labels in this session"
    finally:
        dock.close_workbench()
