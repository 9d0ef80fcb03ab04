"""Agreement between coders, and their consensus.

:func:`compare` measures how far coders agree on one video (segments matched at
IoU ≥ 0.5 as in MEGC, boundary differences, Cohen's and Fleiss' kappa on the
emotion and per frame, onset bias, the unmatched segments); :func:`consensus`
merges them into one labels set, marking what a person must adjudicate.
:func:`session_agreement` and :func:`session_consensus` do both on a session,
for the CLI and the workbench.
"""

from .compare import Agreement, PairAgreement, compare, session_agreement
from .consensus import CONSENSUS_CODER, consensus, session_consensus

__all__ = [
    "CONSENSUS_CODER", "Agreement", "PairAgreement", "compare", "consensus", "session_agreement",
    "session_consensus",
]
