"""Layer adapters for the workbench: the current frame's face mesh, contours and pose.

Qt-free (napari only).  Only one frame's points ever live in these layers;
the full tracks stay in memory as numpy arrays, and :meth:`FrameOverlays.update`
swaps the layers' data when napari's slider moves.

The face contours and the body skeleton are one Vectors layer (one segment per
connection, coloured by part).  A Vectors layer takes new data in well under a
millisecond, where a Shapes layer of paths re-triangulates every shape; and
every napari layer costs each frame step its own update and draw, about 2 ms
under software GL, so the lines share one.  The dock's check boxes show or
hide either part (:meth:`FrameOverlays.show_parts`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import napari

#: Face-mesh connections of the regions a coder reads expressions from
#: (MediaPipe's FACEMESH_* sets, copied so mediapipe is not imported for drawing).
FACE_CONTOURS: dict[str, tuple[tuple[int, int], ...]] = {
    "lips": ((0, 267), (13, 312), (14, 317), (17, 314), (37, 0), (39, 37), (40, 39), (61, 146), (61, 185), (78, 95), (78, 191), (80, 81), (81, 82), (82, 13), (84, 17), (87, 14), (88, 178), (91, 181), (95, 88), (146, 91), (178, 87), (181, 84), (185, 40), (191, 80), (267, 269), (269, 270), (270, 409), (310, 415), (311, 310), (312, 311), (314, 405), (317, 402), (318, 324), (321, 375), (324, 308), (375, 291), (402, 318), (405, 321), (409, 291), (415, 308)),
    "left_eye": ((249, 390), (263, 249), (263, 466), (373, 374), (374, 380), (380, 381), (381, 382), (382, 362), (384, 398), (385, 384), (386, 385), (387, 386), (388, 387), (390, 373), (398, 362), (466, 388)),
    "right_eye": ((7, 163), (33, 7), (33, 246), (144, 145), (145, 153), (153, 154), (154, 155), (155, 133), (157, 173), (158, 157), (159, 158), (160, 159), (161, 160), (163, 144), (173, 133), (246, 161)),
    "left_brow": ((276, 283), (282, 295), (283, 282), (293, 334), (295, 285), (296, 336), (300, 293), (334, 296)),
    "right_brow": ((46, 53), (52, 65), (53, 52), (63, 105), (65, 55), (66, 107), (70, 63), (105, 66)),
    "nose": ((1, 19), (2, 326), (4, 1), (4, 45), (5, 4), (6, 197), (19, 94), (45, 220), (48, 64), (64, 98), (94, 2), (97, 2), (98, 97), (115, 48), (168, 6), (195, 5), (197, 195), (220, 115), (275, 4), (278, 344), (294, 278), (326, 327), (327, 294), (344, 440), (440, 275)),
}

#: MediaPipe's POSE_CONNECTIONS (33-landmark BlazePose body).
POSE_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 4), (1, 2), (2, 3), (3, 7), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13),
    (11, 23), (12, 14), (12, 24), (13, 15), (14, 16), (15, 17), (15, 19), (15, 21), (16, 18),
    (16, 20), (16, 22), (17, 19), (18, 20), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (27, 31), (28, 30), (28, 32), (29, 31), (30, 32),
)

#: One colour per emotion (RGB hex), shared by the timeline and the table.
EMOTION_COLORS: dict[str, str] = {
    "joy": "#f2c14e",
    "surprise": "#5bc0eb",
    "sadness": "#4d6cfa",
    "anger": "#e4572e",
    "fear": "#9b5de5",
    "contempt": "#8d6e63",
    "disgust": "#6ab04c",
    "neutral": "#bdbdbd",
    "other": "#9e9e9e",
}

CONTOUR_COLORS: dict[str, str] = {
    "lips": "#ff6b6b",
    "left_eye": "#4dd0e1",
    "right_eye": "#4dd0e1",
    "left_brow": "#ffd54f",
    "right_brow": "#ffd54f",
    "nose": "#aed581",
}
SKELETON_COLOR = "#80cbc4"

#: BlazePose's landmarks 0-10 are the face (nose, eyes, ears, mouth).
BLAZEPOSE_FACE_POINTS = 11

LAYER_NAMES = {"points": "face landmarks", "lines": "face contours & body pose"}


def _edges(connections) -> np.ndarray:
    return np.asarray(connections, dtype=np.intp).reshape(-1, 2)


def points_yx(landmarks: np.ndarray | None) -> np.ndarray:
    """One frame's landmarks as napari ``(row, col)`` points, absent ones dropped, ``[K, 2]``."""
    if landmarks is None:
        return np.zeros((0, 2), dtype=np.float32)
    xy = np.asarray(landmarks, dtype=np.float32)[:, :2]
    ok = np.isfinite(xy).all(axis=1)
    return xy[ok][:, ::-1].copy()


