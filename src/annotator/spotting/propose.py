"""``annotator propose``: spot expressions in a session's tracks and write ``labels/auto.json``."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from ..errors import AnnotatorError, ModelError, SessionError
from ..features import features_from_tracks
from ..io import atomic_write_json
from ..labels import AUTO_CODER, EMOTION_LABELS, Labels, Segment, validate_labels
from ..locks import PROPOSE, TRACK, session_lock
from ..session import Session
from .emotion_model import EmotionModel, weights_digest
from .spotter import Spotter, apex_features

#: Every node a skops file of our own emotion model holds, as ``(type, skops loader)``.
#:
#: Derived by saving freshly fitted models with ``skops.io.dump`` and listing every
#: ``__module__.__class__`` / ``__loader__`` in the file's ``schema.json``: a
#: ``StandardScaler`` + ``LogisticRegression`` pipeline (what training makes) and a bare
#: ``LogisticRegression`` (what ``propose --model`` has always taken).
#: ``annotator train`` wraps its pipeline in an :class:`~.emotion_model.EmotionModel`
#: (the pipeline plus a JSON string of metadata), which adds exactly that one type.
#: ``tests/test_faults.py`` regenerates it from such models, so it cannot drift.
#:
#: ``skops.io.get_untrusted_types`` reports nothing at all for these models, since skops
#: trusts every scikit-learn estimator by default; but one of those,
#: ``FunctionTransformer``, calls whatever function the file names (``eval`` included).
#: So a file is loaded only when *every* node in it is on this list, matched exactly,
#: nothing by prefix.
TRUSTED_MODEL_NODES: frozenset[tuple[str, str]] = frozenset({
    ("builtins.dict", "DictNode"),
    ("builtins.list", "ListNode"),
    ("builtins.str", "JsonNode"),
    ("builtins.str", "TypeNode"),
    ("builtins.tuple", "TupleNode"),
    ("annotator.spotting.emotion_model.EmotionModel", "ObjectNode"),
    ("numpy.float64", "NdArrayNode"),
    ("numpy.ndarray", "NdArrayNode"),
    ("sklearn.linear_model._logistic.LogisticRegression", "ObjectNode"),
    ("sklearn.pipeline.Pipeline", "ObjectNode"),
    ("sklearn.preprocessing._data.StandardScaler", "ObjectNode"),
})


def model_file_nodes(path: str | os.PathLike) -> set[tuple[str, str]]:
    """Every ``(type, loader)`` node named in a skops file's ``schema.json``.

    Reads the file's description only; nothing in it is constructed or called.

    Raises
    ------
    ModelError
        When ``path`` is not a readable skops file (a pickle, a damaged zip, ...).
    """
    import json
    import zipfile

    def walk(node):
        if isinstance(node, dict):
            if "__class__" in node or "__module__" in node:
                yield (f"{node.get('__module__')}.{node.get('__class__')}", str(node.get("__loader__")))
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError) as exc:
        raise ModelError(path, f"not a skops model file ({exc.__class__.__name__}); save it with skops.io.dump") from None
    return set(walk(schema))


def load_emotion_model(path: str | os.PathLike):
    """A scikit-learn classifier saved with skops, checked to be safe and fitting.

    The file is loaded only when every object in it is one of
    :data:`TRUSTED_MODEL_NODES` (what our own models contain); anything else is
    refused before it is constructed, let alone called.  The classifier must
    predict probabilities over annotator's emotion labels.

    Raises
    ------
    ModelError
        One line naming the file and what is wrong with it.
    """
    import numpy as np
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ModelError(path, "no such model file")
    foreign = sorted(t for t, loader in model_file_nodes(path) - TRUSTED_MODEL_NODES)
    if foreign:
        raise ModelError(
            path, f"refusing to load {foreign[0]}: an emotion model holds only a scaler and a logistic regression"
        )
    info = model_file_info(path)
    try:
        # every node is on our list, so whatever skops still calls untrusted is ours to trust
        model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    except Exception as exc:  # noqa: BLE001 - a damaged archive fails in many ways inside skops/numpy
        raise ModelError(path, f"damaged skops model file ({exc.__class__.__name__})") from None
    if isinstance(model, EmotionModel):
        _check_trained_model(path, model, info)
    classes = getattr(model, "classes_", None)
    n_features = getattr(model, "n_features_in_", None)
    if not hasattr(model, "predict_proba") or classes is None or n_features is None:
        raise ModelError(path, "model has no predict_proba/classes_ (expected a fitted classifier)")
    unknown = [str(c) for c in classes if str(c) not in EMOTION_LABELS]
    if unknown:
        raise ModelError(path, f"predicts {unknown[0]!r}, not one of {', '.join(EMOTION_LABELS)}")
    try:
        probs = model.predict_proba(np.zeros((1, int(n_features))))
    except Exception as exc:  # noqa: BLE001 - a fitted model with damaged coefficients
        raise ModelError(path, f"model fails to predict ({exc.__class__.__name__}); retrain it") from None
    if probs.shape != (1, len(classes)) or not np.all(np.isfinite(probs)):
        raise ModelError(path, "model predicts no valid probabilities; retrain it")
    return model

def model_file_info(path: str | os.PathLike) -> dict | None:
    """The metadata ``annotator train`` recorded in a model file, read without loading it.

    ``None`` for a bare scikit-learn model (no metadata).  Raises :class:`ModelError`
    when the file is no skops file.
    """
    import json
    import zipfile

    from .emotion_model import read_model_info

    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, OSError) as exc:
        raise ModelError(path, f"not a skops model file ({exc.__class__.__name__})") from None
    return read_model_info(schema) if isinstance(schema, dict) else None


def _check_trained_model(path: Path, model: EmotionModel, info: dict | None) -> None:
    """A trained model fits this annotator: its features, its channels, and weights untouched since training."""
    from ..features.aus import CHANNELS, FEATURE_VERSION

    try:
        meta = model.metadata
    except ValueError:
        raise ModelError(path, "damaged model metadata (not JSON); retrain it with `annotator train`") from None
    if not isinstance(meta, dict) or meta != info:
        raise ModelError(path, "damaged model metadata; retrain it with `annotator train`")
    version = meta.get("feature_version")
    if version != FEATURE_VERSION:
        raise ModelError(
            path, f"trained on feature version {version}, this annotator computes version {FEATURE_VERSION};"
            " retrain it with `annotator train`",
        )
    if list(meta.get("channels") or []) != list(CHANNELS) or model.n_features_in_ != len(CHANNELS):
        raise ModelError(path, "trained on other AU channels than this annotator computes; retrain it")
    if meta.get("weights_sha256") != weights_digest(model.pipeline):
        raise ModelError(path, "tampered: its weights differ from the ones recorded at training; retrain it")


def spotter_for(clf) -> Spotter:
    """The spotter a model asks for: the prior, with the calibration ``annotator train`` recorded."""
    spotter = Spotter()
    if isinstance(clf, EmotionModel):
        for name, value in (clf.metadata.get("spotter_calibration") or {}).items():
            if name in ("threshold_", "temperature_", "confidence_slope_", "confidence_offset_", "train_f1_"):
                setattr(spotter, name, float(value))
    return spotter


def model_source(clf, model: str | os.PathLike) -> str:
    """What a model's proposals name as their source: a trained model's id, else the file name."""
    return clf.model_id if isinstance(clf, EmotionModel) else Path(model).name


def describe_proposer(segments) -> str:
    """Which spotter and model made these proposals, for a status line: ``"annotator-spotter/3 + emotion-ab12…"``.

    The prototype prior (no model) says so; proposals from several runs list each.
    """
    names = []
    for source in dict.fromkeys(s.source for s in segments if s.source):
        spotter, _, model = source.partition("+")
        names.append(f"{spotter} + model {model}" if model else f"{spotter} (prototype prior)")
    return "; ".join(names) if names else "none"


def _holding_session_locks(func):
    """Hold the session's tracking lock (its tracks are read) and proposing lock (auto.json is written)."""

    @functools.wraps(func)
    def wrapper(session, *args, **kwargs):
        with session_lock(session.root, TRACK), session_lock(session.root, PROPOSE):
            return func(session, *args, **kwargs)

    return wrapper


