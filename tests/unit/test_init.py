"""The public surface of ``import runyard``: exactly these names, each one real."""

from __future__ import annotations

import importlib.util
import types
from importlib import metadata

import pytest
import runyard

PUBLIC_NAMES = [
    "ActiveRun",
    "Client",
    "Dataset",
    "Experiment",
    "FileInfo",
    "Metric",
    "MlflowClient",
    "MlflowException",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "RunyardError",
    "ViewType",
    "__version__",
    "active_run",
    "clear_active_model",
    "create_experiment",
    "create_external_model",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "disable_system_metrics_logging",
    "download_artifacts",
    "enable_system_metrics_logging",
    "end_run",
    "finalize_logged_model",
    "flush_async_logging",
    "get_active_model_id",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_parent_run",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "initialize_logged_model",
    "is_tracking_uri_set",
    "last_active_run",
    "last_logged_model",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model_params",
    "log_outputs",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_model",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "set_active_model",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_logged_model_tags",
    "set_model_version_tag",
    "set_registry_uri",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]


def test_all_is_exactly_the_curated_list() -> None:
    assert runyard.__all__ == PUBLIC_NAMES


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(runyard, name)
    assert value is not None
    if name != "__version__":
        assert callable(value), f"runyard.{name} should be a class or a function"


def test_star_import_gives_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from runyard import *", namespace)
    assert set(PUBLIC_NAMES) - {"__version__"} <= set(namespace)


def test_version_comes_from_package_metadata() -> None:
    assert runyard.__version__ == metadata.version("runyard")


def test_client_and_errors_are_the_real_ones() -> None:
    from runyard.errors import RunyardError
    from runyard.tracking.client import Client

    assert runyard.Client is Client
    assert runyard.RunyardError is RunyardError


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("autolog", "runyard.autolog"),
        ("sklearn", "runyard.autolog.sklearn"),
        ("lightgbm", "runyard.autolog.lightgbm"),
        ("xgboost", "runyard.autolog.xgboost"),
    ],
)
def test_autolog_modules_load_lazily(name: str, module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not part of this build yet")
    loaded = getattr(runyard, name)
    assert isinstance(loaded, types.ModuleType)
    assert loaded.__name__ == module


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = runyard.no_such_thing  # type: ignore[attr-defined]