def connection_vectors(landmarks: np.ndarray | None, edges: np.ndarray, visible: np.ndarray | None = None) -> np.ndarray:
    """Napari vectors ``[E, 2, 2]`` (start ``(row, col)``, displacement), one per edge.

    An edge that cannot be drawn (an end absent, i.e. NaN, or not ``visible``)
    is a zero-length vector at the origin, which napari draws as nothing.  So
    the number of vectors, and with it their colours, is the same on every
    frame: new colours would cost a step a second update of the layer.
    """
    vectors = np.zeros((len(edges), 2, 2), dtype=np.float32)
    if landmarks is None or len(edges) == 0:
        return vectors
    yx = np.asarray(landmarks, dtype=np.float32)[:, 1::-1]
    a, b = yx[edges[:, 0]], yx[edges[:, 1]]
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if visible is not None:
        ok &= visible[edges[:, 0]] & visible[edges[:, 1]]
    vectors[ok, 0] = a[ok]
    vectors[ok, 1] = b[ok] - a[ok]
    return vectors


class FrameOverlays:
    """The current frame's face points, and its face contours and body skeleton, as napari layers.

    Parameters
    ----------
    tracks : Tracks
        Loaded tracks (``face_landmarks`` [T, 478, 3], ``pose_landmarks`` [T, 33, 4] or None).
    min_visibility : float
        Pose landmarks below this visibility are not drawn.
    prepare_layer : callable, optional
        Called with each new layer.  The workbench passes its speed-ups, which
        reach into napari's privates and so live in ``annotator._qt._napari_compat``.
    quiet_update : callable, optional
        ``quiet_update(layer)`` is a context manager around each data update that
        blocks the viewer's reactions to it.  Default: the public emitters only.
    """

    def __init__(self, tracks, *, min_visibility: float = 0.5,
                 prepare_layer: Callable[[Any], object] | None = None,
                 quiet_update: Callable[[Any], AbstractContextManager] | None = None):
        self.tracks = tracks
        self.min_visibility = float(min_visibility)
        self._prepare_layer = prepare_layer
        self._quiet_update = quiet_update or _public_quiet_update
        # Whole arrays are loaded once: a per-frame zarr read would cost more than the drawing.
        # A store imported from OpenFace or Py-Feat has no mesh: its 68 points are shown
        # instead, without contours (those follow the 478-point mesh's numbering).
        self._imported = getattr(tracks, "face68_landmarks", None) is not None
        self._face = tracks.face68_landmarks if self._imported else tracks.face_landmarks
        self._face_present = tracks.face_present
        self._pose = tracks.pose_landmarks
        self._pose_present = tracks.pose_present
        attrs = getattr(tracks, "attrs", {}) or {}
        self._size = (float(attrs["width"]), float(attrs["height"])) if "width" in attrs and "height" in attrs else None
        names, edges = [], []
        for name, conns in FACE_CONTOURS.items():
            names += [name] * len(conns)
            edges.append(_edges(conns))
        self._contour_edges = np.concatenate(edges)
        self._pose_edges = _edges(POSE_CONNECTIONS) if self._pose is not None else np.zeros((0, 2), dtype=np.intp)
        n_contours = len(self._contour_edges)
        #: Where each part's vectors lie in the lines layer's data.
        self.parts = {"contours": slice(0, n_contours),
                      "skeleton": slice(n_contours, n_contours + len(self._pose_edges))}
        self._line_colors = np.array(
            [_rgba(CONTOUR_COLORS[n]) for n in names] + [_rgba(SKELETON_COLOR)] * len(self._pose_edges),
            dtype=np.float32,
        )
        #: Which parts the lines layer draws (the dock's check boxes).
        self.shown = {"contours": True, "skeleton": self.has_skeleton}
        self.points: Any = None
        self.lines: Any = None
        self.frame: int | None = None

    @property
    def layers(self) -> list:
        return [layer for layer in (self.points, self.lines) if layer is not None]

    @property
    def has_skeleton(self) -> bool:
        """Whether the session tracked the body at all."""
        return self._pose is not None

    def add_to(self, viewer: "napari.Viewer", frame: int = 0) -> list:
        """Add the two layers to ``viewer`` (drawn at ``frame``) and return them."""
        frame = self._clip(frame)
        size = max(1.5, 0.004 * _diag(self._face))
        self.points = viewer.add_points(
            np.zeros((0, 2), dtype=np.float32), name=LAYER_NAMES["points"], size=size,
            face_color="#e0f7fa", border_width=0, opacity=0.55, visible=False,
        )
        # Created with a frame's lines, so the colours (one per connection) fit from the start.
        self.lines = viewer.add_vectors(
            self.frame_data(frame)["lines"], name=LAYER_NAMES["lines"], edge_width=max(1.5, 0.8 * size),
            vector_style="line", length=1.0, edge_color=self._line_colors, opacity=0.85,
        )
        for layer in self.layers:
            layer.metadata["annotator_overlay"] = True
            if self._prepare_layer is not None:
                self._prepare_layer(layer)
            # A hidden layer is not fed; showing it again brings it up to date.
            layer.events.visible.connect(self._on_visible)
        self.update(frame, force=True)
        return self.layers

    def frame_data(self, frame: int) -> dict[str, Any]:
        """The data each layer shows at ``frame`` (no napari needed; used by tests and benchmarks)."""
        face = self._face[frame] if self._face_present[frame] else None
        pose = None
        visible = None
        if self._pose is not None and self._pose_present is not None and self._pose_present[frame]:
            pose = self._pose[frame]
            visible = pose[:, 3] >= self.min_visibility
            if face is not None:
                # A close-up: the face mesh draws the face; BlazePose's own face points
                # (0-10) would be a second, coarser face on top of it.
                visible[:BLAZEPOSE_FACE_POINTS] = False
            if self._size is not None:
                # A point outside the image is a guess: a connection to it leaves the picture.
                w, h = self._size
                visible &= (pose[:, 0] >= 0) & (pose[:, 0] <= w) & (pose[:, 1] >= 0) & (pose[:, 1] <= h)
        mesh = None if self._imported else face
        contours = connection_vectors(mesh if self.shown["contours"] else None, self._contour_edges)
        skeleton = connection_vectors(pose if self.shown["skeleton"] else None, self._pose_edges, visible)
        return {"points": points_yx(face), "lines": np.concatenate([contours, skeleton])}

    def show_parts(self, *, contours: bool | None = None, skeleton: bool | None = None) -> None:
        """Draw or leave out the face contours and the body skeleton (``None``: unchanged)."""
        for part, value in (("contours", contours), ("skeleton", skeleton)):
            if value is not None:
                self.shown[part] = bool(value) and (part != "skeleton" or self.has_skeleton)
        if self.frame is not None:
            self.update(self.frame, force=True)

    def update(self, frame: int, *, force: bool = False) -> None:
        """Show ``frame``'s points and lines; skipped when the frame did not change."""
        frame = self._clip(frame)
        if frame == self.frame and not force:
            return
        self.frame = frame
        data = self.frame_data(frame)
        self._set(self.points, data["points"])
        self._set(self.lines, data["lines"])

    def _clip(self, frame: int) -> int:
        return int(np.clip(frame, 0, len(self._face_present) - 1))

    def _set(self, layer, values) -> None:
        """Give ``layer`` new data without telling the viewer its extent changed.

        The overlays lie on the video, so the viewer's reactions are pure cost
        on every frame step: to ``events.data``, recomputing every layer's extent
        and the dims ranges (and, in the workbench, to the layer list's cached
        extent, which the next step then recomputed over every layer).
        """
        if layer is None or not layer.visible:
            return
        with self._quiet_update(layer):
            layer.data = values

    def _on_visible(self, event) -> None:
        if event.source.visible and self.frame is not None:
            self.update(self.frame, force=True)

    def remove_from(self, viewer: "napari.Viewer") -> None:
        for layer in self.layers:
            if layer in viewer.layers:
                viewer.layers.remove(layer)
        self.points = self.lines = None


