"""Fault injection, part A: hostile model files, dangerous export targets, names, labels
and session files that lie, OS errors.  Each case checks that the user gets one line and
exit 2, and that nothing on disk was lost or half-written.

(Locks, store damage, kills and full disks are in ``tests/test_faults_store.py``.)
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import sys
import zipfile

import numpy as np
import pytest

from annotator.cli import main
from annotator.errors import AnnotatorError

SHA = "ab" * 32


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def files(folder) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: what "nothing was lost" compares.

    Lock files (``.track.lock``, ``labels/.alice.lock`` and their ``.info``) are left
    out: taking a lock is not writing data (see :mod:`annotator.locks`).
    """
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith((".lock", ".lock.info"))}


@pytest.fixture
def tracked(sample_session, tmp_path):
    """A private copy of the tracked sample (the shared one is never modified)."""
    from annotator.session import Session

    root = tmp_path / "s" / sample_session.root.name
    shutil.copytree(sample_session.root, root)
    shutil.copyfile(sample_session.video_path, root.parent / sample_session.video_path.name)
    return Session.open(root)


# -- 16.1 model files that run code ----------------------------------------------------
def _training_data(n_features, classes=("joy", "fear")):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20 * len(classes), n_features))
    y = np.repeat(list(classes), 20)
    return X, y


def _evil_model(path, marker, n_features):
    """The recipe of issue 16.1: a Pipeline of FunctionTransformers that reaches ``eval``."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    code = f"__import__('pathlib').Path({str(marker)!r}).write_text('pwned') and [[0.0] * {n_features}]"
    pipe = make_pipeline(
        FunctionTransformer(np.full_like, kw_args={"fill_value": code, "dtype": "U200"}),
        FunctionTransformer(max),
        FunctionTransformer(min),
        FunctionTransformer(eval),
        LogisticRegression().fit(*_training_data(n_features)),
    )
    sio.dump(pipe, path)
    return path


@pytest.mark.slow
def test_a_model_file_that_runs_code_is_refused(tracked, tmp_path, capsys):
    from annotator.features.aus import CHANNELS

    marker = tmp_path / "marker"
    model = _evil_model(tmp_path / "it.skops", marker, len(CHANNELS))
    before = files(tracked.root)
    code, err = run(["propose", tracked.root, "--model", model], capsys)
    assert not marker.exists(), "the model file ran code"
    assert code == 2
    line = one_line(err)
    assert "it.skops" in line and "refusing" in line
    assert files(tracked.root) == before


def test_the_trusted_node_list_is_what_our_models_contain(tmp_path):
    """Regenerate TRUSTED_MODEL_NODES from freshly trained models, so it cannot drift."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from annotator.features.aus import CHANNELS, FEATURE_VERSION
    from annotator.spotting.emotion_model import make_model
    from annotator.spotting.propose import TRUSTED_MODEL_NODES, load_emotion_model, model_file_nodes
    from annotator.train.fit import emotion_pipeline

    found = set()
    for classes in (("joy", "fear"), ("joy", "fear", "anger", "disgust")):
        X, y = _training_data(6, classes)
        # what `annotator train` writes: its own pipeline, wrapped with metadata
        Xc, yc = _training_data(len(CHANNELS), classes)
        meta = {"feature_version": FEATURE_VERSION, "channels": list(CHANNELS), "labels": list(classes)}
        trained = make_model(emotion_pipeline().fit(Xc, yc), meta)
        for model in (make_pipeline(StandardScaler(), LogisticRegression()), LogisticRegression(), trained):
            path = tmp_path / "m.skops"
            sio.dump(model if model is trained else model.fit(X, y), path)
            found |= model_file_nodes(path)
            loaded = load_emotion_model(path)  # and each of them loads
            assert list(loaded.classes_) == sorted(classes)
    assert found == TRUSTED_MODEL_NODES


