"""Cohen's kappa as the agreement figures report it: ``None`` where it is undefined."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np


def cohen_kappa(a: Sequence | np.ndarray, b: Sequence | np.ndarray, **options) -> float | None:
    """:func:`sklearn.metrics.cohen_kappa_score` of ``a`` and ``b`` (``options`` passed on: weights, labels).

    ``None`` when there is nothing to compare, or when both sides carry one label
    everywhere (chance agreement is then 1 and kappa 0/0).
    """
    from sklearn.metrics import cohen_kappa_score

    a, b = np.asarray(a), np.asarray(b)
    if len(a) == 0:
        return None
    first = a[0]
    if (a == first).all() and (b == first).all():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(cohen_kappa_score(a, b, **options))
    return None if np.isnan(value) else value
