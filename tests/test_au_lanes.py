"""AU notation (one style, one function) and the AU lanes' model: labels v2, the v1 migration,
undoable autosaved edits, and ELAN/other exports (issue 17 items 9 and 20). Qt-free."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotator.cli import main
from annotator.errors import LabelsError
from annotator.formats import collect_records, get_format, load_file, save_file, session_timing
from annotator.labels import (
    AU,
    AUInterval,
    Labels,
    VideoRef,
    format_aus,
    lane_name,
    load_labels,
    make_segment,
    normalize_aus,
    parse_aus,
    save_labels,
)
from annotator.labels.editor import LabelsEditor
from annotator.labels.schema import SCHEMA_VERSION
from tests.fixtures.labelled import add_labels, make_session
from tests.test_formats_eaf import schema, valid  # noqa: F401  (the XSD fixture)

SHA = "ab" * 32
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"

units = st.builds(AU, st.integers(1, 99), st.sampled_from(["", "L", "R", "U", "T", "B"]),
                  st.sampled_from(["", "A", "B", "C", "D", "E"]))


# -- the notation -----------------------------------------------------------------------------
@given(st.lists(units, max_size=8))
def test_format_then_parse_is_the_identity(aus):
    text = format_aus(aus)
    assert parse_aus(text) == aus
    assert format_aus(parse_aus(text)) == text  # canonical text is a fixed point
    assert "AU" not in text and " " not in text


@given(st.lists(units, min_size=1, max_size=6), st.sampled_from(["+", " ", ", ", "; "]), st.booleans())
def test_every_accepted_spelling_parses_to_the_same_units(aus, sep, prefix):
    spelled = sep.join(f"{a.side}{'AU' if prefix else ''}{a.number}{a.intensity}" for a in aus)
    assert parse_aus(spelled) == aus
    assert parse_aus(spelled.lower()) == aus


def test_the_issues_mixed_cell_comes_out_in_one_style():
    assert format_aus(parse_aus("AU10+R20")) == "10+R20"
    assert normalize_aus(["AU4+AU7", "r12c", "AU01"]) == ["4", "7", "R12C", "1"]
    assert lane_name("AU12") == "12" and lane_name("R12") == "R12"


@pytest.mark.parametrize("bad", ["smile", "AU", "12F", "AU0", "100", "LR12", " 12", "AU6\n"])
def test_what_is_not_an_au_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="action unit|1 to 99"):
        parse_aus([bad])


def test_a_lane_has_no_intensity():
    with pytest.raises(ValueError, match="without intensity"):
        lane_name("12C")


# -- the model and the file ----------------------------------------------------------------------
def _labels(frames: int = 300) -> Labels:
    return Labels("alice", VideoRef("clip.mp4", SHA, 30.0, frames))


def test_segments_hold_aus_in_the_one_notation():
    labels = _labels()
    seg = make_segment(labels, 1, 2, 3, aus=["AU6", "AU12", "AU4+AU7", "R15B"])
    assert seg.aus == ["6", "12", "4", "7", "R15B"]
    with pytest.raises(ValueError, match="smile"):
        make_segment(labels, 1, 2, 3, aus=["smile"])


def test_an_interval_checks_its_fields():
    assert AUInterval("R12", 3, 9, "C").code == "R12C"
    for kwargs, match in ((dict(au="12C", onset=1, offset=2), "without intensity"),
                          (dict(au="12", onset=5, offset=2), "onset <= offset"),
                          (dict(au="12", onset=1, offset=2, intensity="F"), "intensity")):
        with pytest.raises(ValueError, match=match):
            AUInterval(**kwargs)


def test_intervals_are_saved_loaded_and_checked_against_the_video(tmp_path):
    labels = _labels(frames=100)
    labels.au_intervals = [AUInterval("12", 10, 20, "C"), AUInterval("R4", 30, 31)]
    path = save_labels(labels, tmp_path / "alice.json")
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 2
    assert [(a["au"], a["onset"], a["offset"], a["intensity"]) for a in data["au_intervals"]] == [
        ("R4", 30, 31, ""), ("12", 10, 20, "C")]
    again = load_labels(path)
    assert again.to_dict() == labels.to_dict()
    assert list(again.lanes()) == ["R4", "12"]
    data["au_intervals"][0]["offset"] = 100
    path.write_text(json.dumps(data))
    with pytest.raises(LabelsError, match=r"au_intervals\[0\]\.offset: frame 100 is past"):
        load_labels(path)
    data["au_intervals"][0].update(offset=31, intensity="Z")
    path.write_text(json.dumps(data))
    with pytest.raises(LabelsError, match=r"au_intervals\[0\]\.intensity"):
        load_labels(path)


def test_a_version_1_file_is_read_migrated_and_saved_as_version_2(tmp_path):
    import jsonschema

    v1 = {
        "schema": "annotator.labels", "schema_version": 1, "coder": "alice",
        "video": {"path": "clip.mp4", "sha256": SHA, "fps": 30.0, "frames": 100}, "micro_max_seconds": 0.5,
        "segments": [{"id": "s1", "onset": 1, "apex": 2, "offset": 3, "kind": "micro", "emotion": "anger",
                      "status": "accepted", "source": "alice", "aus": ["AU4+AU7", "L12", "AU23B"]}],
    }
    jsonschema.validate(v1, json.loads((SCHEMAS / "labels.v1.schema.json").read_text()))  # a real v1 file
    path = tmp_path / "alice.json"
    path.write_text(json.dumps(v1))
    labels = load_labels(path)
    assert labels.get("s1").aus == ["4", "7", "L12", "23B"] and labels.au_intervals == []
    save_labels(labels, path)  # replacing an old file is allowed: it is a valid labels file
    data = json.loads(path.read_text())
    assert data["schema_version"] == 2 and data["au_intervals"] == []
    jsonschema.validate(data, json.loads((SCHEMAS / "labels.v2.schema.json").read_text()))
    # what the migration cannot read stays as it was, and the schema names it
    v1["segments"][0]["aus"] = ["AU6\n"]
    path.write_text(json.dumps(v1))
    with pytest.raises(LabelsError, match=r"segments\[0\]\.aus"):
        load_labels(path)
    path.write_text(json.dumps({**v1, "schema_version": 7}))
    with pytest.raises(LabelsError, match="versions 1, 2"):
        load_labels(path)


# -- the editor ------------------------------------------------------------------------------------
def test_interval_edits_are_undoable_and_autosaved(tmp_path):
    path = tmp_path / "alice.json"
    editor = LabelsEditor(_labels(), path)
    seen = []
    editor.connect(lambda e: seen.append(len(e.labels.au_intervals)))

    def on_disk():
        return [(a.au, a.onset, a.offset, a.intensity) for a in load_labels(path).sorted_intervals()]

    a = editor.new_interval("AU12", 40)
    assert on_disk() == [("12", 40, 40, "")]
    editor.set_interval_edge(a.id, "offset", 52)
    editor.set_interval_intensity(a.id, "C")
    assert on_disk() == [("12", 40, 52, "C")] and editor.interval_at("12", 45).id == a.id
    editor.set_interval_edge(a.id, "offset", 30)  # before the onset: both edges come along
    assert on_disk() == [("12", 30, 30, "C")]
    assert editor.undo() == "AU 12 offset" and on_disk() == [("12", 40, 52, "C")]
    assert editor.last_changed == [a.id] and editor.where_changed(a.id).offset == 52
    b = editor.new_interval("R4", 100, 90, intensity="A")  # edges in either order
    assert (b.onset, b.offset) == (90, 100)
    seg = editor.new_segment(45, emotion="joy")  # segments and intervals share one undo history
    editor.delete_interval(a.id)
    assert on_disk() == [("R4", 90, 100, "A")]
    assert editor.undo().startswith("delete AU 12") and on_disk() == [("R4", 90, 100, "A"), ("12", 40, 52, "C")]
    assert editor.undo() == "new segment" and editor.own(seg.id) is None
    assert editor.redo() == "new segment" and editor.redo().startswith("delete AU 12")
    assert on_disk() == [("R4", 90, 100, "A")]
    with pytest.raises(ValueError, match="intensity"):
        editor.set_interval_intensity(b.id, "F")
    assert on_disk() == [("R4", 90, 100, "A")] and seen[-1] == 1
    editor.new_interval("12", 10_000)  # past the end: clamped, never saved out of range
    assert on_disk()[-1] == ("12", 299, 299, "")


# -- exports ---------------------------------------------------------------------------------------
@pytest.fixture
def coded(tmp_path):
    session, spec = make_session(tmp_path / "w")
    labels = add_labels(session, "alice", [dict(onset=3, apex=4, offset=7, emotion="joy", aus=["AU6", "AU12"])])
    labels.au_intervals = [AUInterval("12", 3, 9, "C"), AUInterval("12", 20, 24, "E"), AUInterval("R4", 5, 6)]
    session.save_labels(labels)
    return session


def test_eaf_writes_one_tier_per_au_and_reads_them_back(coded, schema, tmp_path):  # noqa: F811
    import pympi

    session = coded
    out = tmp_path / "clip.eaf"
    assert main(["export", "eaf", str(session.root), "-o", str(out)]) == 0
    valid(schema, out)
    eaf = pympi.Elan.Eaf(str(out))
    ms = session_timing(session).ms()
    assert sorted(eaf.get_annotation_data_for_tier("alice:AU 12")) == [
        (int(ms[3]), int(ms[10]), "C"), (int(ms[20]), int(ms[25]), "E")]
    assert eaf.get_annotation_data_for_tier("alice:AU R4") == [(int(ms[5]), int(ms[7]), "")]
    assert eaf.get_parameters_for_tier("alice:AU 12")["LINGUISTIC_TYPE_REF"] == "au_intensity"
    assert eaf.get_annotation_data_for_tier("alice:AUs") == [(int(ms[3]), int(ms[8]), "6+12")]
    (rec,) = load_file(out, timing=session_timing(session))
    assert [(a.au, a.onset, a.offset, a.intensity) for a in rec.au_intervals] == [
        (a.au, a.onset, a.offset, a.intensity) for a in session.load_labels("alice").sorted_intervals()]
    assert main(["import", "eaf", str(out), "--into", str(session.root), "--coder", "eve"]) == 0
    eve = session.load_labels("eve")
    assert [(a.au, a.onset, a.offset, a.intensity) for a in eve.sorted_intervals()] == [
        ("R4", 5, 6, ""), ("12", 3, 9, "C"), ("12", 20, 24, "E")]
    assert eve.segments[0].aus == ["6", "12"]


def test_an_eaf_coder_with_only_au_tiers_is_read_as_intervals_without_segments(coded, schema, tmp_path, capsys):  # noqa: F811
    """A FACS coder who marked AU lanes in ELAN and no emotion tier is a coder, not a broken file."""
    import pympi

    session = coded
    out = tmp_path / "clip.eaf"
    assert main(["export", "eaf", str(session.root), "-o", str(out)]) == 0
    eaf = pympi.Elan.Eaf(str(out))
    for tier in list(eaf.get_tier_names()):
        if not tier.startswith("alice:AU "):
            eaf.remove_tier(tier)
    au_only = tmp_path / "au_only.eaf"
    eaf.to_file(str(au_only))
    valid(schema, au_only)
    (rec,) = load_file(au_only, timing=session_timing(session))
    assert rec.coder == "alice" and rec.segments == []
    assert sorted((a.au, a.onset, a.offset, a.intensity) for a in rec.au_intervals) == [
        ("12", 3, 9, "C"), ("12", 20, 24, "E"), ("R4", 5, 6, "")]
    assert main(["import", "eaf", str(au_only), "--into", str(session.root), "--coder", "facs"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(": 0 segments, 3 AU intervals")
    facs = session.load_labels("facs")
    assert facs.segments == [] and len(facs.au_intervals) == 3
    # a coder with segment tiers but no emotion tier is still refused, in one line
    eaf = pympi.Elan.Eaf(str(out))
    eaf.remove_tier("alice:emotion")
    broken = tmp_path / "no_emotion.eaf"
    eaf.to_file(str(broken))
    assert main(["import", "eaf", str(broken), "--into", str(session.root), "--coder", "y"]) == 2
    assert not session.has_labels("y")


def test_a_bad_intensity_in_an_eaf_is_one_line(coded, tmp_path, capsys):
    session = coded
    out = tmp_path / "clip.eaf"
    get_format("eaf").write(collect_records([session]).records, out)
    text = out.read_text()
    assert "<ANNOTATION_VALUE>E</ANNOTATION_VALUE>" in text
    out.write_text(text.replace("<ANNOTATION_VALUE>E</ANNOTATION_VALUE>", "<ANNOTATION_VALUE>huge</ANNOTATION_VALUE>"))
    assert main(["import", "eaf", str(out), "--into", str(session.root), "--coder", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"annotator: error: {out}: ") and "'huge' is not a FACS intensity" in err
    assert err.count("\n") == 1 and not session.has_labels("x")


def test_other_formats_say_they_left_the_lanes_out(coded, tmp_path, capsys):
    session = coded
    out = tmp_path / "casme.csv"
    assert main(["export", "casme-csv", str(session.root), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 AU intervals (the AU lanes) left out: casme-csv has no place for them" in printed
    assert "6+12" in out.read_text()  # the dataset's own AU style, which is ours too
    notes = save_file(session.load_labels("alice"), tmp_path / "megc.csv", format="megc-csv")
    assert any("AU intervals" in n for n in notes)
    # the native file keeps them
    assert not [n for n in save_file(session.load_labels("alice"), tmp_path / "a.json", format="annotator-json")
                if "AU intervals" in n]
    assert len(load_labels(tmp_path / "a.json").au_intervals) == 3


def test_the_readout_names_the_aus_coded_at_the_cursor_in_the_one_style():
    import numpy as np

    from annotator.features.readout import CursorReadout

    readout = CursorReadout(np.arange(100) / 30.0, 30.0, {"AU12": np.full(100, 0.5)})
    intervals = [AUInterval("12", 10, 20, "C"), AUInterval("R4", 15, 30), AUInterval("6", 18, 18, "A")]
    assert readout.at(18, None, intervals).coded == "R4+6A+12C"  # by AU number
    assert readout.at(25, None, intervals).coded == "R4"
    assert "coded R4" in readout.at(25, None, intervals).format_text()
    assert readout.at(50, None, intervals).coded == "" and "coded" not in readout.at(50, None, intervals).format_text()
    edited = [intervals[0].replace(intensity="E"), *intervals[1:]]  # an edit makes a new list
    assert readout.at(18, None, edited).coded == "R4+6A+12E"