@contextlib.contextmanager
def _public_quiet_update(layer):
    # ``events`` itself relays every layer event to the layer list, which
    # repaints the layer's row; new points are nothing the list shows.
    with layer.events.data.blocker(), layer.events.blocker():
        yield


def _rgba(hex_color: str) -> tuple[float, float, float, float]:
    h = hex_color.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4)) + (1.0,)


def _diag(face: np.ndarray) -> float:
    """Typical face size in pixels, for point sizes that suit any resolution.

    The median over at most 512 frames with a face, evenly spread: on an hour of
    landmarks the whole array took seconds to open for the same number.
    """
    seen = np.flatnonzero(np.isfinite(face[:, 0, 0])) if len(face) else np.zeros(0, int)
    if not seen.size:
        return 280.0
    sample = face[seen[np.linspace(0, seen.size - 1, min(seen.size, 512)).astype(int)], :, :2]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        span = np.nanmedian(np.nanmax(sample, axis=1) - np.nanmin(sample, axis=1), axis=0)
    return float(np.hypot(*span)) if np.isfinite(span).all() else 280.0


__all__ = [
    "CONTOUR_COLORS", "EMOTION_COLORS", "FACE_CONTOURS", "FrameOverlays", "POSE_CONNECTIONS", "SKELETON_COLOR",
    "connection_vectors", "points_yx",
]
