"""Autologging: training calls of ML libraries log their params, metrics and models.

Turn on every supported library that is installed, as with ``mlflow.autolog()``::

    import runyard
    runyard.autolog()              # scikit-learn, LightGBM and XGBoost, whichever are installed
    runyard.autolog(disable=True)  # put the libraries back exactly as they were

or one library: ``runyard.sklearn.autolog()``, ``runyard.lightgbm.autolog()``,
``runyard.xgboost.autolog()``. ``runyard.autolog`` is this package, made callable (calling it
calls ``runyard.autolog.autolog``) so that MLflow code moves over unchanged while
``runyard.autolog.patch`` and the integrations stay importable submodules. Patching is done by
``runyard.autolog.patch``, which guarantees that training runs exactly as it would without
autologging, whatever the logging does.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from runyard.autolog.patch import patched_integrations

#: library module -> runyard integration module
INTEGRATIONS: dict[str, str] = {
    "sklearn": "runyard.autolog.sklearn",
    "lightgbm": "runyard.autolog.lightgbm",
    "xgboost": "runyard.autolog.xgboost",
}


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    log_traces: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: Mapping[str, Any] | None = None,
    exclude_flavors: Sequence[str] | None = None,
) -> list[str]:
    """Turn autologging on (or off) for each supported library that is installed, except
    ``exclude_flavors``, with MLflow's options in MLflow's order (see
    ``runyard.sklearn.autolog``); returns the names of the libraries it was applied to.
    ``log_traces`` changes nothing: no integration traces, in MLflow either."""
    options = {
        "disable": disable,
        "log_models": log_models,
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "log_datasets": log_datasets,
        "exclusive": exclusive,
        "disable_for_unsupported_versions": disable_for_unsupported_versions,
        "extra_tags": extra_tags,
        "silent": silent,
    }
    excluded = set(exclude_flavors or ())
    applied = []
    for library, module_name in INTEGRATIONS.items():
        if library in excluded or importlib.util.find_spec(library) is None:
            continue
        module = importlib.import_module(module_name)
        try:
            module.autolog(**options)
        except ImportError as error:  # installed but broken: say so, keep the others
            warnings.warn(f"{library} autologging unavailable: {error}", stacklevel=2)
            continue
        if disable or library in patched_integrations():  # not when its version is refused
            applied.append(library)
    return applied


class _CallableModule(types.ModuleType):
    """This package's module type: ``runyard.autolog(...)`` is ``runyard.autolog.autolog(...)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> list[str]:
        return autolog(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["INTEGRATIONS", "autolog"]
