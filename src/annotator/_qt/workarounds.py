"""Two workarounds that keep a frame step cheap: both are about what napari and
vispy redo on every step that the workbench does not need redone.

If napari or vispy change the internals a workaround touches, it is skipped:
each one only saves time.

Shaders
-------
``vispy.visuals.MeshVisual._update_data`` assigns a *new* pass-through colour
Function to the vertex shader on every ``set_data`` (vispy issue #2568, open in
vispy 0.17).  A new Function is a new program, so each napari Vectors layer
recompiled and relinked its shader whenever its data changed.  The workbench
feeds its face-contour and skeleton layers one frame's lines per step, so with
Mesa's software GL a step cost about 75 ms of the event loop instead of the
bare viewer's 50 ms.

The fix keeps one pass-through Function per visual and hands it back; vispy
sees the same object and leaves the program alone.  Colour-mapped meshes
(one value per vertex) are untouched.

The layer list
--------------
napari turns every event of a layer into a ``dataChanged`` of the layer
list's model, and Qt's list view answers *any* ``dataChanged`` by laying out
and repainting every row.  A frame step sends three (the video layer's
``set_data``, ``_extent_augmented`` and ``thumbnail``), and napari's row
delegate takes about 1 ms to paint a row (thumbnail, type icon, checkbox).
The bare viewer repaints its one row; the workbench repainted four, 3 ms of
every step for rows that had not changed.  :func:`repaint_changed_rows_only`
routes those three events around the model: a new thumbnail repaints its own
row, the other two (nothing a row shows) nothing.  Every other event takes
napari's path as before.
"""

from __future__ import annotations

import weakref

_PATCHED = "_annotator_stable_color_transform"
_RELAY = "_annotator_row_relay"
#: Layer events a frame step sends, and the only one of them a layer-list row shows.
_STEP_EVENTS = frozenset({"thumbnail", "set_data", "_extent_augmented"})


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


def repaint_changed_rows_only(viewer) -> bool:
    """Stop ``viewer``'s layer list repainting every row on every frame step.

    Idempotent; ``True`` when the relay is in place (``False`` without a Qt window).
    """
    view = getattr(getattr(viewer.window, "_qt_viewer", None), "layers", None)
    proxy = view.model() if view is not None else None
    model = getattr(proxy, "sourceModel", lambda: None)()
    process = getattr(model, "_process_event", None)
    if process is None:  # pragma: no cover - napari moved it
        return False
    if getattr(model, _RELAY, None) is not None:
        return True

    def relay(event) -> None:
        kind, row = getattr(event, "type", None), getattr(event, "index", None)
        if kind not in _STEP_EVENTS or not isinstance(row, int):
            process(event)
        elif kind == "thumbnail":
            # A deleted view raises RuntimeError, on which napari disconnects this relay.
            view.update(proxy.mapFromSource(model.index(row)))

    viewer.layers.events.disconnect(process)
    viewer.layers.events.connect(relay)
    setattr(model, _RELAY, relay)
    return True