@pytest.mark.parametrize("kind", ["pickle", "truncated", "tampered", "no-schema", "foreign-type", "bad-classes"])
def test_bad_model_files_get_one_line(kind, tmp_path):
    import pickle

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer

    from annotator.spotting.propose import load_emotion_model

    path = tmp_path / "m.skops"
    good = tmp_path / "good.skops"
    sio.dump(LogisticRegression().fit(*_training_data(4)), good)
    if kind == "pickle":
        path.write_bytes(pickle.dumps(LogisticRegression().fit(*_training_data(4))))
    elif kind == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "tampered":
        # the schema names a type the real file never had
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
            for name in src.namelist():
                data = src.read(name)
                if name == "schema.json":
                    data = data.replace(b'"numpy"', b'"os"', 1)
                    assert b'"os"' in data
                dst.writestr(name, data)
    elif kind == "no-schema":
        with zipfile.ZipFile(path, "w") as dst:
            dst.writestr("other.json", "{}")
    elif kind == "foreign-type":
        sio.dump(FunctionTransformer(np.exp), path)
    elif kind == "bad-classes":
        X, _ = _training_data(4)
        sio.dump(LogisticRegression().fit(X, np.repeat(["happy", "sad"], 20)), path)
    with pytest.raises(AnnotatorError) as info:
        load_emotion_model(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


# -- 16.2 export -o must not destroy anything --------------------------------------------
@pytest.fixture
def labelled(tmp_path):
    """A session with a coder's labels, made without tracking (export needs none)."""
    from annotator.labels import Labels, VideoRef, make_segment, save_labels
    from annotator.session import SESSION_FILE, SESSION_SCHEMA, SESSION_VERSION, Session

    root = tmp_path / "clip.annot"
    (root / "labels").mkdir(parents=True)
    (tmp_path / "clip.mp4").write_bytes(b"stand-in; export never decodes it")
    meta = {
        "schema": SESSION_SCHEMA, "schema_version": SESSION_VERSION,
        "video": {"path": "../clip.mp4", "sha256": SHA, "fps": 30.0, "frames": 300, "width": 64,
                  "height": 48, "rotation": 0, "codec": "h264"},
        "subject": "clip", "created": "2024-01-01T00:00:00Z",
    }
    (root / SESSION_FILE).write_text(json.dumps(meta))
    session = Session.open(root)
    labels = Labels("alice", VideoRef("clip.mp4", SHA, 30.0, 300))
    labels.segments = [make_segment(labels, 10, 12, 20, emotion="joy")]
    save_labels(labels, session.labels_path("alice"))
    return session


def test_export_refuses_a_sessions_own_files(labelled, tmp_path, capsys):
    before = files(labelled.root)
    link = tmp_path / "link"
    link.symlink_to(labelled.root / "labels", target_is_directory=True)
    for target in (labelled.labels_path("alice"), labelled.labels_dir / "new.csv",
                   labelled.root / "session.json", link / "alice.json", link / "other.csv"):
        code, err = run(["export", "casme-csv", labelled.root, "-o", target, "--force"], capsys)
        assert code == 2 and "session" in one_line(err), target
    assert files(labelled.root) == before


def test_export_refuses_what_is_not_a_regular_file(labelled, tmp_path, capsys):
    real = tmp_path / "real.csv"
    real.write_text("keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    for target, word in ((link, "symbolic link"), (fifo, "not a regular file"), (folder, "directory")):
        code, err = run(["export", "casme-csv", labelled.root, "-o", target, "--force"], capsys)
        assert code == 2 and word in one_line(err), (target, err)
    assert real.read_text() == "keep me\n" and link.is_symlink()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and folder.is_dir()
    null = "/dev/null"
    code, err = run(["export", "casme-csv", labelled.root, "-o", null, "--force"], capsys)
    assert code == 2 and "regular file" in one_line(err)


def test_export_overwrites_only_with_force(labelled, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert run(["export", "casme-csv", labelled.root, "-o", out], capsys)[0] == 0
    first = out.read_bytes()
    out.write_text("a file the user cares about\n")
    code, err = run(["export", "casme-csv", labelled.root, "-o", out], capsys)
    assert code == 2 and "--force" in one_line(err)
    assert out.read_text() == "a file the user cares about\n"
    assert run(["export", "casme-csv", labelled.root, "-o", out, "--force"], capsys)[0] == 0
    assert out.read_bytes() == first


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only modes")
def test_export_to_a_read_only_file_or_folder(labelled, tmp_path, capsys):
    out = tmp_path / "ro.csv"
    out.write_text("read-only\n")
    out.chmod(0o444)
    code, err = run(["export", "casme-csv", labelled.root, "-o", out, "--force"], capsys)
    assert code == 2 and "read-only" in one_line(err)
    assert out.read_text() == "read-only\n"
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, err = run(["export", "casme-csv", labelled.root, "-o", folder / "x.csv"], capsys)
        assert code == 2 and "not writable" in one_line(err)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_a_read_only_file_is_refused_even_for_root(labelled, tmp_path, capsys):
    """Root may write through a 0444 mode, but the user marked the file read-only: refuse."""
    out = tmp_path / "ro.csv"
    out.write_text("read-only\n")
    out.chmod(0o444)
    code, err = run(["export", "casme-csv", labelled.root, "-o", out, "--force"], capsys)
    assert code == 2 and "read-only" in one_line(err)
    assert out.read_text() == "read-only\n"


def test_io_knows_the_session_marker():
    from annotator.io import SESSION_MARKER
    from annotator.session import SESSION_FILE

    assert SESSION_MARKER == SESSION_FILE


# -- 16.3 names and patterns that stop at a final newline -------------------------------
@pytest.mark.parametrize("name", ["alice\n", "alice\r\n", "\nalice", "al ice", "ålice", "alice/..", "auto", "", None, 7])
def test_invalid_coder_names(name):
    from annotator.labels import valid_coder

    assert not valid_coder(name)


def test_every_schema_pattern_refuses_a_final_newline(tmp_path):
    """The schema is checked with python-jsonschema, whose ``pattern`` is ``re.search``."""
    import jsonschema

    from annotator.labels import Labels, VideoRef, labels_schema, make_segment

    labels = Labels("alice", VideoRef("clip.mp4", SHA, 30.0, 300))
    labels.segments = [make_segment(labels, 1, 2, 3, aus=["AU6", "R12", "AU4+AU7"])]
    good = labels.to_dict()
    jsonschema.validate(good, labels_schema())
    cases = {
        "coder": lambda d: d.update(coder="alice\n"),
        "sha256": lambda d: d["video"].update(sha256=SHA + "\n"),
        "aus": lambda d: d["segments"][0].update(aus=["AU6\n"]),
        "created": lambda d: d["segments"][0].update(created="yesterday"),
    }
    validator = jsonschema.Draft202012Validator(labels_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    for field, change in cases.items():
        data = json.loads(json.dumps(good))
        change(data)
        assert not validator.is_valid(data), field


def test_every_published_pattern_is_anchored_portably():
    """Each ``pattern`` in schemas/ ends with the end-of-input look-ahead, not ``$``."""
    from pathlib import Path

    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.append(node["pattern"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for schema in (Path(__file__).resolve().parents[1] / "schemas").glob("*.json"):
        walk(json.loads(schema.read_text()))
    assert found
    for pattern in found:
        assert pattern.startswith("^(?:") and pattern.endswith(r")(?![\s\S])"), pattern


# -- 16.8 the editor never saves what it then refuses -----------------------------------
def test_edits_are_clamped_to_the_video(labelled):
    from annotator.labels.editor import open_editor

    editor = open_editor(labelled, "alice")
    (seg,) = editor.labels.segments
    last = labelled.n_frames - 1
    editor.set_frame(seg.id, "offset", last)
    moved = editor.move(seg.id, "offset", +1)
    assert moved.offset == last
    assert editor.move(seg.id, "onset", +10_000).onset == last
    assert editor.set_frame(seg.id, "onset", -5).onset == 0
    assert editor.new_segment(last + 50, length=10).offset == last
    editor.close()
    again = open_editor(labelled, "alice")  # the coder is not locked out
    assert again.own(seg.id).offset == last


def test_a_save_is_validated_as_the_load_is(labelled):
    from annotator.errors import LabelsError
    from annotator.labels.editor import open_editor

    editor = open_editor(labelled, "alice")
    path = labelled.labels_path("alice")
    before = path.read_bytes()
    (seg,) = editor.labels.segments
    bad = seg.replace(offset=labelled.n_frames + 3)  # what a buggy caller might hand apply()
    with pytest.raises(LabelsError, match="past the video"):
        editor.apply("bad", [bad])
    assert path.read_bytes() == before and editor.labels.segments == [seg]
    dup = seg.replace(onset=1, apex=1)
    with pytest.raises(LabelsError, match="more than once"):
        editor.apply("dup", [seg, dup])
    assert path.read_bytes() == before
    editor.close()
    open_editor(labelled, "alice").close()


# -- 16.9 a labels file's claims are checked against the session's video ---------------
def _edit_labels(session, coder, change):
    path = session.labels_path(coder)
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: (d["video"].update(frames=0), d["segments"][0].update(offset=10**30)), "minimum of 1"),
        (lambda d: d["segments"][0].update(offset=10**30), "maximum"),
        (lambda d: d["video"].update(frames=0), "frames"),
        (lambda d: (d["video"].update(frames=10**6), d["segments"][0].update(offset=5000)), "session's video has 300"),
        (lambda d: d["segments"][0].update(offset=300), "past the video"),
        (lambda d: d["segments"][0].update(onset=-1), "minimum"),
        (lambda d: d["segments"][0].update(onset="10"), "integer"),
        (lambda d: d["segments"][0].update(apex=True), "integer"),
        (lambda d: d["segments"][0].update(onset=15, apex=12), "onset <= apex"),
        (lambda d: d["segments"].append(dict(d["segments"][0])), "more than once"),
        (lambda d: d.update(coder="bob"), "coder 'bob'"),
        (lambda d: d.update(coder="alice\n"), "coder"),
        (lambda d: d.update(segments={}), "segments"),
    ],
)
def test_lying_labels_files_are_refused_on_export(labelled, tmp_path, capsys, change, words):
    path = _edit_labels(labelled, "alice", change)
    before = path.read_bytes()
    out = tmp_path / "out.csv"
    code, err = run(["export", "casme-csv", labelled.root, "-o", out], capsys)
    line = one_line(err)
    assert code == 2 and "alice.json" in line and words in line, line
    assert not out.exists() and path.read_bytes() == before


@pytest.mark.parametrize(
    "text, words",
    [
        ('"fps": NaN', "NaN"),
        ('"fps": Infinity', "Infinity"),
        ('"fps": 1e999', "too large"),
        ('"confidence": NaN', "NaN"),
    ],
)
def test_json_that_python_accepts_but_json_does_not(labelled, tmp_path, capsys, text, words):
    path = labelled.labels_path("alice")
    raw = path.read_text()
    key = text.split(":")[0]
    if key == '"confidence"':
        raw = raw.replace('"confidence": null', text, 1)
    else:
        raw = raw.replace('"fps": 30.0', text, 1)
    assert text in raw
    path.write_text(raw)
    code, err = run(["export", "casme-csv", labelled.root, "-o", tmp_path / "o.csv"], capsys)
    assert code == 2 and words in one_line(err)


def test_duplicate_keys_are_refused(labelled, tmp_path, capsys):
    path = labelled.labels_path("alice")
    path.write_text(path.read_text().replace('"coder": "alice"', '"coder": "alice", "coder": "alice"', 1))
    code, err = run(["export", "casme-csv", labelled.root, "-o", tmp_path / "o.csv"], capsys)
    assert code == 2 and "twice" in one_line(err)


def test_unicode_in_a_labels_file_round_trips(labelled, tmp_path, capsys):
    from annotator.labels.editor import open_editor

    editor = open_editor(labelled, "alice")
    (seg,) = editor.labels.segments
    editor.set_notes(seg.id, "sourire 😊 — 微笑\nsecond line")
    editor.close()
    assert open_editor(labelled, "alice").own(seg.id).notes == "sourire 😊 — 微笑\nsecond line"


def test_a_labels_folder_that_is_a_file(labelled, capsys):
    from annotator.errors import LabelsError
    from annotator.labels.editor import open_editor

    shutil.rmtree(labelled.labels_dir)
    labelled.labels_dir.write_text("not a folder\n")
    # refused when the editor opens (its lock file would go in that folder), not at the first edit
    with pytest.raises(LabelsError, match="labels folder"):
        open_editor(labelled, "alice")
    assert labelled.labels_dir.read_text() == "not a folder\n"
    code, err = run(["info", labelled.root], capsys)
    assert code == 0


# -- 16.7 re-proposing keeps every reviewed decision --------------------------------------
def test_proposal_ids_name_video_spotter_and_frames():
    from annotator.spotting.propose import proposal_id

    a = proposal_id(SHA, "annotator-spotter/1", 10, 12, 20)
    assert a == proposal_id(SHA, "annotator-spotter/1", 10, 12, 20)
    others = {proposal_id("cd" * 32, "annotator-spotter/1", 10, 12, 20), proposal_id(SHA, "annotator-spotter/2", 10, 12, 20),
              proposal_id(SHA, "annotator-spotter/1", 11, 12, 20), proposal_id(SHA, "annotator-spotter/1", 10, 13, 20),
              proposal_id(SHA, "annotator-spotter/1", 10, 12, 21)}
    assert a not in others and len(others) == 5


def test_merge_keeps_reviewed_and_replaces_untouched():
    from annotator.labels import Segment
    from annotator.spotting.propose import merge_reviewed

    def seg(i, on, off):
        return Segment(on, on, off, id=i, status="proposed")

    previous = [seg("a", 10, 20), seg("b", 50, 60), seg("c", 90, 95)]
    fresh = [seg("a", 10, 20), seg("b2", 51, 60), seg("c2", 91, 95), seg("d", 200, 210)]
    merged = merge_reviewed(fresh, previous, reviewed={"a", "b", "someone-elses"})
    # a and b were reviewed: kept as they were; b2 is b again (IoU 0.91): not offered twice;
    # c was untouched: replaced by c2; d is new
    assert [s.id for s in merged] == ["a", "b", "c2", "d"]
    assert merge_reviewed(fresh, previous, reviewed=set()) == fresh


@pytest.mark.slow
def test_re_proposing_keeps_review_state(tracked):
    from annotator.labels.editor import open_editor
    from annotator.spotting.propose import propose
    from annotator.spotting.spotter import Spotter

    first = propose(tracked)
    assert len(first.segments) >= 3
    assert [s.id for s in propose(tracked).segments] == [s.id for s in first.segments], "ids are not stable"
    editor = open_editor(tracked, "alice")
    todo = editor.unreviewed()
    untouched = todo[-1]
    for s in todo[:-2]:
        editor.accept(s.id)
    editor.reject(todo[-2].id)
    editor.close()
    alice = tracked.labels_path("alice").read_bytes()

    def check(editor):
        visible = editor.visible()
        (left,) = editor.unreviewed()  # only the one nobody touched
        assert (left.onset, left.apex, left.offset) == (untouched.onset, untouched.apex, untouched.offset)
        assert len({s.id for s in visible}) == len(visible) == len(first.segments), "duplicates are visible"
        spans = sorted((s.onset, s.offset) for s in visible)
        assert len(set(spans)) == len(spans)

    propose(tracked)
    editor = open_editor(tracked, "alice")
    check(editor)
    editor.close()
    # a new spotter version: new ids for the same events; the reviewed ones still stand
    again = propose(tracked, spotter=Spotter(source="annotator-spotter/next"))  # not the default source
    editor = open_editor(tracked, "alice")
    check(editor)
    assert editor.unreviewed()[0].id != untouched.id, "the untouched proposal was not replaced"
    assert {s.id for s in editor.labels.segments} <= {s.id for s in again.segments}
    assert tracked.labels_path("alice").read_bytes() == alice, "propose touched a coder's file"


# -- 16.10 OS errors and a session.json that lies ----------------------------------------
def test_published_session_schema_matches_code_and_create(tmp_path):
    from pathlib import Path

    import jsonschema

    from annotator.session import Session, session_schema
    from tests.fixtures.sample import SAMPLE_VIDEO

    published = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "session.v1.schema.json").read_text())
    assert published == session_schema(), "schemas/ and annotator.session drifted: regenerate the file"
    jsonschema.Draft202012Validator.check_schema(published)
    video = tmp_path / "clip.mp4"
    shutil.copyfile(SAMPLE_VIDEO, video)
    session = Session.create(video)
    written = json.loads((session.root / "session.json").read_text())
    jsonschema.Draft202012Validator(published, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(written)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda m: m["video"].pop("sha256"), "sha256"),
        (lambda m: m["video"].pop("frames"), "frames"),
        (lambda m: m.pop("video"), "video"),
        (lambda m: m["video"].update(frames="300"), "integer"),
        (lambda m: m["video"].update(fps=0), "fps"),
        (lambda m: m["video"].update(path=["x"]), "string"),
        (lambda m: m.update(video=[]), "object"),
        (lambda m: m["video"].update(sha256=SHA + "\n"), "sha256"),
    ],
)
def test_a_session_file_that_lies(labelled, tmp_path, capsys, change, words):
    path = labelled.root / "session.json"
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))
    before = files(labelled.root)
    for argv in (["info", labelled.root], ["export", "casme-csv", labelled.root, "-o", tmp_path / "o.csv"],
                 ["propose", labelled.root]):
        code, err = run(argv, capsys)
        line = one_line(err)
        assert code == 2 and "session.json" in line and words in line, line
    assert files(labelled.root) == before and not (tmp_path / "o.csv").exists()


