"""Corpus-scale tracking on a Dask cluster: ``annotator batch``.

:func:`~annotator.batch.run.run_batch` expands the inputs into videos
(:mod:`.inputs`), tracks each through the same executor seam as ``annotator
track`` with ``distributed.Client.get_executor()`` (:mod:`.cluster`), and
reports what was done, skipped and failed (:mod:`.report`).  Nothing here
imports ``distributed`` until a batch runs.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "run_batch": ("annotator.batch.run", "run_batch"),
    "BatchReport": ("annotator.batch.report", "BatchReport"),
    "Outcome": ("annotator.batch.report", "Outcome"),
    "collect_videos": ("annotator.batch.inputs", "collect_videos"),
    "resolve_outdir": ("annotator.batch.inputs", "resolve_outdir"),
}

__getattr__ = lazy_getattr("annotator.batch", _LAZY)

__all__ = sorted(_LAZY)
