"""Module attributes that import their home module on first use (keeps imports light)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(module_name: str, table: dict[str, tuple[str, str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``table[name] = (module, attribute)`` lazily."""

    def __getattr__(name: str) -> Any:
        if name in table:
            module, attr = table[name]
            return getattr(importlib.import_module(module), attr)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
