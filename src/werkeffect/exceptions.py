"""Exception and warning classes shared by every werkeffect module."""

from __future__ import annotations


class WerkeffectError(Exception):
    """Base class of werkeffect errors."""


class DataValidationError(WerkeffectError):
    """The data do not have the shape, columns or values an operation needs."""


class EstimationError(WerkeffectError, ValueError):
    """An estimator cannot produce an honest answer on these data."""


class EstimationWarning(UserWarning):
    """An estimate was produced, but something about it deserves attention."""
