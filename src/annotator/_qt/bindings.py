"""Key bindings: the action table, and binding the shortcut specs on napari's keymaps.

The specs (which keys) come from :mod:`annotator.napari.keybindings`; this
module says what each action does in the workbench (:func:`action_handlers`)
and binds the keys on the viewer and the workbench's layers, remembering what
each key did before so closing the workbench gives napari its keys back.

To add an action: a :class:`~annotator.napari.keybindings.ShortcutSpec` in the
table there, and its handler in :func:`action_handlers`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..labels.model import EMOTIONS


def action_handlers(dock) -> dict[str, Callable[[], None]]:
    """What each shortcut action does, on ``dock``'s controllers."""
    play, seg, lanes = dock.playback, dock.segments, dock.au_lanes

    def edit_frame(which: str) -> Callable[[], None]:
        return lambda: seg.edit(lambda sid: dock.editor.set_frame(sid, which, play.frame))

    h: dict[str, Callable[[], None]] = {
        "step_forward": lambda: play.step(1),
        "step_back": lambda: play.step(-1),
        "step_forward_10": lambda: play.step(10),
        "step_back_10": lambda: play.step(-10),
        "play_pause": play.play_pause,
        "loop_1x": lambda: play.loop(1.0),
        "loop_half": lambda: play.loop(0.5),
        "loop_quarter": lambda: play.loop(0.25),
        "next_segment": lambda: seg.goto(dock.editor.next_segment(play.frame, 1)),
        "previous_segment": lambda: seg.goto(dock.editor.next_segment(play.frame, -1)),
        "next_unreviewed": lambda: seg.next_unreviewed(1),
        "previous_unreviewed": lambda: seg.next_unreviewed(-1),
        "clear_current": seg.clear_current,
        "next_adjudication": lambda: dock.agreement.step(1),
        "previous_adjudication": lambda: dock.agreement.step(-1),
        "new_segment": seg.new_segment,
        "set_onset": edit_frame("onset"),
        "set_apex": edit_frame("apex"),
        "set_offset": edit_frame("offset"),
        "accept": lambda: seg.edit(dock.editor.accept),
        "reject": lambda: seg.edit(dock.editor.reject),
        "delete": seg.delete,
        "edit_notes": seg.edit_notes,
        "edit_aus": seg.edit_aus,
        "undo": seg.undo,
        "redo": lambda: seg.undo(redo=True),
        "help": dock.show_help,
        "retrain_now": dock.retrain_now,
        "next_session": lambda: dock.project_panel.open_next(),  # the panel is made after the bindings
        "au_lane": lanes.choose_lane,
        "toggle_au_lanes": lanes.toggle,
        "au_begin": lanes.begin,
        "au_end": lanes.end,
        "au_delete": lanes.delete,
    }
    for letter in "ABCDE":
        h[f"au_intensity_{letter.lower()}"] = lambda x=letter: lanes.set_intensity(x)
    for number, emotion in enumerate(EMOTIONS, start=1):
        h[f"emotion_{emotion}"] = lambda n=number: seg.edit(lambda sid: dock.editor.set_emotion_by_number(sid, n))
    return h


class KeyBindings:
    """Binds ``shortcuts`` on keymap providers (the viewer, layers), each key calling ``trigger(action)``.

    Parameters
    ----------
    shortcuts : tuple of ShortcutSpec
    trigger : callable
        Called with the action's name when one of its keys is pressed.
    """

    def __init__(self, shortcuts, trigger: Callable[[str], None]):
        self.shortcuts = shortcuts
        self._trigger = trigger
        #: ``(provider, key, previous binding)`` for each key bound, newest last.
        self.bound: list[tuple[object, str, object]] = []

    def bind(self, providers) -> None:
        """Bind every shortcut on each of ``providers``; what was there before is remembered."""
        self.unbind()
        for spec in self.shortcuts:
            handler = self._handler(spec.action)
            for key in with_shifted_aliases(spec.keys):
                for provider in providers:
                    previous = provider.keymap.get(_coerce(key))
                    provider.bind_key(key, handler, overwrite=True)
                    self.bound.append((provider, key, previous))

    def unbind(self) -> None:
        """Give every key bound here back what it did before."""
        unbind_all(self.bound)

    def _handler(self, action: str):
        # napari calls keymap functions with the provider (viewer or layer) as their first argument.
        def handler(_provider):
            self._trigger(action)

        handler.__name__ = f"annotator_{action}"
        handler.__doc__ = action
        return handler


#: What Qt reports for Shift plus a punctuation key on a US layout: napari sees
#: "?" for Shift-/, so a table entry "Shift-/" alone would never fire.
_SHIFTED = dict(zip("/,.;'[]-=`\\", '?<>:"{}_+~|', strict=True))


def with_shifted_aliases(keys) -> list[str]:
    """``keys`` plus the character Qt reports for each Shift-punctuation key among them."""
    out = list(keys)
    for key in keys:
        if key.startswith("Shift-") and key[6:] in _SHIFTED and _SHIFTED[key[6:]] not in out:
            out.append(_SHIFTED[key[6:]])
    return out


def _coerce(key: str):
    from napari.utils.key_bindings import coerce_keybinding

    return coerce_keybinding(key)


def unbind_all(bound: list) -> None:
    """Restore each ``(provider, key, previous)`` in ``bound``, newest first, emptying it."""
    while bound:
        provider, key, previous = bound.pop()
        try:
            provider.bind_key(key, previous, overwrite=True)
            if previous is None:
                provider.keymap.pop(_coerce(key), None)
        except Exception:  # noqa: BLE001 - the provider may already be gone at exit
            pass
