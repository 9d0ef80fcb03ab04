"""Every reach into private napari or vispy code, in one place.

Verified on napari 0.9.2 and vispy 0.17.0 (``pyproject.toml`` caps napari
below 0.10 until the next minor release is checked against this module).

Each reach is a debt: napari offers no public way to do what it does.  The
table :data:`REACHES` names each one, what it is for, and which public API
would replace it; ``tests/test_napari_compat.py`` fails as soon as napari or
vispy moves one.  Tests reach napari's privates through here too, so a move
is fixed in one module.

Every patch only saves time or restores focus.  When its target is gone it
steps aside (the workbench works, a little slower) and says so once per
process, as a :class:`NapariCompatWarning`.

Shaders
-------
vispy's ``MeshVisual._update_data`` assigns a *new* pass-through colour
Function to the vertex shader on every ``set_data`` (vispy issue #2568, open
in vispy 0.17).  A new Function is a new program, so each napari Vectors layer
recompiled and relinked its shader whenever its data changed: with Mesa's
software GL about 25 ms of each frame step.  :func:`keep_vectors_shaders`
keeps one pass-through Function per visual and hands it back; vispy sees the
same object and leaves the program alone.  Colour-mapped meshes (one value per
vertex) are untouched.

The layer list
--------------
napari turns every event of a layer into a ``dataChanged`` of the layer
list's model, and Qt's list view answers *any* ``dataChanged`` by laying out
and repainting every row.  A frame step sends three (the video layer's
``set_data``, ``_extent_augmented`` and ``thumbnail``), and napari's row
delegate takes about 1 ms to paint a row.  :func:`repaint_changed_rows_only`
routes those three around the model: a new thumbnail repaints its own row,
the other two (nothing a row shows) nothing.  Every other event takes
napari's path as before.

Overlay layers
--------------
The workbench's overlays get one frame's data per step.  Their thumbnails are
worth nothing (:func:`skip_thumbnail`), napari's per-draw ``_update_draw``
only matters when the camera moves (:func:`skip_unmoved_update_draw`), and the
layer list's cached extent need not be dropped when they change
(:func:`quiet_data_events`).
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The versions every reach below was checked against.
VERIFIED_ON = {"napari": "0.9.2", "vispy": "0.17.0"}


class NapariCompatWarning(UserWarning):
    """A workaround stepped aside because the napari or vispy internal it needs is gone."""


_warned: set[str] = set()


def _step_aside(what: str, why: str) -> bool:
    """Warn once per process that the workaround ``what`` is skipped; always ``False``."""
    if what not in _warned:
        _warned.add(what)
        warnings.warn(
            f"annotator: {what} skipped ({why}); verified on napari {VERIFIED_ON['napari']}, "
            "so the workbench works but may be slower",
            NapariCompatWarning,
            stacklevel=3,
        )
    return False


# -- the viewer's Qt side -------------------------------------------------------------------------
def unwrap_viewer(viewer):
    """The viewer behind napari's ``PublicOnlyProxy`` (plugin widgets are handed the proxy).

    The dock needs the real viewer only for the private reaches below; the
    proxy refuses ``_`` attributes.  Public replacement: none until napari
    exposes the canvas and the layer list view.
    """
    return getattr(viewer, "__wrapped__", viewer)


def _qt_viewer(viewer):
    return getattr(getattr(unwrap_viewer(viewer), "window", None), "_qt_viewer", None)


def canvas_widget(viewer):
    """The Qt widget of napari's canvas (which handles the keys), or ``None`` (said once)."""
    native = getattr(getattr(_qt_viewer(viewer), "canvas", None), "native", None)
    if native is None:
        _step_aside("giving the canvas the keyboard focus", "window._qt_viewer.canvas.native is gone")
    return native


def scene_canvas(viewer):
    """vispy's ``SceneCanvas`` behind napari's canvas (benchmarks time its draw event)."""
    return _qt_viewer(viewer).canvas._scene_canvas


def layer_list_view(viewer):
    """The Qt view of the layer list, or ``None`` without a Qt window."""
    return getattr(_qt_viewer(viewer), "layers", None)


def layer_controls_dock(viewer):
    """The dock of the layer controls (the screenshot hides it)."""
    return _qt_viewer(viewer).dockLayerControls


def press_key(viewer, key: str) -> None:
    """A key press as napari's canvas delivers it, through the active keymap chain (tests)."""
    _qt_viewer(viewer)._key_map_handler.press_key(key)


