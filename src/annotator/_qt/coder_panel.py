"""Who is coding, and whom to compare with: the workbench's coder field and compare chooser.

Docked from the Plugins menu, the workbench starts as ``$USER``; here the
coder types who they are (checked by the same rule as ``--coder``) and
ticks the other coders to show read-only (``--compare``).  Applying reopens
the session's labels through the dock, which releases the old coder's lock.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QFormLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QWidget


class CoderPanel(QWidget):
    """A coder id field (Enter applies) and a checkable list of the session's other coders.

    Signals
    -------
    chosen(str, list)
        A valid coder id and the coders to compare with, once the coder applies them.

    Parameters
    ----------
    say : callable
        Shows a one-line message (a refused id says why there).
    """

    chosen = Signal(str, list)

    def __init__(self, say: Callable[[str], None], parent: QWidget | None = None):
        super().__init__(parent)
        self._say = say
        self.coder_edit = QLineEdit()
        self.coder_edit.setPlaceholderText("your coder id, e.g. alice")
        self.coder_edit.setToolTip("Whose labels file you edit (Enter to switch)")
        self.coder_edit.returnPressed.connect(self.apply)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #e06c75")
        self.problem.hide()
        self.compare_list = QListWidget()
        self.compare_list.setToolTip("Other coders' labels, shown read-only beside yours")
        self.compare_list.setMaximumHeight(70)
        self.compare_list.itemChanged.connect(lambda _item: self.apply())
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow("Coder:", self.coder_edit)
        layout.addRow("", self.problem)
        layout.addRow("Compare:", self.compare_list)
        self._coder = ""
        self._filling = False

    def show_session(self, coder: str, compare, others) -> None:
        """Show ``coder``, and ``others`` (the session's other coders) ticked where in ``compare``."""
        self._coder = coder
        self.coder_edit.setText(coder)
        self._set_problem(None)
        self._filling = True
        try:
            self.compare_list.clear()
            for name in sorted(set(others) | set(compare)):
                if name == coder:
                    continue
                item = QListWidgetItem(name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if name in compare else Qt.CheckState.Unchecked)
                self.compare_list.addItem(item)
        finally:
            self._filling = False
        self.compare_list.setVisible(self.compare_list.count() > 0)

    def compare(self) -> list[str]:
        """The ticked coders."""
        items = (self.compare_list.item(i) for i in range(self.compare_list.count()))
        return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]

    def apply(self) -> None:
        """Emit :attr:`chosen` when the id is valid; otherwise say why and keep the old coder."""
        from ..labels.model import coder_problem

        if self._filling:
            return
        name = self.coder_edit.text().strip()
        problem = coder_problem(name)
        self._set_problem(problem)
        if problem:
            self._say(problem)
            return
        self.chosen.emit(name, [c for c in self.compare() if c != name])

    def _set_problem(self, problem: str | None) -> None:
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        self.coder_edit.setStyleSheet("border: 1px solid #e06c75" if problem else "")
