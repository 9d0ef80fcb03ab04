"""napari's reader preferences for our files, set only when the user asks.

npe2 has no reader priority: when two readers accept a path (napari's
builtins take every folder and ``*.mp4``), napari asks which one to use, in
a dialog with "Remember this choice", and ``viewer.open`` without
``plugin=`` raises ``MultipleReaderError``.  The user's answer lives in
napari's settings, ``plugins.extension2reader``, a mapping from a filename
pattern to a plugin.  :func:`prefer_annotator` writes the same entries the
dialog would, for sessions and video files, when the user runs
``annotator setup --napari-readers``; :func:`forget_annotator` takes them
back.  Entries the user made for other plugins are left alone.
"""

from __future__ import annotations

from ..session import VIDEO_SUFFIXES

PLUGIN = "annotator"

#: A session is a folder; napari matches folders as ``path + os.sep``.
SESSION_PATTERN = "*.annot/"


def reader_patterns() -> list[str]:
    """The patterns annotator asks to read: sessions and video files (not photos)."""
    return [SESSION_PATTERN] + [f"*{suffix}" for suffix in VIDEO_SUFFIXES]


def prefer_annotator(*, replace: bool = False) -> dict[str, str]:
    """Make annotator napari's reader for sessions and videos; returns what changed.

    A pattern the user already gave another plugin is kept unless ``replace``.
    napari saves its settings file on change.
    """
    from napari.settings import get_settings

    prefs = get_settings().plugins
    mapping = dict(prefs.extension2reader)
    changed = {}
    for pattern in reader_patterns():
        if mapping.get(pattern) == PLUGIN or (pattern in mapping and not replace):
            continue
        mapping[pattern] = changed[pattern] = PLUGIN
    if changed:
        prefs.extension2reader = mapping
    return changed


def forget_annotator() -> list[str]:
    """Remove annotator's reader preferences (whoever set them); returns the patterns removed."""
    from napari.settings import get_settings

    prefs = get_settings().plugins
    mapping = dict(prefs.extension2reader)
    gone = [p for p, plugin in mapping.items() if plugin == PLUGIN]
    if gone:
        prefs.extension2reader = {p: v for p, v in mapping.items() if v != PLUGIN}
    return gone


def current_preferences() -> dict[str, str]:
    """napari's reader preferences for annotator's patterns (pattern → plugin, where set)."""
    from napari.settings import get_settings

    mapping = get_settings().plugins.extension2reader
    return {p: mapping[p] for p in reader_patterns() if p in mapping}