def layer_row_delegate() -> type:
    """napari's delegate that paints a layer-list row (tests count the rows it paints)."""
    from napari._qt.containers._layer_delegate import LayerDelegate

    return LayerDelegate


#: vispy's method that compiles and links a shader program (tests count its calls).
SHADER_BUILD = ("vispy.visuals.shaders.program", "ModularProgram", "_build")
#: What napari's ``_update_draw`` calls on a layer when the camera moved (tests count its calls).
LEVEL_AND_CORNERS = ("napari.layers", "Vectors", "_update_level_and_corners")


def resolve(target: tuple[str, str, str]) -> tuple[type, str]:
    """``(class, attribute name)`` of a ``(module, class, attribute)`` target, for monkeypatching."""
    import importlib

    module, cls, attr = target
    return getattr(importlib.import_module(module), cls), attr


# -- patches ----------------------------------------------------------------------------------------
_PATCHED = "_annotator_stable_color_transform"
_RELAY = "_annotator_row_relay"
#: The private layer event that drops the layer list's cached extent.
_EXTENT_EVENT = "_extent_augmented"
#: Layer events a frame step sends, and the only one of them a layer-list row shows.
_STEP_EVENTS = frozenset({"thumbnail", "set_data", _EXTENT_EVENT})


def keep_vectors_shaders() -> bool:
    """Patch napari's Vectors visual once per process; ``True`` when the patch is in place."""
    what = "keeping the Vectors shaders (vispy#2568)"
    try:
        from napari._vispy.visuals.vectors import VectorsVisual
    except ImportError:
        return _step_aside(what, "napari._vispy.visuals.vectors.VectorsVisual is gone")
    if getattr(VectorsVisual, _PATCHED, False):
        return True
    original = getattr(VectorsVisual, "_build_color_transform", None)
    if original is None:
        return _step_aside(what, "VectorsVisual._build_color_transform is gone")

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
    view = layer_list_view(viewer)
    if view is None:
        return False
    proxy = view.model()
    model = getattr(proxy, "sourceModel", lambda: None)()
    process = getattr(model, "_process_event", None)
    if process is None:
        return _step_aside("repainting only the changed layer-list rows", "QtLayerListModel._process_event is gone")
    if getattr(model, _RELAY, None) is not None:
        return True

    def relay(event) -> None:
        kind, row = getattr(event, "type", None), getattr(event, "index", None)
        if kind not in _STEP_EVENTS or not isinstance(row, int):
            process(event)
        elif kind == "thumbnail":
            # A deleted view raises RuntimeError, on which napari disconnects this relay.
            view.update(proxy.mapFromSource(model.index(row)))

    unwrap_viewer(viewer).layers.events.disconnect(process)
    unwrap_viewer(viewer).layers.events.connect(relay)
    setattr(model, _RELAY, relay)
    return True


def prepare_overlay_layer(layer) -> None:
    """Both overlay speed-ups on ``layer`` (for :class:`~annotator.napari.overlays.FrameOverlays`)."""
    skip_thumbnail(layer)
    skip_unmoved_update_draw(layer)


def skip_thumbnail(layer) -> bool:
    """Stop ``layer`` drawing its thumbnail (one frame's lines, vector by vector, a third of a step)."""
    if not callable(getattr(layer, "_update_thumbnail", None)):
        return _step_aside("skipping overlay thumbnails", "Layer._update_thumbnail is gone")
    layer._update_thumbnail = _no_thumbnail
    return True


def skip_unmoved_update_draw(layer) -> bool:
    """Let ``layer`` skip napari's per-draw ``_update_draw`` while the camera stands still.

    napari calls it on every layer at every draw to note the zoom and the view's
    corners (for multiscale images).  For Points and Vectors it only records
    them, yet each call rebuilds transforms and the layer's extent, which every
    new frame of data has dropped: 0.6-0.9 ms a step for the two overlays.  The
    call goes through whenever the zoom, the view or the canvas changes.
    """
    original = getattr(layer, "_update_draw", None)
    if not callable(original):
        return _step_aside("skipping redundant overlay draw updates", "Layer._update_draw is gone")
    last: dict[str, Any] = {}

    def update_draw(*args, **kwargs):
        values = (*args, *kwargs.values())
        key = (tuple(kwargs), *(v.tobytes() if isinstance(v, np.ndarray) else v for v in values))
        if last.get("key") != key:
            last["key"] = key
            original(*args, **kwargs)

    layer._update_draw = update_draw
    return True