@_holding_session_locks
def propose(session: Session, *, model: str | os.PathLike | None = None, spotter: Spotter | None = None) -> Labels:
    """Spot the session's tracks and replace ``labels/auto.json`` atomically.

    Coders' files are never touched.
    """
    from ..tracking.store import load_tracks

    clf = load_emotion_model(model) if model is not None else None  # a bad file fails before any work
    tracks = load_tracks(session)
    if not tracks.complete:
        raise SessionError(session.tracks_path, "tracks are incomplete; rerun `annotator track` to finish them")
    spotter = spotter or spotter_for(clf)
    features = features_from_tracks(tracks)
    z, e = spotter.evidence(features)
    if clf is not None:
        n = apex_features(z, [(0, 0, 0)]).shape[1] if len(z) else len(features.channels)
        if n != getattr(clf, "n_features_in_", n):  # the features the model trained on
            raise AnnotatorError(model, f"expects {clf.n_features_in_} features, the spotter gives {n}")
    segments = spotter.spot_evidence(features, z, e, classifier=clf)
    for seg in segments:  # ids name the event (spotter and frames), not the model or the emotion
        seg.id = proposal_id(session.sha256, spotter.source, seg.onset, seg.apex, seg.offset)
    if clf is not None:
        for seg in segments:
            seg.source = f"{spotter.source}+{model_source(clf, model)}"
            seg.validate()
    segments = merge_reviewed(segments, _previous_proposals(session), _reviewed_ids(session))
    labels = Labels(coder=AUTO_CODER, video=session.video_ref(), segments=segments,
                    micro_max_seconds=spotter.micro_max_seconds)
    # Unreviewed proposals are regenerated whole, so an old auto.json is replaced even
    # when it is stale or damaged; a coder's file is never involved.
    validate_labels(labels, session.labels_path(AUTO_CODER), frames=session.n_frames)
    atomic_write_json(session.labels_path(AUTO_CODER), labels.to_dict())
    return labels


