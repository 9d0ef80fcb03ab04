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
    """Every file under ``folder`` with its bytes: what "nothing was lost" compares."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


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

    from annotator.spotting.propose import TRUSTED_MODEL_NODES, load_emotion_model, model_file_nodes

    found = set()
    for classes in (("joy", "fear"), ("joy", "fear", "anger", "disgust")):
        X, y = _training_data(6, classes)
        for model in (make_pipeline(StandardScaler(), LogisticRegression()), LogisticRegression()):
            path = tmp_path / "m.skops"
            sio.dump(model.fit(X, y), path)
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
