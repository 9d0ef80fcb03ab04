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

**The prior in the model.** With few examples per class a learnt classifier
is worse than the EMFACS rules it should improve on, so the model can blend
the two: ``metadata["prior_blend"] = {"weight": w, "temperature": T}`` makes
:meth:`EmotionModel.predict_proba` return ``(1 - w) * pipeline + w * rules``
over the union of their labels (the rules' own seven emotions and ``other``).
Training chooses ``w`` by cross-validation over subjects
(:func:`annotator.train.fit.choose_prior_weight`); a model without the key (or
``w = 0``) is the pipeline alone, as before.
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
    def n_features_in_(self) -> int:
        return int(self.pipeline.n_features_in_)

    @property
    def model_id(self) -> str:
        """``emotion-<12 hex of the weights digest>``: the ``source`` its proposals carry."""
        return str(self.metadata.get("id", "emotion-unknown"))

    def _blend(self) -> tuple[float, float, tuple[str, ...]]:
        meta = self.metadata
        blend = meta.get("prior_blend") or {}
        return float(blend.get("weight", 0.0)), float(blend.get("temperature", 1.0)), tuple(meta.get("channels", ()))

    @property
    def classes_(self) -> np.ndarray:
        """The pipeline's labels, or the blend's (with the rules' labels) when the prior has weight."""
        weight, _, _ = self._blend()
        own = self.pipeline.classes_
        if weight <= 0:
            return own
        return blend_labels(own)

    def predict_proba(self, X) -> np.ndarray:
        weight, temperature, channels = self._blend()
        if weight <= 0:
            return self.pipeline.predict_proba(X)
        return blend_probabilities(self.pipeline.predict_proba(X), self.pipeline.classes_,
                                   prior_probabilities(X, channels, temperature), weight)

    def predict(self, X) -> np.ndarray:
        if self._blend()[0] <= 0:
            return self.pipeline.predict(X)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def prior_probabilities(X, channels: tuple[str, ...], temperature: float) -> np.ndarray:
    """The EMFACS rules' probabilities ``[K, 8]`` over ``PROPOSAL_LABELS`` for apex patterns ``X``."""
    from ..features.expression import activations_from_z, emfacs_degrees, emotion_distribution

    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    return emotion_distribution(emfacs_degrees(activations_from_z(X, channels)), temperature)


def blend_labels(own) -> np.ndarray:
    """The labels of a blend: the pipeline's and the rules', sorted."""
    from ..features.expression import PROPOSAL_LABELS

    return np.array(sorted({str(c) for c in own} | set(PROPOSAL_LABELS)), dtype=object)


def blend_probabilities(own: np.ndarray, own_classes, prior: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * own + weight * prior``, both spread over :func:`blend_labels`."""
    from ..features.expression import PROPOSAL_LABELS

    labels = list(blend_labels(own_classes))
    out = np.zeros((len(own), len(labels)))
    for k, c in enumerate(own_classes):
        out[:, labels.index(str(c))] += (1.0 - weight) * own[:, k]
    for k, c in enumerate(PROPOSAL_LABELS):
        out[:, labels.index(c)] += weight * prior[:, k]
    return out


def make_model(pipeline: Any, metadata: dict[str, Any]) -> EmotionModel:
    """Wrap a fitted ``pipeline`` with ``metadata``, adding its weights digest and id."""
    digest = weights_digest(pipeline)
    ident = digest
    if (metadata.get("prior_blend") or {}).get("weight"):  # the same weights blended otherwise are another model
        ident = hashlib.sha256(f"{digest}{json.dumps(metadata['prior_blend'], sort_keys=True)}".encode()).hexdigest()
    meta = {"format": MODEL_FORMAT, **metadata, "weights_sha256": digest, "id": f"emotion-{ident[:12]}"}
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
