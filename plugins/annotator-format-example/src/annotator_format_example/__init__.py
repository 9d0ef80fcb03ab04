"""``intervals-tsv``: ``video<TAB>onset<TAB>offset<TAB>emotion``, 0-based frames (an example plugin)."""

from __future__ import annotations

from pathlib import Path

from annotator.formats import FormatError, Record
from annotator.io import atomic_write_text
from annotator.labels import EMOTION_LABELS, Segment, kind_for


class IntervalsTsv:
    name = "intervals-tsv"
    description = "tab-separated intervals (example plugin)"
    suffix = ".tsv"
    frame_base = "0-based frames"
    emotions = "our names, unchanged"
    can_read = True
    can_write = True

    def write(self, records, path, **options):
        lines = ["video\tonset\toffset\temotion"]
        lines += [f"{r.video}\t{s.onset}\t{s.offset}\t{s.emotion}" for r in records for s in r.segments]
        atomic_write_text(path, "\n".join(lines) + "\n")
        return ["intervals-tsv holds only video, onset, offset and emotion"] if len(lines) > 1 else []

    def read(self, path, **options):
        path = Path(path)
        fps = float(options.get("fps") or 30.0)
        coder = options.get("coder") or "imported"
        out: dict[str, Record] = {}
        for n, line in enumerate(path.read_text("utf-8").splitlines()[1:], start=2):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 4:
                raise FormatError(path, f"line {n}: expected 4 tab-separated fields, got {len(parts)}")
            video, onset, offset, emotion = parts
            try:
                onset, offset = int(onset), int(offset)
                seg = Segment(onset=onset, apex=(onset + offset) // 2, offset=offset,
                              emotion=emotion if emotion in EMOTION_LABELS else "other",
                              kind=kind_for(onset, offset, fps), source=coder)
            except ValueError as exc:
                raise FormatError(path, f"line {n}: {exc}") from None
            rec = out.setdefault(video, Record("", video, coder, fps))
            rec.segments.append(seg)
            rec.origins.append(f"line {n}")
        return list(out.values())
