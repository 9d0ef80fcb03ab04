"""A trained emotion model with what it was trained on, in one skops file.

:class:`EmotionModel` wraps the fitted scikit-learn pipeline (a scaler and a
logistic regression over :func:`~annotator.spotting.apex.apex_features`) and a
JSON string of metadata: the feature version and channels, the label set, the
training data's hash, the subjects, the scores, the spotter's calibration and a
digest of the weights.

Why in the file and not in a sidecar: a model travels as one file (copied into
a project's ``models/``, mailed to a colleague), and a sidecar that goes astray
or belongs to another model is a failure that cannot happen here.  The
metadata is a plain ``str`` attribute, so the file holds no type beyond the
pipeline's and this class, and :func:`read_model_info` reads it from the
file's ``schema.json`` without constructing anything.  The weights digest
catches a file whose arrays were edited after training.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

#: The metadata schema's version (the ``format`` key).
MODEL_FORMAT = 1


def weights_digest(pipeline: Any) -> str:
    """sha256 of every fitted array of ``pipeline`` (a scaler + logistic regression or a bare one)."""
    h = hashlib.sha256()
    steps = getattr(pipeline, "steps", None) or [("model", pipeline)]
    for _, step in steps:
        for name in ("mean_", "scale_", "var_", "coef_", "intercept_", "classes_"):
            value = getattr(step, name, None)
            if value is None:
                continue
            arr = np.asarray(value)
            h.update(name.encode())
            h.update(str(arr.dtype).encode())
            h.update(np.ascontiguousarray(arr).tobytes() if arr.dtype != object else repr(arr.tolist()).encode())
    return h.hexdigest()


class EmotionModel(ClassifierMixin, BaseEstimator):
    """A fitted emotion classifier plus its metadata; predicts like the pipeline it wraps.

    Parameters
    ----------
    pipeline : estimator
        A fitted classifier with ``predict_proba`` over emotion labels.
    metadata_json : str
        The metadata as JSON (see :mod:`annotator.train`); a string so the skops
        file holds no type beyond the ones the project trusts.
    """

    def __init__(self, pipeline: Any = None, metadata_json: str = "{}"):
        self.pipeline = pipeline
        self.metadata_json = metadata_json

    def fit(self, X, y):
        """Fit the wrapped pipeline (training normally builds the model already fitted)."""
        self.pipeline.fit(X, y)
        return self

    @property
    def metadata(self) -> dict[str, Any]:
        return json.loads(self.metadata_json)

    @property
    def classes_(self) -> np.ndarray:
        return self.pipeline.classes_

    @property
    def n_features_in_(self) -> int:
        return int(self.pipeline.n_features_in_)

    @property
    def model_id(self) -> str:
        """``emotion-<12 hex of the weights digest>``: the ``source`` its proposals carry."""
        return str(self.metadata.get("id", "emotion-unknown"))

    def predict_proba(self, X) -> np.ndarray:
        return self.pipeline.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.pipeline.predict(X)


def make_model(pipeline: Any, metadata: dict[str, Any]) -> EmotionModel:
    """Wrap a fitted ``pipeline`` with ``metadata``, adding its weights digest and id."""
    digest = weights_digest(pipeline)
    meta = {"format": MODEL_FORMAT, **metadata, "weights_sha256": digest, "id": f"emotion-{digest[:12]}"}
    return EmotionModel(pipeline, json.dumps(meta, sort_keys=True))


def read_model_info(schema: dict) -> dict[str, Any] | None:
    """The metadata of an :class:`EmotionModel` from a skops ``schema.json``, constructing nothing.

    ``None`` when the file is not an EmotionModel (a bare pipeline) or names no metadata.
    """
    if schema.get("__class__") != "EmotionModel":
        return None
    node = schema.get("content", {}).get("content", {}).get("metadata_json")
    if not isinstance(node, dict) or node.get("__loader__") != "JsonNode":
        return None
    try:
        text = json.loads(node["content"])
        meta = json.loads(text)
    except (KeyError, TypeError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None
