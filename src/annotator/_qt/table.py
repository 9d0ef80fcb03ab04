"""The segment table: every visible segment, sortable; double-click jumps to the apex.

A model and a view rather than a ``QTableWidget``: an edit refills the table,
and the model swaps its rows in one reset and sorts them in Python.  The
widget built ten items per segment and, with columns fitted to their contents,
re-measured every row for each: 3 s per edit at 100 segments.
"""

from __future__ import annotations

from qtpy.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import QAbstractItemView, QTableView

from ..labels.facs import format_aus
from ..napari.overlays import EMOTION_COLORS

#: Onset, apex and offset share one column ("frames"), so the AUs, the coder and the
#: notes fit the dock without scrolling sideways; the kind is in that cell's tooltip.
COLUMNS: tuple[str, ...] = ("status", "emotion", "frames", "conf", "AUs", "coder", "notes")
#: The columns a coder types into (double-click, F2); another coder's rows stay read-only.
EDITABLE: tuple[str, ...] = ("AUs", "notes")
_EDITABLE_COLUMNS = tuple(COLUMNS.index(c) for c in EDITABLE)
_ID_ROLE = Qt.ItemDataRole.UserRole
_APEX_ROLE = Qt.ItemDataRole.UserRole + 1
_OWN_ROLE = Qt.ItemDataRole.UserRole + 2
_GREY = QColor("#8a8a8a")
#: The widest text each column usually shows: columns are sized once from these,
#: not measured row by row (a Python call per cell and role).
_TYPICAL = ("accepted", "surprise", "000–000–000", "0.00", "1+2+R12C", "coder", "")


class _Row:
    __slots__ = ("values", "keys", "id", "apex", "own", "who", "emotion", "proposed", "kind")

    def __init__(self, seg, who: str, own: bool):
        conf = None if seg.confidence is None else round(float(seg.confidence), 2)
        aus = format_aus(seg.aus)
        self.values = (seg.status, seg.emotion, f"{seg.onset}–{seg.apex}–{seg.offset}", conf, aus, who, seg.notes)
        self.keys = (seg.status, seg.emotion, (seg.onset, seg.apex, seg.offset), conf, aus, who, seg.notes)
        self.id, self.apex, self.own, self.who = seg.id, seg.apex, own, who
        self.emotion, self.proposed, self.kind = seg.emotion, seg.status == "proposed", seg.kind


class _SegmentModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[_Row] = []
        self.order = (2, Qt.SortOrder.AscendingOrder)  # by onset: the order of the video

    def set_rows(self, rows: list[_Row]) -> None:
        self.beginResetModel()
        self.rows = self._sorted(rows)
        self.endResetModel()

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self.order = (column, order)
        self.layoutAboutToBeChanged.emit()
        self.rows = self._sorted(self.rows)
        self.layoutChanged.emit()

    def _sorted(self, rows: list[_Row]) -> list[_Row]:
        column, order = self.order

        def key(row: _Row):
            value = row.keys[column]
            if value is None:  # a confidence-less segment sorts below every confidence
                return (0, 0, row.keys[2])
            return (1, value, row.keys[2])

        return sorted(rows, key=key, reverse=order == Qt.SortOrder.DescendingOrder)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index):
        flags = super().flags(index)
        if index.isValid() and index.column() in _EDITABLE_COLUMNS and self.rows[index.row()].own:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        # The editor decides and saves; the table refills from it on ``changed``.
        editable = index.isValid() and bool(self.flags(index) & Qt.ItemFlag.ItemIsEditable)
        if role != Qt.ItemDataRole.EditRole or not editable:
            return False
        row = self.rows[index.row()]
        if str(value) != (row.values[index.column()] or ""):
            self.parent().segmentTextEdited.emit(row.id, COLUMNS[index.column()], str(value))
        return True

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            value = row.values[col]
            return "" if value is None else value
        if role == _ID_ROLE:
            return row.id
        if role == _APEX_ROLE:
            return row.apex
        if role == _OWN_ROLE:
            return row.own
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 1:
                return QColor(EMOTION_COLORS.get(row.emotion, "#9e9e9e"))
            return None if row.own else _GREY
        if role == Qt.ItemDataRole.ToolTipRole:
            if not row.own:
                return f"{row.who}'s segment (read-only)"
            if col == 0 and row.proposed:
                return "proposal, not reviewed yet"
            if col == 2:
                return f"onset–apex–offset ({row.kind})"
            if col in _EDITABLE_COLUMNS:
                return (row.values[col] or "") + "\n(double-click or F2 to edit)"
        return None


