"""Does the retraining loop help?  Prior against retrained, on a held-out subject (issue 13.6).

The sessions, tracked with the real models:

* ``carphone``: re-timed real footage (:mod:`benchmarks.realfootage`): the two
  real surprise onsets of the carphone man played as micro, macro and subtle
  events, and a clip with head motion between events;
* ``astronaut``: the bundled sample (five planted events of five emotions) and
  the astronaut portrait moving with no event;
* one subject per real still that ``make realdata`` fetched (takeo, Einstein,
  Tom Hanks): a face that moves but never expresses.

A simulated coder corrects the prior's proposals against the truth, the way a
person would in the workbench: a proposal that hits a true event is accepted
(edited when its emotion is wrong), every other one is rejected, and each
missed event is drawn.  Those corrected labels are what the model learns from.

For each subject held out in turn, the emotion model and the spotter
calibration are trained on the corrected labels of the other subjects only, and
measured on the held-out subject against its truth:

* spotting F1 (MEGC, IoU >= 0.5): the prior thresholds, the plain calibration
  (before: ``Spotter.fit`` on the other subjects), and the checked calibration
  (after: kept only where the training subjects, held out in turn, confirm it);
* emotion accuracy on the true events (apex features at the true intervals): the
  EMFACS prior, the plain learner (before: scaler + logistic regression alone), and
  the learner blended with the rules (after: the blend weight chosen by
  cross-validation over the training subjects, :func:`annotator.train.fit.choose_prior_weight`).

Then the training cost: 1,000 examples from 20 subjects, made by jittering the
real apex features (there are not 1,000 real events offline; this is said in the
output), through ``evaluate_loso`` and the final fit.

``--within-session`` measures the common case instead: one coder, one subject.
The crying (sadness) and laughing (joy) clips of the same woman are proposed by
the prior; the coder reviews the first half of each clip's events (in time) with
the true emotion, and nothing after; ``annotator.train.retrain`` learns from those
reviews only (one subject: the blend weight is cross-validated over her clusters of
neighbouring events, the calibration checked by holding out each session) and
re-proposes the unreviewed part; the later events are scored before (the prior's
proposals) and after (the retrained model's).

``--faint`` asks where the prior has room to improve: every subject's faint clip
(:func:`benchmarks.realfootage.faint_clip`: four events a quarter of the way up,
which the prior's threshold often misses and the coder draws) with carphone's
head-motion and speech clips and the moving stills as hard negatives.  Each subject
is held out in turn as above; besides F1 it reports the false positives per clip
category (the negatives must stay at 0) and how well each spotter's confidence
ranks its held-out proposals (AUC, hit against false).

    python benchmarks/bench_retrain.py [--workdir DIR] [--workers 2] [--synthetic 1000]
    python benchmarks/bench_retrain.py --faint [--seed 0] [--workdir DIR] [--workers 2]
    python benchmarks/bench_retrain.py --within-session [--reviewed 0.5] [--seed 0] [--workdir DIR] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CODER = "coder"


#: One subject per real person: the source video or still a clip is cut from.
PEOPLE = {"carphone_pristine.mp4": "carphone", "WolfgangLanger_Pexels.mp4": "crying_laughing_woman",
          "single_face.mp4": "smiling_man"}


def subject_of(plan) -> str:
    """The person a clip shows: its source (a re-timed real video, or a still)."""
    if plan.source in PEOPLE:
        return PEOPLE[plan.source]
    return Path(plan.source).stem


def set_subject(session, subject: str):
    from annotator.session import Session

    path = session.root / "session.json"
    meta = json.loads(path.read_text())
    if meta.get("subject") != subject:
        meta["subject"] = subject
        path.write_text(json.dumps(meta))
    return Session.open(session.root)


def correct(session, truth, proposals):
    """The simulated coder's file (:func:`benchmarks.simulated_coder.review`): hits kept, the rest rejected, misses drawn."""
    from benchmarks.simulated_coder import review

    return review(session, truth, proposals, CODER)


