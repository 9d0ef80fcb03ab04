"""Subject-disjoint splits: leave-one-subject-out, k folds, or a held-out test set.

Every method assigns each sample the fold in which it is *tested*; a subject's
samples always share a fold, so no subject is ever on both sides of a split.
k folds and the hold-out are stratified by emotion as far as the subjects allow
(:class:`sklearn.model_selection.StratifiedGroupKFold`), and are the same for the
same samples and seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import AnnotatorError

SPLITS: tuple[str, ...] = ("loso", "kfold", "holdout")
TRAIN, TEST = "train", "test"


@dataclass(frozen=True)
class Split:
    """Per sample: ``fold`` (the fold it is tested in) and ``split`` (``train``/``test``
    for a hold-out, ``fold<k>`` otherwise)."""

    method: str
    fold: np.ndarray
    split: np.ndarray
    n_folds: int


def assign_splits(subjects: Sequence[str], emotions: Sequence[str], method: str = "loso", *,
                  folds: int = 5, test_size: float = 0.2, seed: int = 0, where=None) -> Split:
    """Assign every sample a fold, keeping subjects apart.

    Parameters
    ----------
    subjects, emotions : sequences of str, one item per sample
    method : ``"loso"``, ``"kfold"`` or ``"holdout"``
    folds : int
        ``kfold``: the number of folds (at most the number of subjects).
    test_size : float
        ``holdout``: the share of samples to hold out, in (0, 1); it is met as
        closely as whole subjects allow.
    seed : int
        The shuffle for ``kfold`` and ``holdout`` (``loso`` needs none).
    where : path, optional
        What error messages name (the project).

    Raises
    ------
    AnnotatorError
        Fewer than two subjects, or more folds than subjects.
    """
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold

    subjects = np.asarray(subjects, dtype=object)
    emotions = np.asarray(emotions, dtype=object)
    n = len(subjects)
    names = sorted(set(subjects.tolist()))
    if method not in SPLITS:
        raise AnnotatorError(where, f"unknown split {method!r}; use {', '.join(SPLITS)}")
    if len(names) < 2:
        only = names[0] if names else "none"
        raise AnnotatorError(where, f"--split {method} needs samples from at least two subjects; "
                                    f"these come from one ({only}); add sessions of other subjects")
    fold = np.full(n, -1, dtype=np.int64)
    x = np.zeros((n, 1))
    if method == "loso":
        # folds in subject order, so fold k always leaves out the k-th subject
        codes = np.array([names.index(s) for s in subjects])
        for k, (_, test) in enumerate(LeaveOneGroupOut().split(x, groups=codes)):
            fold[test] = k
        return Split(method, fold, np.array([f"fold{k}" for k in fold], dtype=object), len(names))
    if method == "kfold":
        if folds < 2:
            raise AnnotatorError(where, f"--folds must be at least 2, got {folds}")
        if folds > len(names):
            raise AnnotatorError(where, f"--folds {folds} is more than the {len(names)} subjects; "
                                        f"use --folds {len(names)} or fewer (or --split loso)")
        n_splits = folds
    else:
        if not 0.0 < test_size < 1.0:
            raise AnnotatorError(where, f"--test-size must be between 0 and 1, got {test_size}")
        n_splits = min(len(names), max(2, int(round(1.0 / test_size))))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=int(seed))
    with warnings.catch_warnings():
        # "The least populated class has only 1 member": stratification is best effort here
        warnings.simplefilter("ignore", UserWarning)
        for k, (_, test) in enumerate(splitter.split(x, emotions, groups=subjects)):
            fold[test] = k
    if method == "kfold":
        return Split(method, fold, np.array([f"fold{k}" for k in fold], dtype=object), n_splits)
    split = np.where(fold == 0, TEST, TRAIN).astype(object)
    return Split(method, np.where(fold == 0, 0, 1), split, 2)
