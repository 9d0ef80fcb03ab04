"""Editing a coder's labels: every edit undoable, every edit saved at once.

:class:`LabelsEditor` is the model behind the workbench and usable from
scripts.  It holds the coder's own :class:`~annotator.labels.Labels` and the
read-only proposals; every change goes through :meth:`LabelsEditor.apply`,
which records the state before it (undo), clears the redo stack, and writes
the coder's file atomically.  Nothing is ever unsaved.

Accepting a proposal copies it into the coder's labels with status
``accepted`` (the proposal keeps its id, so it is known as reviewed);
rejecting records a copy with status ``rejected``; changing an accepted
proposal's frames or emotion makes it ``edited``.  Relabelling a segment with
another emotion clears what only the machine said about it (its scores,
confidence, uncertainty, intensity, and its AUs while they are still the
machine's).  A new segment without an emotion is ``unfinished`` until the
coder gives one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar

from psygnal import EmitLoopError, Signal

from ..errors import AnnotatorError
from ..locks import SessionLock
from .facs import lane_name, normalize_aus
from .file import Labels, make_segment, save_labels, validate_labels
from .model import AUTO_CODER, EMOTIONS, MACHINE_FIELDS, NEW_SEGMENT_HALF_SECONDS, AUInterval, Segment, now_iso

Listener = Callable[["LabelsEditor"], None]


@dataclass
class LabelsEditor:
    """Undoable, autosaving edits of one coder's labels.

    Parameters
    ----------
    labels : Labels
        The coder's labels (edited in place).
    path : path-like, optional
        Where to autosave after each edit; ``None`` keeps edits in memory.
    proposals : Labels, optional
        The proposer's output, read-only here.
    others : dict of Labels, optional
        Other coders' labels, shown read-only for comparison.
    lock : SessionLock, optional
        The held lock on the coder's file (:func:`open_editor` takes it);
        :meth:`close` releases it.
    """

    labels: Labels
    path: Path | None = None
    proposals: Labels | None = None
    others: dict[str, Labels] = field(default_factory=dict)
    max_undo: int = 500
    lock: SessionLock | None = None

    #: Emitted with the editor after every committed change (edit, undo, redo).
    changed: ClassVar[Signal] = Signal(object)

    def __post_init__(self) -> None:
        self.path = Path(self.path) if self.path is not None else None
        #: ``(description, (segments, AU intervals) before)`` per step.
        self._undo: list[tuple[str, tuple[list[Segment], list[AUInterval]]]] = []
        self._redo: list[tuple[str, tuple[list[Segment], list[AUInterval]]]] = []
        self._visible_key: tuple | None = None
        self._visible: list[Segment] = []
        #: Ids of the segments the last edit, undo or redo changed (added, removed or altered).
        self.last_changed: list[str] = []

    def close(self) -> None:
        """Stop editing: give up the lock on the coder's file (edits are already saved)."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- observers -----------------------------------------------------------------
    def connect(self, listener: Listener) -> None:
        """Call ``listener(editor)`` after every change (edit, undo, redo); same as ``changed.connect``."""
        self.changed.connect(listener)

    def disconnect(self, listener: Listener) -> None:
        """Stop calling ``listener``; nothing happens when it was not connected."""
        self.changed.disconnect(listener, missing_ok=True)

    def _save(self) -> None:
        self._visible_key = None
        if self.path is not None:
            save_labels(self.labels, self.path)  # validates first, as a load would
        else:
            validate_labels(self.labels)

    def _notify(self) -> None:
        # After the edit is committed: a failing listener must not undo what is on disk.
        # psygnal wraps a listener's error; callers see the listener's own, as before.
        try:
            self.changed.emit(self)
        except EmitLoopError as exc:
            raise (exc.__cause__ or exc) from None

    def reload_proposals(self, proposals: Labels | None) -> None:
        """Show new proposals (a re-propose wrote ``auto.json``); the coder's labels, undo and redo stay.

        Not an edit of the coder's file: nothing is saved, and undo does not bring the old
        proposals back.  Listeners are told, as after an edit.
        """
        self.proposals = proposals
        self._visible_key = None
        self.last_changed = []
        self._notify()

    # -- the one way to change the labels ----------------------------------------------
    def apply(self, description: str, segments: list[Segment] | None = None,
              au_intervals: list[AUInterval] | None = None) -> None:
        """Replace the coder's segments (and/or AU intervals) as one undoable step."""
        before = self._state()
        if segments is not None:
            self.labels.segments = list(segments)
        if au_intervals is not None:
            self.labels.au_intervals = list(au_intervals)
        try:
            self._save()
        except Exception:
            self._restore(before)
            raise
        self._undo.append((description, before))
        del self._undo[: -self.max_undo]
        self._redo.clear()
        self.last_changed = _changed_ids(before, self._state())
        self._notify()

    def _state(self) -> tuple[list[Segment], list[AUInterval]]:
        return copy.deepcopy(self.labels.segments), copy.deepcopy(self.labels.au_intervals)

    def _restore(self, state: tuple[list[Segment], list[AUInterval]]) -> None:
        self.labels.segments, self.labels.au_intervals = state
        self._visible_key = None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> str | None:
        """Undo the last edit; return its description (``None`` when nothing to undo)."""
        return self._step(self._undo, self._redo)

    def redo(self) -> str | None:
        """Redo the last undone edit; return its description (``None`` when nothing to redo)."""
        return self._step(self._redo, self._undo)

    def _step(self, source: list, target: list) -> str | None:
        """Restore the newest state on ``source``, keeping the current one on ``target``."""
        if not source:
            return None
        description, state = source.pop()
        current = self._state()
        self._restore(state)
        try:
            self._save()
        except Exception:
            # not saved: stay where we were, with the step still available
            self._restore(current)
            source.append((description, state))
            raise
        target.append((description, current))
        self.last_changed = _changed_ids(current, state)
        self._notify()
        return description

    def where_changed(self, segment_id: str) -> Segment | AUInterval | None:
        """Segment (or AU interval) ``segment_id`` as it is now, else as the last undo or redo left it (for the cursor)."""
        seg = self.find(segment_id) or self.interval(segment_id)
        if seg is None:
            for _description, (segments, intervals) in self._redo[-1:] + self._undo[-1:]:
                seg = next((s for s in [*segments, *intervals] if s.id == segment_id), None)
                if seg is not None:
                    break
        return seg

    # -- queries -------------------------------------------------------------------
    def own(self, segment_id: str) -> Segment | None:
        for s in self.labels.segments:
            if s.id == segment_id:
                return s
        return None

    def proposal(self, segment_id: str) -> Segment | None:
        if self.proposals is None:
            return None
        for s in self.proposals.segments:
            if s.id == segment_id:
                return s
        return None

    def find(self, segment_id: str) -> Segment | None:
        """The coder's version of a segment, else the proposal."""
        return self.own(segment_id) or self.proposal(segment_id)

    def unreviewed(self) -> list[Segment]:
        """Proposals the coder has neither accepted, edited nor rejected."""
        if self.proposals is None:
            return []
        reviewed = {s.id for s in self.labels.segments}
        return [s for s in self.proposals.sorted() if s.id not in reviewed]

    def visible(self) -> list[Segment]:
        """What the coder works on: own segments plus unreviewed proposals, by onset.

        Kept between edits: the workbench asks on every frame step.
        """
        key = (id(self.labels.segments), len(self.labels.segments), id(self.proposals))
        if key != self._visible_key:
            out = self.labels.segments + self.unreviewed()
            self._visible = sorted(out, key=lambda s: (s.onset, s.apex, s.offset, s.id))
            self._visible_key = key
        return list(self._visible)

    def at(self, frame: int) -> Segment | None:
        """The visible segment covering ``frame`` (the shortest when several do)."""
        self.visible()
        hits = [s for s in self._visible if s.onset <= frame <= s.offset]
        return min(hits, key=lambda s: (s.n_frames, s.onset)) if hits else None

    def next_segment(self, frame: int, direction: int = 1) -> Segment | None:
        """The next (``direction=1``) or previous visible segment by onset."""
        segs = self.visible()
        if direction > 0:
            later = [s for s in segs if s.onset > frame]
            return later[0] if later else None
        earlier = [s for s in segs if s.onset < frame]
        return earlier[-1] if earlier else None

    def review_order(self, *, least_confident: bool = True) -> list[Segment]:
        """The unreviewed proposals in the order U visits them.

        With ``least_confident``: the most uncertain first (the proposals' ``uncertainty``,
        else the lowest ``confidence``); proposals without either come after, by time.
        """
        todo = self.unreviewed()
        if not least_confident:
            return todo

        def key(s: Segment):
            if s.uncertainty is not None:
                return (0, -float(s.uncertainty), s.onset)
            if s.confidence is not None:
                return (0, float(s.confidence) - 1.0, s.onset)
            return (1, 0.0, s.onset)

        return sorted(todo, key=key)

    def next_unreviewed(self, frame: int, direction: int = 1, *, least_confident: bool = True,
                        after: str | None = None) -> Segment | None:
        """The next unreviewed proposal: moving on from ``after`` skips it (it comes round again).

        With ``least_confident`` the order is :meth:`review_order`'s; otherwise by time
        from ``frame``.  Without ``after`` (or when it is not an unreviewed proposal) the
        first in that order; with it, the one after it (``direction=-1``: before it),
        wrapping round.
        """
        order = self.review_order(least_confident=least_confident)
        if not order:
            return None
        ids = [s.id for s in order]
        if after in ids:
            return order[(ids.index(after) + (1 if direction > 0 else -1)) % len(order)]
        if least_confident:
            return order[0] if direction > 0 else order[-1]
        if direction > 0:
            later = [s for s in order if s.onset > frame]
            return later[0] if later else order[0]
        earlier = [s for s in order if s.onset < frame]
        return earlier[-1] if earlier else order[-1]

    # -- edits ---------------------------------------------------------------------
    def _replace(self, description: str, segment: Segment) -> Segment:
        segments = [s for s in self.labels.segments if s.id != segment.id] + [segment]
        self.apply(description, segments)
        return segment

    def _editable(self, segment_id: str) -> Segment:
        """The coder's copy of a segment; editing a proposal adopts it as ``edited``."""
        own = self.own(segment_id)
        if own is not None:
            return own
        prop = self.proposal(segment_id)
        if prop is None:
            raise KeyError(segment_id)
        return prop.replace(status="edited", source=self.labels.coder)

    def _clamp(self, frame: int) -> int:
        """``frame`` within the video: an edit never saves what a load would refuse."""
        last = max(0, self.labels.video.frames - 1)
        return min(max(0, int(frame)), last)

    def new_segment(self, frame: int, length: int | None = None, emotion: str | None = None) -> Segment:
        """A new segment: apex at ``frame``.

        Without ``length`` it spans 0.1 s either side of ``frame``
        (:data:`~annotator.labels.model.NEW_SEGMENT_HALF_SECONDS`, clamped to the video),
        a typical micro-expression to adjust with I and O; with it, it starts at ``frame``.
        Without ``emotion`` it is ``unfinished`` (emotion ``other``) until the coder gives one.
        """
        frame = self._clamp(frame)
        if length is None:
            half = max(1, round(NEW_SEGMENT_HALF_SECONDS * self.labels.video.fps))
            onset, offset = self._clamp(frame - half), self._clamp(frame + half)
        else:
            onset, offset = frame, self._clamp(frame + max(1, length) - 1)
        status = "unfinished" if emotion is None else "accepted"
        seg = make_segment(self.labels, onset, frame, offset, emotion=emotion or "other", status=status)
        return self._replace("new segment", seg)

    def set_frame(self, segment_id: str, which: str, frame: int) -> Segment:
        """Set ``onset``, ``apex`` or ``offset`` to ``frame``, keeping onset ≤ apex ≤ offset.

        Moving an edge past the apex drags the apex along, so one key always works.
        """
        if which not in ("onset", "apex", "offset"):
            raise ValueError(f"which must be onset, apex or offset, got {which!r}")
        seg = self._editable(segment_id)
        onset, apex, offset = seg.onset, seg.apex, seg.offset
        frame = self._clamp(frame)
        if which == "onset":
            onset = frame
            offset = max(offset, onset)
            apex = min(max(apex, onset), offset)
        elif which == "offset":
            offset = frame
            onset = min(onset, offset)
            apex = min(max(apex, onset), offset)
        else:
            apex = frame
            onset = min(onset, apex)
            offset = max(offset, apex)
        status = "edited" if seg.status in ("proposed", "accepted") and seg.source != self.labels.coder else seg.status
        if seg.status == "rejected":
            status = "edited"
        changes = {}
        if (onset, apex, offset) != (seg.onset, seg.apex, seg.offset) and seg.source != self.labels.coder:
            # the machine's confidence was about its own frames, not these
            changes = {"confidence": None, "uncertainty": None}
        updated = seg.replace(
            onset=onset, apex=apex, offset=offset, kind=self.labels.kind_for(onset, offset), status=status, **changes
        )
        return self._replace(f"set {which}", updated)

    def move(self, segment_id: str, which: str, delta: int) -> Segment:
        """Move ``onset``, ``apex`` or ``offset`` by ``delta`` frames."""
        seg = self.find(segment_id)
        if seg is None:
            raise KeyError(segment_id)
        return self.set_frame(segment_id, which, getattr(seg, which) + delta)

    def set_emotion(self, segment_id: str, emotion: str) -> Segment:
        """Give a segment ``emotion``; a change clears what the machine said about the old one."""
        seg = self._editable(segment_id)
        status = seg.status
        if seg.status in ("proposed", "rejected") or (seg.status == "accepted" and seg.source != self.labels.coder):
            status = "edited"
        if seg.status == "unfinished":
            status = "accepted"
        changes: dict = {}
        if emotion != seg.emotion:
            changes = dict.fromkeys(MACHINE_FIELDS)
            prop = self.proposal(segment_id)
            if prop is not None and list(seg.aus) == list(prop.aus):
                changes["aus"] = []  # the machine's AUs for the old emotion; the coder's own stay
        return self._replace(f"emotion {emotion}", seg.replace(emotion=emotion, status=status, **changes))

    def set_emotion_by_number(self, segment_id: str, number: int) -> Segment:
        """Emotion by number key: 1 joy, 2 surprise, 3 sadness, 4 anger, 5 fear, 6 contempt, 7 disgust."""
        if not 1 <= number <= len(EMOTIONS):
            raise ValueError(f"emotion number must be 1-{len(EMOTIONS)}")
        return self.set_emotion(segment_id, EMOTIONS[number - 1])

    def set_notes(self, segment_id: str, notes: str) -> Segment:
        seg = self._editable(segment_id)
        return self._replace("notes", seg.replace(notes=notes))

    def set_aus(self, segment_id: str, aus) -> Segment:
        """The segment's action units: a list of :class:`~annotator.labels.facs.AU` or strings, or one text (``1+2+R12C``)."""
        seg = self._editable(segment_id)
        updated = seg.replace(aus=normalize_aus(aus if isinstance(aus, str) else [str(a) for a in aus]))
        updated.validate()
        return self._replace("action units", updated)

    def accept(self, segment_id: str) -> Segment:
        """Accept a proposal (copied into the coder's labels) or re-accept a rejected segment."""
        own = self.own(segment_id)
        if own is not None:
            if own.status == "unfinished":
                raise ValueError("this new segment needs an emotion first (keys 1-7)")
            if own.status == "rejected":
                return self._replace("accept", own.replace(status="accepted"))
            return own
        prop = self.proposal(segment_id)
        if prop is None:
            raise KeyError(segment_id)
        stamp = now_iso()
        return self._replace("accept", prop.replace(status="accepted", modified=stamp))

    def reject(self, segment_id: str) -> Segment:
        """Reject a proposal or one's own segment (kept, with status ``rejected``)."""
        seg = self.own(segment_id) or self.proposal(segment_id)
        if seg is None:
            raise KeyError(segment_id)
        return self._replace("reject", seg.replace(status="rejected"))

    def delete(self, segment_id: str) -> None:
        """Remove one of the coder's segments (a proposal becomes unreviewed again)."""
        if self.own(segment_id) is None:
            raise KeyError(segment_id)
        self.apply("delete", [s for s in self.labels.segments if s.id != segment_id])


    # -- AU lanes --------------------------------------------------------------------
    def interval(self, interval_id: str) -> AUInterval | None:
        """The coder's AU interval ``interval_id``, or ``None``."""
        return next((a for a in self.labels.au_intervals if a.id == interval_id), None)

    def interval_at(self, lane: str, frame: int) -> AUInterval | None:
        """The interval on AU lane ``lane`` covering ``frame`` (the shortest when several do)."""
        lane = lane_name(lane)
        hits = [a for a in self.labels.au_intervals if a.au == lane and a.onset <= frame <= a.offset]
        return min(hits, key=lambda a: (a.offset - a.onset, a.onset)) if hits else None

    def _replace_interval(self, description: str, interval: AUInterval) -> AUInterval:
        intervals = [a for a in self.labels.au_intervals if a.id != interval.id] + [interval]
        self.apply(description, au_intervals=intervals)
        return interval

    def _own_interval(self, interval_id: str) -> AUInterval:
        found = self.interval(interval_id)
        if found is None:
            raise KeyError(interval_id)
        return found

    def new_interval(self, lane: str, onset: int, offset: int | None = None, intensity: str = "") -> AUInterval:
        """A new interval on AU lane ``lane`` (``12``, ``R12``, ``AU12``): ``onset`` to ``offset`` (default: one frame)."""
        onset = self._clamp(onset)
        offset = onset if offset is None else self._clamp(offset)
        stamp = now_iso()
        interval = AUInterval(au=lane_name(lane), onset=min(onset, offset), offset=max(onset, offset),
                              intensity=intensity, created=stamp, modified=stamp)
        return self._replace_interval(f"new AU {interval.au} interval", interval)

    def set_interval_edge(self, interval_id: str, which: str, frame: int) -> AUInterval:
        """Set an AU interval's ``onset`` or ``offset`` to ``frame``; moving one past the other moves both."""
        if which not in ("onset", "offset"):
            raise ValueError(f"which must be onset or offset, got {which!r}")
        a = self._own_interval(interval_id)
        frame = self._clamp(frame)
        onset, offset = (frame, max(a.offset, frame)) if which == "onset" else (min(a.onset, frame), frame)
        return self._replace_interval(f"AU {a.au} {which}", a.replace(onset=onset, offset=offset))

    def set_interval_intensity(self, interval_id: str, intensity: str) -> AUInterval:
        """Score an AU interval's FACS intensity, ``A`` (trace) to ``E`` (maximum)."""
        a = self._own_interval(interval_id)
        return self._replace_interval(f"AU {a.au} intensity {intensity}", a.replace(intensity=intensity))

    def delete_interval(self, interval_id: str) -> None:
        a = self._own_interval(interval_id)
        self.apply(f"delete AU {a.au} interval", au_intervals=[x for x in self.labels.au_intervals if x.id != a.id])


