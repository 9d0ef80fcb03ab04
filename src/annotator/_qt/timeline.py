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
from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QAction, QBrush, QColor
from qtpy.QtWidgets import QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from ..napari.workbench import EMOTION_COLORS

DEFAULT_CHANNELS: tuple[str, ...] = ("AU12", "AU4", "AU1", "AU9", "AU15")
#: Colour-blind-safe (Okabe-Ito) colours for the AU curves, in order.
CURVE_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#ffffff")
MOTION_COLORS = {"face motion": "#ff8a65", "body motion": "#81c784"}


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
                name=name, connect="finite",
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
                name=name, connect="finite",
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


def _span_item(segments, y0: float, height: float) -> pg.BarGraphItem:
    """One item drawing every segment's span; onset/offset are inclusive, so spans cover whole frames."""
    x0 = np.array([s.onset - 0.5 for s in segments], dtype=np.float64)
    x1 = np.array([s.offset + 0.5 for s in segments], dtype=np.float64)
    brushes = [segment_brush(s.emotion, s.status) for s in segments]
    pens = [
        pg.mkPen(EMOTION_COLORS.get(s.emotion, "#9e9e9e"), width=1,
                 style=Qt.PenStyle.DashLine if s.status == "proposed" else Qt.PenStyle.SolidLine)
        for s in segments
    ]
    item = pg.BarGraphItem(x0=x0, x1=x1, y0=y0, height=height, brushes=brushes, pens=pens)
    item.setZValue(-10)
    return item
