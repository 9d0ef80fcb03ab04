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

    for path in args.videos:
        with open_video(path) as v:
            duration = float(v.timestamps[-1]) if len(v) else 0.0
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
            )
        except KeyboardInterrupt:
            print("annotator: interrupted; finished blocks are saved, run the same command to resume", file=sys.stderr)
            return 130
    for session in sessions:
        print(session.root)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .session import Session, describe

    for path in args.sessions:
        print(describe(Session.open(path)))
    return 0


def cmd_propose(args: argparse.Namespace) -> int:
    from .labels import AUTO_CODER
    from .session import Session
    from .spotting.propose import propose

    for path in args.sessions:
        session = Session.open(path)
        labels = propose(session, model=args.model)
        kinds = [s.kind for s in labels.segments]
        print(
            f"{session.labels_path(AUTO_CODER)}: {len(labels.segments)} proposals "
            f"({kinds.count('micro')} micro, {kinds.count('macro')} macro)"
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .formats import collect_rows, get_format
    from .io import check_output_path
    from .session import Session

    fmt = get_format(args.format)
    # before any work: a labels file, a symlink or a device is never replaced
    check_output_path(args.output, force=args.force)
    sessions = [Session.open(p) for p in args.sessions]
    rows = collect_rows(sessions, args.coder, include_proposals=args.proposals)
    fmt.export(rows, args.output)
    print(f"{args.output}: {len(rows)} segments from {len(sessions)} session(s)")
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

    return run_workbench(args.path, coder=args.coder, compare=args.compare)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="annotator",
        description="Label facial micro-expressions in video: track, propose, review, export.",
    )
    parser.add_argument("--version", action="version", version=f"annotator {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("probe", help="print what a video is, without decoding it all")
    p.add_argument("videos", nargs="+", metavar="VIDEO")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("track", help="track face and body pose into VIDEO.annot/tracks.zarr")
    p.add_argument("videos", nargs="+", metavar="VIDEO")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="DIR",
                   help="put the session directories here (default: beside each video)")
    p.add_argument("--face-model", default=None, metavar="PATH",
                   help="Face Landmarker bundle (default: $ANNOTATOR_FACE_MODEL, then the user cache)")
    p.add_argument("--no-pose", action="store_true", help="skip body-pose tracking")
    p.add_argument("--workers", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                   help="processes to use (default: number of cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_track)

    p = sub.add_parser("info", help="summarise a session")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("propose", help="propose segments (onset/apex/offset/emotion) into labels/auto.json")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.add_argument("--model", default=None, metavar="FILE", help="a skops emotion classifier to use")
    p.set_defaults(func=cmd_propose)

    p = sub.add_parser("export", help="export labels to a dataset format")
    p.add_argument("format", metavar="FORMAT", help="e.g. casme-csv")
    p.add_argument("sessions", nargs="+", metavar="SESSION")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    p.add_argument("--coder", default=None, metavar="NAME", help="only this coder (default: every coder)")
    p.add_argument("--proposals", action="store_true", help="include the proposals (labels/auto.json)")
    p.add_argument("--force", action="store_true", help="replace FILE when it exists (never a session's files)")
    p.set_defaults(func=cmd_export)

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
    p.add_argument("--compare", nargs="+", default=[], metavar="CODER", help="show these coders' labels read-only")
    p.set_defaults(func=cmd_open)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
