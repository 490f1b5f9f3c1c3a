"""Training and validation data as dataset inputs of the run, as MLflow's autologging logs
them (``log_datasets``): named ``dataset`` (or the validation set's name), with MLflow's
digest of the data, so both tools give the same data the same digest; source type ``code``
with the run's context tags; MLflow's schema (columns of a DataFrame, tensors of arrays) and
profile. Metrics computed on the training data name the dataset, as MLflow 3 links them.

The digests are MLflow's (``mlflow.data.digest_utils``): an md5 of pandas' hash of the first
10,000 rows (a DataFrame's string and number columns; an array's first 10,000 elements), the
row count or shape and the column names, cut to 8 hex digits. They need pandas, as MLflow
does; without it no dataset is logged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from runyard.autolog.model_files import column_specs, is_dataframe, is_ndarray, tensor_spec
from runyard.autolog.patch import warn_logging_failure
from runyard.autolog.record import RunLogger
from runyard.entities import Dataset
from runyard.tracking.context import system_tags

#: Rows (a DataFrame) or elements (an array) the digest reads, as in MLflow.
DIGEST_ROWS = 10_000
DEFAULT_NAME = "dataset"


def dataset_of(features: Any, targets: Any = None, name: str | None = None) -> Dataset | None:
    """The dataset of a DataFrame (its targets, if any, are not part of it, as in MLflow) or
    of arrays (sparse ones made dense); None for data of another kind."""
    if is_dataframe(features):
        return from_frame(features, name or DEFAULT_NAME)
    features = _dense(features)
    if not is_ndarray(features):
        return None
    if targets is not None:
        import numpy as np

        targets = np.asarray(_dense(targets))
    return from_arrays(features, targets, name or DEFAULT_NAME)


def from_frame(frame: Any, name: str) -> Dataset:
    profile = {"num_rows": len(frame), "num_elements": int(frame.size)}
    return Dataset(
        name=name,
        digest=_frame_digest(frame),
        source_type="code",
        source=_source(),
        schema=json.dumps({"mlflow_colspec": column_specs(frame)}),
        profile=json.dumps(profile),
    )


def from_arrays(features: Any, targets: Any, name: str) -> Dataset:
    specs = {"features": json.dumps([tensor_spec(features)]), "targets": None}
    profile = _array_profile("features", features)
    if targets is not None:
        specs["targets"] = json.dumps([tensor_spec(targets)])
        profile.update(_array_profile("targets", targets))
    return Dataset(
        name=name,
        digest=_arrays_digest(features, targets),
        source_type="code",
        source=_source(),
        schema=json.dumps({"mlflow_tensorspec": specs}),
        profile=json.dumps(profile),
    )


def _array_profile(prefix: str, array: Any) -> dict[str, Any]:
    return {
        f"{prefix}_shape": list(array.shape),
        f"{prefix}_size": int(array.size),
        f"{prefix}_nbytes": int(array.nbytes),
    }


def _source() -> str:
    return json.dumps({"tags": system_tags()})


def _frame_digest(frame: Any) -> str:
    import numpy as np
    import pandas as pd

    head = frame.head(DIGEST_ROWS)
    strings = head.columns[[_all_strings(frame.iloc[:, i]) for i in range(frame.shape[1])]]
    numbers = head.select_dtypes(include=[np.number]).columns
    hashed = head[strings.union(numbers)]
    parts = [pd.util.hash_pandas_object(hashed).values, np.int64(len(frame))]
    return _md5([*parts, *(str(column).encode() for column in frame.columns)])


def _all_strings(column: Any) -> bool:
    """Whether every cell of the column is a ``str``, as MLflow asks of each cell: a column of
    numbers, booleans or dates holds none (and is not walked cell by cell); an empty column
    passes, as in MLflow."""
    if not len(column):
        return True
    if column.dtype.kind in "biufcmM":
        return False
    return bool(column.map(lambda value: type(value) is str).all())


def _arrays_digest(features: Any, targets: Any) -> str:
    import numpy as np
    import pandas as pd

    parts: list[Any] = []
    for array in (features, targets):
        if array is None:
            continue
        trimmed = array.flatten()[:DIGEST_ROWS]
        try:
            parts.append(pd.util.hash_array(trimmed))
        except TypeError:
            parts.append(np.int64(trimmed.size))
        parts.extend(np.int64(size) for size in array.shape)
    return _md5(parts)


def _md5(parts: list[Any]) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for part in parts:
        md5.update(part)
    return md5.hexdigest()[:8]


def _dense(data: Any) -> Any:
    """A scipy sparse matrix as an array; anything else as it is."""
    return data.toarray() if hasattr(data, "toarray") and hasattr(data, "nnz") else data


def log_data(
    logger: RunLogger, integration: str, data: Sequence[tuple[Any, Any, str | None, str]]
) -> list[Dataset]:
    """Log ``(features, targets, name, context)`` entries as the run's dataset inputs; returns
    their datasets (data of other kinds is skipped). A failure is warned about, as every
    autologging failure is: training goes on, and so does the rest of its logging."""
    try:
        found = [(dataset_of(f, t, name), context) for f, t, name, context in data]
        kept = [(dataset, context) for dataset, context in found if dataset is not None]
        logger.datasets(kept)
    except Exception as error:
        warn_logging_failure(integration, error)
        return []
    return [dataset for dataset, _ in kept]
