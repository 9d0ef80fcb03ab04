"""Fitting the emotion pipeline and the spotter, and their leave-one-subject-out evaluation.

The emotion pipeline is a ``StandardScaler`` and a class-balanced
``LogisticRegression`` over the apex features: small, fast (1,000 examples with
LOSO in seconds), and made only of types the model loader trusts.

With a few examples per class that pipeline is worse than the EMFACS rules it
should improve on (one example of an emotion teaches nothing; an emotion never
seen is never predicted), so the model blends it with the rules:
``(1 - w) * pipeline + w * rules``, with ``w`` chosen by cross-validation over the
training subjects (:func:`choose_prior_weight`; ties go to the prior).  With fewer
than two subjects (the common *Retrain now* on one corrected session) the folds
are the subject's own clusters of neighbouring events instead
(:func:`~annotator.train.examples.event_clusters`), when there are at least two
emotions with two examples each; otherwise ``w = 1``, said in ``chosen_by``.
The spotter's calibration is kept the same way only where held-out subjects (or,
for one subject, held-out sessions) confirm it (:func:`fit_spotter_checked`).
In the LOSO evaluation both choices are made again inside each fold, on the
training subjects alone.

The scores follow the recognition protocol of MEGC 2019 (see REFERENCE.md):
UF1 is the mean over classes of F1 with TP/FP/FN summed over the folds, UAR the
mean per-class recall, both for the seven emotions and for the composite three
classes (negative/positive/surprise).  The composite is read off the 7-class
predictions, mapped the same way as the truth.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import AnnotatorError
from ..features.aus import FEATURE_VERSION
from ..labels import EMOTIONS
from ..spotting.calibrate import counted
from ..spotting.emotion_model import EmotionModel, make_model
from ..spotting.spotter import SPOTTER_ID, SPOTTER_VERSION, Spotter
from .examples import TrainingSet

#: MEGC 2019's composite classes (``repression`` has no counterpart among ours).
COMPOSITE: dict[str, str] = {
    "joy": "positive", "surprise": "surprise",
    "anger": "negative", "contempt": "negative", "disgust": "negative", "fear": "negative", "sadness": "negative",
}
COMPOSITE_CLASSES: tuple[str, ...] = ("negative", "positive", "surprise")
#: The fitted attributes of :class:`~annotator.spotting.spotter.Spotter` a model carries.
SPOTTER_FITTED = ("threshold_", "temperature_", "confidence_slope_", "confidence_offset_", "train_f1_")


def emotion_pipeline(seed: int = 0):
    """A fresh scaler + class-balanced logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000,
                                                              random_state=seed))


