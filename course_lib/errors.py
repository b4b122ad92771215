"""Exceptions raised by ``course_lib``.

Every error a learner can trigger with bad input is one of these, and its
message names the offending argument or file *and* what to do about it.

- :class:`CourseLibError` — base class, catch it to catch everything.
- :class:`ParameterError` — a bad argument (also a ``ValueError``), e.g.
  ``hop_length=0 must be a positive integer``.
- :class:`AudioFileError` — a missing, empty, truncated or non-audio file
  (also an ``OSError``); the message names the path.
"""

from __future__ import annotations

__all__ = ["CourseLibError", "ParameterError", "AudioFileError"]


class CourseLibError(Exception):
    """Base class of every error raised by ``course_lib``."""


class ParameterError(CourseLibError, ValueError):
    """An argument has a bad value, type or shape; the message quotes it."""


class AudioFileError(CourseLibError, OSError):
    """An audio file cannot be read or written; the message names the path."""
