"""Data layer: the schema, loading and validation of extracts, and analysis frames."""

from werkeffect.data.dataset import Dataset
from werkeffect.data.flow import DataFlow, FlowStep
from werkeffect.data.frames import episodes, job_spells, participation_spells, person_months
from werkeffect.data.io import check, load
from werkeffect.data.privacy import is_bsn, pseudonymise_folder
from werkeffect.data.validate import DataValidationError, validate

__all__ = [
    "DataFlow",
    "DataValidationError",
    "Dataset",
    "FlowStep",
    "check",
    "episodes",
    "is_bsn",
    "job_spells",
    "participation_spells",
    "load",
    "person_months",
    "pseudonymise_folder",
    "validate",
]
