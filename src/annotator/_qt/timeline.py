"""The timeline under the video: AU and motion curves, segment spans, a cursor.

Only wiring and drawing: which segments exist and what an edge drag means
belong to :class:`~annotator.labels.editor.LabelsEditor`; this widget emits
``frameRequested`` and ``boundaryMoved`` and the dock forwards them.

An hour of video is 108,000 frames, so the curves use pyqtgraph's peak
downsampling and clip to the view, and only the current segment carries
draggable handles (every other span is a static item).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from qtpy.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from qtpy.QtGui import QAction, QBrush, QColor
from qtpy.QtWidgets import QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from ..napari.overlays import EMOTION_COLORS

DEFAULT_CHANNELS: tuple[str, ...] = ("AU12", "AU4", "AU1", "AU9", "AU15")
#: Colour-blind-safe (Okabe-Ito) colours for the AU curves, in order.
CURVE_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#ffffff")
MOTION_COLORS = {"face motion": "#ff8a65", "body motion": "#81c784"}
#: Downsampling buckets per pixel column.  Peak mode keeps each bucket's minimum
#: and maximum, so one bucket per column already draws the exact envelope (a
#: one-frame spike never disappears); pyqtgraph's default of 5 draws ten points
#: per column and, with an hour in view, costs twice as much to paint.
SAMPLES_PER_PIXEL = 1.0
#: The top of the AU plot's y range: 1.0 and below is data, above is the legend's.
LEGEND_TOP = 1.32


#: How a span of each status is filled and outlined: proposals hatched, accepted solid,
#: edited cross-hatched over a fainter fill, unfinished dotted, rejected grey.
STATUS_STYLES: dict[str, tuple[Qt.BrushStyle, Qt.PenStyle, int]] = {
    "proposed": (Qt.BrushStyle.BDiagPattern, Qt.PenStyle.DashLine, 170),
    "accepted": (Qt.BrushStyle.SolidPattern, Qt.PenStyle.SolidLine, 85),
    "edited": (Qt.BrushStyle.DiagCrossPattern, Qt.PenStyle.SolidLine, 200),
    "unfinished": (Qt.BrushStyle.Dense6Pattern, Qt.PenStyle.DotLine, 200),
    "rejected": (Qt.BrushStyle.SolidPattern, Qt.PenStyle.SolidLine, 45),
}
#: The x axis can count frames, seconds or timecode.
X_UNITS: tuple[str, ...] = ("frames", "seconds", "timecode")


def segment_brush(emotion: str, status: str) -> QBrush:
    """The fill of a span: see :data:`STATUS_STYLES`."""
    style, _pen, alpha = STATUS_STYLES.get(status, STATUS_STYLES["accepted"])
    if status == "rejected":
        return QBrush(QColor(150, 150, 150, alpha))
    color = QColor(EMOTION_COLORS.get(emotion, EMOTION_COLORS["other"]))
    color.setAlpha(alpha)
    return QBrush(color, style)


def segment_pen_style(status: str) -> Qt.PenStyle:
    return STATUS_STYLES.get(status, STATUS_STYLES["accepted"])[1]


class FrameAxis(pg.AxisItem):
    """A bottom axis over frame indices that labels its ticks in frames, seconds or timecode."""

    def __init__(self, fps: float, **kwargs):
        super().__init__("bottom", **kwargs)
        self.fps = float(fps)
        self.unit = "frames"

    def set_unit(self, unit: str) -> None:
        if unit not in X_UNITS:
            raise ValueError(f"unit must be one of {', '.join(X_UNITS)}, got {unit!r}")
        self.unit = unit
        self.setLabel({"frames": "frame", "seconds": "time (s)", "timecode": "timecode (hh:mm:ss:ff)"}[unit])
        self.picture = None
        self.update()

    def tickStrings(self, values, scale, spacing):
        from ..features.readout import timecode

        if self.unit == "frames":
            return [f"{int(round(v))}" for v in values]
        if self.unit == "seconds":
            digits = 0 if spacing / self.fps >= 1 else 1 if spacing / self.fps >= 0.1 else 2
            return [f"{v / self.fps:.{digits}f}" for v in values]
        return [timecode(v / self.fps, self.fps) for v in values]


class TimelineWidget(QWidget):
    """Curves, segment spans and a cursor over frame indices.

    Signals
    -------
    frameRequested(int)
        The user clicked or dragged the cursor to a frame.
    boundaryMoved(str, str, int)
        Segment id, ``"onset"``/``"apex"``/``"offset"``, new frame (on drag end).
    """

    frameRequested = Signal(int)
    boundaryMoved = Signal(str, str, int)

    def __init__(self, n_frames: int, fps: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.n_frames = max(1, int(n_frames))
        self.fps = float(fps)
        self._curves: dict[str, np.ndarray] = {}
        self._items: dict[str, pg.PlotDataItem] = {}
        self._spans: list = []
        self._current_id: str | None = None
        self._handles: list = []
        # Keys belong to the napari canvas; the timeline is driven by the mouse.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("#1e1f22")
        self.glw.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.x_axis = FrameAxis(self.fps)
        self.au_plot = self.glw.addPlot(row=0, col=0)
        self.emotion_plot = self.glw.addPlot(row=1, col=0)
        self.lanes_plot = self.glw.addPlot(row=2, col=0)
        self.au_lanes_plot = self.glw.addPlot(row=3, col=0)
        self.motion_plot = self.glw.addPlot(row=4, col=0, axisItems={"bottom": self.x_axis})
        for row, stretch in enumerate((3, 0, 0, 0, 1)):
            self.glw.ci.layout.setRowStretchFactor(row, stretch)
        self.emotion_plot.setFixedHeight(26)
        self._lane_names: list[str] = []
        self.lanes_plot.setVisible(False)
        self._au_lane_names: list[str] = []
        self._au_item = None
        self.au_current_id: str | None = None
        self.au_lanes_plot.setVisible(False)
        for plot in (self.motion_plot, self.emotion_plot, self.lanes_plot, self.au_lanes_plot):
            plot.setXLink(self.au_plot)
        for plot, label in ((self.au_plot, "AU (0–1)"), (self.motion_plot, "motion (÷p99)"),
                            (self.emotion_plot, "emotion"), (self.lanes_plot, "coders"),
                            (self.au_lanes_plot, "AU")):
            plot.setMouseEnabled(x=True, y=False)
            plot.setLimits(xMin=-1, xMax=self.n_frames + 1)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.showGrid(x=True, y=False, alpha=0.15)
            plot.setLabel("left", label)
            plot.hideButtons()
            plot.getAxis("left").setWidth(44)
        for plot in (self.au_plot, self.emotion_plot, self.lanes_plot, self.au_lanes_plot):
            plot.getAxis("bottom").setStyle(showValues=False)
            plot.getAxis("bottom").setHeight(2)
        self.x_axis.set_unit("frames")
        # The curves live in 0..1; the strip above is the legends' (they never cover data).
        self.au_plot.setYRange(-0.02, LEGEND_TOP, padding=0)
        self.motion_plot.setYRange(-0.02, 1.4, padding=0)
        self.emotion_plot.setYRange(0, 1, padding=0)
        self.emotion_plot.getAxis("left").setTicks([[]])
        self.au_plot.addLegend(offset=(6, 1), labelTextSize="8pt", colCount=8, brush=QColor(30, 31, 34, 200),
                               verSpacing=-6)
        self.motion_plot.addLegend(offset=(6, 1), labelTextSize="8pt", colCount=2, brush=QColor(30, 31, 34, 200),
                                   verSpacing=-6)
        self._emotion_image = None
        self._colors: dict[str, str] = {}

        pen = pg.mkPen("#ffffff", width=1.5)
        self.cursor = pg.InfiniteLine(pos=0, angle=90, movable=True, pen=pen, hoverPen=pg.mkPen("#ffeb3b", width=2))
        self.cursor.setZValue(100)
        self.cursor_motion = pg.InfiniteLine(pos=0, angle=90, movable=False, pen=pen)
        self.cursor_au_lanes = pg.InfiniteLine(pos=0, angle=90, movable=False, pen=pen)
        self.au_plot.addItem(self.cursor, ignoreBounds=True)
        self.motion_plot.addItem(self.cursor_motion, ignoreBounds=True)
        self.au_lanes_plot.addItem(self.cursor_au_lanes, ignoreBounds=True)
        self.cursor.sigPositionChanged.connect(self._cursor_dragged)
        self.glw.scene().sigMouseClicked.connect(self._clicked)

        self.channel_button = QToolButton(text="AU channels ▾")
        self.channel_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.channel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.channel_menu = QMenu(self.channel_button)
        self.channel_button.setMenu(self.channel_menu)
        self.info = QLabel("")
        self.unit_button = QToolButton(text="x: frames")
        self.unit_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.unit_button.setToolTip("count the x axis in frames, seconds or timecode")
        self.unit_button.clicked.connect(
            lambda: self.set_x_unit(X_UNITS[(X_UNITS.index(self.x_axis.unit) + 1) % len(X_UNITS)]))
        top = QHBoxLayout()
        top.setContentsMargins(4, 0, 4, 0)
        top.addWidget(self.channel_button)
        top.addWidget(self.unit_button)
        top.addWidget(self.info, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.glw, 1)
        self.set_x_range(0, min(self.n_frames, max(300, int(20 * self.fps))))

    # -- curves ------------------------------------------------------------------------
    def set_x_unit(self, unit: str) -> None:
        """Label the x axis in ``"frames"``, ``"seconds"`` or ``"timecode"``."""
        self.x_axis.set_unit(unit)
        self.unit_button.setText(f"x: {unit}")

    def set_emotions(self, probs: np.ndarray, names) -> None:
        """The per-frame emotion as a band: each frame coloured by its likeliest emotion, as opaque as it is likely."""
        probs = np.asarray(probs, dtype=np.float64)[: self.n_frames]
        rgba = np.zeros((len(probs), 1, 4), np.uint8)
        ok = np.isfinite(probs).all(axis=1)
        top = np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1)
        palette = np.array([QColor(EMOTION_COLORS.get(n, "#9e9e9e")).getRgb() for n in names], np.uint8)
        rgba[ok, 0] = palette[top[ok]]
        rgba[ok, 0, 3] = (np.clip(probs[ok, top[ok]], 0, 1) * 255).astype(np.uint8)
        if self._emotion_image is not None:
            self.emotion_plot.removeItem(self._emotion_image)
        self._emotion_image = pg.ImageItem(rgba)
        self._emotion_image.setRect(QRectF(-0.5, 0, len(probs), 1))
        self.emotion_plot.addItem(self._emotion_image)
        self.emotion_names = tuple(names)

    def set_lanes(self, lanes: dict) -> None:
        """One labelled lane per coder (name → segments), top to bottom; hidden with fewer than two."""
        for plot, item in [x for x in self._spans if x[0] is self.lanes_plot]:
            plot.removeItem(item)
        self._spans = [x for x in self._spans if x[0] is not self.lanes_plot]
        self._lane_names = list(lanes)
        self.lanes_plot.setVisible(len(lanes) > 1)
        if len(lanes) < 2:
            return
        n = len(lanes)
        for i, segs in enumerate(lanes.values()):
            if segs:
                item = _span_item(list(segs), y0=n - 1 - i + 0.1, height=0.8)
                self.lanes_plot.addItem(item, ignoreBounds=True)
                self._spans.append((self.lanes_plot, item))
        self.lanes_plot.setYRange(0, n, padding=0)
        self.lanes_plot.getAxis("left").setTicks([[(n - 1 - i + 0.5, name) for i, name in enumerate(lanes)]])
        self.lanes_plot.setFixedHeight(16 * n + 6)

    @property
    def lane_names(self) -> list[str]:
        return list(self._lane_names) if self.lanes_plot.isVisible() else []

    def set_au_lanes(self, lanes: dict, current_lane: str = "", current_id: str | None = None) -> None:
        """One labelled lane per AU (lane → intervals), top to bottom by AU; hidden when ``lanes`` is empty.

        The current lane's label is marked, the current interval outlined; each interval is
        as opaque as its intensity is high and carries its letter where it is wide enough.
        """
        if self._au_item is not None:
            self.au_lanes_plot.removeItem(self._au_item)
            self._au_item = None
        self._au_lane_names = list(lanes)
        self.au_current_id = current_id
        self.au_lanes_plot.setVisible(bool(lanes))
        self.cursor_au_lanes.setValue(self.cursor.value())
        if not lanes:
            return
        n = len(lanes)
        rows = {name: n - 1 - i for i, name in enumerate(lanes)}
        self._au_item = AUIntervalItem([(rows[name], a) for name, items in lanes.items() for a in items], n,
                                       current_id)
        self.au_lanes_plot.addItem(self._au_item, ignoreBounds=True)
        self.au_lanes_plot.setYRange(0, n, padding=0)
        self.au_lanes_plot.getAxis("left").setTicks(
            [[(rows[name] + 0.5, f"▶{name}" if name == current_lane else name) for name in lanes]])
        self.au_lanes_plot.setFixedHeight(14 * n + 6)

    @property
    def au_lane_names(self) -> list[str]:
        """The AU lanes shown, top to bottom (``[]`` when hidden)."""
        return list(self._au_lane_names) if self.au_lanes_plot.isVisible() else []

    def set_channels(self, curves: dict[str, np.ndarray], shown: tuple[str, ...] = DEFAULT_CHANNELS) -> None:
        """Offer ``curves`` (AU channel → values) in the selector and draw those in ``shown``.

        Each channel keeps one colour, whatever else is shown.
        """
        self._curves = dict(curves)
        self._colors = {name: CURVE_COLORS[i % len(CURVE_COLORS)] for i, name in enumerate(
            sorted(curves, key=lambda n: (n not in DEFAULT_CHANNELS, DEFAULT_CHANNELS.index(n)
                                          if n in DEFAULT_CHANNELS else 0, n)))}
        self.channel_menu.clear()
        for name in curves:
            action = QAction(name, self.channel_menu, checkable=True)
            action.setChecked(name in shown)
            action.toggled.connect(lambda _=False: self._redraw_channels())
            self.channel_menu.addAction(action)
        self._redraw_channels()

    def shown_channels(self) -> list[str]:
        return [a.text() for a in self.channel_menu.actions() if a.isChecked()]

    def set_shown_channels(self, names) -> None:
        for action in self.channel_menu.actions():
            action.blockSignals(True)
            action.setChecked(action.text() in names)
            action.blockSignals(False)
        self._redraw_channels()

    def _redraw_channels(self) -> None:
        for name, item in list(self._items.items()):
            if name in self._curves:
                self.au_plot.removeItem(item)
                del self._items[name]
        x = np.arange(self.n_frames, dtype=np.float64)
        for name in self.shown_channels():
            y = np.asarray(self._curves[name], dtype=np.float64)[: self.n_frames]
            item = self.au_plot.plot(
                x[: len(y)], y, pen=pg.mkPen(self.channel_color(name), width=1),
                name=name, connect="finite", autoDownsampleFactor=SAMPLES_PER_PIXEL,
            )
            self._items[name] = item

    def channel_color(self, name: str) -> str:
        """The fixed colour of AU channel ``name``."""
        return self._colors.get(name, "#cccccc")

    def set_motion(self, curves: dict[str, np.ndarray]) -> None:
        """Draw motion curves, each scaled by its 99th percentile so both share the lower plot."""
        x = np.arange(self.n_frames, dtype=np.float64)
        for name, values in curves.items():
            y = np.asarray(values, dtype=np.float64)[: self.n_frames]
            finite = y[np.isfinite(y)]
            scale = float(np.percentile(finite, 99)) if finite.size else 1.0
            y = np.clip(y / (scale if scale > 0 else 1.0), 0, 1.05)
            item = self.motion_plot.plot(
                x[: len(y)], y, pen=pg.mkPen(MOTION_COLORS.get(name, "#cccccc"), width=1),
                name=name, connect="finite", autoDownsampleFactor=SAMPLES_PER_PIXEL,
            )
            self._items[name] = item

    # -- segments ------------------------------------------------------------------------
    def set_segments(self, segments, lanes: dict | None = None, current_id: str | None = None) -> None:
        """Draw every visible segment over the curves, and ``lanes`` (coder → segments) one lane each.

        All spans of a plot are one item (one cached picture): hundreds of
        ``LinearRegionItem``s would each recompute two infinite lines on every
        pan or zoom.
        """
        for plot, item in [x for x in self._spans if x[0] is self.au_plot]:
            plot.removeItem(item)
        self._spans = [x for x in self._spans if x[0] is not self.au_plot]
        if segments:
            item = _span_item(list(segments), y0=-0.02, height=1.04)
            self.au_plot.addItem(item, ignoreBounds=True)
            self._spans.append((self.au_plot, item))
        self.set_lanes(lanes or {})
        self.set_current(segments, current_id)

    @property
    def current_id(self) -> str | None:
        """The id of the segment shown with draggable edges, or ``None``."""
        return self._current_id

    def set_current(self, segments, current_id: str | None) -> None:
        """Give the current segment draggable onset/offset edges and an apex marker."""
        for item in self._handles:
            self.au_plot.removeItem(item)
        self._handles = []
        self._current_id = current_id
        seg = next((s for s in segments if s.id == current_id), None)
        if seg is None:
            return
        color = EMOTION_COLORS.get(seg.emotion, "#9e9e9e")
        for which, pos in (("onset", seg.onset - 0.5), ("offset", seg.offset + 0.5), ("apex", seg.apex)):
            style = Qt.PenStyle.DotLine if which == "apex" else Qt.PenStyle.SolidLine
            line = pg.InfiniteLine(
                pos=pos, angle=90, movable=True, pen=pg.mkPen(color, width=3 if which == "apex" else 2, style=style),
                hoverPen=pg.mkPen("#ffffff", width=3), label=which[0].upper() if which == "apex" else None,
                labelOpts={"position": 0.95, "color": color},
            )
            line.setZValue(50)
            line.sigPositionChangeFinished.connect(lambda ln, w=which, sid=seg.id: self._handle_moved(sid, w, ln))
            self.au_plot.addItem(line, ignoreBounds=True)
            self._handles.append(line)
        self.info.setText(
            f"{seg.emotion} · {seg.status} · frames {seg.onset}–{seg.apex}–{seg.offset} "
            f"({seg.n_frames / self.fps * 1000:.0f} ms, {seg.kind})"
        )

    def _handle_moved(self, segment_id: str, which: str, line) -> None:
        value = line.value()
        # Edge lines sit on frame borders (±0.5) so the span covers whole frames.
        frame = round(value + 0.5) if which == "onset" else round(value - 0.5) if which == "offset" else round(value)
        self.boundaryMoved.emit(segment_id, which, int(np.clip(frame, 0, self.n_frames - 1)))

    # -- cursor and view -------------------------------------------------------------------
    def set_cursor(self, frame: int) -> None:
        """Follow napari's slider without echoing a request back; keep the cursor in view."""
        self.cursor.blockSignals(True)
        self.cursor.setValue(frame)
        self.cursor.blockSignals(False)
        self.cursor_motion.setValue(frame)
        if self.au_lanes_plot.isVisible():
            self.cursor_au_lanes.setValue(frame)
        lo, hi = self.au_plot.viewRange()[0]
        if not lo <= frame <= hi:
            width = hi - lo
            self.set_x_range(frame - 0.1 * width, frame + 0.9 * width)

    def set_x_range(self, lo: float, hi: float) -> None:
        self.au_plot.setXRange(lo, hi, padding=0)

    def _cursor_dragged(self, line) -> None:
        self.frameRequested.emit(int(np.clip(round(line.value()), 0, self.n_frames - 1)))

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.isAccepted():
            return
        for plot in (self.au_plot, self.emotion_plot, self.lanes_plot, self.au_lanes_plot, self.motion_plot):
            if plot.isVisible() and plot.sceneBoundingRect().contains(event.scenePos()):
                x = plot.vb.mapSceneToView(event.scenePos()).x()
                self.frameRequested.emit(int(np.clip(round(x), 0, self.n_frames - 1)))
                return


