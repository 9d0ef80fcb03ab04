"""The segment table: every visible segment, sortable; double-click jumps to the apex."""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from ..napari.workbench import EMOTION_COLORS

COLUMNS: tuple[str, ...] = (
    "status", "emotion", "onset", "apex", "offset", "confidence", "kind", "AUs", "coder", "notes",
)
_ID_ROLE = Qt.ItemDataRole.UserRole
_APEX_ROLE = Qt.ItemDataRole.UserRole + 1
_OWN_ROLE = Qt.ItemDataRole.UserRole + 2


class SegmentTable(QTableWidget):
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

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSortingEnabled(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(20)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setSortIndicator(2, Qt.SortOrder.AscendingOrder)  # by onset: the order of the video
        self.cellDoubleClicked.connect(self._double_clicked)
        self.itemSelectionChanged.connect(self._selection_changed)

    def set_segments(self, own_and_proposed, others: dict | None = None, coder: str = "") -> None:
        """Fill the table, keeping the sort order and the selected segment."""
        selected = self.selected_id()
        sort_col = self.horizontalHeader().sortIndicatorSection()
        sort_order = self.horizontalHeader().sortIndicatorOrder()
        self.setSortingEnabled(False)
        self.blockSignals(True)
        rows = [(s, s.source if s.status == "proposed" else coder, True) for s in own_and_proposed]
        for name, segs in (others or {}).items():
            rows += [(s, name, False) for s in segs]
        self.setRowCount(len(rows))
        for r, (seg, who, own) in enumerate(rows):
            conf = "" if seg.confidence is None else round(float(seg.confidence), 2)
            values = (seg.status, seg.emotion, seg.onset, seg.apex, seg.offset, conf, seg.kind,
                      " ".join(seg.aus), who, seg.notes)
            for c, value in enumerate(values):
                item = QTableWidgetItem()
                item.setData(Qt.ItemDataRole.DisplayRole, value)
                item.setData(_ID_ROLE, seg.id)
                item.setData(_APEX_ROLE, seg.apex)
                item.setData(_OWN_ROLE, own)
                if not own:
                    item.setForeground(QColor("#8a8a8a"))
                    item.setToolTip(f"{who}'s segment (read-only)")
                if c == 1:
                    item.setForeground(QColor(EMOTION_COLORS.get(seg.emotion, "#9e9e9e")))
                if c == 0 and seg.status == "proposed":
                    item.setToolTip("proposal, not reviewed yet")
                self.setItem(r, c, item)
        self.setSortingEnabled(True)
        self.sortItems(sort_col if sort_col >= 0 else 2, sort_order)
        self.blockSignals(False)
        if selected:
            self.select_id(selected, emit=False)

    def row_of(self, segment_id: str) -> int:
        for r in range(self.rowCount()):
            item = self.item(r, 0)
            if item is not None and item.data(_ID_ROLE) == segment_id and item.data(_OWN_ROLE):
                return r
        return -1

    def select_id(self, segment_id: str | None, *, emit: bool = True) -> None:
        row = self.row_of(segment_id) if segment_id else -1
        self.blockSignals(not emit)
        if row < 0:
            self.clearSelection()
        else:
            self.selectRow(row)
            self.scrollToItem(self.item(row, 0))
        self.blockSignals(False)

    def selected_id(self) -> str:
        """The selected row's segment id when it is editable (own or proposal), else ``""``."""
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if not rows:
            return ""
        item = self.item(rows[0].row(), 0)
        return item.data(_ID_ROLE) if item is not None and item.data(_OWN_ROLE) else ""

    def _double_clicked(self, row: int, _col: int) -> None:
        item = self.item(row, 0)
        if item is not None:
            self.segmentActivated.emit(item.data(_ID_ROLE), int(item.data(_APEX_ROLE)))

    def _selection_changed(self) -> None:
        self.segmentSelected.emit(self.selected_id())
