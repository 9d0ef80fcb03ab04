"""ELAN .eaf: every written file valid against the EAF 3.0 XSD, read back with pympi, no field lost, VFR-exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.cli import main
from annotator.formats import collect_records, get_format, load_file, session_timing
from tests.fixtures.labelled import add_labels, make_session

XSD = Path(__file__).resolve().parents[1] / ".venv" / "share" / "EAFv3.0.xsd"


@pytest.fixture(scope="module")
def schema():
    from lxml import etree

    if not XSD.is_file():
        pytest.fail(f"{XSD} is missing: run `make setup`, which fetches it from pympi-ling's sdist")
    return etree.XMLSchema(etree.parse(str(XSD)))


def valid(schema, path):
    from lxml import etree

    doc = etree.parse(str(path))
    assert schema.validate(doc), schema.error_log.last_error
    return doc


@pytest.fixture
def coded(tmp_path):
    session, spec = make_session(tmp_path / "w")
    add_labels(session, "alice", [
        dict(onset=3, apex=3, offset=7, emotion="joy", aus=["AU6", "AU12"], notes="cheek raise", confidence=0.8,
             intensity=0.4, emotion_scores={"joy": 0.9, "other": 0.1}, status="edited"),
        dict(onset=20, apex=26, offset=41, emotion="contempt", aus=["R14"]),
    ])
    add_labels(session, "bob", [(4, 5, 8, "surprise")])
    return session, spec


def test_written_file_is_valid_eaf_3_and_reads_back_with_pympi(coded, schema, tmp_path):
    import pympi

    session, _ = coded
    out = tmp_path / "clip.eaf"
    assert main(["export", "eaf", str(session.root), "-o", str(out)]) == 0
    doc = valid(schema, out)
    root = doc.getroot()
    assert root.get("VERSION") == "3.0" and root.get("FORMAT") == "3.0"
    media = root.find("HEADER/MEDIA_DESCRIPTOR")
    assert media.get("MEDIA_URL") == "clip.mp4" and media.get("MIME_TYPE") == "video/mp4"
    assert root.find("LANGUAGE").get("LANG_ID") == "und"
    cv = root.find("CONTROLLED_VOCABULARY")
    assert {v.text for v in cv.iter("CVE_VALUE")} >= {"joy", "surprise", "sadness", "anger", "fear", "contempt", "disgust"}
    eaf = pympi.Elan.Eaf(str(out))
    assert eaf.get_parameters_for_tier("alice:emotion")["ANNOTATOR"] == "alice"
    assert eaf.get_parameters_for_tier("bob:phase")["ANNOTATOR"] == "bob"
    ms = session_timing(session).ms()
    assert sorted(eaf.get_annotation_data_for_tier("alice:emotion")) == [
        (int(ms[3]), int(ms[8]), "joy"), (int(ms[20]), int(ms[42]), "contempt")]
    # onset == apex: no zero-length onset phase, the apex phase starts at the apex
    assert sorted(eaf.get_annotation_data_for_tier("alice:phase")) == [
        (int(ms[3]), int(ms[8]), "apex-offset"), (int(ms[20]), int(ms[26]), "onset-apex"),
        (int(ms[26]), int(ms[42]), "apex-offset")]


def test_round_trip_loses_no_field_on_vfr_footage(coded, tmp_path):
    session, spec = coded
    timing = session_timing(session)
    gaps = set(round(float(d) * 1000) for d in (timing.times[1:] - timing.times[:-1]))
    assert len(gaps) > 5, "the fixture must be variable-frame-rate for this test to mean anything"
    out = tmp_path / "clip.eaf"
    records = collect_records([session]).records
    get_format("eaf").write(records, out)
    back = {r.coder: r for r in load_file(out, timing=timing)}
    for rec in records:
        assert [s.to_dict() for s in back[rec.coder].segments] == [s.to_dict() for s in rec.segments]
        assert back[rec.coder].key == ("sub01", "clip") and back[rec.coder].sha256 == session.sha256


def test_existing_target_is_replaced_atomically_without_bak(coded, tmp_path):
    session, _ = coded
    out = tmp_path / "clip.eaf"
    out.write_text("old")
    assert main(["export", "eaf", str(session.root), "-o", str(out)]) == 2  # replacing needs --force
    assert out.read_text() == "old"
    assert main(["export", "eaf", str(session.root), "-o", str(out), "--force"]) == 0
    assert not out.with_suffix(".bak").exists() and out.read_bytes().startswith(b"<?xml")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_import_into_a_session_maps_times_to_displayed_frames(coded, tmp_path, capsys):
    session, _ = coded
    out = tmp_path / "clip.eaf"
    get_format("eaf").write(collect_records([session], "alice").records, out)
    assert main(["import", "eaf", str(out), "--into", str(session.root), "--coder", "eve"]) == 0
    eve = session.load_labels("eve")
    alice = session.load_labels("alice")
    assert [(s.onset, s.apex, s.offset, s.notes, s.confidence) for s in eve.segments] == [
        (s.onset, s.apex, s.offset, s.notes, s.confidence) for s in alice.segments]


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_pympi_traps_missing_schema_location_and_cve_ref(coded, tmp_path):
    session, _ = coded
    out = tmp_path / "clip.eaf"
    get_format("eaf").write(collect_records([session], "bob").records, out)
    _edit(out, ' xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd"', "")
    # ELAN may write the CV entry as CVE_REF with an empty value; pympi drops CVE_REF
    text = out.read_text()
    start = text.index("<ALIGNABLE_ANNOTATION", text.index('TIER_ID="bob:emotion"'))
    end = text.index("</ALIGNABLE_ANNOTATION>", start)
    block = text[start:end]
    fixed = block.replace("<ALIGNABLE_ANNOTATION", '<ALIGNABLE_ANNOTATION CVE_REF="cve_surprise"', 1)
    fixed = fixed.replace(">surprise</ANNOTATION_VALUE>", "></ANNOTATION_VALUE>")
    out.write_text(text[:start] + fixed + text[end:])
    (rec,) = load_file(out, timing=session_timing(session))
    assert [(s.onset, s.offset, s.emotion) for s in rec.segments] == [(4, 8, "surprise")]


def test_bad_eaf_files_name_the_file_and_element(coded, tmp_path, capsys):
    session, _ = coded
    good = tmp_path / "good.eaf"
    get_format("eaf").write(collect_records([session], "bob").records, good)
    cases = {
        "broken.eaf": (good.read_text()[:300], "line"),
        "notelan.eaf": ("<?xml version='1.0'?><html/>", "not <ANNOTATION_DOCUMENT>"),
    }
    for name, (text, expect) in cases.items():
        (tmp_path / name).write_text(text)
        assert main(["import", "eaf", str(tmp_path / name), "--into", str(session.root), "--coder", "x"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"annotator: error: {tmp_path / name}: ") and expect in err and err.count("\n") == 1
    # a time past the video's end falls on no frame
    late = tmp_path / "late.eaf"
    late.write_text(good.read_text())
    ms = session_timing(session).ms()
    import re

    text = late.read_text()
    last_slot = max(re.findall(r'TIME_VALUE="(\d+)"', text), key=int)
    late.write_text(text.replace(f'TIME_VALUE="{last_slot}"', f'TIME_VALUE="{int(ms[-1]) + 500}"'))
    assert main(["import", "eaf", str(late), "--into", str(session.root), "--coder", "x"]) == 2
    err = capsys.readouterr().err
    assert "ANNOTATION a" in err and "falls on no frame of the video" in err
    assert not session.has_labels("x")