def _span_item(segments, y0: float, height: float) -> "SpanItem":
    item = SpanItem(segments, y0, height)
    item.setZValue(-10)
    return item


class SpanItem(pg.GraphicsObject):
    """Every segment's span in one item, drawn as one ``drawRects`` call per style.

    Onset and offset are inclusive, so spans cover whole frames (±0.5).  A
    ``BarGraphItem`` records a pen and brush change per bar in a ``QPicture``;
    grouping by (emotion, status) leaves at most 7 × 4 state changes, and only
    the spans inside the view are drawn.
    """

    def __init__(self, segments, y0: float, height: float):
        super().__init__()
        self._y0, self._height = float(y0), float(height)
        groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for s in segments:
            key = (s.emotion if s.status != "rejected" else "", s.status)
            groups.setdefault(key, []).append((s.onset - 0.5, s.offset + 0.5))
        self._groups = []
        for (emotion, status), spans in groups.items():
            arr = np.array(sorted(spans), dtype=np.float64)
            pen = pg.mkPen(EMOTION_COLORS.get(emotion, "#9e9e9e"), width=1, style=segment_pen_style(status))
            # Sorted by onset; the running maximum of the offsets lets a binary search
            # skip the spans that end before the view, even when spans nest.
            self._groups.append((pen, segment_brush(emotion, status), arr, np.maximum.accumulate(arr[:, 1])))
        lo = min((g[2][0, 0] for g in self._groups), default=0.0)
        hi = max((g[3][-1] for g in self._groups), default=0.0)
        self._bounds = QRectF(lo, self._y0, hi - lo, self._height)

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    def paint(self, painter, *args) -> None:
        vb = self.getViewBox()
        x_lo, x_hi = vb.viewRange()[0] if vb is not None else (-np.inf, np.inf)
        # Spans under two pixels wide (most of them when an hour is in view) are drawn
        # as their outline alone: filling slivers costs more than everything else here.
        narrow = 2.0 * (self.pixelWidth() or 0.0)
        top = self._y0 + self._height
        for pen, brush, spans, running_hi in self._groups:
            first = int(np.searchsorted(running_hi, x_lo))
            last = int(np.searchsorted(spans[:, 0], x_hi, side="right"))
            if first >= last:
                continue
            spans = spans[first:last]
            thin = (spans[:, 1] - spans[:, 0]) < narrow
            painter.setPen(pen)
            if thin.any():
                painter.drawLines([QLineF(x, self._y0, x, top) for x in spans[thin].mean(axis=1)])
            if not thin.all():
                painter.setBrush(brush)
                painter.drawRects([QRectF(a, self._y0, b - a, self._height) for a, b in spans[~thin]])


