"""Tables in a run's artifacts, as MLflow's ``log_table`` and ``load_table`` keep them: a
pandas DataFrame in JSON (``orient="split"``) or Parquet, appended to on each call, and listed
in the run's ``mlflow.loggedArtifacts`` tag so a table can be found across runs. The files and
the tag are MLflow's, so a table logged by either client is read by the other."""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runyard import images
from runyard import tags as system_tags
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.validation import safe_relative_path

if TYPE_CHECKING:
    from runyard.tracking.client import Client

TABLE_SUFFIXES = (".json", ".parquet")
#: Runs asked for per page when looking for the runs that logged a table.
_RUNS_PAGE_SIZE = 1000
#: Where a table's image cells are stored, under the table's name (MLflow's layout).
TABLE_IMAGES_DIR = "table_images"


def table_path(artifact_file: str) -> str:
    """``artifact_file`` in canonical form, refused unless it names a JSON or Parquet file."""
    rel = safe_relative_path(artifact_file)
    if not rel or not rel.endswith(TABLE_SUFFIXES):
        raise InvalidParameterValue(
            f"Invalid table file {artifact_file!r}: a table is logged to a path inside the run's "
            "artifacts ending in '.json' or '.parquet'."
        )
    return rel


def log_table(client: Client, run_id: str, data: Any, artifact_file: str) -> None:
    """Append ``data`` (a DataFrame, or a dict of columns or of one row) to the table
    ``artifact_file`` of the run, and list the table in the run's tag."""
    pd = _pandas()
    path = table_path(artifact_file)
    if isinstance(data, dict):
        try:
            data = pd.DataFrame(data)
        except ValueError:  # only scalars: one row
            data = pd.DataFrame([data])
    if not isinstance(data, pd.DataFrame):
        raise InvalidParameterValue("A table's data must be a pandas DataFrame or a dict.")
    data, pictures = _image_cells(data.copy(), path)
    existing = _read_if_logged(client, run_id, path)
    if existing is not None:
        data = pd.concat([existing, data], ignore_index=True)
    directory, name = posixpath.split(path)
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, name)
        try:  # written first: a table that cannot be written uploads nothing, images included
            if path.endswith(".json"):
                data.to_json(  # 15 digits: pandas keeps 10 unless told
                    local, orient="split", index=False, date_format="iso", double_precision=15
                )
            else:
                data.to_parquet(local, index=False)
        except (TypeError, ValueError, OverflowError) as error:
            raise InvalidParameterValue(f"The table cannot be written as {path}: {error}") from None
        for stem, picture in pictures:
            client._log_with(run_id, stem + ".png", picture.save)
            client._log_with(run_id, stem + ".webp", images.compressed_copy(picture).save)
        client.log_artifact(run_id, local, directory or None)
    listed = _logged_artifacts(client.get_run(run_id).data.tags)
    entry = {"path": path, "type": "table"}
    if entry not in listed:
        client.set_tag(run_id, system_tags.LOGGED_ARTIFACTS, json.dumps([*listed, entry]))


def load_table(
    client: Client,
    experiment_id: str,
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> Any:
    """The table ``artifact_file`` of every run of the experiment (or of ``run_ids``) that
    logged it, one after another; ``extra_columns`` adds columns of MLflow's run table
    (``run_id``, ``metrics.acc``, ...) to each run's rows."""
    pd = _pandas()
    from runyard.tracking.fluent_search import every_page, runs_to_pandas

    path = table_path(artifact_file)
    wanted = {str(i) for i in run_ids or ()}
    filter_string = f'tags.{system_tags.LOGGED_ARTIFACTS} LIKE \'%"type": "table"%\''
    candidates = every_page(
        lambda size, token: client.search_runs(
            [str(experiment_id)], filter_string, max_results=size, page_token=token
        ),
        None,
        _RUNS_PAGE_SIZE,
    )
    found = [
        run
        for run in candidates
        if {"path": path, "type": "table"} in _logged_artifacts(run.data.tags)
        and (not wanted or run.info.run_id in wanted)
    ]
    if not found:
        raise ResourceDoesNotExist(f"No run of experiment {experiment_id} logged the table {path}.")
    rows = runs_to_pandas(found)
    frames = []
    for index, run in enumerate(found):
        table = _read_if_logged(client, run.info.run_id, path)
        if table is None:
            raise ResourceDoesNotExist(f"Table {path} not found for run {run.info.run_id}.")
        for column in extra_columns or ():
            if column not in rows.columns:
                raise InvalidParameterValue(f"No run column {column!r} to add to the table.")
            name = f"{column}_" if column in table.columns else column
            table[name] = rows[column].iloc[index]
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _read_if_logged(client: Client, run_id: str, path: str) -> Any:
    """The run's table at ``path``, or None when the run has no such file."""
    pd = _pandas()
    directory = posixpath.dirname(path) or None
    if path not in {f.path for f in client.list_artifacts(run_id, directory) if not f.is_dir}:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        local = client.download_artifacts(run_id, path, tmp)
        if path.endswith(".json"):
            return pd.read_json(local, orient="split", precise_float=True)
        return pd.read_parquet(local)


def _image_cells(data: Any, path: str) -> tuple[Any, list[tuple[str, Any]]]:
    """Columns of images become references to PNG files (and their compressed copies) beside
    the table, as MLflow's UI expects; returns the table and the images to store."""
    pictures: list[tuple[str, Any]] = []

    def reference(picture: Any) -> dict[str, str]:
        stem = posixpath.join(TABLE_IMAGES_DIR, os.path.splitext(path)[0], uuid.uuid4().hex)
        pictures.append((stem, picture))
        return {"type": "image", "filepath": stem + ".png", "compressed_filepath": stem + ".webp"}

    for column in data.columns:
        if data[column].dtype != object:  # only a column of Python objects can hold images
            continue
        is_image = data[column].map(_is_image)
        if not is_image.any():
            continue
        if not is_image.all():
            raise InvalidParameterValue(
                f"Column {column!r} mixes images and other values; a column holds one or the other."
            )
        data[column] = data[column].map(reference)
    return data, pictures


def _is_image(value: Any) -> bool:
    return all(callable(getattr(value, name, None)) for name in ("save", "resize")) and hasattr(
        value, "size"
    )


def _logged_artifacts(tags: Any) -> list[Any]:
    try:
        listed = json.loads(tags.get(system_tags.LOGGED_ARTIFACTS, "[]"))
    except ValueError:
        return []
    return listed if isinstance(listed, list) else []


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise InvalidParameterValue("Tables need pandas: pip install pandas.") from None
    return pandas
