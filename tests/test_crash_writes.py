"""Atomic writes under a real crash: a child process is SIGKILLed between writing and renaming.

The child replaces ``os.replace`` by a SIGKILL of itself, so it dies after the new
bytes are written and fsynced but before they take the target's name: the very
moment a non-atomic writer would leave a half-new or truncated file behind.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from annotator.labels import load_labels, make_segment
from annotator.session import Session, is_session_dir
from tests.fixtures import videos as fx

DIE_AT_RENAME = """
import os, signal
os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
"""


def run_child(body: str) -> subprocess.CompletedProcess:
    code = DIE_AT_RENAME + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def assert_killed(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr[-2000:])


@pytest.fixture
def video(tmp_path) -> Path:
    return fx.make_h264_mp4(tmp_path, n=20).path


def test_session_json_never_half_written(video, tmp_path):
    root = tmp_path / "clip.annot"
    assert_killed(run_child(f"""
        from annotator.session import Session
        Session.create({str(video)!r}, {str(root)!r})
    """))
    # the rename never happened: no session.json at all, so no half-made session
    assert not (root / "session.json").exists()
    assert not is_session_dir(root)
    # and the folder is usable: making the session again works and reads back
    session = Session.create(video, root)
    assert Session.open(root).sha256 == session.sha256
    assert json.loads((root / "session.json").read_text())["video"]["frames"] == 20


def _session_with_labels(video: Path, root: Path) -> Session:
    session = Session.create(video, root)
    labels = session.new_labels("alice")
    labels.segments.append(make_segment(labels, 2, 4, 6, emotion="joy", aus=["AU6", "AU12"]))
    session.save_labels(labels)
    return session


def test_labels_autosave_keeps_the_old_file(video, tmp_path):
    session = _session_with_labels(video, tmp_path / "clip.annot")
    path = session.labels_path("alice")
    before = path.read_bytes()
    assert_killed(run_child(f"""
        from annotator.labels import make_segment
        from annotator.session import Session
        s = Session.open({str(session.root)!r})
        labels = s.load_labels("alice")
        labels.segments.append(make_segment(labels, 10, 11, 12, emotion="fear"))
        s.save_labels(labels)
    """))
    assert path.read_bytes() == before
    assert [(x.onset, x.emotion) for x in load_labels(path).segments] == [(2, "joy")]


def test_export_keeps_the_old_file(video, tmp_path):
    session = _session_with_labels(video, tmp_path / "clip.annot")
    out = tmp_path / "labels.csv"
    from annotator.cli import main

    assert main(["export", "casme-csv", str(session.root), "--coder", "alice", "-o", str(out)]) == 0
    before = out.read_bytes()
    assert b"happiness" in before or b"joy" in before  # a real export, not an empty file
    labels = session.load_labels("alice")
    labels.segments.append(make_segment(labels, 10, 11, 12, emotion="fear"))
    session.save_labels(labels)
    assert_killed(run_child(f"""
        from annotator.cli import main
        main(["export", "casme-csv", {str(session.root)!r}, "--coder", "alice", "-o", {str(out)!r}, "--force"])
    """))
    assert out.read_bytes() == before
