"""The shortcut table: defaults, rebinding from the settings file, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from annotator.errors import AnnotatorError
from annotator.labels.model import EMOTIONS
from annotator.napari.keybindings import DEFAULT_SHORTCUTS, find_clashes, load_shortcuts, settings_path


def test_defaults_cover_the_coding_actions():
    actions = {s.action for s in DEFAULT_SHORTCUTS}
    needed = {"step_forward", "step_back", "step_forward_10", "step_back_10", "play_pause", "loop_1x",
              "loop_half", "loop_quarter", "new_segment", "set_onset", "set_apex", "set_offset", "accept",
              "reject", "next_segment", "previous_segment", "next_unreviewed", "delete", "undo", "redo", "help"}
    assert needed <= actions
    assert {f"emotion_{e}" for e in EMOTIONS} <= actions
    numbers = {s.keys[0]: s.action for s in DEFAULT_SHORTCUTS if s.action.startswith("emotion_")}
    assert numbers == {str(i): f"emotion_{e}" for i, e in enumerate(EMOTIONS, start=1)}
    assert find_clashes(DEFAULT_SHORTCUTS) == {}


def test_settings_file_rebinds(tmp_path):
    path = tmp_path / "shortcuts.json"
    path.write_text(json.dumps({"accept": ["Enter"], "reject": "Backspace"}))
    specs = {s.action: s.keys for s in load_shortcuts(path)}
    assert specs["accept"] == ("Enter",) and specs["reject"] == ("Backspace",)
    assert specs["undo"] == ("Control-Z",)


def test_default_settings_location_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("ANNOTATOR_CONFIG", str(tmp_path))
    settings_path().write_text(json.dumps({"new_segment": "M"}))
    assert {s.action: s.keys for s in load_shortcuts()}["new_segment"] == ("M",)


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"accept": "Space"}', "bound to both"),
        ('{"launch_rockets": "R"}', "unknown action"),
        ('{"accept": [""]}', "non-empty"),
        ("[1, 2]", "expected an object"),
        ("{oops", "not valid JSON"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "shortcuts.json"
    path.write_text(content)
    with pytest.raises(AnnotatorError, match=message) as info:
        load_shortcuts(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_npe2_manifest_validates():
    result = subprocess.run([sys.executable, "-m", "npe2", "validate", "annotator"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
