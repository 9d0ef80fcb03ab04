"""Shared fixtures; the heavy ones run once per test session."""

from __future__ import annotations

import os

import pytest

from tests.fixtures import videos as fx
from tests.fixtures.sample import track_sample


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Indexes, proxies and settings go to temporary folders, never the user's.

    The face model found in the user's cache stays in use through
    ``$ANNOTATOR_FACE_MODEL`` (tests that need it missing unset that), and so does
    the real footage of ``make realdata`` through ``$ANNOTATOR_REALDATA``.
    """
    from annotator.tracking.model_files import find_face_model
    from benchmarks.realdata import ENV_VAR as REALDATA_ENV
    from benchmarks.realdata import realdata_dir

    model = find_face_model()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(REALDATA_ENV, str(realdata_dir()))
        mp.setenv("ANNOTATOR_CACHE", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("ANNOTATOR_CONFIG", str(tmp_path_factory.mktemp("config")))
        if model is not None and not os.environ.get("ANNOTATOR_FACE_MODEL"):
            mp.setenv("ANNOTATOR_FACE_MODEL", str(model))
        yield


@pytest.fixture(scope="session")
def video_files(tmp_path_factory) -> dict[str, fx.VideoSpec]:
    """Small test videos with their frame numbers drawn in (see tests/fixtures/videos.py)."""
    return fx.make_all(tmp_path_factory.mktemp("videos"))


@pytest.fixture(scope="session")
def sample_session(tmp_path_factory):
    """The sample video tracked with the real MediaPipe models (shared, do not modify)."""
    return track_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="session")
def proposed_sample(tmp_path_factory, sample_session):
    """A proposed copy of the tracked sample (tracked once, above); copied again per test.

    The spotter must find the sample's planted events: a sample without proposals is a
    failure of the proposer, never papered over here.
    """
    import shutil

    from annotator.session import Session
    from annotator.spotting.propose import propose

    root = tmp_path_factory.mktemp("proposed")
    shutil.copy(sample_session.video_path, root / sample_session.video_path.name)
    shutil.copytree(sample_session.root, root / sample_session.root.name)
    session = Session.open(root / sample_session.root.name)
    assert session.video_path == (root / sample_session.video_path.name).resolve()
    labels = propose(session)
    assert len(labels.segments) >= 5, f"the proposer found {len(labels.segments)} of the sample's 5 planted events"
    return session


@pytest.fixture
def workbench_session(proposed_sample, tmp_path):
    """A private copy of the proposed sample for one test: what it edits no other test sees."""
    import shutil

    shutil.copy(proposed_sample.video_path, tmp_path / proposed_sample.video_path.name)
    shutil.copytree(proposed_sample.root, tmp_path / proposed_sample.root.name,
                    ignore=shutil.ignore_patterns("*.lock", "*.lock.info"))
    return tmp_path / proposed_sample.root.name