#: An AU interval's fill opacity by FACS intensity ("" not scored: outline only).
INTENSITY_ALPHA: dict[str, int] = {"": 0, "A": 60, "B": 100, "C": 145, "D": 190, "E": 235}
AU_LANE_COLOR = "#4fc3f7"


class AUIntervalItem(pg.GraphicsObject):
    """Every AU lane's intervals in one item: one ``drawRects`` per intensity, letters where there is room.

    ``intervals`` are ``(row, AUInterval)``; row 0 is the bottom lane.  Only what
    lies in the view is drawn, as in :class:`SpanItem`.
    """

    def __init__(self, intervals, n_rows: int, current_id: str | None = None):
        super().__init__()
        self.setZValue(-10)
        # The cursor crosses the lanes on every frame step, exposing a strip a few pixels
        # wide: with the exposed rectangle known, paint draws the intervals in it alone.
        self.setFlag(self.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self._n = max(1, int(n_rows))
        groups: dict[str, list[tuple[float, float, float]]] = {}
        self._current = None
        self._labels: list[tuple[float, float, float, str]] = []
        for row, a in intervals:
            rect = (a.onset - 0.5, a.offset + 0.5, float(row))
            groups.setdefault(a.intensity, []).append(rect)
            if a.intensity:
                self._labels.append((*rect, a.intensity))
            if a.id == current_id:
                self._current = rect
        self._groups = []
        base = QColor(AU_LANE_COLOR)
        for intensity, rects in groups.items():
            color = QColor(base)
            color.setAlpha(INTENSITY_ALPHA.get(intensity, 120))
            pen = pg.mkPen(AU_LANE_COLOR, width=1, style=Qt.PenStyle.DashLine if not intensity else Qt.PenStyle.SolidLine)
            self._groups.append((pen, QBrush(color), np.array(rects, np.float64)))
        lo = min((g[2][:, 0].min() for g in self._groups), default=0.0)
        hi = max((g[2][:, 1].max() for g in self._groups), default=0.0)
        self._bounds = QRectF(lo, 0, hi - lo, self._n)
        self._label_rects = np.array([x[:3] for x in self._labels], np.float64).reshape(-1, 3)
        self._label_letters = [x[3] for x in self._labels]

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    def paint(self, painter, option=None, *args) -> None:
        vb = self.getViewBox()
        x_lo, x_hi = vb.viewRange()[0] if vb is not None else (-np.inf, np.inf)
        exposed = getattr(option, "exposedRect", None)
        if exposed is not None and not exposed.isEmpty():
            x_lo, x_hi = max(x_lo, exposed.left()), min(x_hi, exposed.right())
        for pen, brush, rects in self._groups:
            shown = rects[(rects[:, 1] >= x_lo) & (rects[:, 0] <= x_hi)]
            if not len(shown):
                continue
            painter.setPen(pen)
            painter.setBrush(brush)
            painter.drawRects([QRectF(a, r + 0.15, b - a, 0.7) for a, b, r in shown])
        if self._current is not None:
            a, b, r = self._current
            painter.setPen(pg.mkPen("#ffeb3b", width=2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(a, r + 0.05, b - a, 0.9))
        px = self.pixelWidth() or 0.0
        if px <= 0 or not len(self._label_rects):
            return
        # Letters only on intervals in view and at least 10 px wide (one numpy pass, then a
        # loop over those alone); in device pixels, as the view's x and y scales differ so much.
        lo, hi, rows = self._label_rects.T
        show = np.flatnonzero((hi >= x_lo) & (lo <= x_hi) & ((hi - lo) >= 10 * px))
        if not len(show):
            return
        painter.save()
        painter.setPen(pg.mkPen("#ffffff"))
        transform = painter.transform()
        painter.resetTransform()
        for i in show:
            p = transform.map(QPointF((lo[i] + hi[i]) / 2, rows[i] + 0.5))
            painter.drawText(QRectF(p.x() - 8, p.y() - 8, 16, 16), Qt.AlignmentFlag.AlignCenter,
                             self._label_letters[i])
        painter.restore()