def test_session_json_with_nan(labelled, capsys):
    path = labelled.root / "session.json"
    path.write_text(path.read_text().replace('"fps": 30.0', '"fps": NaN'))
    code, err = run(["info", labelled.root], capsys)
    assert code == 2 and "NaN" in one_line(err)


def _track_into(out, video, env=None, user=None):
    """``annotator track`` in a real process; it fails creating the session, before any tracking."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "annotator", "track", str(video), "-o", str(out), "-q", "--workers", "1"]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    env = {**os.environ, **(env or {})}
    if user is not None:
        env.pop("ANNOTATOR_FACE_MODEL", None)  # in root's cache, which another user cannot read
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def shared_dir():
    """A world-readable folder (pytest's tmp_path is private to root) for runs as another user."""
    import tempfile

    from tests.fixtures.sample import SAMPLE_VIDEO

    root = tempfile.mkdtemp(prefix="annotator-faults-")
    try:
        os.chmod(root, 0o755)
        from pathlib import Path

        root = Path(root)
        shutil.copyfile(SAMPLE_VIDEO, root / "clip.mp4")
        (root / "clip.mp4").chmod(0o644)
        (root / "cache").mkdir(mode=0o777)
        (root / "cache").chmod(0o777)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to run as nobody")
def test_permission_denied_is_one_line(shared_dir):
    import subprocess

    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                            "import annotator"], capture_output=True, text=True)
    if probe.returncode != 0:  # e.g. a checkout inside a mode-700 `mktemp -d` folder
        last = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.skip(f"user nobody cannot import annotator from this checkout ({last})")
    out = shared_dir / "out"
    out.mkdir(mode=0o755)
    result = _track_into(out, shared_dir / "clip.mp4", env={"ANNOTATOR_CACHE": str(shared_dir / "cache")}, user=65534)
    assert result.returncode == 2, result.stderr
    line = one_line("\n".join(x for x in result.stderr.splitlines() if "warning" not in x))
    assert "permission denied" in line and str(out) in line
    assert list(out.iterdir()) == []


