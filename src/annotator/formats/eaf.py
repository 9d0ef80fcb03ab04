"""ELAN annotation documents (``.eaf``, EAF 3.0), written and read with pympi-ling.

Layout of a written file (one video; one set of tiers per coder, ANNOTATOR = coder,
PARTICIPANT = subject)::

    <coder>:emotion   onset → offset, value from the controlled vocabulary "emotions"
    <coder>:phase     "onset-apex" (onset → apex, omitted when apex = onset) and
                      "apex-offset" (apex → offset)
    <coder>:AUs       onset → offset, action units in FACS notation (``6+R12C``,
                      :func:`annotator.labels.facs.format_aus`)
    <coder>:notes     onset → offset, the coder's notes (only where there are any)
    <coder>:annotator onset → offset, a JSON object holding what EAF has no place for:
                      id, kind, status, confidence, intensity, emotion_scores, source,
                      adjudication, created, modified.  ELAN keeps an annotation's value as it is, so
                      these survive editing in ELAN; moving the annotation's edges
                      moves nothing (the times come from the emotion tier).
    <coder>:AU <lane> one tier per AU lane (``alice:AU 12``, ``alice:AU R12``): each
                      AU interval, value its FACS intensity A-E from the controlled
                      vocabulary "facs_intensity" (empty when not scored)

**Times** are integer milliseconds taken from the video's own presentation
timestamps: a segment runs from the start of its onset frame to the end of its
offset frame.  On reading, a time maps to the frame displayed at that moment, so
frame → ms → frame is exact on variable-frame-rate footage.  The header links the
video (MEDIA_DESCRIPTOR) and holds PROPERTY elements ``annotator:subject``,
``annotator:video``, ``annotator:sha256``, ``annotator:fps`` and
``annotator:frames``.

pympi-ling's traps, handled here: it writes VERSION 2.8 unless ``adocument`` is set
to 3.0; ``to_file`` renames an existing target to ``.bak`` (we serialise with
``to_string`` and write atomically ourselves); it raises ``KeyError`` on a file
without ``xsi:noNamespaceSchemaLocation`` (we add one to a private copy); and it
drops ``CVE_REF`` (we read CVE_REFs with lxml and use the entry's value where an
annotation's own value is empty, as ELAN can leave it).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..io import atomic_write_bytes
from ..labels import EMOTION_LABELS, INTENSITIES, AUInterval, Segment, format_aus, kind_for, lane_name, parse_aus
from ..labels.facs import lane_sort_key
from .base import BaseFormat, FormatError, require_file
from .records import Record, Timing

CV_ID = "emotions"
INTENSITY_CV = "facs_intensity"
#: An AU lane's tier is ``<coder>:AU <lane>``.
AU_TIER = "AU "
LANG = "und"  # ELAN's "undetermined" language
XSD_URL = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"
TIERS = ("emotion", "phase", "AUs", "notes", "annotator")
#: Segment fields stored as JSON on the ``<coder>:annotator`` tier.
DATA_FIELDS = (
    "id", "kind", "status", "confidence", "intensity", "emotion_scores", "source", "adjudication", "created",
    "modified",
)
PROP = "annotator:"


def _mime(name: str) -> str:
    # pympi guesses only a few types (and swaps mpg/mpeg), so say it ourselves
    ext = Path(name).suffix.lower()
    return {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
            ".mkv": "video/x-matroska", ".avi": "video/x-msvideo", ".mpg": "video/mpeg",
            ".mpeg": "video/mpeg"}.get(ext, "video/*")


class Eaf(BaseFormat):
    """ELAN ``.eaf`` (EAF 3.0): tiers per coder, the emotions as a controlled vocabulary, ms from the video's clock."""

    name = "eaf"
    description = "ELAN annotation document (EAF 3.0)"
    suffix = ".eaf"
    frame_base = "integer ms from the video's own frame timestamps (a time maps to the frame displayed then)"
    emotions = "our names, as the controlled vocabulary 'emotions' (language und)"
    uses_timing = True
    carries_au_intervals = True

    def sniff(self, path: Path) -> bool:
        try:
            return b"ANNOTATION_DOCUMENT" in path.open("rb").read(2048)
        except OSError:
            return False

    # -- writing ----------------------------------------------------------------------
    def write(self, records: list[Record], path: str | os.PathLike, **options: Any) -> list[str]:
        import pympi

        videos = {(r.subject, r.video) for r in records}
        if len(videos) > 1:
            raise FormatError(path, f"an EAF file annotates one video, and these labels cover {len(videos)}; "
                                    "export one session at a time")
        eaf = pympi.Elan.Eaf(author="annotator")
        eaf.adocument.update({"VERSION": "3.0", "FORMAT": "3.0", "xsi:noNamespaceSchemaLocation": XSD_URL})
        eaf.header = {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"}
        eaf.remove_tier("default")
        eaf.add_language(LANG, "http://cdb.iso.org/lg/CDB-00130975-001", "undetermined (und)")
        eaf.add_controlled_vocabulary(CV_ID)
        eaf.controlled_vocabularies[CV_ID][0].append((LANG, "emotion of a facial expression"))
        for emotion in EMOTION_LABELS:
            eaf.add_cv_entry(CV_ID, f"cve_{emotion}", [(emotion, LANG, None)])
        eaf.add_controlled_vocabulary(INTENSITY_CV)
        eaf.controlled_vocabularies[INTENSITY_CV][0].append((LANG, "FACS intensity, A (trace) to E (maximum)"))
        for letter in INTENSITIES:
            eaf.add_cv_entry(INTENSITY_CV, f"cve_intensity_{letter}", [(letter, LANG, None)])
        eaf.add_linguistic_type("au_intensity", param_dict={
            "LINGUISTIC_TYPE_ID": "au_intensity", "TIME_ALIGNABLE": "true", "GRAPHIC_REFERENCES": "false",
            "CONTROLLED_VOCABULARY_REF": INTENSITY_CV,
        })
        eaf.add_linguistic_type("emotion", param_dict={
            "LINGUISTIC_TYPE_ID": "emotion", "TIME_ALIGNABLE": "true", "GRAPHIC_REFERENCES": "false",
            "CONTROLLED_VOCABULARY_REF": CV_ID,
        })
        if records:
            first = records[0]
            media = first.media or f"{first.video}.mp4"
            eaf.add_linked_file(Path(media).name, relpath=f"./{Path(media).name}", mimetype=_mime(media))
            for key, value in (("subject", first.subject), ("video", first.video), ("sha256", first.sha256),
                               ("fps", first.fps), ("frames", first.frames)):
                if value not in (None, ""):
                    eaf.add_property(PROP + key, str(value))
        for rec in records:
            self._add_coder(eaf, rec)
        # to_string, not to_file: to_file renames an existing target to .bak
        data = pympi.Elan.to_string(eaf, encoding="UTF-8")
        data = data if isinstance(data, bytes) else data.encode("utf-8")
        if not data.startswith(b"<?xml"):
            data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + data
        atomic_write_bytes(path, data)
        return []

    def _add_coder(self, eaf, rec: Record) -> None:
        ms = rec.clock().ms()
        for tier in TIERS:
            eaf.add_tier(f"{rec.coder}:{tier}", ling="emotion" if tier == "emotion" else "default-lt",
                         part=rec.subject or None, ann=rec.coder)
        for i, seg in enumerate(rec.segments):
            if seg.offset + 1 >= len(ms):
                raise FormatError(None, f"{rec.origin(i)}: frame {seg.offset} is past the video's {len(ms) - 1} frames")
            start, apex, end = int(ms[seg.onset]), int(ms[seg.apex]), int(ms[seg.offset + 1])
            eaf.add_annotation(f"{rec.coder}:emotion", start, end, seg.emotion)
            if apex > start:
                eaf.add_annotation(f"{rec.coder}:phase", start, apex, "onset-apex")
            eaf.add_annotation(f"{rec.coder}:phase", apex, end, "apex-offset")
            if seg.aus:
                eaf.add_annotation(f"{rec.coder}:AUs", start, end, format_aus(seg.aus))
            if seg.notes:
                eaf.add_annotation(f"{rec.coder}:notes", start, end, seg.notes)
            data = {k: getattr(seg, k) for k in DATA_FIELDS}
            eaf.add_annotation(f"{rec.coder}:annotator", start, end, json.dumps(data, separators=(",", ":")))
        lanes: dict[str, list] = {}
        for a in rec.au_intervals:
            lanes.setdefault(a.au, []).append(a)
        for lane in sorted(lanes, key=lane_sort_key):
            tier = f"{rec.coder}:{AU_TIER}{lane}"
            eaf.add_tier(tier, ling="au_intensity", part=rec.subject or None, ann=rec.coder)
            for a in sorted(lanes[lane], key=lambda a: a.onset):
                if a.offset + 1 >= len(ms):
                    raise FormatError(None, f"AU {a.au} interval {a.onset}–{a.offset}: frame {a.offset} is past the "
                                            f"video's {len(ms) - 1} frames")
                eaf.add_annotation(tier, int(ms[a.onset]), int(ms[a.offset + 1]), a.intensity)

    # -- reading ----------------------------------------------------------------------
    def read(self, path: str | os.PathLike, **options: Any) -> list[Record]:
        path = require_file(path)
        tree = _parse_xml(path)
        eaf = _pympi_read(path, tree)
        cve_values = _cve_values(tree)
        props = {k[len(PROP):]: v for k, v in eaf.properties if isinstance(k, str) and k.startswith(PROP)}
        try:
            fps = float(options.get("fps") or props.get("fps") or 0) or 30.0
            frames = int(props["frames"]) if props.get("frames") else None
        except ValueError:
            raise FormatError(path, "HEADER: PROPERTY annotator:fps or annotator:frames is not a number") from None
        timing: Timing | None = options.get("timing")
        if timing is None and frames is None:
            raise FormatError(path, "HEADER: no annotator:frames property and no video given; import with --into SESSION")
        clock = timing if timing is not None else Timing.constant(fps, frames)
        media = eaf.media_descriptors[0].get("MEDIA_URL", "") if eaf.media_descriptors else ""
        video = props.get("video") or (Path(media).stem if media else path.stem)
        coders: dict[str, dict[str, str]] = {}
        for tier in eaf.get_tier_names():
            coder, sep, kind = tier.rpartition(":")
            if sep and (kind in TIERS or kind.startswith(AU_TIER)):
                coders.setdefault(coder, {})[kind] = tier
        if not coders:
            raise FormatError(path, "has no '<coder>:emotion' tier (not written by annotator, or renamed)")
        out = []
        for coder, tiers in coders.items():
            au_only = all(kind.startswith(AU_TIER) for kind in tiers)  # a coder who marked AU lanes only
            if "emotion" not in tiers and not au_only:
                raise FormatError(path, f"TIER {coder}:emotion is missing (the coder's other tiers are present)")
            params = eaf.get_parameters_for_tier(tiers.get("emotion") or min(tiers.values()))
            subject = props.get("subject") or params.get("PARTICIPANT") or ""
            rec = Record(subject, video, params.get("ANNOTATOR") or coder, fps, sha256=props.get("sha256"),
                         frames=frames, timing=timing, media=media or None)
            self._read_coder(path, eaf, tiers, rec, clock, cve_values)
            out.append(rec)
        return out

    def _read_coder(self, path: Path, eaf, tiers: dict[str, str], rec: Record, clock: Timing,
                    cve_values: dict[str, str]) -> None:
        by_span: dict[str, dict[tuple[int, int], str]] = {}
        for kind in ("AUs", "notes", "annotator"):
            if kind in tiers:
                by_span[kind] = {(a[0], a[1]): a[2] for a in eaf.get_annotation_data_for_tier(tiers[kind])}
        phase_ends: dict[int, int] = {}
        for a in eaf.get_annotation_data_for_tier(tiers["phase"]) if "phase" in tiers else []:
            if a[2] == "apex-offset":
                phase_ends[a[1]] = a[0]
        aligned = eaf.tiers[tiers["emotion"]][0] if "emotion" in tiers else {}
        for aid, (ts1, ts2, value, _svg) in sorted(aligned.items(), key=lambda kv: eaf.timeslots.get(kv[1][0]) or 0):
            where = f"ANNOTATION {aid} on TIER {tiers['emotion']}"
            start, end = eaf.timeslots.get(ts1), eaf.timeslots.get(ts2)
            if start is None or end is None:
                raise FormatError(path, f"{where}: its time slots {ts1}/{ts2} have no time value")
            onset, offset = clock.frame_at_ms(start), clock.frame_ending_at_ms(end)
            last_ms = int(clock.ms()[-1])
            for ms, frame in ((start, onset), (end, offset)):
                if frame is None:
                    raise FormatError(path, f"{where}: {ms} ms falls on no frame of the video (frames cover 0–{last_ms} ms)")
            value = (value or cve_values.get(aid, "")).strip()
            if value not in EMOTION_LABELS:
                raise FormatError(path, f"{where}: {value!r} is not in the emotion vocabulary ({', '.join(EMOTION_LABELS)})")
            apex_ms = phase_ends.get(end)
            apex = clock.frame_at_ms(apex_ms) if apex_ms is not None else None
            if apex is None or not (onset <= apex <= offset):
                apex = (onset + offset) // 2
            fields: dict[str, Any] = {}
            raw = by_span.get("annotator", {}).get((start, end))
            if raw:
                try:
                    fields = {k: v for k, v in json.loads(raw).items() if k in DATA_FIELDS}
                except (ValueError, AttributeError):
                    raise FormatError(path, f"TIER {tiers['annotator']} at {start}–{end} ms: not the JSON annotator writes") from None
            aus = by_span.get("AUs", {}).get((start, end), "")
            fields.setdefault("kind", kind_for(onset, offset, clock.fps))
            try:
                seg = Segment(onset=onset, apex=apex, offset=offset, emotion=value,
                              aus=parse_aus(aus), notes=by_span.get("notes", {}).get((start, end), ""),
                              **fields)
            except (TypeError, ValueError) as exc:
                raise FormatError(path, f"{where}: {exc}") from None
            rec.segments.append(seg)
            rec.origins.append(where)
        for kind, tier in tiers.items():
            if kind.startswith(AU_TIER):
                self._read_au_tier(path, eaf, tier, kind[len(AU_TIER):], rec, clock, cve_values)

    def _read_au_tier(self, path: Path, eaf, tier: str, lane: str, rec: Record, clock: Timing,
                      cve_values: dict[str, str]) -> None:
        """One AU lane's tier: each annotation an interval, its value the FACS intensity."""
        try:
            lane = lane_name(lane)
        except ValueError as exc:
            raise FormatError(path, f"TIER {tier}: {exc}") from None
        for aid, (ts1, ts2, value, _svg) in eaf.tiers[tier][0].items():
            where = f"ANNOTATION {aid} on TIER {tier}"
            start, end = eaf.timeslots.get(ts1), eaf.timeslots.get(ts2)
            if start is None or end is None:
                raise FormatError(path, f"{where}: its time slots {ts1}/{ts2} have no time value")
            onset, offset = clock.frame_at_ms(start), clock.frame_ending_at_ms(end)
            if onset is None or offset is None or offset < onset:
                raise FormatError(path, f"{where}: {start}–{end} ms is not a span of the video's frames")
            intensity = (value or cve_values.get(aid, "")).strip().upper()
            if intensity not in ("", *INTENSITIES):
                raise FormatError(path, f"{where}: {value!r} is not a FACS intensity (A-E, or empty)")
            rec.au_intervals.append(AUInterval(au=lane, onset=onset, offset=offset, intensity=intensity))


def _parse_xml(path: Path):
    from lxml import etree

    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise FormatError(path, f"line {line}: not well-formed XML ({exc.msg})") from None
    if tree.getroot().tag != "ANNOTATION_DOCUMENT":
        raise FormatError(path, f"root element is <{tree.getroot().tag}>, not <ANNOTATION_DOCUMENT> (not an ELAN file)")
    return tree


def _pympi_read(path: Path, tree):
    import warnings

    import pympi
    from lxml import etree

    root = tree.getroot()
    key = "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation"
    source, tmp = path, None
    if key not in root.attrib:
        # pympi deletes this attribute unconditionally and raises KeyError without it
        root.set(key, XSD_URL)
        fd, tmp = tempfile.mkstemp(suffix=".eaf")
        os.close(fd)
        tree.write(tmp, xml_declaration=True, encoding="UTF-8")
        source = Path(tmp)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pympi warns on versions it does not know; we check what we use
            return pympi.Elan.Eaf(str(source))
    except (KeyError, ValueError, IndexError, etree.XMLSyntaxError) as exc:
        raise FormatError(path, f"not an ELAN document pympi can read ({exc.__class__.__name__}: {exc})") from None
    except Exception as exc:  # noqa: BLE001 - pympi raises bare Exception on parse errors
        raise FormatError(path, f"not an ELAN document pympi can read ({exc})") from None
    finally:
        if tmp is not None:
            os.unlink(tmp)


def _cve_values(tree) -> dict[str, str]:
    """``{annotation id: CV entry value}`` for annotations that reference a CV entry (pympi drops these)."""
    entries = {}
    for entry in tree.iter("CV_ENTRY_ML"):
        value = entry.find("CVE_VALUE")
        if value is not None and value.text:
            entries[entry.get("CVE_ID")] = value.text
    out = {}
    for ann in tree.iter("ALIGNABLE_ANNOTATION"):
        ref = ann.get("CVE_REF")
        if ref and ref in entries:
            out[ann.get("ANNOTATION_ID")] = entries[ref]
    return out