def faint_plans(seed: int = 0) -> list:
    """``--faint``: the faint clips of every subject that has them, and the hard negatives.

    The negatives are carphone's head-motion and two speech clips and the real
    stills moving, at seed 0 whatever ``seed`` (the faint clips' re-timing) is:
    they hold no event, so the seed would only change which baseline frames play.
    """
    from benchmarks import realfootage as rf
    from benchmarks.realdata import available

    plans = [p for p in rf.faint_suite(seed) if available(p.source)]
    plans += [rf.motion_clip(0), rf.speech_clip("talk_1", 0), rf.speech_clip("talk_2", 0)]
    return plans + [rf.still_clip(s, 0) for s in rf.STILLS if available(s)] + [rf.still_clip(rf.ASTRONAUT, 0)]


def prepare(workdir: Path, workers: int, plans=None):
    """Every session with its truth and clip category, reviewed by the simulated coder.

    ``plans`` None: the default footage (below) and the bundled sample; otherwise those clips only.
    """
    from annotator.labels import load_labels
    from annotator.session import Session
    from annotator.tracking.run import track_videos
    from benchmarks import realfootage as rf
    from benchmarks.bench_realfootage import prepare as prepare_clips
    from benchmarks.realdata import available
    from tests.fixtures.sample import SAMPLE_TRUTH, SAMPLE_VIDEO

    sample = plans is None
    if plans is None:
        plans = [rf.event_clip("surprise_a", 0), rf.event_clip("surprise_b", 0), rf.mixed_clip(0)]
        # Re-timed events of more people and emotions, where realfootage has them (the crying and
        # laughing woman, the smiling man); only clips whose source footage is here.
        suite = getattr(rf, "emotion_suite", None)
        if suite is not None:
            plans += [p for p in suite(0) if available(p.source)]
        plans += [rf.still_clip(s, 0) for s in rf.STILLS if available(s)] + [rf.still_clip(rf.ASTRONAUT, 0)]
    out = []
    for t in prepare_clips(workdir, plans, workers=workers):
        session = set_subject(t.session, subject_of(t.clip.plan))
        out.append((session, t.truth, t.clip.plan.category))
    if not sample:
        return _reviewed(out)
    sample_dir = workdir / "sample"
    sample_dir.mkdir(parents=True, exist_ok=True)
    video = sample_dir / SAMPLE_VIDEO.name
    if not video.exists():
        shutil.copyfile(SAMPLE_VIDEO, video)
    (session,) = track_videos([video], out_dir=None, pose=False, workers=workers, progress=False)
    out.append((set_subject(Session.open(session.root), "astronaut"), load_labels(SAMPLE_TRUTH).segments, "sample"))
    return _reviewed(out)


def _reviewed(out):
    """The prior proposes afresh (a rerun starts from it again) and the simulated coder reviews it all."""
    from annotator.labels import AUTO_CODER
    from annotator.spotting.propose import propose

    for session, truth, _ in out:
        for name in (CODER, AUTO_CODER):
            session.labels_path(name).unlink(missing_ok=True)
        labels = propose(session)  # the prior's proposals, what the coder reviews
        correct(session, truth, list(labels.segments))
    return out


