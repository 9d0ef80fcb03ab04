"""Projects: the project file, its schema, its lock, its CLI, and a project argument to track/propose."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from annotator.cli import main
from tests.fixtures import videos as fx
from tests.fixtures.labelled import add_labels

REPO = Path(__file__).resolve().parents[1]


def _video(folder: Path, name: str, n: int = 40) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = fx.make_h264_vfr_mp4(folder, n=n)
    video = folder / f"{name}.mp4"
    shutil.move(spec.path, video)
    return video


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_published_project_schema_matches_code_and_what_is_written(tmp_path, capsys):
    import jsonschema

    from annotator.project import project_schema

    published = json.loads((REPO / "schemas" / "project.v1.schema.json").read_text())
    assert published == project_schema(), "schemas/ and annotator.project drifted: regenerate the file"
    jsonschema.Draft202012Validator.check_schema(published)
    video = _video(tmp_path / "videos", "clip")
    assert _run(capsys, "project", "init", tmp_path / "study")[0] == 0
    code = _run(capsys, "project", "add", tmp_path / "study", video, "--subject", "s01", "--consent", "quiz,train")[0]
    assert code == 0
    written = json.loads((tmp_path / "study" / "project.json").read_text())
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    validator = jsonschema.Draft202012Validator(published, format_checker=checker)
    validator.validate(written)
    assert written["sessions"][0]["video"] == "../videos/clip.mp4"  # relative to the project
    assert written["sessions"][0]["session"] == "../videos/clip.annot"  # beside the video, made on add
    assert written["subjects"]["s01"]["consent"] == ["train", "quiz"]


def test_add_list_set_remove(tmp_path, capsys):
    from annotator.project import Project
    from annotator.session import Session

    study = tmp_path / "study"
    a = _video(study / "sub01", "EP01")
    b = _video(study / "sub02", "EP01")  # the same file name under another subject, as CASME II has
    assert _run(capsys, "project", "init", study)[0] == 0
    assert _run(capsys, "project", "add", study, a, "--subject", "sub01")[0] == 0
    assert _run(capsys, "project", "add", study, b, "--subject", "sub02", "--consent", "quiz")[0] == 0
    project = Project.open(study)
    assert [e.id for e in project.sessions] == ["sub01/EP01", "sub02/EP01"]
    assert project.subject("sub01").consent == () and project.subject("sub02").allows("quiz")
    kept, skipped = project.sessions_allowing("quiz")
    assert [e.id for e in kept] == ["sub02/EP01"] and skipped == ["sub01"]
    assert Session.open(a).subject == "sub01"

    # a session with proposals, a coder and a consensus with one segment to adjudicate
    session = Session.open(b)
    add_labels(session, "alice", [(2, 5, 9, "joy")])
    add_labels(session, "consensus", [{"onset": 2, "apex": 5, "offset": 9, "emotion": "joy",
                                       "adjudication": "unmatched: only alice"}])
    code, out, _ = _run(capsys, "project", "list", study)
    assert code == 0
    line_a = next(line for line in out.splitlines() if "sub01/EP01" in line)
    line_b = next(line for line in out.splitlines() if "sub02/EP01" in line)
    assert "tracked no" in line_a and "coded by -" in line_a and "agreed -" in line_a
    assert "coded by alice (1)" in line_b and "agreed 1 to adjudicate" in line_b
    code, out, _ = _run(capsys, "project", "list", study, "--json")
    listed = json.loads(out)
    assert listed["subjects"]["sub02"] == {"consent": ["quiz"], "sessions": 1}
    assert [s["coders"] for s in listed["sessions"]] == [{}, {"alice": 1}]

    assert _run(capsys, "project", "set", study, "--subject", "sub01", "--consent", "all")[0] == 0
    assert Project.open(study).subject("sub01").consent == ("dataset", "train", "quiz", "publish")
    assert _run(capsys, "project", "set", study, "--session", "sub02/EP01", "--subject", "sub03")[0] == 0
    project = Project.open(study)
    assert project.find("sub02/EP01").subject == "sub03" and Session.open(b).subject == "sub03"
    assert project.find(b).id == "sub02/EP01"  # found by the video's path as well
    assert _run(capsys, "project", "remove", study, "sub01/EP01")[0] == 0
    project = Project.open(study)
    assert [e.id for e in project.sessions] == ["sub02/EP01"]
    assert "sub01" in project.subjects, "a subject with consent on record is kept"
    assert (a.parent / "EP01.annot" / "session.json").is_file(), "remove never deletes a session"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["project", "list", "{tmp}/nowhere"], "no such project directory"),
        (["project", "list", "{tmp}"], "not a project"),
        (["project", "add", "{study}", "{tmp}/missing.mp4", "--subject", "s1"], "no such video"),
        (["project", "add", "{study}", "{video}", "--subject", "s 1"], "invalid subject id"),
        (["project", "add", "{study}", "{video}", "--subject", "s1", "--consent", "quizz"], "unknown use 'quizz'"),
        (["project", "set", "{study}", "--subject", "nobody", "--consent", "quiz"], "has no subject 'nobody'"),
        (["project", "set", "{study}", "--subject", "s0"], "nothing to change"),
        (["project", "remove", "{study}", "nothing"], "has no session 'nothing'"),
        (["project", "init", "{study}"], "already exists"),
        (["track", "{empty}"], "has no sessions yet"),
    ],
)
def test_bad_project_commands_are_one_line_and_change_nothing(tmp_path, capsys, argv, words):
    study, empty = tmp_path / "study", tmp_path / "empty"
    video = _video(tmp_path, "clip", n=12)
    main(["project", "init", str(study)])
    main(["project", "init", str(empty)])
    main(["project", "add", str(study), str(_video(tmp_path / "s0", "x", n=12)), "--subject", "s0"])
    capsys.readouterr()
    before = (study / "project.json").read_bytes()
    fill = {"tmp": tmp_path, "study": study, "video": video, "empty": empty}
    code, out, err = _run(capsys, *[a.format(**fill) for a in argv])
    assert code == 2, (out, err)
    assert err.startswith("annotator: error: ") and err.count("\n") == 1 and words in err, err
    assert (study / "project.json").read_bytes() == before


def test_adding_twice_is_refused(tmp_path, capsys):
    video = _video(tmp_path, "clip", n=12)
    main(["project", "init", str(tmp_path / "p")])
    assert _run(capsys, "project", "add", tmp_path / "p", video, "--subject", "a")[0] == 0
    code, _, err = _run(capsys, "project", "add", tmp_path / "p", tmp_path / "clip.annot", "--subject", "b")
    assert code == 2 and "in the project already, as 'clip'" in err


def test_an_invalid_project_file_names_the_field(tmp_path, capsys):
    main(["project", "init", str(tmp_path / "p")])
    data = json.loads((tmp_path / "p" / "project.json").read_text())
    data["subjects"]["s1"] = {"consent": ["everything"]}
    (tmp_path / "p" / "project.json").write_text(json.dumps(data))
    code, _, err = _run(capsys, "project", "list", tmp_path / "p")
    assert code == 2 and "subjects.s1.consent.0" in err and "project.json" in err


def test_a_held_project_lock_names_its_holder(tmp_path, capsys, monkeypatch):
    from annotator.locks import PROJECT, session_lock

    monkeypatch.setenv("ANNOTATOR_LOCK_TIMEOUT", "0.2")
    video = _video(tmp_path, "clip", n=12)
    main(["project", "init", str(tmp_path / "p")])
    capsys.readouterr()
    before = (tmp_path / "p" / "project.json").read_bytes()
    with session_lock(tmp_path / "p", PROJECT):
        code, _, err = _run(capsys, "project", "add", tmp_path / "p", video, "--subject", "a")
    assert code == 2 and "busy: its project file is being changed by" in err and "pid" in err
    assert (tmp_path / "p" / "project.json").read_bytes() == before


def test_propose_and_track_take_a_project(sample_session, tmp_path, capsys):
    """``annotator propose PROJECT`` runs on every session; ``track PROJECT`` resumes finished ones as done."""
    from annotator.session import Session

    study = tmp_path / "study"
    main(["project", "init", str(study)])
    for subject in ("s1", "s2"):
        folder = study / subject
        folder.mkdir()
        shutil.copyfile(sample_session.video_path, folder / "astronaut.mp4")
        shutil.copytree(sample_session.root, folder / "astronaut.annot",
                        ignore=shutil.ignore_patterns("auto.json", "*.lock", "*.lock.info"))
        assert main(["project", "add", str(study), str(folder / "astronaut.mp4"), "--subject", subject]) == 0
    capsys.readouterr()
    code, out, err = _run(capsys, "propose", study)
    assert code == 0, err
    assert out.count("auto.json") == 2
    for subject in ("s1", "s2"):
        assert Session.open(study / subject / "astronaut.annot").has_labels("auto")
    code, out, err = _run(capsys, "track", study, "-q", "--workers", "1")
    assert code == 0, err
    # both were tracked already: each line names its session and says so
    lines = out.splitlines()
    assert sorted(Path(line.split(": ")[0]).name for line in lines) == ["astronaut.annot", "astronaut.annot"]
    assert all("already tracked" in line for line in lines), out
    code, out, _ = _run(capsys, "project", "list", study)
    assert out.count("tracked complete") == 2 and out.count("proposed 5") == 2, out
