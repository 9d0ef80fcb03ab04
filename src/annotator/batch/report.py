"""The batch's summary: one outcome per video, as a table and as JSON."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: The outcomes a video can have, in the order the table lists them.
STATUSES = ("done", "skipped", "failed")


@dataclass(frozen=True)
class Outcome:
    """What happened to one video.

    Parameters
    ----------
    video : str
    status : {"done", "skipped", "failed"}
        ``skipped``: its session already held complete tracks of this very file
        (same sha256), and proposals when they were asked for.
    session : str or None
        The session directory (``None`` when none was made).
    frames : int
        Frames of the video (0 when it could not be read).
    seconds : float
        Wall time from the start of its preparation to its last write.
    reason : str
        For failures, the one-line reason.
    """

    video: str
    status: str
    session: str | None = None
    frames: int = 0
    seconds: float = 0.0
    reason: str = ""


@dataclass
class BatchReport:
    """Every video's outcome, and the run's figures."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    frames_tracked: int = 0
    workers: int = 0
    scheduler: str = ""
    dashboard: str | None = None

    def by_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        return not self.by_status("failed")

    def to_dict(self) -> dict:
        counts = {s: len(self.by_status(s)) for s in STATUSES}
        return {
            "schema": "annotator.batch-summary",
            "schema_version": 1,
            "counts": counts,
            "seconds": round(self.seconds, 3),
            "frames_tracked": self.frames_tracked,
            "frames_per_second": round(self.frames_tracked / self.seconds, 2) if self.seconds > 0 else None,
            "workers": self.workers,
            "scheduler": self.scheduler,
            "dashboard": self.dashboard,
            "videos": [asdict(o) for o in self.outcomes],
        }

    def format_table(self) -> str:
        """The summary printed at the end: one row per video, failures with their reason."""
        rows = [("status", "video", "frames", "seconds", "session / reason")]
        order = {s: i for i, s in enumerate(STATUSES)}
        for o in sorted(self.outcomes, key=lambda o: (order.get(o.status, 9), o.video)):
            rows.append((o.status, o.video, str(o.frames), f"{o.seconds:.1f}", o.reason if o.status == "failed" else (o.session or "")))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows]
        counts = ", ".join(f"{len(self.by_status(s))} {s}" for s in STATUSES)
        rate = f", {self.frames_tracked / self.seconds:.1f} frames/s" if self.seconds > 0 and self.frames_tracked else ""
        lines.append(f"{len(self.outcomes)} videos: {counts}; {self.frames_tracked} frames tracked in {self.seconds:.1f} s{rate} on {self.workers} workers")
        return "\n".join(lines)

    def write_json(self, outdir: str | os.PathLike) -> Path:
        """``OUTDIR/batch-summary.json``, written atomically."""
        from ..io import atomic_write_json

        path = Path(outdir) / "batch-summary.json"
        atomic_write_json(path, self.to_dict())
        return path
