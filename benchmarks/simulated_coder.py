"""The simulated coder: reviews proposals against a known truth, the way a person would in the workbench.

One definition for the retraining benchmark (:mod:`benchmarks.bench_retrain`) and
the training tests (``tests/test_train.py``): a proposal that hits a true event
(MEGC, IoU >= 0.5) is accepted, or edited when its emotion is wrong; every other
one is rejected; each true event no proposal hit is drawn.
"""

from __future__ import annotations


def review(session, truth, proposals, coder: str, *, draw_missed: bool = True):
    """Write ``coder``'s file for ``session``: each of ``proposals`` decided against ``truth``, misses drawn.

    ``draw_missed`` False leaves the missed events undrawn (a coder who stopped
    part way).  Returns the saved :class:`~annotator.labels.model.Labels`.
    """
    from annotator.spotting.metrics import match

    truth, proposals = list(truth), list(proposals)
    labels = session.new_labels(coder)
    pairs = {j: i for i, j, _ in match(truth, proposals)}
    for j, p in enumerate(proposals):
        if j in pairs:
            t = truth[pairs[j]]
            status = "accepted" if p.emotion == t.emotion else "edited"
            labels.segments.append(p.replace(emotion=t.emotion, status=status, source=coder))
        else:
            labels.segments.append(p.replace(status="rejected", source=coder))
    if draw_missed:
        hit = set(pairs.values())
        labels.segments += [t.replace(id=f"drawn-{i}", status="accepted", source=coder)
                            for i, t in enumerate(truth) if i not in hit]
    session.save_labels(labels)
    return labels