def test_not_a_directory_is_one_line(tmp_path):
    from tests.fixtures.sample import SAMPLE_VIDEO

    blocker = tmp_path / "afile"
    blocker.write_text("in the way\n")
    result = _track_into(blocker / "sub", SAMPLE_VIDEO)
    assert result.returncode == 2
    assert "not a directory" in one_line(result.stderr) and str(blocker) in result.stderr
    assert blocker.read_text() == "in the way\n"


@pytest.fixture
def read_only_fs(tmp_path):
    import subprocess

    mnt = tmp_path / "ro"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and mount to make a read-only file system")
    try:
        (mnt / "keep.txt").write_text("kept\n")
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_read_only_file_system_is_one_line(read_only_fs):
    from tests.fixtures.sample import SAMPLE_VIDEO

    result = _track_into(read_only_fs / "out", SAMPLE_VIDEO)
    assert result.returncode == 2
    assert "read-only file system" in one_line(result.stderr)
    assert sorted(p.name for p in read_only_fs.iterdir()) == ["keep.txt"]


def test_atomic_write_names_the_file_when_the_os_does_not(tmp_path):
    """A full disk fails in write()/fsync() with no file name; the error must name the target."""
    from annotator.io import atomic_open, describe_os_error

    target = tmp_path / "out.json"
    with pytest.raises(OSError) as info:
        with atomic_open(target):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert info.value.filename == str(target)
    assert describe_os_error(info.value).startswith(f"{target}: no space left on device; the disk is full")
    assert list(tmp_path.iterdir()) == []