def fold(data, truths, held: str, seed: int = 0, categories=None) -> dict:
    """Train on every subject but ``held``; score prior and trained on ``held``.

    Besides the scores, ``row["ranked"]`` holds per spotter (prior, trained, checked)
    each held-out proposal's ``(confidence, hit)``, and ``row["fp_by"]`` the false
    positives per clip category (``categories[i]`` of session ``i``).
    """
    from annotator.features.expression import PROPOSAL_LABELS
    from annotator.spotting.metrics import evaluate, match
    from annotator.spotting.spotter import Spotter
    from annotator.train.examples import emotion_rows
    from annotator.train.fit import (
        _fit_or_constant,
        blended_predictions,
        choose_prior_weight,
        fit_spotter,
        fit_spotter_checked,
    )

    train_idx = [i for i, s in enumerate(data.sessions) if s.subject != held]
    test_idx = [i for i, s in enumerate(data.sessions) if s.subject == held]
    mask = data.groups != held
    model, constant = _fit_or_constant(data.X[mask], data.y[mask], seed)
    calibrated = fit_spotter(data, train_idx)
    checked, spotter_why = fit_spotter_checked(data, train_idx)
    weight, _ = choose_prior_weight(data.X[mask], data.y[mask], data.groups[mask], data.channels, seed)
    prior = Spotter()
    t, p0, p1, p2 = {}, {}, {}, {}
    x_rows, y_rows = [], []
    for i in test_idx:
        s = data.sessions[i]
        t[i] = truths[i]
        p0[i] = prior.spot(s.features)
        p1[i] = calibrated.spot(s.features)
        p2[i] = checked.spot(s.features)
        X, y = emotion_rows(s.features, truths[i])
        x_rows.append(X)
        y_rows.append(y)
    X = np.concatenate(x_rows)
    y = np.concatenate(y_rows)
    row = {"subject": held, "sessions": len(test_idx), "events": int(len(y)),
           "train_examples": int(mask.sum()), "train_classes": sorted(set(data.y[mask].tolist()))}
    s0, s1, s2 = evaluate(t, p0)["all"], evaluate(t, p1)["all"], evaluate(t, p2)["all"]
    row["f1_prior"], row["f1_trained"], row["f1_checked"] = s0.f1, s1.f1, s2.f1
    row["fp_prior"], row["fp_trained"], row["fp_checked"] = (s0.proposals - s0.hits, s1.proposals - s1.hits,
                                                             s2.proposals - s2.hits)
    row["hits_prior"], row["hits_trained"], row["hits_checked"] = s0.hits, s1.hits, s2.hits
    row["ranked"], row["fp_by"] = {}, {}
    for key, props in (("prior", p0), ("trained", p1), ("checked", p2)):
        ranked, fp_by = [], {}
        for i in test_idx:
            hit = {j for _, j, _ in match(t[i], props[i])}
            ranked += [(p.confidence, j in hit) for j, p in enumerate(props[i])]
            cat = categories[i] if categories else "all"
            fp_by[cat] = fp_by.get(cat, 0) + len(props[i]) - len(hit)
        row["ranked"][key], row["fp_by"][key] = ranked, fp_by
    row["threshold"] = round(float(calibrated._param("threshold")), 2)
    row["threshold_checked"] = round(float(checked._param("threshold")), 2)
    row["prior_weight"] = weight
    if len(y):
        probs = prior.emotion_probabilities(X, data.channels)
        prior_pred = np.array([PROPOSAL_LABELS[k] for k in probs.argmax(axis=1)], dtype=object)
        trained_pred = np.full(len(y), constant, dtype=object) if model is None else model.predict(X)
        row["emotion_prior"] = int(np.sum(prior_pred == y))
        row["emotion_trained"] = int(np.sum(trained_pred == y))
        row["emotion_blend"] = int(np.sum(blended_predictions(model, constant, X, data.channels, weight) == y))
        row["note"] = f"one training class: {constant}" if model is None else ""
    return row


def synthetic_timing(data, n: int = 1000, subjects: int = 20, seed: int = 0) -> dict:
    """LOSO + final fit on ``n`` examples jittered from the real apex features (said so in the output)."""
    from annotator.train.examples import TrainingSet
    from annotator.train.fit import emotion_pipeline, evaluate_loso

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(data.y), n)
    scale = data.X.std(axis=0) + 0.1
    X = data.X[pick] + rng.normal(0.0, 0.3, size=(n, data.X.shape[1])) * scale
    synth = TrainingSet(sessions=[], X=np.clip(X, 0.0, None), y=data.y[pick],
                        groups=np.array([f"syn{k:02d}" for k in rng.integers(0, subjects, n)], dtype=object),
                        channels=data.channels)
    t0 = time.perf_counter()
    ev = evaluate_loso(synth, spotting=False)
    t1 = time.perf_counter()
    emotion_pipeline().fit(synth.X, synth.y)
    t2 = time.perf_counter()
    return {"n": n, "subjects": len(set(synth.groups.tolist())), "loso_s": t1 - t0, "fit_s": t2 - t1,
            "uf1": ev.emotion_7["uf1"], "uar": ev.emotion_7["uar"]}


