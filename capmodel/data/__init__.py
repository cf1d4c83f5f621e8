"""The data layer: read a table, check it against a schema, encode it for the models.

>>> data = load_data("survey.csv", schema)          # doctest: +SKIP
>>> data.validated.frame, data.dataset                # doctest: +SKIP

Step by step: :func:`read_table` -> :func:`validate` -> :func:`encode`. Row numbers in every
message are 1-based data rows (row 1 = first data row, line 2 of a CSV). The encoded dataset is
read back through its ``capmodel`` accessor (:class:`EncodedData`, registered on import):

>>> data.dataset.capmodel.frame()                    # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd
import xarray as xr

# The submodules are named like the functions they define (io.read_table, validate.validate,
# encode.encode): importing the functions here, after their modules, makes the package
# attributes the functions, not the modules.
from capmodel.data.encode import dataset_hash, encode
from capmodel.data.encoded import EncodedData  # registers the ``capmodel`` dataset accessor
from capmodel.data.io import TableReadError, read_table
from capmodel.data.schema import (
    Covariate,
    Extra,
    Group,
    Indicator,
    MissingPolicy,
    Schema,
    SchemaError,
)
from capmodel.data.validate import (
    PROBLEM_CODES,
    DataValidationError,
    Problem,
    ValidatedData,
    validate,
)

__all__ = [
    "PROBLEM_CODES",
    "Covariate",
    "Data",
    "DataValidationError",
    "EncodedData",
    "Extra",
    "Group",
    "Indicator",
    "MissingPolicy",
    "Problem",
    "Schema",
    "SchemaError",
    "TableReadError",
    "ValidatedData",
    "dataset_hash",
    "encode",
    "load_data",
    "read_table",
    "validate",
]


@dataclass(frozen=True, eq=False)
class Data:
    """Validated data (``.validated``) and its model-ready encoding (``.dataset``)."""

    validated: ValidatedData
    dataset: xr.Dataset


def load_data(source: str | os.PathLike[str] | pd.DataFrame, schema: Schema) -> Data:
    """Read ``source`` (path or DataFrame), validate it against ``schema`` and encode it.

    Raises what :func:`read_table` and :func:`validate` raise (``FileNotFoundError``,
    :class:`TableReadError`, :class:`DataValidationError`). The source is never modified.
    """
    validated = validate(read_table(source, schema=schema), schema)
    return Data(validated=validated, dataset=encode(validated))
