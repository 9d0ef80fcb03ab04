"""The I/O layer: discovery (built-in and third-party), the facade, export notes, import safety, clip keys."""

from __future__ import annotations

import sys
import textwrap
import warnings

import pytest

from annotator.cli import main
from annotator.formats import FormatPluginWarning, available_formats, get_format, load_file, save_file
from tests.fixtures.labelled import add_labels, make_session

REPO_PLUGIN = __import__("pathlib").Path(__file__).resolve().parents[1] / "plugins" / "annotator-format-example"
BUILT_IN = {"annotator-json", "casme-csv", "casme-xlsx", "samm-xlsx", "casme2-xlsx", "megc-csv", "eaf"}


@pytest.fixture
def session(tmp_path):
    s, spec = make_session(tmp_path / "work")
    add_labels(s, "alice", [(5, 8, 12, "joy"), (30, 31, 40, "fear")])
    auto = s.new_labels("auto")
    from annotator.labels.file import make_segment

    auto.segments = [make_segment(auto, 50, 52, 55, emotion="anger", status="proposed")]
    s.save_labels(auto)
    return s


def test_built_in_formats_register_through_entry_points():
    found = available_formats()
    assert BUILT_IN <= set(found)
    for name in BUILT_IN:
        fmt = found[name]
        assert fmt.name == name and fmt.suffix.startswith(".")
        assert fmt.frame_base and fmt.emotions  # stated for `annotator formats`
        assert type(fmt).__module__.startswith("annotator.formats."), "built-ins live inside the package"


def test_formats_command_states_direction_frames_and_emotions(capsys):
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    assert "casme-xlsx  (read/write, .xlsx)" in out
    assert "happiness→joy" in out and "repression→other" in out
    assert "offset 0 means offset = apex" in out


def test_export_help_lists_the_formats(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    out = capsys.readouterr().out
    assert "samm-xlsx" in out and "eaf" in out and "megc-csv" in out


def _install_plugin_metadata(tmp_path, monkeypatch, entries: dict[str, str]):
    """Make entry points visible the way pip would: a dist-info with entry_points.txt on sys.path."""
    site = tmp_path / "site"
    dist = site / "annotator_format_example-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: annotator-format-example\nVersion: 0.1.0\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (dist / "entry_points.txt").write_text(f"[annotator.formats]\n{lines}\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(REPO_PLUGIN / "src"))


def test_example_plugin_loads_through_entry_point_metadata(tmp_path, monkeypatch, session):
    _install_plugin_metadata(tmp_path, monkeypatch, {"intervals-tsv": "annotator_format_example:IntervalsTsv"})
    fmt = get_format("intervals-tsv")
    assert type(fmt).__module__ == "annotator_format_example"
    out = tmp_path / "x.tsv"
    notes = save_file(session, out)  # picked by suffix
    assert notes == ["intervals-tsv holds only video, onset, offset and emotion"]
    (rec,) = load_file(out, coder="bob")
    assert [(s.onset, s.offset, s.emotion) for s in rec.segments] == [(5, 12, "joy"), (30, 40, "fear")]


def test_a_broken_plugin_is_reported_once_and_skipped(tmp_path, monkeypatch, capsys):
    (tmp_path / "broken_fmt.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _install_plugin_metadata(tmp_path, monkeypatch, {"broken": "broken_fmt:Nope"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = set(available_formats())
    assert "broken" not in names and BUILT_IN <= names
    assert [str(w.message) for w in caught if w.category is FormatPluginWarning] == [
        "format plugin 'broken' (from annotator-format-example) failed to load and is skipped: "
        "RuntimeError: boom at import"
    ]
    sys.modules.pop("broken_fmt", None)
    assert main(["formats"]) == 0
    captured = capsys.readouterr()
    assert "casme-csv" in captured.out
    assert "Traceback" not in captured.err


def test_facade_picks_a_format_by_suffix_or_content(tmp_path, session):
    csv_path = tmp_path / "t.csv"
    from annotator.errors import AnnotatorError

    with pytest.raises(AnnotatorError, match="several formats write .csv"):
        save_file(session, csv_path)
    save_file(session, csv_path, format="casme-csv")
    assert {r.coder for r in load_file(csv_path)} == {"alice"}  # sniffed as casme-csv
    megc = tmp_path / "m.csv"
    save_file(session, megc, format="megc-csv")
    (rec,) = load_file(megc)  # sniffed as megc-csv by its header
    assert [(s.onset, s.offset) for s in rec.segments] == [(5, 12), (30, 40)]
    import annotator

    assert annotator.load_file is load_file and annotator.save_file is save_file


def test_export_says_what_it_left_out(tmp_path, session, capsys):
    out = tmp_path / "o.csv"
    assert main(["export", "casme-csv", str(session.root), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 segments from 1 session(s)" in text
    assert "1 proposals skipped; pass --proposals to include them" in text
    assert main(["export", "casme-csv", str(session.root), "--proposals", "-o", str(out), "--force"]) == 0
    assert "proposals skipped" not in capsys.readouterr().out


def test_import_never_overwrites_without_force_and_is_all_or_nothing(tmp_path, session, capsys):
    good = tmp_path / "good.csv"
    save_file(session, good, format="casme-csv", )
    before = session.labels_path("alice").read_bytes()
    assert main(["import", "casme-csv", str(good), "--into", str(session.root)]) == 2
    assert "already has labels here; pass --force" in capsys.readouterr().err
    assert session.labels_path("alice").read_bytes() == before
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text().replace("alice", "carol").replace(",30,31,40,", ",30,31,400,"))
    assert main(["import", "casme-csv", str(good), str(bad), "--into", str(session.root), "--coder", "dan"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"annotator: error: {bad}: line 3: frame 400 is past the end of the video (60 frames")
    assert not session.has_labels("dan") and not session.has_labels("carol")
    assert main(["import", "casme-csv", str(good), "--into", str(session.root), "--coder", "dan"]) == 0
    assert [s.onset for s in session.load_labels("dan").segments] == [5, 30]
    assert main(["import", "casme-csv", str(good), "--into", str(session.root), "--force"]) == 0
    assert "(replaced)" in capsys.readouterr().out


def test_evaluation_keys_clips_by_subject_and_video(tmp_path):
    # CASME II reuses clip names across subjects: sub01/EP02_01f and sub02/EP02_01f are two clips
    table = textwrap.dedent("""\
        Subject,Filename,OnsetFrame,ApexFrame,OffsetFrame,Action Units,Estimated Emotion,Kind,Confidence,Status,Coder
        sub01,EP02_01f,10,12,19,4,disgust,micro,,accepted,t
        sub02,EP02_01f,100,105,110,12,joy,micro,,accepted,t
        """)
    truth = tmp_path / "truth.csv"
    truth.write_text(table)
    pred = tmp_path / "pred.csv"
    # the prediction finds sub01's event but places it in sub02: by clip name alone it would count as a hit
    pred.write_text(table.splitlines()[0] + "\nsub02,EP02_01f,10,12,19,4,disgust,micro,,accepted,p\n")
    from annotator.evaluation import evaluate_files

    report = evaluate_files(truth, pred)["all"]
    assert (report.truths, report.proposals, report.hits) == (2, 1, 0)