# -- 16.11 tables that pandas would misread ---------------------------------------------
HEADER = "Subject,Filename,OnsetFrame,ApexFrame,OffsetFrame,Action Units,Estimated Emotion,Kind,Confidence,Status,Coder\n"


@pytest.mark.parametrize(
    "body, words",
    [
        ("s,clip,10,12,20,AU6,joy,micro,0.9,accepted,alice,EXTRA\n" * 2, "more fields than the header"),
        ("s,clip,10,12,20,AU6,joy,micro,0.9,accepted,alice\ns,clip,30,32,40,AU6,joy,micro,0.9,accepted,alice,X\n",
         "line 3"),
        ("s,clip,-1,12,20,AU6,joy,micro,0.9,accepted,alice\n", "onset"),
        ("s,clip,10,12,1e30,AU6,joy,micro,0.9,accepted,alice\n", "line 2"),
        ("s,clip,10,12,99999999999,AU6,joy,micro,0.9,accepted,alice\n", "not a frame"),
        ("s,clip,10,12,20,AU6,joy,micro,nan,accepted,alice\n", "confidence"),
        ("s,clip,10,12,20,AU6,joy,micro,0.9,maybe,alice\n", "status"),
    ],
)
def test_bad_rows_in_a_csv(tmp_path, capsys, body, words):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + body)
    code, err = run(["evaluate", path, path, "--truth-coder", "alice", "--pred-coder", "alice"], capsys)
    line = one_line(err)
    assert code == 2 and "t.csv" in line and words in line, line


def test_a_repeated_column_is_refused(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("Filename,OnsetFrame,OnsetFrame,ApexFrame,OffsetFrame\nclip,10,99,12,20\n")
    code, err = run(["evaluate", path, path], capsys)
    assert code == 2 and "'OnsetFrame' appears more than once" in one_line(err)


def test_a_good_csv_still_reads(labelled, tmp_path, capsys):
    out = tmp_path / "good.csv"
    assert run(["export", "casme-csv", labelled.root, "-o", out], capsys)[0] == 0
    code, _ = run(["evaluate", out, out], capsys)
    assert code == 0
