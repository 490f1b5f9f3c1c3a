"""runyard: experiment tracking with MLflow's concepts and API.

``import runyard`` gives the fluent API (``runyard.start_run()``, ``runyard.log_metric()`` ...),
``runyard.Client`` and the entities. The autologging modules (``runyard.autolog``, callable like
``mlflow.autolog()``, ``runyard.sklearn``, ``runyard.lightgbm``, ``runyard.xgboost``) load on
first use, so importing runyard stays fast and needs none of those libraries.
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata
from typing import Any

from runyard.entities import (
    Dataset,
    Experiment,
    FileInfo,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from runyard.errors import MlflowException, RunyardError
from runyard.tracking.client import Client
from runyard.tracking.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_experiment_tag,
    delete_run,
    delete_tag,
    end_run,
    flush_async_logging,
    get_experiment,
    get_experiment_by_name,
    get_parent_run,
    get_registry_uri,
    get_run,
    get_tracking_uri,
    is_tracking_uri_set,
    last_active_run,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    restore_experiment,
    restore_run,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
    set_registry_uri,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from runyard.tracking.fluent_artifact_logging import (
    get_artifact_uri,
    load_table,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_table,
    log_text,
)
from runyard.tracking.fluent_inputs import log_input, log_inputs, log_outputs
from runyard.tracking.fluent_models import (
    clear_active_model,
    create_external_model,
    delete_logged_model_tag,
    finalize_logged_model,
    get_active_model_id,
    get_logged_model,
    initialize_logged_model,
    last_logged_model,
    log_model_params,
    search_logged_models,
    search_model_versions,
    search_registered_models,
    set_active_model,
    set_logged_model_tags,
    set_model_version_tag,
)
from runyard.tracking.fluent_search import search_experiments, search_runs
from runyard.tracking.fluent_system_metrics import (
    disable_system_metrics_logging,
    enable_system_metrics_logging,
    set_system_metrics_node_id,
    set_system_metrics_samples_before_logging,
    set_system_metrics_sampling_interval,
)
from runyard.tracking.registry_client import download_artifacts, register_model

#: MLflow's name for the client, so ``from runyard import MlflowClient`` works unchanged.
MlflowClient = Client

try:
    __version__ = _metadata.version("runyard")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

#: Modules loaded on first attribute access (they import heavy ML frameworks).
_LAZY_MODULES = {
    "autolog": "runyard.autolog",
    "sklearn": "runyard.autolog.sklearn",
    "lightgbm": "runyard.autolog.lightgbm",
    "xgboost": "runyard.autolog.xgboost",
    "pyfunc": "runyard.autolog.pyfunc",
    "models": "runyard.models",
    "data": "runyard.data",
}


def __getattr__(name: str) -> Any:
    target = _LAZY_MODULES.get(name)
    if target is None:
        raise AttributeError(f"module 'runyard' has no attribute {name!r}")
    module = importlib.import_module(target)
    globals()[name] = module
    return module


__all__ = [
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
