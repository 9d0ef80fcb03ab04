"""The datasets' own tables: CASME II, SAMM, CAS(ME)² and MEGC, round trips and bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from annotator.cli import main
from annotator.formats import FormatError, collect_records, get_format, load_file
from tests.fixtures.labelled import add_labels, make_session


@pytest.fixture
def session(tmp_path):
    s, _ = make_session(tmp_path / "w", name="EP02_01f")
    add_labels(s, "alice", [
        dict(onset=0, apex=2, offset=9, emotion="joy", aus=["AU6", "AU12"]),
        dict(onset=20, apex=25, offset=41, emotion="disgust", aus=["AU9"]),
    ])
    return s


@pytest.mark.parametrize("name", ["casme-xlsx", "samm-xlsx", "casme2-xlsx", "casme-csv"])
def test_round_trip(name, session, tmp_path):
    fmt = get_format(name)
    out = tmp_path / f"t{fmt.suffix}"
    records = collect_records([session]).records
    notes = fmt.write(records, out)
    (back,) = fmt.read(out, fps=session.fps, coder="alice")
    assert back.key == ("sub01", "EP02_01f")
    # CAS(ME)² has only positive/negative/surprise/others: disgust comes back as other, and the export says so
    coarse = {"disgust": "other"} if name == "casme2-xlsx" else {}
    if coarse:
        assert "1 segments' emotions (disgust) have no CAS(ME)² class of their own" in " ".join(notes)
    want = [(s.onset, s.apex, s.offset, coarse.get(s.emotion, s.emotion), s.aus, s.kind) for s in records[0].segments]
    assert [(s.onset, s.apex, s.offset, s.emotion, s.aus, s.kind) for s in back.segments] == want


def test_frames_are_written_in_each_datasets_base(session, tmp_path):
    records = collect_records([session]).records
    get_format("casme-xlsx").write(records, tmp_path / "c.xlsx")
    c = pd.read_excel(tmp_path / "c.xlsx")
    assert list(c.columns) == ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units",
                               "Estimated Emotion"]
    assert c.OnsetFrame.tolist() == [1, 21] and c["Estimated Emotion"].tolist() == ["happiness", "disgust"]
    assert c["Action Units"].tolist() == ["6+12", "9"]
    get_format("samm-xlsx").write(records, tmp_path / "s.xlsx")
    s = pd.read_excel(tmp_path / "s.xlsx", header=12)  # the header is on row 13
    assert s["Onset Frame"].tolist() == [1, 21] and s["Duration"].tolist() == [10, 22]
    assert s["Estimated Emotion"].tolist() == ["Happiness", "Disgust"]
    get_format("casme2-xlsx").write(records, tmp_path / "m.xlsx")
    m = pd.read_excel(tmp_path / "m.xlsx", header=None)
    assert m.iloc[:, 2].tolist() == [1, 21] and m.iloc[:, 6].tolist() == ["positive", "negative"]
    out = tmp_path / "megc.csv"
    notes = get_format("megc-csv").write(records, out)
    assert out.read_text().splitlines() == ["vid,pred_onset,pred_offset,type", "EP02_01f,1,10,me", "EP02_01f,21,42,mae"]
    assert any("apex, emotion" in n for n in notes)


def test_megc_header_is_configurable(session, tmp_path, capsys):
    out = tmp_path / "megc.csv"
    assert main(["export", "megc-csv", str(session.root), "-o", str(out), "--option", "header=vid,onset,offset,type",
                 "--frame-base", "0"]) == 0
    assert out.read_text().splitlines()[:2] == ["vid,onset,offset,type", "EP02_01f,0,9,me"]
    (rec,) = load_file(out, format="megc-csv", header="vid,onset,offset,type", frame_base=0)
    assert [(s.onset, s.offset, s.kind) for s in rec.segments] == [(0, 9, "micro"), (20, 41, "macro")]


def test_casme_ii_sheet_as_published(tmp_path):
    # the published sheet: two unnamed columns, '/' apex cells, the dataset's emotion names
    path = tmp_path / "CASME2-coding-20140508.xlsx"
    pd.DataFrame([
        ["sub01", "EP02_01f", "", 46, 59, 86, "", "12", "happiness"],
        ["sub02", "EP02_01f", "", 10, "/", 30, "", "4+L10", "repression"],
    ], columns=["Subject", "Filename", "Unnamed: 2", "OnsetFrame", "ApexFrame", "OffsetFrame", "Unnamed: 6",
                "Action Units", "Estimated Emotion"]).to_excel(path, index=False)
    recs = {r.key: r for r in load_file(path)}  # sniffed among the .xlsx formats
    assert set(recs) == {("sub01", "EP02_01f"), ("sub02", "EP02_01f")}  # one clip name, two subjects
    a, b = recs[("sub01", "EP02_01f")].segments[0], recs[("sub02", "EP02_01f")].segments[0]
    assert (a.onset, a.apex, a.offset, a.emotion, a.aus) == (45, 58, 85, "joy", ["12"])
    assert (b.onset, b.apex, b.offset, b.emotion, b.aus) == (9, 19, 29, "other", ["4", "L10"])


def test_casme2_offset_zero_means_apex(tmp_path):
    path = tmp_path / "cas.xlsx"
    pd.DataFrame([["s15", "anger1_1", 10, 14, 0, "4", "negative", "micro-expression", "angry"]]).to_excel(
        path, index=False, header=False)
    (rec,) = get_format("casme2-xlsx").read(path)
    (seg,) = rec.segments
    assert (seg.onset, seg.apex, seg.offset, seg.kind) == (9, 13, 13, "micro")


def test_bad_tables_name_the_file_and_row(tmp_path, session, capsys):
    cas = tmp_path / "cas0.xlsx"
    pd.DataFrame([["s15", "a", 5, 8, 12, "4", "positive", "micro-expression", ""],
                  ["s15", "b", 0, 3, 9, "4", "positive", "micro-expression", ""]]).to_excel(cas, index=False, header=False)
    with pytest.raises(FormatError, match=r"row 2, column 3 \(onset\): frame 0 is before the first frame \(frames in this table "
                                          r"count from 1; was it written 0-based\?\)"):
        get_format("casme2-xlsx").read(cas)
    renamed = tmp_path / "renamed.xlsx"
    pd.DataFrame([["sub01", "EP02_01f", 1, 2, 3, "", "happiness"]],
                 columns=["Subject", "Filename", "Onset", "ApexFrame", "OffsetFrame", "Action Units",
                          "Estimated Emotion"]).to_excel(renamed, index=False)
    assert main(["import", "casme-xlsx", str(renamed), "--into", str(session.root), "--coder", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"annotator: error: {renamed}: row 1: missing column 'OnsetFrame'")
    past = tmp_path / "past.xlsx"
    pd.DataFrame([["sub01", "EP02_01f", 1, 2, 3, "", "happiness"], ["sub01", "EP02_01f", 50, 55, 99, "", "fear"]],
                 columns=["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units",
                          "Estimated Emotion"]).to_excel(past, index=False)
    assert main(["import", "casme-xlsx", str(past), "--into", str(session.root), "--coder", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"annotator: error: {past}: row 3: frame 98 is past the end of the video (60 frames")
    assert not session.has_labels("x")
    text = tmp_path / "notxlsx.xlsx"
    text.write_text("Subject,Filename\n")
    assert main(["import", "samm-xlsx", str(text), "--into", str(session.root), "--coder", "x"]) == 2
    assert "not a readable xlsx workbook" in capsys.readouterr().err


# Each of our seven emotions, as each dataset's own label, and what reading that label gives back.
DATASET_EMOTIONS = {
    "samm-xlsx": ({"joy": "Happiness", "surprise": "Surprise", "sadness": "Sadness", "anger": "Anger", "fear": "Fear",
                   "contempt": "Contempt", "disgust": "Disgust"}, {}),
    "casme-xlsx": ({"joy": "happiness", "surprise": "surprise", "sadness": "sadness", "anger": "others",
                    "fear": "fear", "contempt": "others", "disgust": "disgust"}, {"anger": "other", "contempt": "other"}),
    "casme2-xlsx": ({"joy": "positive", "surprise": "surprise", "sadness": "negative", "anger": "negative",
                     "fear": "negative", "contempt": "negative", "disgust": "negative"},
                    {e: "other" for e in ("sadness", "anger", "fear", "contempt", "disgust")}),
}


@pytest.mark.parametrize("name", sorted(DATASET_EMOTIONS))
def test_every_emotion_maps_to_the_datasets_label_and_back(name, tmp_path):
    from annotator.labels import EMOTIONS

    written, lost = DATASET_EMOTIONS[name]
    s, _ = make_session(tmp_path / "w", name="EP02_01f", n=80)
    add_labels(s, "alice", [dict(onset=10 * k, apex=10 * k + 2, offset=10 * k + 5, emotion=e)
                            for k, e in enumerate(EMOTIONS)])
    fmt = get_format(name)
    out = tmp_path / f"t{fmt.suffix}"
    fmt.write(collect_records([s]).records, out)
    table = {"samm-xlsx": lambda: pd.read_excel(out, header=12)["Estimated Emotion"],
             "casme-xlsx": lambda: pd.read_excel(out)["Estimated Emotion"],
             "casme2-xlsx": lambda: pd.read_excel(out, header=None).iloc[:, 6]}[name]()
    assert table.tolist() == [written[e] for e in EMOTIONS]
    (back,) = fmt.read(out, fps=s.fps, coder="alice")
    assert [x.emotion for x in back.segments] == [lost.get(e, e) for e in EMOTIONS]
