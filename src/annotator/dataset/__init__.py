"""Datasets from a project: one sample per labelled segment, with subject-disjoint splits.

:func:`build_dataset` writes the clips, track slices, AU features, manifest and card
(:mod:`.build`); :func:`assign_splits` keeps subjects apart (:mod:`.splits`);
:func:`plan_samples` checks everything first (:mod:`.samples`).
"""

from .build import MANIFEST_COLUMNS, DatasetResult, build_dataset, tree_sha256
from .samples import plan_samples
from .splits import SPLITS, Split, assign_splits

__all__ = ["MANIFEST_COLUMNS", "SPLITS", "DatasetResult", "Split", "assign_splits", "build_dataset", "plan_samples",
           "tree_sha256"]