def _changed_ids(before: tuple[list, list], after: tuple[list, list]) -> list[str]:
    """Ids of segments and AU intervals added, removed or changed between two states."""
    old = {s.id: s for s in [*before[0], *before[1]]}
    new = {s.id: s for s in [*after[0], *after[1]]}
    return [i for i in {**old, **new} if old.get(i) != new.get(i)]


def open_editor(session, coder: str, *, compare: list[str] | None = None) -> LabelsEditor:
    """An editor on ``coder``'s labels in ``session``, with the proposals and other coders loaded.

    The coder's file is created on the first edit, not before.  The editor
    holds a lock on it until :meth:`LabelsEditor.close` (or the process ends),
    so a second editor for the same coder fails with
    :class:`~annotator.errors.LockedError` instead of overwriting the first one's edits.
    """
    path = session.labels_path(coder)  # validates the name before anything is made
    if path.parent.exists() and not path.parent.is_dir():
        from ..errors import LabelsError

        # before the lock, whose file would go in that folder
        raise LabelsError(path.parent, "is a file where the labels folder should be; move it away")
    lock = SessionLock(session.root, coder=coder).acquire()
    try:
        labels = session.load_labels(coder, create=True)
        proposals = session.load_labels(AUTO_CODER) if session.has_labels(AUTO_CODER) else None
        others = {}
        for other in compare or []:
            if other == coder:
                continue
            if not session.has_labels(other):
                raise AnnotatorError(session.labels_path(other), f"coder {other!r} has no labels to compare with")
            others[other] = session.load_labels(other)
    except BaseException:
        lock.release()
        raise
    return LabelsEditor(labels, path, proposals=proposals, others=others, lock=lock)


__all__ = ["LabelsEditor", "open_editor"]
