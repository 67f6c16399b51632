"""Exception and warning classes shared by werkeffect modules."""

from __future__ import annotations


class WerkeffectError(Exception):
    """Base class of every error werkeffect raises on purpose."""


class DataValidationError(WerkeffectError):
    """The data do not meet what a step needs (names the table, column and rows)."""


class EstimationError(WerkeffectError, ValueError):
    """An estimator cannot give an honest answer on these data."""


class EstimationWarning(UserWarning):
    """An estimate exists but needs care (plain words say why)."""


class DisclosureError(WerkeffectError):
    """An output would allow a person to be recognised and cannot be made safe by suppression.

    The message names the output (table, figure or estimate), the column and rows.
    """


class RenderError(WerkeffectError):
    """A report could not be rendered (names the document, the chunk and the cause)."""


class UnsupportedFeatureError(RenderError):
    """A Quarto feature the built-in engine does not implement (it is refused, never dropped)."""
