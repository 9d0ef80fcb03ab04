"""Datasets from a project: one sample per labelled segment, with subject-disjoint splits.

:func:`build_dataset` writes the clips, track slices, AU features, manifest and card
(:mod:`.build`); :func:`assign_splits` keeps subjects apart (:mod:`.splits`);
:func:`plan_samples` checks everything first (:mod:`.samples`); :func:`open_dataset` reads
one back for ``train`` and ``quiz``, checking every file's sha256 first (:mod:`.read`).
"""

from .build import MANIFEST_COLUMNS, DatasetResult, build_dataset, tree_sha256
from .read import Dataset, DatasetError, is_dataset_dir, open_dataset
from .samples import plan_samples
from .splits import SPLITS, Split, assign_splits

__all__ = ["MANIFEST_COLUMNS", "SPLITS", "Dataset", "DatasetError", "DatasetResult", "Split", "assign_splits",
           "build_dataset", "is_dataset_dir", "open_dataset", "plan_samples", "tree_sha256"]
