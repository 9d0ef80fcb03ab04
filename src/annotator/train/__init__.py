"""``annotator train``: an emotion model and a spotter calibration learnt from coders' labels.

* :func:`train` gathers the sessions' labels (:mod:`.examples`), evaluates
  leave-one-subject-out (:mod:`.fit`), fits on everything, and writes the skops
  model with its report and confusion matrices beside it (:mod:`.report`).
* :func:`retrain` is the online loop: learn from what the coders have
  reviewed so far, then re-propose the sessions; reviewed proposals stay as
  they are (:func:`annotator.spotting.propose.merge_reviewed`).
  :func:`retrain_session` is that loop for one coder's session, as the
  workbench's *Retrain now* runs it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import AnnotatorError
from ..io import atomic_write_bytes, check_output_path
from ..session import Session
from .examples import CONSENSUS, TrainingSet, gather
from .fit import Evaluation, evaluate_loso, loso_folds, train_model, uf1_uar
from .report import report_paths, write_report

__all__ = [
    "CONSENSUS", "Evaluation", "RetrainCancelled", "TrainResult", "TrainingSet", "evaluate_loso", "gather", "loso_folds",
    "list_models", "report_paths", "retrain", "retrain_session", "retrain_sources", "save_model", "train",
    "train_model", "uf1_uar",
]


@dataclass
class TrainResult:
    model_path: Path
    report_path: Path
    confusion_path: Path | None
    model: object
    evaluation: Evaluation | None
    seconds: float


def save_model(model, path: str | os.PathLike) -> Path:
    """Write ``model`` with ``skops.io`` (never pickle), atomically."""
    import skops.io as sio

    path = Path(path)
    atomic_write_bytes(path, sio.dumps(model))
    return path


def _sessions(sources: Sequence, *, say=None) -> list[Session]:
    """Sessions from sessions, their paths, or projects (whose subjects consented to training)."""
    from ..project import Project, is_project_dir

    out: list[Session] = []
    for source in sources:
        if isinstance(source, Session):
            out.append(source)
        elif is_project_dir(source):
            project = Project.open(source)
            kept, skipped = project.sessions_allowing("train")
            if skipped and say is not None:
                say(f"{project.root}: left out subjects without consent to train: {', '.join(skipped)}")
            if not kept:
                raise AnnotatorError(project.root, "has no session whose subject consented to training")
            out.extend(entry.open() for entry in kept)
        else:
            out.append(Session.open(source))
    return out


def train(sources: Sequence, out: str | os.PathLike, *, coder: str | None = None, seed: int = 0,
          evaluate: bool = True, force: bool = False, say=None) -> TrainResult:
    """Train on ``sources`` (sessions, their paths, projects, or one dataset) and write ``out`` plus its report.

    A project contributes the sessions whose subject consented to ``train``;
    ``say(message)`` hears which subjects were left out.  A dataset folder
    (``annotator dataset``'s output) is checked file by file and read as its
    project would be (:mod:`.from_dataset`); it must be the only source.

    Everything is computed before anything is written, and each file is
    written atomically, so a failure leaves no model that looks finished.
    """
    from ..dataset import is_dataset_dir

    out = check_output_path(out, force=force)
    t0 = time.perf_counter()
    datasets = [s for s in sources if not isinstance(s, Session) and is_dataset_dir(s)]
    extra = None
    if datasets:
        if len(sources) > 1:
            raise AnnotatorError(datasets[0], "a dataset must be the only SOURCE of `annotator train`")
        from .from_dataset import gather_dataset

        data, record = gather_dataset(datasets[0], coder=coder, say=say)
        extra = {"dataset": record}
    else:
        data = gather(_sessions(sources, say=say), coder=coder)
    evaluation = evaluate_loso(data, seed=seed) if evaluate else None
    model = train_model(data, seed=seed, evaluation=evaluation, extra=extra)
    seconds = time.perf_counter() - t0
    md, png = write_report(out, model.metadata, evaluation, seconds)
    save_model(model, out)
    return TrainResult(out, md, png, model, evaluation, seconds)


class RetrainCancelled(Exception):
    """:func:`retrain` stopped at a step boundary because ``cancelled()`` said so; nothing was proposed."""


def retrain(target, model_out: str | os.PathLike, *, coder: str | None = None, seed: int = 0,
            sessions: Sequence | None = None, progress=None, cancelled=None) -> TrainResult:
    """Learn from the coders' reviews so far, then re-propose the unreviewed part of each session.

    Parameters
    ----------
    target : Session, path, or a sequence of them
        What to learn from (every session given) and to re-propose.
    model_out : path
        Where the new model goes (replaced atomically).
    sessions : sequence, optional
        Re-propose only these (default: every session of ``target``).
    progress : callable, optional
        ``progress(message)`` after each step, for a background worker.
    cancelled : callable, optional
        Asked between steps; when it returns true, :class:`RetrainCancelled` is raised
        before the model is written and before anything is re-proposed.  Once the
        first session is re-proposed the run goes on to the end.

    Reviewed proposals (accepted, edited or rejected by some coder) are kept
    exactly as they are; only unreviewed ones are regenerated with the new model.
    """
    from ..spotting.propose import propose

    say = progress or (lambda message: None)

    def check() -> None:
        if cancelled is not None and cancelled():
            raise RetrainCancelled("retraining cancelled; nothing was proposed")

    targets = _sessions([target] if isinstance(target, (Session, str, os.PathLike)) else list(target), say=say)
    say(f"learning from {len(targets)} session(s)")
    data = gather(targets, coder=coder)
    check()
    say(f"fitting on {len(data.y)} emotion example(s) and {data.n_rejected} rejection(s)")
    evaluation = evaluate_loso(data, seed=seed) if len(data.subjects) >= 2 else None
    check()
    t0 = time.perf_counter()
    model = train_model(data, seed=seed, evaluation=evaluation, extra={"retrained": True})
    check()
    out = Path(model_out)
    md, png = write_report(out, model.metadata, evaluation, time.perf_counter() - t0)
    save_model(model, out)
    say(f"model {model.model_id} written to {out}")
    for session in _sessions(sessions) if sessions is not None else targets:
        labels = propose(session, model=out)
        say(f"{session.root}: {len(labels.segments)} proposals")
    return TrainResult(out, md, png, model, evaluation, time.perf_counter() - t0)


def retrain_sources(session: Session, coder: str, project=None) -> list[Session]:
    """What *Retrain now* learns from: ``coder``'s sessions in ``project`` (with consent to train), else ``session``.

    A project session counts when ``coder`` has a labels file in it and its subject
    consented to ``train``; without a project, only ``session`` itself.
    """
    if project is None:
        return [session]
    kept, _ = project.sessions_allowing("train")
    out = []
    for entry in kept:
        try:
            other = entry.open()
        except AnnotatorError:
            continue  # a session gone missing is the project list's business, not the training's
        if other.has_labels(coder):
            out.append(other)
    if not out:
        raise AnnotatorError(
            project.root, f"no session of this project has {coder}'s labels with consent to train; review some first"
        )
    return out


def retrain_session(session: Session, coder: str, *, project=None, model_dir: str | os.PathLike | None = None,
                    seed: int = 0, progress=None, cancelled=None) -> TrainResult:
    """Learn from ``coder``'s reviews (in ``project``, or in ``session`` alone), then re-propose ``session``.

    The model goes to ``model_dir`` (default: the project's ``models/``, else the
    session's), named ``retrained-<coder>-<time>.skops`` so earlier models, which
    earlier proposals name, are kept.  Only the unreviewed proposals of ``session``
    are made again (:func:`retrain`).
    """
    from datetime import datetime, timezone

    from ..labels.model import coder_problem

    if coder_problem(coder):
        raise AnnotatorError(None, coder_problem(coder))
    if model_dir is None:
        model_dir = (project.root if project is not None else session.root) / "models"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = Path(model_dir) / f"retrained-{coder}-{stamp}.skops"
    return retrain(retrain_sources(session, coder, project), out, coder=coder, seed=seed, sessions=[session],
                   progress=progress, cancelled=cancelled)


def list_models(folder: str | os.PathLike) -> list[tuple[Path, dict | None]]:
    """Every ``*.skops`` in ``folder`` (a project's ``models/``, or the project itself) with its metadata.

    Nothing is loaded: the metadata is read from each file's description.  A bare
    scikit-learn model has ``None``; a file that is not a skops model is left out.
    """
    from ..errors import ModelError
    from ..spotting.propose import model_file_info

    folder = Path(folder)
    if (folder / "models").is_dir():
        folder = folder / "models"
    if not folder.is_dir():
        raise AnnotatorError(folder, "is not a folder (pass a project or a folder of models)")
    out = []
    for path in sorted(folder.glob("*.skops")):
        try:
            out.append((path, model_file_info(path)))
        except ModelError:
            continue
    return out
