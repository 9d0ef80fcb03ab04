"""The help dialog: the shortcut table, grouped, from the same specs that bind the keys."""

from __future__ import annotations

from qtpy.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout


class ShortcutsDialog(QDialog):
    """Lists ``specs`` (:class:`~annotator.napari.keybindings.ShortcutSpec`) by group."""

    def __init__(self, specs, parent=None):
        super().__init__(parent)
        self.setWindowTitle("annotator shortcuts")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Keys", "Action"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        groups: dict[str, QTreeWidgetItem] = {}
        for spec in specs:
            group = groups.get(spec.group)
            if group is None:
                group = groups[spec.group] = QTreeWidgetItem(self.tree, [spec.group])
                group.setFirstColumnSpanned(True)
            QTreeWidgetItem(group, [" / ".join(spec.keys), spec.description])
        self.tree.expandAll()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.resize(520, 640)
