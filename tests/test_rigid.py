"""Whole-face rigid motion (annotator.features.rigid): a moved face is motion, an expression is deformation."""

from __future__ import annotations

import numpy as np

from annotator.features.rigid import POINTS, rigid_motion
from annotator.spotting.spotter import Spotter


def _mesh(rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([rng.uniform(40, 140, size=(478, 2)), np.zeros((478, 1))], axis=1)


def _similarity(mesh: np.ndarray, angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    c = mesh[:, :2].mean(axis=0)
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    out = mesh.copy()
    out[:, :2] = (mesh[:, :2] - c) @ rot.T * scale + c + np.asarray(shift)
    return out


def test_a_face_moved_as_a_whole_is_motion_without_deformation():
    rng = np.random.default_rng(0)
    mesh = _mesh(rng)
    T = 300
    frames = np.repeat(mesh[None], T, axis=0)
    for t in range(120, 150):  # roll 5 degrees, zoom 6 %, drift 8 px: a still photo moved
        frames[t] = _similarity(mesh, 5.0, 1.06, (8.0, -3.0))
    motion, deformation = rigid_motion(frames, np.ones(T, bool), fps=30.0)
    assert motion[130] > 0.05 and motion[50] < 1e-6
    assert deformation[130] < 1e-4
    features = type("F", (), {"rigid": np.stack([motion, deformation], 1), "present": np.ones(T, bool)})()
    rigid = Spotter().rigid(features)
    assert rigid[125:145].all() and not rigid[:100].any()


def test_an_expression_is_deformation_even_while_the_head_moves():
    rng = np.random.default_rng(1)
    mesh = _mesh(rng)
    T = 300
    frames = np.repeat(mesh[None], T, axis=0)
    brows = list(POINTS[8:14])
    for t in range(120, 150):
        moved = mesh.copy()
        moved[brows, 1] -= 12.0  # the brows go up
        frames[t] = _similarity(moved, 3.0, 1.02, (4.0, 0.0))
    motion, deformation = rigid_motion(frames, np.ones(T, bool), fps=30.0)
    assert deformation[130] > 0.02 and motion[130] > 0.02
    features = type("F", (), {"rigid": np.stack([motion, deformation], 1), "present": np.ones(T, bool)})()
    assert not Spotter().rigid(features)[120:150].any()


def test_frames_without_a_face_are_nan():
    rng = np.random.default_rng(2)
    frames = np.repeat(_mesh(rng)[None], 60, axis=0)
    present = np.ones(60, bool)
    present[10:20] = False
    frames[10:20] = np.nan
    motion, deformation = rigid_motion(frames, present, fps=30.0)
    assert np.isnan(motion[10:20]).all() and np.isnan(deformation[10:20]).all()
    assert np.isfinite(motion[present]).all()
