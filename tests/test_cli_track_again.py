"""``annotator track`` on a session whose tracks are complete, and ``--subject`` (issue 17.20)."""

from __future__ import annotations

import json
import shutil


def _copy(sample_session, tmp_path):
    shutil.copy(sample_session.video_path, tmp_path / sample_session.video_path.name)
    shutil.copytree(sample_session.root, tmp_path / sample_session.root.name)
    return tmp_path / sample_session.video_path.name, tmp_path / sample_session.root.name


def test_tracking_a_complete_session_says_so_and_sets_the_subject(sample_session, tmp_path, capsys):
    from annotator.cli import main

    video, root = _copy(sample_session, tmp_path)
    before = (root / "tracks.zarr" / "zarr.json").stat().st_mtime_ns
    assert main(["track", str(video), "-q", "--subject", "s07"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (f"{root}: already tracked (tracks complete), nothing to do; "
                           "`annotator propose` next, or remove tracks.zarr to track again")
    assert json.loads((root / "session.json").read_text())["subject"] == "s07"
    assert (root / "tracks.zarr" / "zarr.json").stat().st_mtime_ns == before


def test_an_empty_subject_is_refused_in_one_line(sample_session, tmp_path, capsys):
    from annotator.cli import main

    video, root = _copy(sample_session, tmp_path)
    meta = (root / "session.json").read_text()
    assert main(["track", str(video), "-q", "--subject", " "]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("annotator: error: ") and "subject" in err and len(err.splitlines()) == 1
    assert (root / "session.json").read_text() == meta