@contextlib.contextmanager
def quiet_data_events(layer) -> Iterator[None]:
    """Block what the viewer does when ``layer``'s data changes, but not the redraw.

    ``events.data`` makes the viewer recompute every layer's extent and the
    dims; ``events._extent_augmented`` drops the layer list's cached extent;
    ``events`` itself relays every event to the layer list, which repaints the
    row.  The visual still hears ``set_data``.
    """
    augmented = getattr(layer.events, _EXTENT_EVENT, None)
    if augmented is None:
        _step_aside("keeping the layer list's cached extent", f"Layer.events.{_EXTENT_EVENT} is gone")
    with contextlib.ExitStack() as stack:
        for emitter in (layer.events.data, augmented, layer.events):
            if emitter is not None:
                stack.enter_context(emitter.blocker())
        yield


def _no_thumbnail(*args, **kwargs) -> None:
    return None


# -- the table of reaches ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Reach:
    """One private napari/vispy name we depend on, how to find it, and what would replace it."""

    name: str
    probe: Callable[[Any], Any]
    public_replacement: str


def _has(obj, attr: str):
    return obj if hasattr(obj, attr) else None


def _vectors_visual(_viewer):
    from napari._vispy.visuals.vectors import VectorsVisual

    return _has(VectorsVisual, "_build_color_transform")


def _layer_model(viewer):
    return _has(layer_list_view(viewer).model().sourceModel(), "_process_event")


def _a_layer_with(path: str) -> Callable[[Any], Any]:
    """A probe: add a throwaway Vectors layer and look up the dotted ``path`` on it."""

    def probe(viewer):
        layers = unwrap_viewer(viewer).layers
        layer = unwrap_viewer(viewer).add_vectors(np.zeros((1, 2, 2), np.float32), name="compat probe")
        try:
            obj = layer
            for part in path.split("."):
                obj = getattr(obj, part, None)
            return obj
        finally:
            layers.remove(layer)

    return probe


#: Every private reach, with the public API that would make it unnecessary.
REACHES: tuple[Reach, ...] = (
    Reach("window._qt_viewer.canvas.native", lambda v: canvas_widget(v),
          "a public canvas widget on napari.Viewer.window (napari offers none in 0.9)"),
    Reach("window._qt_viewer.canvas._scene_canvas", lambda v: scene_canvas(v),
          "a public draw-finished event on the canvas"),
    Reach("window._qt_viewer.layers", lambda v: layer_list_view(v),
          "a public layer-list view, or napari coalescing per-layer dataChanged signals"),
    Reach("window._qt_viewer.dockLayerControls", lambda v: layer_controls_dock(v),
          "Window.remove_dock_widget for napari's own docks"),
    Reach("window._qt_viewer._key_map_handler.press_key",
          lambda v: _has(_qt_viewer(v)._key_map_handler, "press_key"),
          "QTest.keyClick on the canvas widget (what tests do where they can)"),
    Reach("QtLayerListModel._process_event", _layer_model,
          "napari emitting dataChanged only for the roles an event changes"),
    Reach("napari._vispy.visuals.vectors.VectorsVisual._build_color_transform", _vectors_visual,
          "the fix for vispy#2568 (reuse the colour Function in MeshVisual._update_data)"),
    Reach("napari._qt.containers._layer_delegate.LayerDelegate", lambda v: layer_row_delegate(),
          "none needed outside tests"),
    Reach("Layer._update_thumbnail", _a_layer_with("_update_thumbnail"),
          "a per-layer switch to turn thumbnails off"),
    Reach("Layer._update_draw", _a_layer_with("_update_draw"),
          "napari skipping _update_draw when the camera did not move"),
    Reach("Layer.events._extent_augmented", _a_layer_with("events._extent_augmented"),
          "a public way to update a layer's data without the extent bookkeeping"),
    Reach("vispy ModularProgram._build", lambda v: _has(*resolve(SHADER_BUILD)),
          "none needed outside tests"),
    Reach("Vectors._update_level_and_corners", lambda v: _has(*resolve(LEVEL_AND_CORNERS)),
          "none needed outside tests"),
)


def reset_warnings() -> None:
    """Forget which workarounds have said they stepped aside (tests)."""
    _warned.clear()
