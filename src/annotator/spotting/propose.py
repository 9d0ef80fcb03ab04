"""``annotator propose``: spot expressions in a session's tracks and write ``labels/auto.json``."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from ..errors import AnnotatorError, SessionError
from ..features import features_from_tracks
from ..io import atomic_write_json
from ..labels import Labels, validate_labels_dict
from ..labels import AUTO_CODER
from ..locks import PROPOSE, TRACK, session_lock
from ..session import Session
from .spotter import Spotter, apex_features

def load_emotion_model(path: str | os.PathLike):
    """A scikit-learn classifier saved with skops, checked to be safe and fitting.

    Only types from numpy, scipy and scikit-learn are trusted; anything else
    in the file is refused rather than executed.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise AnnotatorError(path, "no such model file")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises many kinds on foreign files
        raise AnnotatorError(path, f"not a skops model file ({exc.__class__.__name__})") from None
    bad = [t for t in untrusted if not t.startswith(("sklearn.", "numpy.", "scipy.", "builtins."))]
    if bad:
        raise AnnotatorError(path, f"refusing to load untrusted type {bad[0]}")
    model = sio.load(path, trusted=untrusted)
    if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
        raise AnnotatorError(path, "model has no predict_proba/classes_ (expected a fitted classifier)")
    return model

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
    spotter = spotter or Spotter()
    features = features_from_tracks(tracks)
    z, e = spotter.evidence(features)
    segments = spotter.spot_evidence(features, z, e)
    if clf is not None:
        for seg in segments:
            x = apex_features(z, [(seg.onset, seg.apex, seg.offset)])  # the features the model trained on
            if x.shape[1] != getattr(clf, "n_features_in_", x.shape[1]):
                raise AnnotatorError(model, f"expects {clf.n_features_in_} features, the spotter gives {x.shape[1]}")
            probs = clf.predict_proba(x)[0]
            scores = {str(c): round(float(p), 4) for c, p in zip(clf.classes_, probs)}
            seg.emotion_scores = {k: v for k, v in scores.items()}
            seg.emotion = max(scores, key=scores.get)
            seg.source = f"{spotter.source}+{Path(model).name}"
            seg.validate()
    labels = Labels(coder=AUTO_CODER, video=session.video_ref(), segments=segments,
                    micro_max_seconds=spotter.micro_max_seconds)
    # Proposals are regenerated whole, so an old auto.json is replaced even when
    # it is stale or damaged; a coder's file is never involved.
    validate_labels_dict(labels.to_dict(), session.labels_path(AUTO_CODER))
    atomic_write_json(session.labels_path(AUTO_CODER), labels.to_dict())
    return labels
