"""``annotator project|dataset|train|models|quiz``: a corpus of sessions and what is made from it."""

from __future__ import annotations

import argparse
import sys


def cmd_project(args: argparse.Namespace) -> int:
    """``annotator project init|add|list|remove|set``: the project file, under its lock."""
    import json

    from ..project import Project, ProjectError, parse_consent, project_status

    consent = parse_consent(args.consent) if getattr(args, "consent", None) is not None else None
    if args.action == "init":
        project = Project.init(args.dir, name=args.name)
        print(f"{project.path}: a new project")
    elif args.action == "add":
        with Project.edit(args.dir) as project:
            entries = [project.add_video(v, subject=args.subject, consent=consent, fps=args.fps) for v in args.videos]
        for e in entries:
            print(f"{e.id}: {e.session} (subject {e.subject})")
    elif args.action == "list":
        project = Project.open(args.dir)
        statuses = project_status(project)
        if args.json:
            subjects = {s: {"consent": list(v.consent), "sessions": len(project.sessions_of(s))}
                        for s, v in sorted(project.subjects.items())}
            print(json.dumps({"project": str(project.root), "subjects": subjects,
                              "sessions": [st.to_dict() for st in statuses]}, indent=2))
        else:
            print(f"{project.root}: {len(project.sessions)} sessions, {len(project.subjects)} subjects")
            for s, v in sorted(project.subjects.items()):
                consent = ", ".join(v.consent) or "none"
                print(f"  subject {s}: {len(project.sessions_of(s))} sessions, consent {consent}")
            for st in statuses:
                print(f"  {st.format_line()}")
    elif args.action == "remove":
        with Project.edit(args.dir) as project:
            removed = [project.remove(key) for key in args.sessions]
            project.drop_unused_subjects()
        for e in removed:
            print(f"{e.id}: removed from the project ({e.session} is left as it is)")
    elif args.action == "set":
        if args.subject is None:
            raise ProjectError(None, "project set: say --subject S (with --consent, or with --session X)")
        with Project.edit(args.dir) as project:
            if args.session is not None:
                e = project.move_session(args.session, args.subject)
                print(f"{e.id}: subject {e.subject}")
            elif consent is None:
                raise ProjectError(None, "project set: nothing to change; pass --consent USES or --session X")
            else:
                project.subject(args.subject)  # must exist: a typo must not add a person
            if consent is not None:
                subject = project.set_subject(args.subject, consent=consent)
                print(f"subject {subject.id}: consent {', '.join(subject.consent) or 'none'}")
    return 0


def cmd_dataset(args: argparse.Namespace) -> int:
    """One sample per labelled segment of a project, with subject-disjoint splits."""
    from ..dataset import build_dataset

    emotions = tuple(e.strip() for e in args.emotions.split(",") if e.strip()) if args.emotions else None
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="sample", file=sys.stderr, leave=False)

    def step(done: int, total: int) -> None:
        bar.total = total
        bar.update(1)

    try:
        result = build_dataset(
            args.project, args.output, split=args.split, folds=args.folds, test_size=args.test_size, seed=args.seed,
            coder=args.coder, pad=args.pad, crop=args.crop, size=args.size, format=args.format,
            force=args.force, on_sample=step if bar is not None else None,
            **({"emotions": emotions} if emotions else {}),
        )
    finally:
        if bar is not None:
            bar.close()
    m = result.manifest
    print(f"{result.root}: {len(m)} samples from {m['subject'].nunique()} subjects, split {args.split} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(m['split'].value_counts().items()))})")
    for note in result.notes:
        print(f"  note: {note}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ..train import train

    result = train(args.sources, args.output, coder=args.coder, seed=args.seed,
                   evaluate=not args.no_eval, force=args.force,
                   say=lambda message: print(f"annotator: note: {message}", file=sys.stderr))
    meta = result.model.metadata
    print(f"{result.model_path}: model {meta['id']} ({', '.join(meta['labels'])}) "
          f"from {len(meta['subjects'])} subjects, {sum(meta['examples'].values())} examples")
    ev = result.evaluation
    if ev is not None:
        def f(v):
            return "-" if v is None else f"{v:.3f}"

        print(f"LOSO: UF1 {f(ev.emotion_7['uf1'])} UAR {f(ev.emotion_7['uar'])} (7 classes), "
              f"UF1 {f(ev.emotion_3['uf1'])} UAR {f(ev.emotion_3['uar'])} (composite); spotting F1 "
              f"{f(ev.spotting_prior_f1)} prior, {f(ev.spotting_calibrated_f1)} calibrated")
    print(f"{result.report_path}: report")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from ..train import list_models

    models = list_models(args.folder)
    if not models:
        print(f"{args.folder}: no models")
    for path, meta in models:
        if meta is None:
            print(f"{path.name}: a scikit-learn model without training metadata")
            continue
        scores = meta.get("scores") or {}
        uf1 = (scores.get("emotion_7") or {}).get("uf1")
        print(f"{path.name}: {meta.get('id')} created {meta.get('created')}, features v{meta.get('feature_version')}, "
              f"{len(meta.get('subjects', []))} subjects, labels {','.join(meta.get('labels', []))}, "
              f"LOSO UF1 {'-' if uf1 is None else f'{uf1:.3f}'}")
    return 0


def cmd_quiz(args: argparse.Namespace) -> int:
    from ..quiz import QuizOptions, build_quiz, describe_selection, parse_durations, quiz_sessions

    opts = QuizOptions(
        items=args.items, durations=parse_durations(args.durations), mode=args.mode, seed=args.seed,
        stage=args.stage, view=args.view, choices=args.choices, coder=args.coder, pad_s=args.pad,
    )
    sessions, notes = quiz_sessions(args.sources)
    result = build_quiz(sessions, args.output, opts, force=args.force)
    print(describe_selection(result))
    print(f"{result.root}/items: {len(result.items)} MP4 clips and answer_key.csv")
    for note in [*notes, *result.notes]:
        print(f"  note: {note}")
    return 0
