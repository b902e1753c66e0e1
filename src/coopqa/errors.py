"""User-facing errors.

Every failure a user can cause or fix (bad question, missing index, unreadable
corpus file…) is raised as a :class:`CoopqaError`. Front ends print its one-line
message and exit non-zero instead of showing a traceback, so the message must
say what happened *and* what to do about it.
"""

from __future__ import annotations


class CoopqaError(Exception):
    """An error whose message is meant for the user, not for a developer."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message and the remedy on a single line, as printed by the CLI."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


class InvalidQuestionError(CoopqaError):
    """The question is empty, too long or not text; ``reason`` says which, for front ends that word it themselves."""

    def __init__(self, message: str, hint: str | None = None, reason: str = "invalid") -> None:
        super().__init__(message, hint)
        self.reason = reason


class CorpusError(CoopqaError):
    """A corpus file or folder cannot be read or holds no usable text."""


class IndexStoreError(CoopqaError):
    """The index is missing, corrupt, or was built with other settings."""


class ModelError(CoopqaError):
    """The embedding model cannot be found, converted or loaded."""


class ConfigError(CoopqaError):
    """A setting (flag, environment variable, TOML file) is invalid."""


class InputFileError(CoopqaError):
    """A batch or QA file is malformed; the message names the line."""


class InvalidHistoryError(InvalidQuestionError):
    """A follow-up's ``history`` is not a list of strings, too long, or holds a bad turn; the message names the field."""