# -- stable ids, and what re-proposing keeps ------------------------------------------
def proposal_id(video_sha256: str, spotter: str, onset: int, apex: int, offset: int) -> str:
    """The id of a proposal: the same video, spotter (id/version) and frames give the same id.

    A coder's copy of an accepted or rejected proposal keeps the proposal's id
    (see :mod:`annotator.labels.editor`), so a re-run that finds the same event
    finds it already reviewed.
    """
    key = f"{video_sha256}\0{spotter}\0{int(onset)}\0{int(apex)}\0{int(offset)}"
    return "p" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:15]


def merge_reviewed(fresh: list[Segment], previous: list[Segment], reviewed: set[str]) -> list[Segment]:
    """The proposals to write: every reviewed one kept, the untouched ones replaced.

    Parameters
    ----------
    fresh : list of Segment
        This run's proposals.
    previous : list of Segment
        The proposals in the old ``auto.json``.
    reviewed : set of str
        Ids some coder has accepted, edited or rejected (their copies keep the id).

    Returns
    -------
    list of Segment
        The previous proposals some coder reviewed, unchanged (their copies point to
        them), plus each fresh proposal that is neither one of those nor the same
        event (IoU ≥ :data:`~annotator.spotting.metrics.IOU_THRESHOLD`, the MEGC
        criterion), so no event is offered twice.
    """
    from .metrics import IOU_THRESHOLD, interval_iou

    kept = [p for p in previous if p.id in reviewed]
    kept_ids = {p.id for p in kept}
    out = list(kept)
    for seg in fresh:
        if seg.id in kept_ids:
            continue
        if any(interval_iou((seg.onset, seg.offset), (k.onset, k.offset)) >= IOU_THRESHOLD for k in kept):
            continue
        out.append(seg)
    return out


def _previous_proposals(session: Session) -> list[Segment]:
    """The old ``auto.json``'s proposals; a damaged or foreign one counts as none (it is replaced)."""
    if not session.has_labels(AUTO_CODER):
        return []
    try:
        return session.load_labels(AUTO_CODER).segments
    except AnnotatorError:
        return []


def _reviewed_ids(session: Session) -> set[str]:
    """Ids in every coder's file; a damaged coder file stops the run rather than be ignored."""
    ids: set[str] = set()
    for coder in session.coders():
        ids.update(s.id for s in session.load_labels(coder).segments)
    return ids
