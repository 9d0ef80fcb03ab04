"""Where a coder stands in a project (issue 13.1, the part the workbench's project dock shows),
and the library side of *Retrain now* (13.5): Qt-free, on real tracked copies of the sample."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.project import make_reviewed_project, review


@pytest.fixture
def project(tmp_path, proposed_sample):
    """Three subjects; alice reviewed all of s1 and two proposals of s2, bob all of s3."""
    return make_reviewed_project(tmp_path, proposed_sample)


def test_progress_and_next_uncoded_follow_the_coders_files(project, capsys):
    from annotator.cli import main
    from annotator.project import next_uncoded, project_status, session_to_open

    n = len(project.sessions[0].open().load_labels("auto").segments)
    statuses = project_status(project)
    s1, s2, s3 = statuses
    assert s1.progress("alice") == (n, n) and s2.progress("alice") == (2, n) and s3.progress("alice") == (0, n)
    assert s2.coders == {"alice": 2} and s2.reviewed == {"alice": 2}
    assert s3.progress_text() == f"bob {n}/{n}" and s1.progress_text() == f"alice {n}/{n}"
    assert [st.uncoded_by("alice") for st in statuses] == [False, True, True]
    assert [st.uncoded_by("bob") for st in statuses] == [True, True, False]
    # project order from the open session, wrapping round; the open one comes last
    assert next_uncoded(statuses, "alice").entry.id == s2.entry.id
    assert next_uncoded(statuses, "alice", after=s2.entry.id).entry.id == s3.entry.id
    assert next_uncoded(statuses, "alice", after=s3.entry.id).entry.id == s2.entry.id
    assert next_uncoded(statuses, "bob", after=s1.entry.id).entry.id == s2.entry.id
    assert session_to_open(project, "alice") == s2.entry and session_to_open(project, "carol") == s1.entry
    # `annotator project list` prints the same figures
    assert main(["project", "list", str(project.root)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if s2.entry.id in x)
    assert f"reviewed alice 2/{n}" in line and "coded by alice (2)" in line
    assert main(["project", "list", str(project.root), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["reviewed"] for s in listed["sessions"]] == [{"alice": n}, {"alice": 2}, {"bob": n}]


def test_a_fully_coded_project_has_nothing_next(project):
    from annotator.project import next_uncoded, project_status
    from annotator.session import Session

    for entry in project.sessions[1:]:
        review(Session.open(entry.session), "alice")
    assert next_uncoded(project_status(project), "alice") is None


def test_an_untracked_session_is_not_offered(project):
    import shutil

    from annotator.project import next_uncoded, project_status

    shutil.rmtree(project.sessions[1].session / "tracks.zarr")
    statuses = project_status(project)
    assert statuses[1].tracked == "no" and not statuses[1].uncoded_by("alice")
    assert next_uncoded(statuses, "alice").entry.id == project.sessions[2].id


def test_a_session_finds_its_project(tmp_path, project, proposed_sample):
    """Below the project (its ancestors), or anywhere through the hint ``project add`` records."""
    import shutil

    from annotator.project import Project, find_project
    from annotator.session import Session

    found, entry = find_project(project.sessions[1].session)
    assert found.root == project.root and entry == project.sessions[1]
    # a session elsewhere: session.json records where the project is
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copyfile(proposed_sample.video_path, outside / proposed_sample.video_path.name)
    shutil.copytree(proposed_sample.root, outside / proposed_sample.root.name,
                    ignore=shutil.ignore_patterns("*.lock", "*.lock.info"))
    assert find_project(outside / proposed_sample.root.name) is None
    with Project.edit(project.root) as p:
        p.add_video(outside / proposed_sample.root.name, subject="s4")
    meta = json.loads((outside / proposed_sample.root.name / "session.json").read_text())
    assert meta["project"] == "../../project" and Session.open(outside / proposed_sample.root.name)
    found, entry = find_project(outside / proposed_sample.root.name)
    assert found.root == project.root and entry.subject == "s4"
    # a damaged project file on the way is passed over; a project that does not list it is no answer
    (tmp_path / "project.json").write_text("{not json")
    assert find_project(outside / proposed_sample.root.name)[0].root == project.root
    with Project.edit(project.root) as p:
        p.remove(entry.id)
    assert find_project(outside / proposed_sample.root.name) is None


def test_the_reader_opens_a_project_at_the_session_to_code(project, monkeypatch):
    from annotator.napari._reader import napari_get_reader

    monkeypatch.setenv("USER", "alice")
    read = napari_get_reader(str(project.root))
    assert read is not None and napari_get_reader(str(project.path)) is not None
    ((video, kwargs, kind),) = read(str(project.root))
    info = kwargs["metadata"]["annotator"]
    assert kind == "image" and info["project"] == str(project.root)
    assert info["session"] == str(project.sessions[1].session)  # alice finished s1


def test_retrain_session_learns_from_the_coders_consenting_sessions(project):
    from annotator.labels import AUTO_CODER
    from annotator.project import Project
    from annotator.session import Session
    from annotator.train import RetrainCancelled, retrain_session, retrain_sources

    s1, s2, s3 = (Session.open(e.session) for e in project.sessions)
    assert [s.root for s in retrain_sources(s2, "alice", project)] == [s1.root, s2.root]
    assert [s.root for s in retrain_sources(s2, "alice")] == [s2.root]
    with Project.edit(project.root) as p:
        p.set_subject("s1", consent=("dataset",))  # s1 no longer consents to training
    assert [s.root for s in retrain_sources(s2, "alice", Project.open(project.root))] == [s2.root]
    with pytest.raises(Exception, match="no session of this project has carol's labels"):
        retrain_sources(s2, "carol", project)

    before = s2.labels_path(AUTO_CODER).read_bytes()
    with pytest.raises(RetrainCancelled):
        retrain_session(s2, "alice", project=project, cancelled=lambda: True)
    assert s2.labels_path(AUTO_CODER).read_bytes() == before
    assert not list((project.root / "models").glob("*.skops"))  # cancelled before the model was written

    steps = []
    result = retrain_session(s2, "alice", project=project, progress=steps.append)
    assert result.model_path.parent == project.root / "models" and result.model_path.is_file()
    assert result.model.metadata["retrained"] is True
    assert {s["name"] for s in result.model.metadata["sessions"]} == {s1.name, s2.name}
    assert steps[0] == "learning from 2 session(s)" and steps[-1].endswith("proposals")
    reviewed = {s.id for s in s2.load_labels("alice").segments}
    for seg in s2.load_labels(AUTO_CODER).segments:
        assert (seg.id in reviewed) != seg.source.endswith(f"+{result.model.model_id}")
    assert s1.labels_path(AUTO_CODER).read_bytes() == s3.labels_path(AUTO_CODER).read_bytes()  # untouched
