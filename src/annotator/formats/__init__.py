"""Export and import formats, found through the ``annotator.formats`` entry points.

A format is a class with ``name``, ``description``, ``suffix`` and

* ``export(rows: list[ExportRow], path)`` writing one file atomically;
* optionally ``read(path) -> dict[key, list[Segment]]`` so that ``annotator
  evaluate`` can read it back (key identifies a video).

The format plugins live in ``plugins/`` and register in ``pyproject.toml``.
"""

from __future__ import annotations

from .registry import ExportRow, Format, available_formats, collect_rows, get_format

__all__ = ["ExportRow", "Format", "available_formats", "collect_rows", "get_format"]
