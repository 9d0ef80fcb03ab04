"""``annotator open`` from a shell: no display, and where --compare may go."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from annotator import cli
from tests.fixtures.sample import SAMPLE_VIDEO


def test_open_without_a_display_says_so_in_one_line(tmp_path):
    video = tmp_path / SAMPLE_VIDEO.name
    shutil.copyfile(SAMPLE_VIDEO, video)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "annotator", "open", str(video)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "xvfb-run" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_compare_goes_anywhere_on_the_command_line(monkeypatch, tmp_path):
    seen = {}

    def fake_workbench(path, coder=None, compare=()):
        # stands in for the Qt event loop: this test is about argument parsing
        seen.update(path=path, coder=coder, compare=list(compare))
        return 0

    import annotator._qt.app as app

    monkeypatch.setattr(app, "main", fake_workbench)
    for argv in (["open", "--compare", "bob", "clip.annot", "--coder", "alice"],
                 ["open", "clip.annot", "--compare", "bob", "--coder", "alice"],
                 ["open", "--compare", "bob,carol", "clip.annot", "--coder", "alice"],
                 ["open", "--compare", "bob", "--compare", "carol", "clip.annot", "--coder", "alice"]):
        seen.clear()
        assert cli.main(argv) == 0
        assert seen["path"] == "clip.annot" and seen["coder"] == "alice", argv
        assert seen["compare"] in (["bob"], ["bob", "carol"]), argv


def test_probe_and_info_agree_on_the_duration(sample_session, capsys):
    assert cli.main(["probe", str(sample_session.video_path)]) == 0
    probe = capsys.readouterr().out
    assert cli.main(["info", str(sample_session.root)]) == 0
    info = capsys.readouterr().out
    # the sample: 300 frames at 30 fps last 10.00 s, from the first frame to the end of the last
    assert "300 frames" in probe and ", 10.00 s" in probe, probe
    assert "10.00 s" in info, info


def test_open_an_empty_project_says_so_in_one_line(tmp_path):
    """``annotator open PROJECT`` with no session to open: one line, before any window."""
    from annotator.project import Project

    Project.init(tmp_path / "study")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "annotator", "open", str(tmp_path / "study"), "--coder", "alice"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert lines == [f"annotator: error: {tmp_path / 'study'}: has no sessions yet; add some with `annotator project add`"], \
        done.stderr
