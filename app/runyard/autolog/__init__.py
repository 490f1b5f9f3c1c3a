"""Autologging: training calls of ML libraries log their params, metrics and models.

Turn on every supported library that is installed, as with ``mlflow.autolog()``::

    import runyard
    runyard.autolog()              # scikit-learn and LightGBM, whichever are installed
    runyard.autolog(disable=True)  # put the libraries back exactly as they were

or one library: ``runyard.sklearn.autolog()``, ``runyard.lightgbm.autolog()``. ``runyard.autolog``
is this package, made callable (calling it calls ``runyard.autolog.autolog``) so that MLflow
code moves over unchanged while ``runyard.autolog.patch`` and the integrations stay importable
submodules. Patching is done by ``runyard.autolog.patch``, which guarantees that training runs
exactly as it would without autologging, whatever the logging does.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings
from collections.abc import Mapping
from typing import Any

#: library module -> runyard integration module
INTEGRATIONS: dict[str, str] = {
    "sklearn": "runyard.autolog.sklearn",
    "lightgbm": "runyard.autolog.lightgbm",
}


def autolog(
    disable: bool = False,
    log_models: bool = True,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    extra_tags: Mapping[str, Any] | None = None,
    silent: bool = False,
) -> list[str]:
    """Turn autologging on (or off) for each supported library that is installed, with
    MLflow's options (see ``runyard.sklearn.autolog``); returns the names of the libraries it
    was applied to."""
    options = {
        "disable": disable,
        "log_models": log_models,
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "extra_tags": extra_tags,
        "silent": silent,
    }
    applied = []
    for library, module_name in INTEGRATIONS.items():
        if importlib.util.find_spec(library) is None:
            continue
        module = importlib.import_module(module_name)
        try:
            module.autolog(**options)
        except ImportError as error:  # installed but broken: say so, keep the others
            warnings.warn(f"{library} autologging unavailable: {error}", stacklevel=2)
            continue
        applied.append(library)
    return applied


class _CallableModule(types.ModuleType):
    """This package's module type: ``runyard.autolog(...)`` is ``runyard.autolog.autolog(...)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> list[str]:
        return autolog(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["INTEGRATIONS", "autolog"]
