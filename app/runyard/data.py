"""``runyard.data``: MLflow's ``from_pandas`` and ``from_numpy``, so code that logs its data with
``mlflow.log_input(mlflow.data.from_pandas(df, ...))`` switches with its import alone.

A dataset gets MLflow's name, digest, source, schema and profile (``runyard.autolog.datasets``
computes them, the same way autologging logs its training data), so runyard and MLflow give the
same data the same digest. ``runyard.log_input`` takes what these return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from runyard.autolog.datasets import DEFAULT_NAME, from_arrays, from_frame
from runyard.autolog.model_files import is_dataframe, is_ndarray
from runyard.entities import Dataset
from runyard.errors import InvalidParameterValue

#: A source URI's scheme -> MLflow's source type (and the key its URI is recorded under).
_SOURCE_TYPES = {
    "": ("local", "uri"),
    "file": ("local", "uri"),
    "s3": ("s3", "uri"),
    "gs": ("gs", "uri"),
    "hdfs": ("hdfs", "uri"),
    "http": ("http", "url"),
    "https": ("http", "url"),
}


@dataclass(frozen=True)
class _RecordedData:
    """The data and the record ``log_input`` stores for it."""

    record: Dataset

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def digest(self) -> str:
        return self.record.digest

    @property
    def source_type(self) -> str:
        return self.record.source_type

    @property
    def source(self) -> str:
        """The source as stored: JSON (``{"uri": ...}``, or the code's tags)."""
        return self.record.source

    @property
    def schema(self) -> str | None:
        return self.record.schema

    @property
    def profile(self) -> str | None:
        return self.record.profile


@dataclass(frozen=True)
class PandasDataset(_RecordedData):
    """A DataFrame as a dataset; ``targets`` and ``predictions`` name its columns."""

    df: Any = None
    targets: str | None = None
    predictions: str | None = None


@dataclass(frozen=True)
class NumpyDataset(_RecordedData):
    """Feature and target arrays as a dataset."""

    features: Any = None
    targets: Any = None


def from_pandas(
    df: Any,
    source: str | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """``df`` as a dataset read from ``source`` (a path or URI; None: this code), named
    ``name`` (``dataset`` unless given); ``digest`` replaces the computed one."""
    if not is_dataframe(df):
        raise InvalidParameterValue(
            f"from_pandas needs a pandas DataFrame, not {type(df).__name__}."
        )
    for what, column in (("targets", targets), ("predictions", predictions)):
        if column is not None and column not in df.columns:
            raise InvalidParameterValue(f"The {what} column {column!r} is not in the DataFrame.")
    record = _with_source(from_frame(df, name or DEFAULT_NAME), source, digest)
    return PandasDataset(record, df, targets, predictions)


def from_numpy(
    features: Any,
    source: str | None = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """``features`` (and ``targets``) arrays as a dataset, as ``from_pandas`` describes."""
    if not is_ndarray(features) or (targets is not None and not is_ndarray(targets)):
        raise InvalidParameterValue("from_numpy needs numpy arrays for features and targets.")
    record = _with_source(from_arrays(features, targets, name or DEFAULT_NAME), source, digest)
    return NumpyDataset(record, features, targets)


def _with_source(record: Dataset, source: str | None, digest: str | None) -> Dataset:
    source_type, stored = record.source_type, record.source
    if source is not None:
        if not isinstance(source, str):
            raise InvalidParameterValue("A dataset's source is a path or a URI string.")
        parsed = urlparse(source)
        if parsed.password is not None:  # recorded with the run and shown to every reader
            raise InvalidParameterValue(
                "A dataset's source is stored and shown with the run: give it without a password."
            )
        known = _SOURCE_TYPES.get(parsed.scheme.lower())
        if known is None:
            allowed = ", ".join(f"{s}://" for s in sorted(_SOURCE_TYPES) if s)
            raise InvalidParameterValue(
                f"Unsupported dataset source {source!r}: give a local path or a {allowed} URI."
            )
        source_type, stored = known[0], json.dumps({known[1]: source})
    return Dataset(
        name=record.name,
        digest=digest or record.digest,
        source_type=source_type,
        source=stored,
        schema=record.schema,
        profile=record.profile,
    )


__all__ = ["NumpyDataset", "PandasDataset", "from_numpy", "from_pandas"]