def loso_folds(groups: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(subject, train_index, test_index)`` per subject: each subject held out once."""
    groups = np.asarray(groups, dtype=object)
    out = []
    for subject in sorted(set(groups.tolist())):
        test = np.flatnonzero(groups == subject)
        train = np.flatnonzero(groups != subject)
        out.append((str(subject), train, test))
    return out


def uf1_uar(truth, pred, classes) -> dict[str, Any]:
    """UF1, UAR and per-class F1/recall over ``classes`` that have truth samples (counts pooled)."""
    truth, pred = np.asarray(truth, dtype=object), np.asarray(pred, dtype=object)
    f1s, recalls, per = [], [], {}
    for c in classes:
        tp = int(np.sum((truth == c) & (pred == c)))
        fp = int(np.sum((truth != c) & (pred == c)))
        fn = int(np.sum((truth == c) & (pred != c)))
        if tp + fn == 0:
            continue  # no truth sample: neither F1 nor recall is defined
        f1 = 2 * tp / (2 * tp + fp + fn)
        recall = tp / (tp + fn)
        f1s.append(f1)
        recalls.append(recall)
        per[c] = {"f1": round(f1, 4), "recall": round(recall, 4), "n": tp + fn}
    return {
        "uf1": round(float(np.mean(f1s)), 4) if f1s else None,
        "uar": round(float(np.mean(recalls)), 4) if recalls else None,
        "accuracy": round(float(np.mean(truth == pred)), 4) if len(truth) else None,
        "n": int(len(truth)),
        "classes": per,
    }


def confusion(truth, pred, classes) -> list[list[int]]:
    """Counts ``[truth][predicted]`` over ``classes``."""
    index = {c: i for i, c in enumerate(classes)}
    m = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(truth, pred, strict=True):
        if t in index and p in index:
            m[index[t], index[p]] += 1
    return m.tolist()


#: The blend weights of the rules that training tries (0: the pipeline alone; 1: the rules alone).
PRIOR_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Inner folds for choosing the blend: leave-one-subject-out up to ``INNER_LOSO`` subjects (where the
#: choice matters most), else ``INNER_FOLDS`` grouped folds (1,000 examples of 20 subjects: LOSO with
#: the inner choice in about 30 s on 2 loaded cores, against 50 s with 5 folds).
INNER_LOSO, INNER_FOLDS = 5, 3


def prior_temperature() -> float:
    return float(Spotter().temperature)


def _own_probabilities(model, constant, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities, classes)`` of a fitted pipeline, or of the one-class stand-in."""
    if model is None:
        return np.ones((len(X), 1)), np.array([constant], dtype=object)
    return model.predict_proba(X), model.classes_


def blended_predictions(model, constant, X: np.ndarray, channels, weight: float) -> np.ndarray:
    """The labels the blend of ``model`` (or the constant) with the rules at ``weight`` predicts."""
    from ..spotting.emotion_model import blend_labels, blend_probabilities, prior_probabilities

    own, classes = _own_probabilities(model, constant, X)
    if len(X) == 0:
        return np.empty(0, dtype=object)
    probs = blend_probabilities(own, classes, prior_probabilities(X, tuple(channels), prior_temperature()), weight)
    return blend_labels(classes)[probs.argmax(axis=1)]


def choose_prior_weight(X: np.ndarray, y: np.ndarray, groups: np.ndarray, channels, seed: int = 0,
                        within: np.ndarray | None = None) -> tuple[float, dict[str, Any]]:
    """The blend weight of the rules with the most right answers on held-out data.

    Grouped folds over ``groups`` (leave-one-subject-out up to :data:`INNER_LOSO`
    subjects, else :data:`INNER_FOLDS` folds), each weight of :data:`PRIOR_WEIGHTS`
    scored on the same folds; a tie goes to the larger weight (the prior, which
    needs no data).  With fewer than two subjects the folds are ``within``, each
    example's cluster of neighbouring events in its session (so an event and its
    neighbour are never on both sides), provided there are at least two such
    clusters and two emotions with two examples each; otherwise the answer is the
    prior (``1.0``) and the reason says why.
    """
    from sklearn.model_selection import GroupKFold

    subjects = sorted(set(np.asarray(groups, dtype=object).tolist()))
    protocol = "subjects"
    if len(subjects) < 2:
        ok, why = _within_ready(y, within)
        if not ok:
            return 1.0, {"reason": f"{len(subjects)} subject(s), {why}: the rules decide"}
        groups, protocol = np.asarray(within, dtype=object), "events within the subject"
    units = len(set(groups.tolist()))
    right = dict.fromkeys(PRIOR_WEIGHTS, 0)
    folds = GroupKFold(n_splits=units if units <= INNER_LOSO else INNER_FOLDS)
    for train, test in folds.split(X, y, groups):
        model, constant = _fit_or_constant(X[train], y[train], seed)
        for w in PRIOR_WEIGHTS:
            right[w] += int(np.sum(blended_predictions(model, constant, X[test], channels, w) == y[test]))
    best = max(PRIOR_WEIGHTS, key=lambda w: (right[w], w))
    return best, {"right": {str(w): right[w] for w in PRIOR_WEIGHTS}, "n": int(len(y)),
                  "folds": int(folds.get_n_splits()), "over": protocol}


def _within_ready(y: np.ndarray, within: np.ndarray | None) -> tuple[bool, str]:
    """Whether one subject's examples can validate the blend: two clusters, two emotions of two examples."""
    if within is None or len(within) != len(y):
        return False, "no event times to cross-validate within"
    counts = {c: int(np.sum(y == c)) for c in set(y.tolist())}
    enough = sorted(c for c, n in counts.items() if n >= 2)
    if len(enough) < 2:
        return False, f"fewer than two emotions with two reviewed examples each ({counts or 'none'})"
    if len(set(np.asarray(within, dtype=object).tolist())) < 2:
        return False, "one cluster of neighbouring events"
    return True, ""


def _fit_or_constant(X, y, seed):
    """The pipeline fitted on ``(X, y)``; with one class only, a stand-in that always says it."""
    classes = sorted(set(y.tolist()))
    if len(classes) == 1:
        return None, classes[0]
    return emotion_pipeline(seed).fit(X, y), None


def prior_emotions(X: np.ndarray, channels: tuple[str, ...]) -> np.ndarray:
    """What the EMFACS rules (the prototype prior, uncalibrated) say for each apex pattern."""
    from ..features.expression import PROPOSAL_LABELS

    if len(X) == 0:
        return np.empty(0, dtype=object)
    probs = Spotter().emotion_probabilities(X, channels)
    return np.array([PROPOSAL_LABELS[i] for i in probs.argmax(axis=1)], dtype=object)


@dataclass
class Evaluation:
    """LOSO scores of a training set."""

    folds: list[dict] = field(default_factory=list)
    emotion_7: dict = field(default_factory=dict)
    emotion_3: dict = field(default_factory=dict)
    prior_7: dict = field(default_factory=dict)
    prior_3: dict = field(default_factory=dict)
    learnt_7: dict = field(default_factory=dict)  # the pipeline alone, without the rules' blend
    confusion_7: list = field(default_factory=list)
    confusion_3: list = field(default_factory=list)
    spotting_prior_f1: float | None = None
    spotting_calibrated_f1: float | None = None
    seconds: float = 0.0

    def scores(self) -> dict[str, Any]:
        """The figures a model file records."""
        return {
            "protocol": "leave-one-subject-out",
            "emotion_7": {k: self.emotion_7.get(k) for k in ("uf1", "uar", "accuracy", "n")},
            "emotion_3": {k: self.emotion_3.get(k) for k in ("uf1", "uar", "accuracy", "n")},
            "prior_emotion_7": {k: self.prior_7.get(k) for k in ("uf1", "uar", "accuracy", "n")},
            "learnt_emotion_7": {k: self.learnt_7.get(k) for k in ("uf1", "uar", "accuracy", "n")},
            "spotting_f1_prior": self.spotting_prior_f1,
            "spotting_f1_calibrated": self.spotting_calibrated_f1,
        }


def _pooled_f1(truths: dict, preds: dict) -> float | None:
    from ..spotting.metrics import evaluate

    f1 = evaluate(truths, preds)["all"].f1
    return None if f1 is None else round(float(f1), 4)


def evaluate_loso(data: TrainingSet, *, seed: int = 0, spotting: bool = True) -> Evaluation:
    """Leave-one-subject-out scores of the emotion pipeline and the spotter calibration."""
    subjects = data.subjects
    if len(subjects) < 2:
        raise AnnotatorError(
            data.sessions[0].session.root if data.sessions else None,
            f"leave-one-subject-out needs at least two subjects, the data has {len(subjects)}"
            f" ({', '.join(subjects)}); add subjects or pass --no-eval",
        )
    t0 = time.perf_counter()
    ev = Evaluation()
    pred = np.empty(len(data.y), dtype=object)
    learnt = np.empty(len(data.y), dtype=object)
    for subject, train, test in loso_folds(data.groups):
        if len(test) == 0:
            continue
        fold = {"subject": subject, "n_train": int(len(train)), "n_test": int(len(test))}
        if len(train) == 0:
            pred[test] = prior_emotions(data.X[test], data.channels)  # nothing to learn from: the rules
            learnt[test] = "other"
            fold["note"] = "no training examples"
            fold["prior_weight"] = 1.0
        else:
            model, constant = _fit_or_constant(data.X[train], data.y[train], seed)
            learnt[test] = constant if model is None else model.predict(data.X[test])
            weight, _ = choose_prior_weight(data.X[train], data.y[train], data.groups[train], data.channels, seed,
                                            within=None if data.within is None else data.within[train])
            pred[test] = blended_predictions(model, constant, data.X[test], data.channels, weight)
            fold["prior_weight"] = weight
            if model is None:
                fold["note"] = f"one training class ({constant})"
        fold["accuracy"] = round(float(np.mean(pred[test] == data.y[test])), 4)
        ev.folds.append(fold)
    for subject in subjects:  # subjects with sessions but no emotion examples still count for spotting
        if not any(f["subject"] == subject for f in ev.folds):
            ev.folds.append({"subject": subject, "n_train": int(len(data.y)), "n_test": 0})
    prior = prior_emotions(data.X, data.channels)
    y3 = np.array([COMPOSITE.get(v, v) for v in data.y], dtype=object)
    ev.emotion_7 = uf1_uar(data.y, pred, EMOTIONS)
    ev.emotion_3 = uf1_uar(y3, [COMPOSITE.get(v, v) for v in pred], COMPOSITE_CLASSES)
    ev.prior_7 = uf1_uar(data.y, prior, EMOTIONS)
    ev.prior_3 = uf1_uar(y3, [COMPOSITE.get(v, v) for v in prior], COMPOSITE_CLASSES)
    ev.learnt_7 = uf1_uar(data.y, learnt, EMOTIONS)
    ev.confusion_7 = confusion(data.y, pred, EMOTIONS)
    ev.confusion_3 = confusion(y3, [COMPOSITE.get(v, v) for v in pred], COMPOSITE_CLASSES)
    if spotting:
        ev.spotting_prior_f1, ev.spotting_calibrated_f1 = spotting_loso(data)
    ev.seconds = round(time.perf_counter() - t0, 3)
    return ev


def spotting_loso(data: TrainingSet) -> tuple[float | None, float | None]:
    """Pooled MEGC F1 on each held-out subject: the prior spotter, then one calibrated on the others."""
    truths, prior, calibrated = {}, {}, {}
    by_subject: dict[str, list[int]] = {}
    for i, s in enumerate(data.sessions):
        by_subject.setdefault(s.subject, []).append(i)
    base = Spotter()
    for held in by_subject.values():
        rest = [i for i in range(len(data.sessions)) if i not in held]
        spotter, _ = fit_spotter_checked(data, rest)
        for i in held:
            s = data.sessions[i]
            truths[i] = s.positives
            prior[i] = _scored(s, base.spot(s.features))
            calibrated[i] = _scored(s, spotter.spot(s.features))
    return _pooled_f1(truths, prior), _pooled_f1(truths, calibrated)


def fit_spotter(data: TrainingSet, index: list[int] | None = None) -> Spotter:
    """``Spotter.fit`` on the sessions ``index`` (all by default): accepted and edited are truth, rejected are not."""
    index = list(range(len(data.sessions))) if index is None else index
    spotter = Spotter()
    if not index:
        return spotter
    return spotter.fit([data.sessions[i].features for i in index], [data.sessions[i].segments for i in index],
                       [data.sessions[i].reviewed for i in index])


def _scored(s, proposals):
    """The proposals of session examples ``s`` that its coder's review can judge (:func:`counted`)."""
    return counted(s.positives, proposals, s.reviewed)


def fit_spotter_checked(data: TrainingSet, index: list[int] | None = None):
    """``(spotter, why)``: the calibration on sessions ``index``, kept only where held-out subjects confirm it.

    Each subject of ``index`` is held out in turn, and the calibration from the others
    scored on it against the prior (pooled MEGC F1, on the reviewed part of each session):

    * worse held out: the prior is kept;
    * better held out: the calibration is kept;
    * the same held out (the usual case when only one subject shows what the prior
      misses, so no other subject can predict it): the calibration is kept only if it
      added no false positive on any held-out session and it finds the training
      sessions' events better than the prior does.  The other subjects' negatives
      (stills, speech, head motion) are then the test that a lower threshold costs nothing.

    With one subject its sessions are held out in turn instead; with one session there
    is nothing to check on (the calibration's threshold is fitted on the whole session,
    so halves of it would not be independent), and the prior is kept.
    """
    index = list(range(len(data.sessions))) if index is None else list(index)
    by_subject: dict[str, list[int]] = {}
    for i in index:
        by_subject.setdefault(data.sessions[i].subject, []).append(i)
    if len(by_subject) < 2 and len(index) >= 2:
        by_subject = {str(i): [i] for i in index}  # one subject: each session held out in turn
    elif len(by_subject) < 2:
        return Spotter(), (f"{len(by_subject)} subject(s), {len(index)} session(s): the calibration cannot be"
                           " checked, the prior is kept")
    base = Spotter()
    truths, prior, calibrated = {}, {}, {}
    for held in by_subject.values():
        spotter = fit_spotter(data, [i for i in index if i not in held])
        for i in held:
            s = data.sessions[i]
            truths[i] = s.positives
            prior[i], calibrated[i] = _scored(s, base.spot(s.features)), _scored(s, spotter.spot(s.features))
    f0, f1 = _pooled_f1(truths, prior), _pooled_f1(truths, calibrated)
    said = f"held-out F1 {f1} calibrated vs {f0} prior"
    if f0 is None or f1 is None or f1 < f0:
        return base, f"{said}: the prior is kept"
    full = fit_spotter(data, index)
    if f1 > f0:
        return full, f"{said}: calibrated"
    added = sum(_false_positives(truths[i], calibrated[i]) > _false_positives(truths[i], prior[i]) for i in truths)
    if added:
        return base, f"{said}, {added} held-out session(s) with more false positives: the prior is kept"
    trained = round(float(full.train_f1_), 4)  # every session is held out once: f0 is the prior's on them all
    if trained <= f0:
        return base, f"{said}, no gain on the training sessions either: the prior is kept"
    return full, f"{said}, no held-out false positive added, training F1 {trained} calibrated vs {f0} prior: calibrated"


def _false_positives(truth, proposals) -> int:
    from ..spotting.metrics import match

    return len(proposals) - len(match(truth, proposals))


def train_model(data: TrainingSet, *, seed: int = 0, evaluation: Evaluation | None = None,
                extra: dict[str, Any] | None = None) -> EmotionModel:
    """The emotion pipeline and the spotter calibration fitted on all of ``data``, with its metadata."""
    from .. import __version__ as annotator_version
    from ..labels.model import now_iso

    classes = sorted(set(data.y.tolist()))
    if len(classes) < 2:
        found = classes[0] if classes else "none"
        raise AnnotatorError(
            data.sessions[0].session.root if data.sessions else None,
            f"an emotion model needs examples of at least two emotions, the labels have {found}",
        )
    from ..spotting.emotion_model import blend_labels

    pipeline = emotion_pipeline(seed).fit(data.X, data.y)
    weight, why = choose_prior_weight(data.X, data.y, data.groups, data.channels, seed, within=data.within)
    spotter, spotter_choice = fit_spotter_checked(data)
    counts = {c: int(np.sum(data.y == c)) for c in classes}
    meta = {
        "feature_version": FEATURE_VERSION,
        "channels": list(data.channels),
        "spotter": f"{SPOTTER_ID}/{SPOTTER_VERSION}",
        # what the model predicts: the blend adds the rules' labels to the learnt ones
        "labels": [str(c) for c in (blend_labels(classes) if weight > 0 else classes)],
        "examples": counts,
        "rejected": data.n_rejected,
        "data_sha256": data.data_sha256(),
        "subjects": data.subjects,
        "sessions": [{"name": s.session.name, "sha256": s.session.sha256, "subject": s.subject, "coder": s.coder}
                     for s in data.sessions],
        "spotter_calibration": {k: getattr(spotter, k) for k in SPOTTER_FITTED if hasattr(spotter, k)},
        "spotter_choice": spotter_choice,
        "prior_blend": {"weight": weight, "temperature": prior_temperature(), "chosen_by": why},
        "scores": evaluation.scores() if evaluation is not None else None,
        "created": now_iso(),
        "annotator": annotator_version,
        "seed": seed,
        **(extra or {}),
    }
    return make_model(pipeline, meta)
