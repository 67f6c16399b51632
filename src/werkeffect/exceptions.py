"""Exceptions and warnings of werkeffect (kept tiny on purpose)."""

from __future__ import annotations


class WerkeffectError(Exception):
    """Base class of all werkeffect errors."""


class DataValidationError(WerkeffectError):
    """The data do not meet what a step needs (names the table, column and rows)."""


class EstimationError(WerkeffectError, ValueError):
    """An estimator cannot produce an honest answer (no overlap, no events, ...)."""


class EstimationWarning(UserWarning):
    """An estimate exists but deserves caution (few clusters, weak overlap, ...)."""


__all__ = ["DataValidationError", "EstimationError", "EstimationWarning", "WerkeffectError"]
