"""The labels model: round trip, schema validation, drift, atomic and safe writes."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import jsonschema
import pytest

from annotator.errors import LabelsError
from annotator.labels import (
    EMOTION_LABELS,
    KINDS,
    SCHEMA_FILENAME,
    STATUSES,
    Labels,
    Segment,
    VideoRef,
    kind_for,
    labels_schema,
    load_labels,
    make_segment,
    save_labels,
)
from annotator.labels.model import SEGMENT_FIELDS

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
SHA = "ab" * 32


def make_labels(coder: str = "alice") -> Labels:
    labels = Labels(coder=coder, video=VideoRef(path="clip.mp4", sha256=SHA, fps=30.0, frames=300))
    labels.segments.append(
        make_segment(labels, 10, 14, 20, emotion="joy", aus=["AU6", "AU12"], confidence=0.8,
                     emotion_scores={"joy": 0.7, "contempt": 0.3}, intensity=0.4, notes="subtle")
    )
    labels.segments.append(make_segment(labels, 100, 130, 180, emotion="sadness", aus=["AU1+AU4", "R15"]))
    return labels


def test_round_trip(tmp_path):
    labels = make_labels()
    path = save_labels(labels, tmp_path / "alice.json")
    again = load_labels(path, sha256=SHA)
    assert again.to_dict() == labels.to_dict()
    assert [s.kind for s in again.sorted()] == ["micro", "macro"]


def test_published_schema_matches_code():
    published = json.loads((SCHEMA_DIR / SCHEMA_FILENAME).read_text())
    assert published == labels_schema(), "schemas/ and annotator.labels.schema drifted: regenerate the file"
    jsonschema.Draft202012Validator.check_schema(published)


def test_schema_matches_model_fields():
    seg_schema = labels_schema()["$defs"]["segment"]
    assert set(seg_schema["properties"]) == set(SEGMENT_FIELDS)
    assert seg_schema["properties"]["emotion"]["enum"] == list(EMOTION_LABELS)
    assert seg_schema["properties"]["status"]["enum"] == list(STATUSES)
    assert seg_schema["properties"]["kind"]["enum"] == list(KINDS)
    required_in_code = {f.name for f in dataclasses.fields(Segment)
                        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    assert required_in_code <= set(seg_schema["required"])
    # what the code writes, the schema accepts
    jsonschema.validate(make_labels().to_dict(), labels_schema())


def test_kind_threshold():
    assert kind_for(0, 14, 30.0) == "micro"  # 15 frames = 0.5 s
    assert kind_for(0, 15, 30.0) == "macro"
    assert kind_for(0, 15, 30.0, micro_max_seconds=1.0) == "micro"
    labels = make_labels()
    labels.micro_max_seconds = 0.2
    assert labels.kind_for(0, 9) == "macro"


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["segments"][0].update(apex=5), "onset <= apex <= offset"),
        (lambda d: d["segments"][0].update(emotion="happy"), "segments[0].emotion"),
        (lambda d: d["segments"][0].update(status="done"), "segments[0].status"),
        (lambda d: d["segments"][0].update(confidence=1.5), "segments[0].confidence"),
        (lambda d: d["segments"][0].update(aus=["smile"]), "segments[0].aus[0]"),
        (lambda d: d["segments"][0].update(onset=-1), "segments[0].onset"),
        (lambda d: d["segments"][0].pop("offset"), "offset"),
        (lambda d: d["segments"][1].update(id=d["segments"][0]["id"]), "used more than once"),
        (lambda d: d["segments"][0].update(colour="red"), "colour"),
        (lambda d: d["video"].update(sha256="xyz"), "video.sha256"),
        (lambda d: d.update(coder="a b"), "coder"),
        (lambda d: d["segments"][1].update(offset=400), "past the video"),
        (lambda d: d.update(schema_version=99), "schema_version"),
    ],
)
def test_invalid_files_name_the_field(tmp_path, mutate, field):
    data = make_labels().to_dict()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(LabelsError) as info:
        load_labels(path)
    message = str(info.value)
    assert field in message and str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "content, problem",
    [(b"", "empty"), (b"{not json", "not valid JSON"), (b"\x00\xff\xfe garbage", "not valid JSON"),
     (b'{"hello": 1}', "not an annotator labels file"), (b"[1, 2]", "not an annotator labels file")],
)
def test_foreign_files(tmp_path, content, problem):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(LabelsError, match=problem):
        load_labels(path)


def test_missing_file(tmp_path):
    with pytest.raises(LabelsError, match="no such file"):
        load_labels(tmp_path / "nope.json")


def test_wrong_video_is_refused(tmp_path):
    path = save_labels(make_labels(), tmp_path / "alice.json")
    with pytest.raises(LabelsError, match="another video"):
        load_labels(path, sha256="cd" * 32)


@pytest.mark.parametrize("content", [b"precious notes, not ours", b'{"schema": "annotator.labels"}'])
def test_invalid_or_foreign_file_is_never_overwritten(tmp_path, content):
    path = tmp_path / "alice.json"
    path.write_bytes(content)
    with pytest.raises(LabelsError):
        save_labels(make_labels(), path)
    assert path.read_bytes() == content


def test_other_coder_or_video_file_is_never_overwritten(tmp_path):
    path = save_labels(make_labels("bob"), tmp_path / "alice.json")
    before = path.read_bytes()
    with pytest.raises(LabelsError, match="coder 'bob'"):
        save_labels(make_labels("alice"), path)
    other = make_labels("bob")
    other.video = VideoRef(path="other.mp4", sha256="cd" * 32, fps=30.0, frames=300)
    with pytest.raises(LabelsError, match="another video"):
        save_labels(other, path)
    assert path.read_bytes() == before


def test_crash_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    labels = make_labels()
    path = save_labels(labels, tmp_path / "alice.json")
    before = path.read_bytes()
    labels.segments.append(make_segment(labels, 200, 201, 202, emotion="fear"))

    def crash(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        save_labels(labels, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["alice.json"], "temporary file left behind"


def test_segment_rejects_bad_values():
    with pytest.raises(ValueError, match="onset <= apex <= offset"):
        Segment(onset=5, apex=4, offset=6)
    with pytest.raises(ValueError, match="integer"):
        Segment(onset=1.5, apex=2, offset=3)
    with pytest.raises(ValueError, match="emotion"):
        Segment(onset=1, apex=2, offset=3, emotion="bliss")
    seg = Segment(onset=1, apex=2, offset=3, emotion="anger", aus=["AU4+AU7", "L12", "AU23B"])
    assert seg.replace(apex=3).apex == 3 and seg.apex == 2
