"""Key bindings as data: one table feeds the bindings, the help dialog and the settings file.

Keys use napari's notation (``"Shift-Right"``, ``"Control-Z"``).  A JSON file
(``$ANNOTATOR_CONFIG/shortcuts.json``, default ``~/.config/annotator/``)
rebinds actions: ``{"accept": ["Enter", "Y"], "reject": "X"}``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import AnnotatorError
from ..io import config_dir as _user_config_dir
from ..labels.model import EMOTIONS


@dataclass(frozen=True)
class ShortcutSpec:
    """One action and the keys that trigger it."""

    keys: tuple[str, ...]
    action: str
    description: str
    group: str


def _emotion_specs() -> tuple[ShortcutSpec, ...]:
    return tuple(
        ShortcutSpec((str(i),), f"emotion_{e}", f"Emotion: {e}", "Label") for i, e in enumerate(EMOTIONS, start=1)
    )


def _intensity_specs() -> tuple[ShortcutSpec, ...]:
    return tuple(
        ShortcutSpec((f"Alt-{x}",), f"au_intensity_{x.lower()}", f"AU interval's FACS intensity {x} ({word})", "AU lanes")
        for x, word in zip("ABCDE", ("trace", "slight", "marked", "severe", "maximum"), strict=True)
    )


DEFAULT_SHORTCUTS: tuple[ShortcutSpec, ...] = (
    ShortcutSpec(("Right",), "step_forward", "Next frame", "Navigate"),
    ShortcutSpec(("Left",), "step_back", "Previous frame", "Navigate"),
    ShortcutSpec(("Shift-Right",), "step_forward_10", "10 frames forward", "Navigate"),
    ShortcutSpec(("Shift-Left",), "step_back_10", "10 frames back", "Navigate"),
    ShortcutSpec(("Space",), "play_pause", "Play / pause", "Navigate"),
    ShortcutSpec(("L",), "loop_1x", "Loop current segment at 1×", "Navigate"),
    ShortcutSpec(("Shift-L",), "loop_half", "Loop current segment at 0.5×", "Navigate"),
    ShortcutSpec(("Alt-L",), "loop_quarter", "Loop current segment at 0.25×", "Navigate"),
    ShortcutSpec(("]",), "next_segment", "Jump to next segment", "Navigate"),
    ShortcutSpec(("[",), "previous_segment", "Jump to previous segment", "Navigate"),
    ShortcutSpec(("U",), "next_unreviewed", "Next unreviewed proposal, most uncertain first (again: skip)",
                 "Navigate"),
    ShortcutSpec(("Shift-U",), "previous_unreviewed", "Previous unreviewed proposal in the same order", "Navigate"),
    ShortcutSpec(("Shift-N",), "next_session", "Open the next session of the project you have not coded",
                 "Navigate"),
    ShortcutSpec(("Escape",), "clear_current", "No current segment: keys act on the one under the cursor",
                 "Navigate"),
    ShortcutSpec(("J",), "next_adjudication", "Next consensus segment that needs a decision", "Compare"),
    ShortcutSpec(("Shift-J",), "previous_adjudication", "Previous consensus segment that needs a decision",
                 "Compare"),
    ShortcutSpec(("N",), "new_segment", "New segment around the cursor (unfinished until 1-7)", "Edit"),
    ShortcutSpec(("I",), "set_onset", "Set onset to current frame", "Edit"),
    ShortcutSpec(("A",), "set_apex", "Set apex to current frame", "Edit"),
    ShortcutSpec(("O",), "set_offset", "Set offset to current frame", "Edit"),
    ShortcutSpec(("T",), "edit_notes", "Type a note for the current segment", "Edit"),
    ShortcutSpec(("Shift-A",), "edit_aus", "Type the current segment's action units (6+12, AU6 AU12 ...)", "Edit"),
    ShortcutSpec(("Enter", "Y"), "accept", "Accept the current proposal", "Review"),
    ShortcutSpec(("X",), "reject", "Reject the current segment", "Review"),
    ShortcutSpec(("Shift-R",), "retrain_now",
                 "Retrain now on your reviews, then re-propose the unreviewed (in the background)", "Review"),
    ShortcutSpec(("Delete",), "delete", "Delete the current segment", "Edit"),
    ShortcutSpec(("Control-Z",), "undo", "Undo", "Edit"),
    ShortcutSpec(("Control-Shift-Z", "Control-Y"), "redo", "Redo", "Edit"),
    ShortcutSpec(("?", "F1"), "help", "Show this table of shortcuts", "Help"),
    ShortcutSpec(("G",), "au_lane", "Choose the AU lane the AU keys edit (type 12, R12, AU4 ...)", "AU lanes"),
    ShortcutSpec(("Shift-G",), "toggle_au_lanes", "Show / hide the AU lanes in the timeline", "AU lanes"),
    ShortcutSpec(("B",), "au_begin", "AU interval begins here (a new one, or the one under the cursor)",
                 "AU lanes"),
    ShortcutSpec(("E",), "au_end", "The current AU interval ends here", "AU lanes"),
    ShortcutSpec(("Shift-Delete",), "au_delete", "Delete the current AU interval", "AU lanes"),
) + _emotion_specs() + _intensity_specs()

ACTIONS: tuple[str, ...] = tuple(s.action for s in DEFAULT_SHORTCUTS)


def config_dir() -> Path:
    """``$ANNOTATOR_CONFIG``, else the user config folder (``~/.config/annotator`` on Linux)."""
    return _user_config_dir()


def settings_path() -> Path:
    return config_dir() / "shortcuts.json"


def find_clashes(specs: tuple[ShortcutSpec, ...]) -> dict[str, list[str]]:
    """``{key: [actions]}`` for every key bound to more than one action."""
    seen: dict[str, list[str]] = {}
    for spec in specs:
        for key in spec.keys:
            seen.setdefault(_normal(key), []).append(spec.action)
    return {k: v for k, v in seen.items() if len(v) > 1}


def _normal(key: str) -> str:
    parts = key.split("-")
    if len(parts) > 1 and parts[-1] == "":  # "Control--" style minus key
        parts = parts[:-2] + ["-"]
    mods = sorted(p.lower() for p in parts[:-1])
    return "-".join(mods + [parts[-1].lower()])


def load_shortcuts(path: str | os.PathLike | None = None) -> tuple[ShortcutSpec, ...]:
    """The default table with the settings file's rebindings applied.

    Unknown actions and keys bound twice are errors naming the file.
    """
    path = Path(path) if path is not None else settings_path()
    specs = DEFAULT_SHORTCUTS
    if path.exists():
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AnnotatorError(path, f"not valid JSON ({exc.__class__.__name__})") from None
        if not isinstance(data, dict):
            raise AnnotatorError(path, 'expected an object such as {"accept": ["Enter"]}')
        by_action = {s.action: s for s in specs}
        for action, keys in data.items():
            if action not in by_action:
                raise AnnotatorError(path, f"unknown action {action!r}")
            keys = (keys,) if isinstance(keys, str) else tuple(keys)
            if not all(isinstance(k, str) and k for k in keys):
                raise AnnotatorError(path, f"{action}: keys must be non-empty strings")
            by_action[action] = replace(by_action[action], keys=keys)
        specs = tuple(by_action[s.action] for s in specs)
    clashes = find_clashes(specs)
    if clashes:
        key, actions = next(iter(clashes.items()))
        raise AnnotatorError(path, f"key {key!r} is bound to both {actions[0]} and {actions[1]}")
    return specs
