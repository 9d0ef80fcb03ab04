"""The one module of private napari/vispy reaches: each still exists, and each patch steps
aside, saying so once, when napari moves its target.

If a test here fails after a napari upgrade, fix ``annotator/_qt/_napari_compat.py``
(and only it), then raise the napari cap in ``pyproject.toml``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from annotator._qt import _napari_compat as compat


@pytest.fixture(autouse=True)
def _fresh_warnings():
    compat.reset_warnings()
    yield
    compat.reset_warnings()


def _compat_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, compat.NapariCompatWarning)]


def test_the_napari_cap_matches_the_verified_version():
    from pathlib import Path

    import tomllib

    deps = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["dependencies"]
    (napari_dep,) = [d for d in deps if d.startswith("napari")]
    major, minor, _ = compat.VERIFIED_ON["napari"].split(".")
    assert napari_dep.endswith(f",<{major}.{int(minor) + 1}")


@pytest.mark.gui
@pytest.mark.parametrize("reach", compat.REACHES, ids=[r.name for r in compat.REACHES])
def test_every_private_reach_still_exists(make_napari_viewer, reach):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((4, 8, 8), np.uint8))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        found = reach.probe(viewer)
    assert found is not None, f"napari moved {reach.name}; public replacement: {reach.public_replacement}"
    assert _compat_warnings(record) == []
    assert reach.public_replacement


def test_overlay_patches_step_aside_once_when_their_targets_are_gone(monkeypatch):
    from napari.layers import Layer, Vectors

    monkeypatch.delattr(Layer, "_update_draw")
    first, second = Vectors(np.zeros((1, 2, 2), np.float32)), Vectors(np.zeros((1, 2, 2), np.float32))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert compat.skip_unmoved_update_draw(first) is False
        assert compat.skip_unmoved_update_draw(second) is False
    (message,) = _compat_warnings(record)
    assert "_update_draw" in message and compat.VERIFIED_ON["napari"] in message
    assert "_update_draw" not in vars(first)  # nothing was patched in

    monkeypatch.delattr(Vectors, "_update_thumbnail")
    monkeypatch.delattr(Layer, "_update_thumbnail")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert compat.skip_thumbnail(first) is False
        assert compat.skip_thumbnail(second) is False
    assert len(_compat_warnings(record)) == 1


def test_quiet_updates_still_update_without_the_private_event(monkeypatch):
    from napari.layers import Vectors

    layer = Vectors(np.zeros((1, 2, 2), np.float32))
    heard = []
    layer.events.data.connect(lambda e: heard.append("data"))
    # As if napari renamed the event (deleting it would break napari itself).
    monkeypatch.setattr(compat, "_EXTENT_EVENT", "_extent_renamed")
    new = np.ones((1, 2, 2), np.float32)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(2):
            with compat.quiet_data_events(layer):
                layer.data = new
    np.testing.assert_array_equal(layer.data, new)
    assert heard == []  # the public blockers still apply
    (message,) = _compat_warnings(record)
    assert "_extent_renamed" in message


def test_the_shader_patch_steps_aside_when_vispy_renames_its_hook(monkeypatch):
    from napari._vispy.visuals.vectors import VectorsVisual

    monkeypatch.setattr(VectorsVisual, compat._PATCHED, False, raising=False)
    for klass in VectorsVisual.__mro__:
        if "_build_color_transform" in vars(klass):
            monkeypatch.delattr(klass, "_build_color_transform")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert compat.keep_vectors_shaders() is False
        assert compat.keep_vectors_shaders() is False
    (message,) = _compat_warnings(record)
    assert "_build_color_transform" in message


@pytest.mark.gui
def test_the_layer_list_relay_steps_aside_and_the_list_still_follows(make_napari_viewer, monkeypatch, qtbot):
    from napari._qt.containers.qt_layer_model import QtLayerListModel

    viewer = make_napari_viewer()
    for klass in QtLayerListModel.__mro__:
        if "_process_event" in vars(klass):
            monkeypatch.delattr(klass, "_process_event")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert compat.repaint_changed_rows_only(viewer) is False
        assert compat.repaint_changed_rows_only(viewer) is False
    assert len(_compat_warnings(record)) == 1
    monkeypatch.undo()  # napari's own path must still be connected: the relay never replaced it
    layer = viewer.add_image(np.zeros((8, 8), np.uint8), name="before")
    layer.name = "after"  # napari's own path to the list is untouched
    model = compat.layer_list_view(viewer).model()
    qtbot.waitUntil(lambda: model.index(0, 0).data() == "after", timeout=2000)


@pytest.mark.gui
def test_the_dock_finds_its_window_through_public_qt(make_napari_viewer):
    """``QWidget.window()`` replaced ``viewer.window._qt_window``: a docked widget's window is napari's."""
    from qtpy.QtWidgets import QMainWindow, QWidget

    viewer = make_napari_viewer()
    widget = QWidget()
    dock = viewer.window.add_dock_widget(widget, area="right")
    assert isinstance(dock.window(), QMainWindow)
    assert widget.window() is dock.window()
    assert compat.canvas_widget(viewer).window() is dock.window()
