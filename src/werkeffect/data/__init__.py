"""Data layer: the schema, loading and validation of extracts, and analysis frames."""

from werkeffect.data.dataset import Dataset
from werkeffect.data.flow import DataFlow, FlowStep

__all__ = ["DataFlow", "Dataset", "FlowStep"]
