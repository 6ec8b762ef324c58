"""Errors the music engine raises: one root, a stage error that says whether retrying can help.

A provider raises :class:`StageError` for anything it can name: ``retryable=False`` for bad input
(lyrics too long for the duration, empty lyrics) that no provider or retry can fix, ``retryable=True``
for transient trouble. The router falls back along its chain on retryable errors and unexpected
exceptions, and stops at once on a permanent one.
"""

from __future__ import annotations


class MusicError(Exception):
    """Root of the music engine's errors."""


class StageError(MusicError):
    """A stage could not produce its section; ``code`` is machine-readable (e.g. ``lyrics_too_long``)."""

    def __init__(self, code: str, message: str, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable

    def __reduce__(self):  # picklable across a process pool
        return (type(self), (self.code, self.message, self.retryable))
