"""A workaround for a vispy bug that made every frame step recompile two shaders.

``vispy.visuals.MeshVisual._update_data`` assigns a *new* pass-through colour
Function to the vertex shader on every ``set_data`` (vispy issue #2568, open in
vispy 0.17).  A new Function is a new program, so each napari Vectors layer
recompiled and relinked its shader whenever its data changed.  The workbench
feeds its face-contour and skeleton layers one frame's lines per step, so with
Mesa's software GL a step cost about 75 ms of the event loop instead of the
bare viewer's 50 ms.

The fix keeps one pass-through Function per visual and hands it back; vispy
sees the same object and leaves the program alone.  Colour-mapped meshes
(one value per vertex) are untouched.  If napari or vispy change their
internals the patch is skipped: it only saves time.
"""

from __future__ import annotations

import weakref

_PATCHED = "_annotator_stable_color_transform"


def keep_vectors_shaders() -> bool:
    """Patch napari's Vectors visual once per process; ``True`` when the patch is in place."""
    try:
        from napari._vispy.visuals.vectors import VectorsVisual
    except ImportError:  # pragma: no cover - napari moved it
        return False
    if getattr(VectorsVisual, _PATCHED, False):
        return True
    original = getattr(VectorsVisual, "_build_color_transform", None)
    if original is None:  # pragma: no cover - vispy changed
        return False

    # Visuals are frozen (no new attributes), so the Functions live beside them.
    kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def build_color_transform(self, colors):
        if colors.ndim == 2 and colors.shape[1] == 1:  # colour-mapped values: vispy's own path
            return original(self, colors)
        fun = kept.get(self)
        if fun is None:
            fun = kept[self] = original(self, colors)
        return fun

    VectorsVisual._build_color_transform = build_color_transform
    setattr(VectorsVisual, _PATCHED, True)
    return True
