"""Shared fixtures; the heavy ones run once per test session."""

from __future__ import annotations

import pytest

from tests.fixtures.sample import track_sample


@pytest.fixture(scope="session")
def sample_session(tmp_path_factory):
    """The sample video tracked with the real MediaPipe models (shared, do not modify)."""
    return track_sample(tmp_path_factory.mktemp("sample"))
