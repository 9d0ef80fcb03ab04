"""Training quizzes from coded real footage (METT-style stills, flashes and clips).

:func:`build_quiz` turns the accepted and edited segments of one coder into a
self-contained offline HTML quiz, plus the items as MP4 clips with a CSV answer
key for other learning platforms.  :func:`select_items` alone picks balanced,
seed-reproducible items; pretest and posttest never share a segment.
"""

from .build import QuizOptions, QuizResult, build_quiz, describe_selection
from .items import CHOICES, MODES, STAGES, VIEWS, Candidate, Item, parse_durations, select_items, split_for_mode
from .sources import QUIZ_USE, quiz_sessions

__all__ = [
    "CHOICES", "MODES", "STAGES", "VIEWS", "Candidate", "Item", "QuizOptions", "QuizResult", "build_quiz",
    "QUIZ_USE", "describe_selection", "parse_durations", "quiz_sessions", "select_items", "split_for_mode",
]