def print_table(rows: list[dict]) -> None:
    """Per held-out subject: spotting F1 and emotion right, prior / before (plain learner) / after (checked)."""
    print("| held-out subject | sessions | events | spotting F1 prior / before / after | false positives "
          "| threshold before / after | emotion right prior / before / after | blend weight | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        n = r["events"]
        emo = (f"{r['emotion_prior']}/{n} · {r['emotion_trained']}/{n} · {r['emotion_blend']}/{n}" if n else "–")
        print(f"| {r['subject']} | {r['sessions']} | {n} | {_f(r['f1_prior'])} · {_f(r['f1_trained'])} · "
              f"{_f(r['f1_checked'])} | {r['fp_prior']} · {r['fp_trained']} · {r['fp_checked']} "
              f"| {r['threshold']} · {r['threshold_checked']} | {emo} | {r['prior_weight']} | {r.get('note', '')} |")
    ev = [r for r in rows if r["events"]]
    total = sum(r["events"] for r in ev)
    print(f"\nemotion right on held-out events, all folds: prior {sum(r['emotion_prior'] for r in ev)}/{total}, "
          f"before (plain learner) {sum(r['emotion_trained'] for r in ev)}/{total}, "
          f"after (blend, weight by CV) {sum(r['emotion_blend'] for r in ev)}/{total}")
    hits = {k: sum(r[f"hits_{k}"] for r in rows) for k in ("prior", "trained", "checked")}
    fps = {k: sum(r[f"fp_{k}"] for r in rows) for k in ("prior", "trained", "checked")}
    print(f"spotting on held-out subjects, all folds: hits prior {hits['prior']}, before {hits['trained']}, after "
          f"{hits['checked']}; false positives prior {fps['prior']}, before {fps['trained']}, after {fps['checked']}")


def print_negatives_and_ranking(rows: list[dict]) -> None:
    """False positives per clip category, and how well each spotter's confidence ranks its held-out proposals."""
    from sklearn.metrics import roc_auc_score

    names = {"prior": "prior", "trained": "before", "checked": "after"}
    cats = sorted({c for r in rows for c in r["fp_by"]["prior"]})
    fp = {k: {c: sum(r["fp_by"][k].get(c, 0) for r in rows) for c in cats} for k in names}
    print("false positives on held-out subjects by clip category, prior · before · after: "
          + "; ".join(f"{c} {fp['prior'][c]} · {fp['trained'][c]} · {fp['checked'][c]}" for c in cats))
    parts = []
    for key, name in names.items():
        ranked = [x for r in rows for x in r["ranked"][key]]
        hits = [h for _, h in ranked]
        auc = roc_auc_score(hits, [c for c, _ in ranked]) if 0 < sum(hits) < len(hits) else None
        parts.append(f"{name} {_f(auc)} ({sum(hits)} hits, {len(hits) - sum(hits)} false)")
    print("confidence AUC, hit vs false proposal, pooled over held-out subjects (– when one kind is absent): "
          + "; ".join(parts))


def faint_run(workdir: Path, workers: int, seed: int = 0) -> int:
    """``--faint``: LOSO over the real subjects, with faint events the prior misses and hard negatives."""
    from annotator.train import gather
    from annotator.train.fit import fit_spotter_checked

    t0 = time.perf_counter()
    reviewed = prepare(workdir, workers, faint_plans(seed))
    print(f"prepared {len(reviewed)} sessions (faint clips seed {seed}) in {time.perf_counter() - t0:.1f} s")
    data = gather([s for s, _, _ in reviewed], coder=CODER)
    truths = [t for _, t, _ in reviewed]
    categories = [c for _, _, c in reviewed]
    drawn = sum(1 for s in data.sessions for x in s.segments if x.id.startswith("drawn-"))
    print(f"corrected labels: {len(data.y)} emotion examples, {drawn} missed events drawn by the coder, "
          f"{data.n_rejected} rejected proposals, subjects {', '.join(data.subjects)}\n")
    rows = [fold(data, truths, held, categories=categories) for held in data.subjects]
    print_table(rows)
    print_negatives_and_ranking(rows)
    _, why = fit_spotter_checked(data)
    print(f"\ncalibration on every subject (what `annotator train` would ship): {why}")
    return 0


WITHIN_CLIPS = ("cry_wl", "laugh_wl")  # one woman, sadness then joy (realfootage.EXPRESSION_SOURCE)


def review_first_half(session, truth, proposals, fraction: float = 0.5) -> int:
    """The coder reviews the first ``fraction`` of the events (and the proposals there); returns the split frame."""
    truth = sorted(truth, key=lambda t: t.onset)
    split = truth[min(max(1, int(len(truth) * fraction)), len(truth) - 1)].onset
    early = [t for t in truth if t.onset < split]
    correct(session, early, [p for p in proposals if p.onset < split])
    return split


def _later_scores(session, truth, proposals, split, model=None) -> dict:
    """Spotting and emotion on the events from ``split`` on, by the proposals that start there."""
    from annotator.spotting.metrics import evaluate, match
    from annotator.train.examples import emotion_rows, session_features
    from annotator.train.fit import prior_emotions

    later = [t for t in truth if t.onset >= split]
    props = [p for p in proposals if p.onset >= split and p.status != "rejected"]
    sc = evaluate({0: later}, {0: props})["all"]
    right = sum(props[j].emotion == later[i].emotion for i, j, _ in match(later, props))
    X, y = emotion_rows(session_features(session), later)
    pred = prior_emotions(X, tuple(session_features(session).channels)) if model is None else model.predict(X)
    return {"events": len(later), "f1": sc.f1, "hits": sc.hits, "fp": sc.proposals - sc.hits, "right": right,
            "apex_right": int(np.sum(pred == y)), "truth": [t.emotion for t in later]}


def within_session(workdir: Path, workers: int, fraction: float = 0.5, seed: int = 0) -> int:
    """One subject: review the first half of each clip, retrain, re-propose, score the rest."""
    from annotator.labels import AUTO_CODER
    from annotator.spotting.propose import load_emotion_model, propose
    from annotator.train import retrain
    from benchmarks import realfootage as rf
    from benchmarks.bench_realfootage import prepare as prepare_clips
    from benchmarks.realdata import available

    plans = [rf.event_clip(name, seed) for name in WITHIN_CLIPS]
    if not all(available(p.source) for p in plans):
        print(f"needs {plans[0].source} in the real-footage cache: `make realdata`", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    sessions, before, splits = [], [], []
    for t in prepare_clips(workdir, plans, workers=workers):
        session = set_subject(t.session, subject_of(t.clip.plan))
        for name in (CODER, AUTO_CODER):  # a rerun starts from the prior again
            session.labels_path(name).unlink(missing_ok=True)
        proposals = list(propose(session).segments)
        splits.append(review_first_half(session, t.truth, proposals, fraction))
        before.append(_later_scores(session, t.truth, proposals, splits[-1]))
        sessions.append((session, t.truth))
    print(f"prepared and proposed {len(sessions)} sessions of one subject in {time.perf_counter() - t0:.1f} s")
    t1 = time.perf_counter()
    result = retrain([s for s, _ in sessions], workdir / "within-retrained.skops", coder=CODER)
    print(f"retrained on the reviewed first halves and re-proposed in {time.perf_counter() - t1:.1f} s")
    meta = result.model.metadata
    model = load_emotion_model(result.model_path)
    after = [_later_scores(s, truth, list(s.load_labels(AUTO_CODER).segments), split, model)
             for (s, truth), split in zip(sessions, splits, strict=True)]
    blend = meta["prior_blend"]
    print(f"reviewed examples: {meta['examples']}, {meta['rejected']} rejected proposal(s); blend weight "
          f"{blend['weight']} chosen by {json.dumps(blend['chosen_by'])}; spotter: {meta['spotter_choice']}\n")
    print("| session | later (unreviewed) events | spotting F1 before · after | false positives before · after "
          "| emotion right, proposals that hit, before · after | emotion at the true apex, before · after |")
    print("|---|---|---|---|---|---|")
    for (s, _), b, a in zip(sessions, before, after, strict=True):
        n = b["events"]
        print(f"| {s.root.name} | {n} ({', '.join(b['truth'])}) | {_f(b['f1'])} · {_f(a['f1'])} | {b['fp']} · {a['fp']} "
              f"| {b['right']}/{n} · {a['right']}/{n} | {b['apex_right']}/{n} · {a['apex_right']}/{n} |")
    n = sum(b["events"] for b in before)
    tot = {k: (sum(b[k] for b in before), sum(a[k] for a in after)) for k in ("right", "apex_right", "hits", "fp")}
    print(f"\nall later events ({n}): emotion right by the proposals before {tot['right'][0]}/{n}, after "
          f"{tot['right'][1]}/{n}; at the true apex before {tot['apex_right'][0]}/{n}, after {tot['apex_right'][1]}/{n}; "
          f"hits before {tot['hits'][0]}, after {tot['hits'][1]}; false positives before {tot['fp'][0]}, "
          f"after {tot['fp'][1]}")
    print("emotion right at the true apex of the later events, by blend weight (measured here, not what chose the "
          f"weight): {weights_on_later(sessions, splits)}")
    return 0


def weights_on_later(sessions, splits) -> str:
    """What every blend weight of the reviewed-only learner would score on the later events."""
    from annotator.train import gather
    from annotator.train.examples import emotion_rows, session_features
    from annotator.train.fit import PRIOR_WEIGHTS, _fit_or_constant, blended_predictions

    data = gather([s for s, _ in sessions], coder=CODER)
    model, constant = _fit_or_constant(data.X, data.y, 0)
    xs, ys = [], []
    for (s, truth), split in zip(sessions, splits, strict=True):
        X, y = emotion_rows(session_features(s), [t for t in truth if t.onset >= split])
        xs.append(X)
        ys.append(y)
    X, y = np.concatenate(xs), np.concatenate(ys)
    return ", ".join(f"w {w}: {int(np.sum(blended_predictions(model, constant, X, data.channels, w) == y))}/{len(y)}"
                     for w in PRIOR_WEIGHTS)


def _f(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="keep clips and sessions here (default: a temp dir)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--synthetic", type=int, default=1000, metavar="N",
                        help="examples in the training-cost run (default 1000; the smoke test uses fewer)")
    parser.add_argument("--within-session", action="store_true",
                        help="one subject: review the first half of her clips, retrain, score the rest")
    parser.add_argument("--reviewed", type=float, default=0.5, metavar="F",
                        help="with --within-session: the fraction of each clip's events reviewed (default 0.5)")
    parser.add_argument("--faint", action="store_true",
                        help="LOSO on faint events the prior misses (realfootage.faint_clip) and hard negatives")
    parser.add_argument("--seed", type=int, default=0,
                        help="with --within-session or --faint: the clips' re-timing seed")
    args = parser.parse_args(argv)
    from annotator.train import gather

    if args.within_session:
        with tempfile.TemporaryDirectory() as tmp:
            return within_session(args.workdir or Path(tmp), args.workers, args.reviewed, args.seed)
    if args.faint:
        with tempfile.TemporaryDirectory() as tmp:
            return faint_run(args.workdir or Path(tmp), args.workers, args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        t0 = time.perf_counter()
        reviewed = prepare(workdir, args.workers)
        print(f"prepared {len(reviewed)} sessions in {time.perf_counter() - t0:.1f} s")
        data = gather([s for s, _, _ in reviewed], coder=CODER)
        truths = [t for _, t, _ in reviewed]
        print(f"corrected labels: {len(data.y)} emotion examples "
              f"({', '.join(f'{c} {int(np.sum(data.y == c))}' for c in sorted(set(data.y.tolist())))}), "
              f"{data.n_rejected} rejected proposals, subjects {', '.join(data.subjects)}\n")
        rows = [fold(data, truths, held, categories=[c for _, _, c in reviewed]) for held in data.subjects]
        print_table(rows)
        print_negatives_and_ranking(rows)
        timing = synthetic_timing(data, n=args.synthetic)
        print(f"\ntraining cost, {timing['n']} SYNTHETIC examples (real apex features jittered by 0.3 σ) from "
              f"{timing['subjects']} subjects: LOSO {timing['loso_s']:.2f} s, final fit {timing['fit_s']:.2f} s "
              f"(LOSO UF1 {_f(timing['uf1'])}, UAR {_f(timing['uar'])} on the jittered copies: not a figure of merit)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
