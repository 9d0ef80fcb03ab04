"""User folders: platformdirs' per-platform locations, with the $ANNOTATOR_* overrides first."""

from __future__ import annotations

import sys

import platformdirs
import pytest

from annotator.io import cache_dir, config_dir
from annotator.napari.keybindings import settings_path


def test_overrides_win(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATOR_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("ANNOTATOR_CONFIG", str(tmp_path / "k"))
    assert cache_dir() == tmp_path / "c"
    assert config_dir() == tmp_path / "k"
    assert settings_path() == tmp_path / "k" / "shortcuts.json"


def test_defaults_are_the_platform_folders(monkeypatch):
    monkeypatch.delenv("ANNOTATOR_CACHE", raising=False)
    monkeypatch.delenv("ANNOTATOR_CONFIG", raising=False)
    assert cache_dir() == platformdirs.user_cache_path("annotator", appauthor=False)
    assert config_dir() == platformdirs.user_config_path("annotator", appauthor=False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG variables are a Linux convention")
def test_xdg_variables_are_honoured_on_linux(monkeypatch, tmp_path):
    monkeypatch.delenv("ANNOTATOR_CACHE", raising=False)
    monkeypatch.delenv("ANNOTATOR_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xk"))
    assert cache_dir() == tmp_path / "xc" / "annotator"
    assert config_dir() == tmp_path / "xk" / "annotator"
