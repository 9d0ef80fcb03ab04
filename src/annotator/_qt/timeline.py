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
from qtpy.QtCore import QLineF, QRectF, Qt, Signal
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


def segment_brush(emotion: str, status: str) -> QBrush:
    """Proposals hatched and faint, accepted/edited solid, rejected grey."""
    if status == "rejected":
        return QBrush(QColor(150, 150, 150, 45))
    color = QColor(EMOTION_COLORS.get(emotion, EMOTION_COLORS["other"]))
    if status == "proposed":
        color.setAlpha(170)
        return QBrush(color, Qt.BrushStyle.BDiagPattern)
    color.setAlpha(85)
    return QBrush(color)


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
        self.au_plot = self.glw.addPlot(row=0, col=0)
        self.motion_plot = self.glw.addPlot(row=1, col=0)
        self.glw.ci.layout.setRowStretchFactor(0, 3)
        self.glw.ci.layout.setRowStretchFactor(1, 1)
        self.motion_plot.setXLink(self.au_plot)
        for plot, label in ((self.au_plot, "AU"), (self.motion_plot, "motion")):
            plot.setMouseEnabled(x=True, y=False)
            plot.setLimits(xMin=-1, xMax=self.n_frames + 1)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.showGrid(x=True, y=False, alpha=0.15)
            plot.setLabel("left", label)
            plot.hideButtons()
            plot.getAxis("left").setWidth(44)
        self.au_plot.getAxis("bottom").setStyle(showValues=False)
        self.motion_plot.setLabel("bottom", "frame")
        self.au_plot.setYRange(-0.02, 1.02, padding=0)
        self.motion_plot.setYRange(-0.02, 1.05, padding=0)
        self.au_plot.addLegend(offset=(6, 2), labelTextSize="8pt", colCount=6, brush=QColor(30, 31, 34, 160))
        self.motion_plot.addLegend(offset=(6, 2), labelTextSize="8pt", colCount=2, brush=QColor(30, 31, 34, 160))

        pen = pg.mkPen("#ffffff", width=1.5)
        self.cursor = pg.InfiniteLine(pos=0, angle=90, movable=True, pen=pen, hoverPen=pg.mkPen("#ffeb3b", width=2))
        self.cursor.setZValue(100)
        self.cursor_motion = pg.InfiniteLine(pos=0, angle=90, movable=False, pen=pen)
        self.au_plot.addItem(self.cursor, ignoreBounds=True)
        self.motion_plot.addItem(self.cursor_motion, ignoreBounds=True)
        self.cursor.sigPositionChanged.connect(self._cursor_dragged)
        self.glw.scene().sigMouseClicked.connect(self._clicked)

        self.channel_button = QToolButton(text="AU channels ▾")
        self.channel_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.channel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.channel_menu = QMenu(self.channel_button)
        self.channel_button.setMenu(self.channel_menu)
        self.info = QLabel("")
        top = QHBoxLayout()
        top.setContentsMargins(4, 0, 4, 0)
        top.addWidget(self.channel_button)
        top.addWidget(self.info, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.glw, 1)
        self.set_x_range(0, min(self.n_frames, max(300, int(20 * self.fps))))

    # -- curves ------------------------------------------------------------------------
    def set_channels(self, curves: dict[str, np.ndarray], shown: tuple[str, ...] = DEFAULT_CHANNELS) -> None:
        """Offer ``curves`` (AU channel → values) in the selector and draw those in ``shown``."""
        self._curves = dict(curves)
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
        for i, name in enumerate(self.shown_channels()):
            y = np.asarray(self._curves[name], dtype=np.float64)[: self.n_frames]
            item = self.au_plot.plot(
                x[: len(y)], y, pen=pg.mkPen(CURVE_COLORS[i % len(CURVE_COLORS)], width=1),
                name=name, connect="finite", autoDownsampleFactor=SAMPLES_PER_PIXEL,
            )
            self._items[name] = item

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
    def set_segments(self, segments, others=(), current_id: str | None = None) -> None:
        """Draw every visible segment; ``others`` (read-only) go in the motion plot.

        All spans of a plot are one ``BarGraphItem`` (one cached picture):
        hundreds of ``LinearRegionItem``s would each recompute two infinite
        lines on every pan or zoom.
        """
        for plot, item in self._spans:
            plot.removeItem(item)
        self._spans = []
        for plot, segs, top in ((self.au_plot, list(segments), 1.02), (self.motion_plot, list(others), 1.05)):
            if segs:
                item = _span_item(segs, y0=-0.02, height=top + 0.02)
                plot.addItem(item, ignoreBounds=True)
                self._spans.append((plot, item))
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
        for plot in (self.au_plot, self.motion_plot):
            if plot.sceneBoundingRect().contains(event.scenePos()):
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
            pen = pg.mkPen(EMOTION_COLORS.get(emotion, "#9e9e9e"), width=1,
                           style=Qt.PenStyle.DashLine if status == "proposed" else Qt.PenStyle.SolidLine)
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
