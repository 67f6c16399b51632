"""Exceptions and warnings of werkeffect (kept tiny on purpose)."""

from __future__ import annotations


class WerkeffectError(Exception):
    """Base class of all werkeffect errors."""


class DataValidationError(WerkeffectError):
    """An extract breaks the data model. ``problems`` lists every problem found.

    The message lists, per problem, table, column, count and up to five example rows.
    """

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class EstimationError(WerkeffectError, ValueError):
    """An estimator cannot produce an honest answer (no overlap, no events, ...)."""


class EstimationWarning(UserWarning):
    """An estimate exists but deserves caution (few clusters, weak overlap, ...)."""


__all__ = ["DataValidationError", "EstimationError", "EstimationWarning", "WerkeffectError"]