class SegmentTable(QTableView):
    """Rows of segments: the coder's own, unreviewed proposals, other coders' (read-only).

    Signals
    -------
    segmentActivated(str, int)
        Double-click: segment id and its apex frame.
    segmentSelected(str)
        The selected row's segment id (``""`` when none).
    """

    segmentActivated = Signal(str, int)
    segmentSelected = Signal(str)
    #: Segment id, column (``"AUs"`` or ``"notes"``) and the text typed into it.
    segmentTextEdited = Signal(str, str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._model = _SegmentModel(self)
        self.setModel(self._model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        triggers = QAbstractItemView.EditTrigger
        self.setEditTriggers(triggers.DoubleClicked | triggers.EditKeyPressed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(20)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        metrics = self.fontMetrics()
        for column, (name, typical) in enumerate(zip(COLUMNS, _TYPICAL, strict=True)):
            width = max(metrics.horizontalAdvance(name) + 14, metrics.horizontalAdvance(typical) + 10)
            header.resizeSection(column, width)
        header.setSortIndicator(*self._model.order)  # turning sorting on sorts by the indicator
        self.setSortingEnabled(True)
        self.doubleClicked.connect(self._double_clicked)
        self.selectionModel().selectionChanged.connect(self._selection_changed)

    def set_segments(self, own_and_proposed, others: dict | None = None, coder: str = "") -> None:
        """Fill the table, keeping the sort order and the selected segment."""
        selected = self.selected_id()
        rows = [_Row(s, s.source if s.status == "proposed" else coder, True) for s in own_and_proposed]
        for name, segs in (others or {}).items():
            rows += [_Row(s, name, False) for s in segs]
        self.blockSignals(True)
        self._model.set_rows(rows)
        self.blockSignals(False)
        if selected:
            self.select_id(selected, emit=False)

    def rowCount(self) -> int:
        return self._model.rowCount()

    def cell_text(self, row: int, column: int) -> str:
        """What row ``row`` (as sorted on screen) shows in ``column``."""
        return str(self._model.index(row, column).data())

    def row_of(self, segment_id: str) -> int:
        """The on-screen row of the coder's own (or proposed) segment ``segment_id``; -1 if none."""
        for r, row in enumerate(self._model.rows):
            if row.id == segment_id and row.own:
                return r
        return -1

    def select_id(self, segment_id: str | None, *, emit: bool = True) -> None:
        row = self.row_of(segment_id) if segment_id else -1
        self.blockSignals(not emit)
        if row < 0:
            self.clearSelection()
        else:
            self.selectRow(row)
            self.scrollTo(self._model.index(row, 0))
        self.blockSignals(False)

    def selected_id(self) -> str:
        """The selected row's segment id when it is editable (own or proposal), else ``""``."""
        rows = self.selectionModel().selectedRows()
        if not rows:
            return ""
        index = rows[0]
        return index.data(_ID_ROLE) if index.data(_OWN_ROLE) else ""

    def commit_pending_edit(self) -> None:
        """Store what is being typed into a cell now (before the session is switched), as Enter would."""
        from qtpy.QtWidgets import QAbstractItemDelegate, QApplication

        if self.state() != QAbstractItemView.State.EditingState:
            return
        editor = QApplication.focusWidget()
        if editor is not None and self.isAncestorOf(editor):
            self.commitData(editor)
            self.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    def _double_clicked(self, index) -> None:
        if self._model.flags(index) & Qt.ItemFlag.ItemIsEditable:
            return  # the cell opens for typing; jumping would take the focus from it
        row = self._model.rows[index.row()]
        self.segmentActivated.emit(row.id, int(row.apex))

    def _selection_changed(self, *_args) -> None:
        self.segmentSelected.emit(self.selected_id())
