"""Exceptions and warnings shared by werkeffect modules."""

from __future__ import annotations


class WerkeffectError(Exception):
    """Base class of werkeffect errors."""


class DataValidationError(WerkeffectError):
    """The data do not have the columns, types or values the analysis needs."""


class EstimationError(WerkeffectError, ValueError):
    """An estimator cannot produce a trustworthy answer on these data."""


class EstimationWarning(UserWarning):
    """An estimate was produced, but something about it needs attention."""
