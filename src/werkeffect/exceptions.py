"""Exceptions and warnings shared by werkeffect modules."""

from __future__ import annotations


class WerkeffectError(Exception):
    """Base class of werkeffect errors."""


class DataValidationError(WerkeffectError):
    """The data do not have the columns, types or values an analysis needs."""


class EstimationError(WerkeffectError, ValueError):
    """An estimate cannot be computed (no overlap, no events, separation, ...)."""


class EstimationWarning(UserWarning):
    """An estimate was computed but deserves caution (thin overlap, few events, ...)."""
