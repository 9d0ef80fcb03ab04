"""``annotator probe|track|batch|info|verify|propose``: videos, their tracks and proposals."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .args import EXIT_USER_ERROR


def cmd_probe(args: argparse.Namespace) -> int:
    """Print what a video is (frames, fps, size, rotation, codec, duration)."""
    from ..media import open_video
    from ..media.timing import clip_duration

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

    from ..tracking.run import TrackingWarning, track_videos

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
    from ..project import Project, ProjectError, is_project_dir
    from ..session import default_session_dir

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

    from ..batch.inputs import refuse_in_process_store
    from ..batch.run import run_batch
    from ..tracking.run import TrackingWarning

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


def cmd_info(args: argparse.Namespace) -> int:
    from ..session import Session, describe
    from ..tracking.store import verify_tracks

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
    from ..io import sha256_file
    from ..locks import TRACK, session_lock
    from ..session import Session
    from ..tracking.store import verify_tracks

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
    from ..labels import AUTO_CODER
    from ..project import expand_project_args
    from ..session import Session
    from ..spotting.propose import propose

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
